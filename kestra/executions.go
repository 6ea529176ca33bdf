package kestra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kestra-go/sdk/gen"
)

// ExecutionsService starts executions of flows and manages them.
//
// The actions (Kill, Restart, Resume, Replay, Pause, SetLabels) work with
// Kestra 2.0, whose paths end in /actions/<verb>, and with Kestra 1.x,
// whose paths end in /<verb>: the client picks the path from the server
// version ([Client.Server], read once). When a 1.x server answers an
// action without a body (1.3's kill answers 202, resume 204), the method
// returns the execution as a follow-up GET sees it.
type ExecutionsService service

// errEmptyID is returned before any request when an execution id is empty.
var errEmptyID = errors.New("kestra: empty execution id")

// ExecuteOptions are the optional parts of [ExecutionsService.Create].
type ExecuteOptions struct {
	// Wait makes Kestra answer only once the execution has ended, with its
	// final state and task outputs. The call is then bounded by ctx only,
	// not by Config.Timeout: Kestra may hold it open up to an hour.
	Wait bool
	// Inputs are the flow's inputs by id. Values are converted to the text
	// Kestra reads: strings as they are; bool, integer and float kinds as
	// decimal text; time.Time as RFC 3339 with nanoseconds and its zone;
	// time.Duration as ISO-8601 (PT1M30S); []byte and json.RawMessage as
	// their bytes; encoding.TextMarshaler values as their text; slices,
	// arrays, maps and structs as JSON (for JSON and ARRAY inputs). A
	// [File] (or [FilePath]) is a FILE input, streamed. A nil value is not
	// sent. Channels, functions, complex numbers and bare io.Readers are
	// refused.
	Inputs map[string]any
	// Labels are added to the execution. Keys may not contain ':' or
	// white space, and system labels other than system.correlationId and
	// system.from are refused.
	Labels map[string]string
	// ScheduleDate delays the start of the execution; zero starts it now.
	ScheduleDate time.Time
	// Revision runs that revision of the flow; zero runs the latest.
	Revision int
	// Breakpoints stop the execution (state BREAKPOINT) before these
	// tasks: "taskId", or "taskId.value" for one iteration of a loop.
	// [ExecutionsService.ResumeFromBreakpoint] continues it.
	Breakpoints []string
	// Kind is the execution kind: NORMAL (the default), TEST, PLAYGROUND.
	Kind string
}

// Create starts an execution of the flow namespace/flowID and returns it:
// just created, or ended when opts.Wait is set. The inputs are sent as
// multipart/form-data, one part per input in key order; FILE inputs are
// streamed. A request with FILE inputs is bounded by ctx only, not by
// Config.Timeout, so that large uploads are not cut.
//
// Bad input fails before any request: an empty namespace or flow id, an
// input of an unsupported type, an invalid label. An unknown flow is
// [ErrNotFound]; inputs Kestra refuses are an *APIError of status 422
// ([ErrInvalid]). Its message names the input for a value out of its
// bounds or of the wrong form for a number, URI, email or choice
// ("Invalid value for input `count`. Cause: For input string: ..."), but
// not always otherwise: a missing required input reads "Missing required
// input:count", and a date, time, duration, JSON or list that does not
// parse gives only the parser's message.
//
// Kestra API: POST /api/v1/{tenant}/executions/{namespace}/{id}
func (s *ExecutionsService) Create(ctx context.Context, namespace, flowID string, opts *ExecuteOptions) (*Execution, error) {
	if err := checkFlowKey(namespace, flowID); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &ExecuteOptions{}
	}
	if err := checkLabels(opts.Labels); err != nil {
		return nil, err
	}
	breakpoints, err := breakpointsParam(opts.Breakpoints)
	if err != nil {
		return nil, err
	}
	parts, err := encodeInputs(opts.Inputs)
	if err != nil {
		return nil, err
	}
	params := &gen.CreateExecutionParams{Breakpoints: breakpoints}
	if len(opts.Labels) > 0 {
		l := labelQuery(opts.Labels)
		params.Labels = &l
	}
	if opts.Wait {
		params.Wait = pointerTo(true)
		ctx = withoutTimeout(ctx)
	}
	if opts.Revision > 0 {
		params.Revision = pointerTo(int32(opts.Revision))
	}
	if !opts.ScheduleDate.IsZero() {
		params.ScheduleDate = pointerTo(opts.ScheduleDate)
	}
	if opts.Kind != "" {
		params.Kind = pointerTo(gen.ExecutionKind(opts.Kind))
	}

	fb, err := newFormBody(ctx, parts)
	if err != nil {
		return nil, err
	}
	if fb.streamed {
		ctx = withoutTimeout(ctx)
	}
	resp, err := s.c.raw.CreateExecutionWithBody(ctx, s.c.tenant, namespace, flowID, params, fb.contentType, fb.body, fb.editors()...)
	var e Execution
	err = decode(resp, err, &e)
	fb.finish()
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Get returns the execution id. On Kestra 2.0 its task runs carry no
// outputs; [ExecutionsService.Wait] and Create with Wait return them.
//
// Kestra API: GET /api/v1/{tenant}/executions/{executionId}
func (s *ExecutionsService) Get(ctx context.Context, id string) (*Execution, error) {
	if id == "" {
		return nil, errEmptyID
	}
	// Built here rather than by the generated builder, which parses the
	// server URL and formats the path again on every call: Get is what
	// polling loops call most.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.c.tenantURL("executions/"+url.PathEscape(id)), nil)
	if err != nil {
		return nil, fmt.Errorf("kestra: %w", err)
	}
	var e Execution
	resp, err := s.c.do(ctx, req)
	if err := decode(resp, err, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// DeleteExecutionOptions say what [ExecutionsService.Delete] removes with
// the execution. Kestra's default, a nil *DeleteExecutionOptions, removes
// all three.
type DeleteExecutionOptions struct {
	DeleteLogs    bool // the execution's logs
	DeleteMetrics bool // its metrics
	DeleteStorage bool // its files in internal storage (inputs and outputs)
}

// Delete deletes the execution id. With nil opts Kestra's defaults apply
// (logs, metrics and storage are deleted); otherwise the three flags are
// sent as they are.
//
// Kestra only purges the execution's records: a running execution is not
// killed (a task at work runs on, but no further task starts), and those
// following it get no end from the server. Kill it first to stop it.
//
// Kestra API: DELETE /api/v1/{tenant}/executions/{executionId}
func (s *ExecutionsService) Delete(ctx context.Context, id string, opts *DeleteExecutionOptions) error {
	if id == "" {
		return errEmptyID
	}
	var params *gen.DeleteExecutionParams
	if opts != nil {
		params = &gen.DeleteExecutionParams{
			DeleteLogs:    pointerTo(opts.DeleteLogs),
			DeleteMetrics: pointerTo(opts.DeleteMetrics),
			DeleteStorage: pointerTo(opts.DeleteStorage),
		}
	}
	resp, err := s.c.raw.DeleteExecution(ctx, s.c.tenant, id, params)
	return decode(resp, err, nil)
}

// Kill kills the execution id and returns it. Kestra 1.x kills in the
// background and answers without a body: the execution returned is then
// read afterwards and may still be KILLING.
//
// Kestra API: DELETE /api/v1/{tenant}/executions/{executionId}/actions/kill
// (1.x: DELETE /api/v1/{tenant}/executions/{executionId}/kill)
func (s *ExecutionsService) Kill(ctx context.Context, id string) (*Execution, error) {
	return s.action(ctx, id, "kill", true, func() (*http.Request, error) {
		return gen.NewKillExecutionRequest(s.c.raw.Server, s.c.tenant, id, nil)
	})
}

// RestartOptions are the optional parts of [ExecutionsService.Restart].
type RestartOptions struct {
	// Revision restarts with that revision of the flow; zero keeps the
	// execution's.
	Revision int
}

// Restart restarts the execution id from its failed (or paused) tasks and
// returns it. Kestra 2.0 restarts FAILED and PAUSED executions; 1.x any
// ended or paused one except KILLED. Other states are [ErrConflict].
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/restart
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/restart)
func (s *ExecutionsService) Restart(ctx context.Context, id string, opts *RestartOptions) (*Execution, error) {
	var params *gen.RestartExecutionParams
	if opts != nil && opts.Revision > 0 {
		params = &gen.RestartExecutionParams{Revision: pointerTo(int32(opts.Revision))}
	}
	return s.action(ctx, id, "restart", true, func() (*http.Request, error) {
		return gen.NewRestartExecutionRequest(s.c.raw.Server, s.c.tenant, id, params)
	})
}

// Resume resumes the paused execution id and returns it. inputs are the
// Pause task's onResume inputs, encoded as in [ExecuteOptions.Inputs]
// (FILE inputs included). An execution that is not paused is
// [ErrConflict].
//
// With FILE inputs and a server whose version cannot be read, the 1.x path
// is not tried (the files cannot be sent twice).
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/resume
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/resume)
func (s *ExecutionsService) Resume(ctx context.Context, id string, inputs map[string]any) (*Execution, error) {
	if id == "" {
		return nil, errEmptyID
	}
	parts, err := encodeInputs(inputs)
	if err != nil {
		return nil, err
	}
	var bodies []*formBody
	defer func() {
		for _, fb := range bodies {
			fb.finish()
		}
	}()
	newBody := func() (*formBody, error) {
		fb, err := newFormBody(ctx, parts)
		if err == nil {
			bodies = append(bodies, fb)
		}
		return fb, err
	}
	// Build the first body now, so a missing file fails before any request.
	first, err := newBody()
	if err != nil {
		return nil, err
	}
	if first.streamed {
		ctx = withoutTimeout(ctx)
	}
	return s.action(ctx, id, "resume", !first.streamed, func() (*http.Request, error) {
		fb := first
		if fb == nil {
			var err error
			if fb, err = newBody(); err != nil {
				return nil, err
			}
		}
		first = nil
		req, err := gen.NewResumeExecutionRequestWithBody(s.c.raw.Server, s.c.tenant, id, fb.contentType, fb.body)
		if err == nil && fb.streamed {
			_ = expectContinue(ctx, req)
		}
		return req, err
	})
}

// ResumeFromBreakpoint continues the execution id, stopped at a breakpoint
// (state BREAKPOINT), and returns it. Its breakpoints become breakpoints
// (task ids, or "taskId.value" for one iteration of a loop): with none it
// runs on without stopping again; naming the task it is stopped at stops
// it there again at once. An execution not stopped at a breakpoint is
// [ErrConflict].
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/resume-from-breakpoint
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/resume-from-breakpoint)
func (s *ExecutionsService) ResumeFromBreakpoint(ctx context.Context, id string, breakpoints ...string) (*Execution, error) {
	bps, err := breakpointsParam(breakpoints)
	if err != nil {
		return nil, err
	}
	params := &gen.ResumeExecutionFromBreakpointParams{Breakpoints: bps}
	return s.action(ctx, id, "resume-from-breakpoint", true, func() (*http.Request, error) {
		return gen.NewResumeExecutionFromBreakpointRequest(s.c.raw.Server, s.c.tenant, id, params)
	})
}

// ChangeStatus sets the state of the ended execution id to status, another
// final state (SUCCESS, WARNING, FAILED, CANCELLED ...), and returns the
// execution: to mark a run fixed by hand as a success, for example. A
// status that is not final fails before any request. Kestra refuses an
// execution that has not ended ([ErrConflict] on 2.0, which also refuses a
// KILLED one; [ErrInvalid] on 1.x).
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/change-status
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/change-status)
func (s *ExecutionsService) ChangeStatus(ctx context.Context, id string, status StateType) (*Execution, error) {
	if !IsTerminalState(status) {
		return nil, fmt.Errorf("kestra: change status to %q: the status must be a final state", status)
	}
	params := &gen.UpdateExecutionStatusParams{Status: status}
	return s.action(ctx, id, "change-status", true, func() (*http.Request, error) {
		return gen.NewUpdateExecutionStatusRequest(s.c.raw.Server, s.c.tenant, id, params)
	})
}

// ForceRun runs the execution id now, and returns it: a CREATED execution
// starts without waiting for its schedule date or a concurrency slot, a
// QUEUED one leaves the queue, a PAUSED one is resumed. An execution that
// has ended is refused ([ErrConflict] on 2.0, [ErrInvalid] on 1.x).
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/force-run
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/force-run)
func (s *ExecutionsService) ForceRun(ctx context.Context, id string) (*Execution, error) {
	return s.action(ctx, id, "force-run", true, func() (*http.Request, error) {
		return gen.NewForceRunExecutionRequest(s.c.raw.Server, s.c.tenant, id)
	})
}

// Unqueue takes the execution id, QUEUED by its flow's concurrency limit,
// out of the queue and returns it: to RUNNING (past the limit) when state
// is empty or StateRunning, or to StateCancelled or StateFailed. Another
// state fails before any request; an execution that is not QUEUED is
// refused ([ErrConflict] on 2.0, [ErrInvalid] on 1.x).
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/unqueue
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/unqueue)
func (s *ExecutionsService) Unqueue(ctx context.Context, id string, state StateType) (*Execution, error) {
	if state == "" {
		state = StateRunning
	}
	switch state {
	case StateRunning, StateCancelled, StateFailed:
	default:
		return nil, fmt.Errorf("kestra: unqueue to %q: the state must be RUNNING, CANCELLED or FAILED", state)
	}
	params := &gen.UnqueueExecutionParams{State: state}
	return s.action(ctx, id, "unqueue", true, func() (*http.Request, error) {
		return gen.NewUnqueueExecutionRequest(s.c.raw.Server, s.c.tenant, id, params)
	})
}

// EvalResult is what [ExecutionsService.Eval] answers: the rendered
// expression, or the error that stopped it (Kestra answers both with 200).
type EvalResult = gen.ExecutionControllerEvalResult

// Eval renders a Pebble expression, such as
// "{{ outputs.extract.value | upper }}", in the context of the execution
// id, or of its task run taskRunID when not empty (as an expression in
// that task would see it: taskrun, task, parent ...). An expression that
// does not render is not an error of the call: the result's Error and
// StackTrace say why. Kestra 1.x evaluates in a task run only.
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/eval[/{taskRunId}]
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/eval/{taskRunId})
func (s *ExecutionsService) Eval(ctx context.Context, id, taskRunID, expression string) (*EvalResult, error) {
	if id == "" {
		return nil, errEmptyID
	}
	send := func(legacy bool) (*http.Response, error) {
		if taskRunID == "" {
			req, err := gen.NewEvalExpressionRequestWithTextBody(s.c.raw.Server, s.c.tenant, id, expression)
			if err != nil {
				return nil, err
			}
			return s.c.do(ctx, req)
		}
		req, err := gen.NewEvalTaskRunExpressionRequestWithTextBody(s.c.raw.Server, s.c.tenant, id, taskRunID, expression)
		if err != nil {
			return nil, err
		}
		if legacy {
			req.URL.Path = strings.Replace(req.URL.Path, "/actions/eval/", "/eval/", 1)
			req.URL.RawPath = ""
		}
		return s.c.do(ctx, req)
	}
	// Only eval in a task run has a 1.x path.
	resp, err := s.c.sendVersioned(ctx, taskRunID != "", send)
	if err != nil {
		return nil, err
	}
	var out EvalResult
	if err := decode(resp, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// breakpointsParam is the breakpoints query parameter: the breakpoints
// joined by commas, nil when there are none. A breakpoint must name a
// task, and cannot hold a comma (it would be read as two).
func breakpointsParam(breakpoints []string) (*string, error) {
	if len(breakpoints) == 0 {
		return nil, nil
	}
	for _, b := range breakpoints {
		if taskID, _, _ := strings.Cut(b, "."); strings.TrimSpace(taskID) == "" || strings.Contains(b, ",") {
			return nil, fmt.Errorf("kestra: breakpoint %q: want a task id, or taskId.value, without commas", b)
		}
	}
	return pointerTo(strings.Join(breakpoints, ",")), nil
}

// ReplayOptions are the optional parts of [ExecutionsService.Replay].
type ReplayOptions struct {
	// TaskRunID replays from this task run; empty replays from the start.
	TaskRunID string
	// Revision replays with that revision of the flow; zero keeps the
	// execution's.
	Revision int
	// Breakpoints stop the new execution before these tasks, as in
	// [ExecuteOptions.Breakpoints].
	Breakpoints []string
}

// Replay starts a new execution that replays the execution id, and returns
// the new execution.
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/replay
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/replay)
func (s *ExecutionsService) Replay(ctx context.Context, id string, opts *ReplayOptions) (*Execution, error) {
	var params *gen.ReplayExecutionParams
	if opts != nil {
		params = &gen.ReplayExecutionParams{}
		if opts.TaskRunID != "" {
			params.TaskRunID = pointerTo(opts.TaskRunID)
		}
		if opts.Revision > 0 {
			params.Revision = pointerTo(int32(opts.Revision))
		}
		bps, err := breakpointsParam(opts.Breakpoints)
		if err != nil {
			return nil, err
		}
		params.Breakpoints = bps
	}
	e, err := s.action(ctx, id, "replay", true, func() (*http.Request, error) {
		return gen.NewReplayExecutionRequest(s.c.raw.Server, s.c.tenant, id, params)
	})
	if err == nil && e.ID == id {
		// An answer without a body was completed by a GET of the replayed
		// execution, not of the new one.
		return nil, fmt.Errorf("kestra: replay of %s: the server did not return the new execution", id)
	}
	return e, err
}

// Pause pauses the running execution id and returns it as Kestra sees it
// afterwards (Kestra pauses it once its running task ends, so it may
// still be RUNNING). An execution that is not running is [ErrConflict].
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/pause
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/pause)
func (s *ExecutionsService) Pause(ctx context.Context, id string) (*Execution, error) {
	return s.action(ctx, id, "pause", true, func() (*http.Request, error) {
		return gen.NewPauseExecutionRequest(s.c.raw.Server, s.c.tenant, id)
	})
}

// SetLabels replaces the labels of the execution id with labels (Kestra
// keeps its system labels) and returns the execution. Kestra accepts it
// for ended executions. Labels are checked as in [ExecuteOptions.Labels].
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/labels
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/labels)
func (s *ExecutionsService) SetLabels(ctx context.Context, id string, labels map[string]string) (*Execution, error) {
	if err := checkLabels(labels); err != nil {
		return nil, err
	}
	body := labelList(labels)
	return s.action(ctx, id, "labels", true, func() (*http.Request, error) {
		return gen.NewSetLabelsOnTerminatedExecutionRequest(s.c.raw.Server, s.c.tenant, id, body)
	})
}

// action sends an execution action built by build for the 2.0 path
// (/executions/{id}/actions/<verb>), rewritten to the 1.x path
// (/executions/{id}/<verb>) for a 1.x server. When the server version is
// unknown and the 2.0 route does not exist (a bare 404), the 1.x path is
// tried if the request can be built again (canRetry). An answer without a
// body is completed by a GET of the execution.
func (s *ExecutionsService) action(ctx context.Context, id, verb string, canRetry bool, build func() (*http.Request, error)) (*Execution, error) {
	if id == "" {
		return nil, errEmptyID
	}
	resp, err := s.c.sendVersioned(ctx, canRetry, func(legacy bool) (*http.Response, error) {
		return s.sendAction(ctx, build, verb, legacy)
	})
	if err != nil {
		return nil, err
	}
	var e Execution
	found, err := decodeIfAny(resp, nil, &e)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return s.Get(ctx, id)
	}
	return &e, nil
}

// sendVersioned sends a call whose path differs between Kestra 2.0 and
// 1.x (send's legacy), choosing by the server's version. When the version
// is unknown, the 2.0 path is tried first, then, if the call can be built
// again (canRetry) and the 2.0 route does not exist (a bare 404, or a
// 405), the 1.x one; when neither exists, the first answer's error is
// returned. A transport error comes wrapped, an answer as it is.
func (c *Client) sendVersioned(ctx context.Context, canRetry bool, send func(legacy bool) (*http.Response, error)) (*http.Response, error) {
	major := c.serverMajor(ctx)
	resp, err := send(major == 1)
	if err != nil {
		return nil, fmt.Errorf("kestra: %w", err)
	}
	noRoute := func(r *http.Response) bool {
		return r.StatusCode == http.StatusNotFound || r.StatusCode == http.StatusMethodNotAllowed
	}
	if major != 0 || !canRetry || !noRoute(resp) {
		return resp, nil
	}
	first := checkStatus(resp)
	resp.Body.Close()
	var apiErr *APIError
	if !errors.As(first, &apiErr) || (apiErr.Message != http.StatusText(apiErr.StatusCode) && apiErr.Message != "") {
		return nil, first // the route exists: Kestra says why
	}
	if resp, err = send(true); err != nil {
		return nil, fmt.Errorf("kestra: %w", err)
	}
	if noRoute(resp) {
		resp.Body.Close()
		return nil, first
	}
	return resp, nil
}

// sendAction builds the request, moves it to the 1.x path when legacy is
// set, and sends it with [Client.do].
func (s *ExecutionsService) sendAction(ctx context.Context, build func() (*http.Request, error), verb string, legacy bool) (*http.Response, error) {
	req, err := build()
	if err != nil {
		return nil, err
	}
	if legacy {
		from, to := "/actions/"+verb, "/"+verb
		req.URL.Path = strings.TrimSuffix(req.URL.Path, from) + to
		if req.URL.RawPath != "" {
			req.URL.RawPath = strings.TrimSuffix(req.URL.RawPath, from) + to
		}
	}
	return s.c.do(ctx, req)
}

// do sends a request built by hand (or by a generated builder and then
// changed) as the generated client sends its own: with ctx and the
// client's request editors (authentication, User-Agent and the user's).
func (c *Client) do(ctx context.Context, req *http.Request) (*http.Response, error) {
	if req.Context() != ctx {
		req = req.WithContext(ctx)
	}
	for _, edit := range c.raw.RequestEditors {
		if err := edit(ctx, req); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
	}
	return c.raw.Client.Do(req)
}

// ExecutionSearchOptions filter and page a search of executions
// ([ExecutionsService.List], [ExecutionsService.All]). Zero fields do not
// filter; several filters must all hold.
type ExecutionSearchOptions struct {
	// Namespace keeps the executions of this namespace (exactly).
	Namespace string
	// FlowID keeps the executions of this flow.
	FlowID string
	// States keeps the executions in one of these states.
	States []StateType
	// Labels keeps the executions that carry all these labels.
	Labels map[string]string
	// StartDate keeps the executions that started at or after it.
	StartDate time.Time
	// EndDate keeps the executions that ended at or before it.
	EndDate time.Time
	// TimeRange keeps the executions that started in the last TimeRange.
	TimeRange time.Duration
	// TriggerExecutionID keeps the executions this execution started: its
	// subflows.
	TriggerExecutionID string
	// Query is Kestra's free-text search.
	Query string
	// Sort orders the results: "field:asc" or "field:desc", such as
	// "state.startDate:desc". Kestra's default is the newest first.
	Sort []string
	// Page is the 1-based page List returns and All starts from; zero
	// means 1.
	Page int
	// Size is the page size; zero means Kestra's default (10) for List and
	// 100 for All.
	Size int
}

// ExecutionPage is one page of a search of executions.
type ExecutionPage struct {
	// Results are the executions of the page. On Kestra 2.0 they are
	// light: no task runs and no variables.
	Results []*Execution `json:"results"`
	// Total is the number of executions that match, on all pages.
	Total int `json:"total"`
}

// filters returns the search as Kestra's filters[field][OP]=value query,
// in the nested-map form the generated client serialises as a deepObject.
func (o *ExecutionSearchOptions) filters() map[string]any {
	f := map[string]any{}
	if o.Namespace != "" {
		f["namespace"] = map[string]any{"EQUALS": o.Namespace}
	}
	if o.FlowID != "" {
		f["flowId"] = map[string]any{"EQUALS": o.FlowID}
	}
	switch len(o.States) {
	case 0:
	case 1:
		f["state"] = map[string]any{"EQUALS": string(o.States[0])}
	default:
		states := make([]string, len(o.States))
		for i, st := range o.States {
			states[i] = string(st)
		}
		f["state"] = map[string]any{"IN": strings.Join(states, ",")}
	}
	if len(o.Labels) > 0 {
		l := make(map[string]any, len(o.Labels))
		for k, v := range o.Labels {
			l[k] = v
		}
		f["labels"] = map[string]any{"EQUALS": l}
	}
	if !o.StartDate.IsZero() {
		f["startDate"] = map[string]any{"GREATER_THAN_OR_EQUAL_TO": o.StartDate.Format(time.RFC3339Nano)}
	}
	if !o.EndDate.IsZero() {
		f["endDate"] = map[string]any{"LESS_THAN_OR_EQUAL_TO": o.EndDate.Format(time.RFC3339Nano)}
	}
	if o.TimeRange > 0 {
		f["timeRange"] = map[string]any{"EQUALS": FormatISODuration(o.TimeRange)}
	}
	if o.TriggerExecutionID != "" {
		f["triggerExecutionId"] = map[string]any{"EQUALS": o.TriggerExecutionID}
	}
	if o.Query != "" {
		f["q"] = map[string]any{"EQUALS": o.Query}
	}
	return f
}

// List returns one page of the executions that match opts (nil: all
// executions, first page).
//
// Kestra API: GET /api/v1/{tenant}/executions/search
func (s *ExecutionsService) List(ctx context.Context, opts *ExecutionSearchOptions) (*ExecutionPage, error) {
	if opts == nil {
		opts = &ExecutionSearchOptions{}
	}
	params := &gen.SearchExecutionsParams{}
	if opts.Page > 0 {
		params.Page = pointerTo(int32(opts.Page))
	}
	if opts.Size > 0 {
		params.Size = pointerTo(int32(opts.Size))
	}
	if len(opts.Sort) > 0 {
		params.Sort = pointerTo(slices.Clone(opts.Sort))
	}
	if f := opts.filters(); len(f) > 0 {
		params.Filters = &f
	}
	var page ExecutionPage
	resp, err := s.c.raw.SearchExecutions(ctx, s.c.tenant, params)
	if err := decode(resp, err, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// All iterates over every execution that matches opts, fetching pages as
// the loop needs them. opts is copied: changing it during the loop has no
// effect. An error is yielded once, with a nil execution, and ends the
// iteration. Executions that start during the loop may shift pages, so
// one may be seen twice or not at all; sort by a stable field, or filter
// on ended states, for an exact walk.
//
// Kestra API: GET /api/v1/{tenant}/executions/search
func (s *ExecutionsService) All(ctx context.Context, opts *ExecutionSearchOptions) iter.Seq2[*Execution, error] {
	var o ExecutionSearchOptions
	if opts != nil {
		o = *opts
		o.States = slices.Clone(opts.States)
		o.Labels = maps.Clone(opts.Labels)
		o.Sort = slices.Clone(opts.Sort)
	}
	if o.Page <= 0 {
		o.Page = 1
	}
	if o.Size <= 0 {
		o.Size = 100
	}
	return pages(o.Page, o.Size, func(page int) ([]*Execution, int, error) {
		p := o
		p.Page = page
		res, err := s.List(ctx, &p)
		if err != nil {
			return nil, 0, err
		}
		return res.Results, res.Total, nil
	})
}

// DownloadFile returns the content of a file of the execution id, given
// by its internal-storage URI (kestra:///…, as FILE inputs and task
// outputs carry it). The body is streamed: the caller reads it and must
// close it. The call is bounded by ctx only, not by Config.Timeout, so
// large files are not cut. A file of another execution is followed to
// that execution; a missing one is [ErrNotFound].
//
// Kestra API: GET /api/v1/{tenant}/executions/{executionId}/file
func (s *ExecutionsService) DownloadFile(ctx context.Context, id, uri string) (io.ReadCloser, error) {
	if id == "" {
		return nil, errEmptyID
	}
	if uri == "" {
		return nil, errors.New("kestra: empty file URI")
	}
	resp, err := s.c.raw.DownloadFileFromExecution(withoutTimeout(ctx), s.c.tenant, id, &gen.DownloadFileFromExecutionParams{Path: uri})
	if err != nil {
		return nil, fmt.Errorf("kestra: %w", err)
	}
	if err := checkStatus(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp.Body, nil
}

func pointerTo[T any](v T) *T { return &v }
