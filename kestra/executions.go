package kestra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
	// not by Config.Timeout. Kestra holds it open up to an hour: then it
	// answers 500 while the execution goes on, and the caller never learns
	// its id. For executions that may run longer, use
	// [ExecutionsService.Run], which has the id before it waits.
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
	q := url.Values{}
	if err := setBreakpoints(q, opts.Breakpoints); err != nil {
		return nil, err
	}
	parts, err := encodeInputs(opts.Inputs)
	if err != nil {
		return nil, err
	}
	for _, l := range labelQuery(opts.Labels) {
		q.Add("labels", l)
	}
	if opts.Wait {
		q.Set("wait", "true")
	}
	if opts.Revision > 0 {
		rev, err := int32Arg("ExecuteOptions.Revision", opts.Revision)
		if err != nil {
			return nil, err
		}
		q.Set("revision", rev)
	}
	if !opts.ScheduleDate.IsZero() {
		q.Set("scheduleDate", opts.ScheduleDate.Format(time.RFC3339Nano))
	}
	if opts.Kind != "" {
		q.Set("kind", opts.Kind)
	}

	fb, err := newFormBody(ctx, parts)
	if err != nil {
		return nil, err
	}
	defer fb.finish()
	var e Execution
	err = s.c.run(ctx, &call{
		method: http.MethodPost, path: "executions/{namespace}/{id}", args: []string{namespace, flowID}, query: q,
		body: fb.body, contentType: fb.contentType, header: fb.header(),
		once: true, untimed: opts.Wait || fb.streamed, out: &e,
	})
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
	var e Execution
	if err := s.c.run(ctx, &call{method: http.MethodGet, path: "executions/{executionId}", args: []string{id}, out: &e}); err != nil {
		return nil, err
	}
	return &e, nil
}

// DeleteExecutionOptions say what [ExecutionsService.Delete] keeps of the
// execution. The zero value, like nil, is Kestra's default: the logs,
// metrics and files go with the execution.
type DeleteExecutionOptions struct {
	KeepLogs    bool // keep the execution's logs
	KeepMetrics bool // keep its metrics
	KeepStorage bool // keep its files in internal storage (inputs and outputs)
}

// Delete deletes the execution id, with its logs, metrics and files
// unless opts keeps them. With nil opts no flag is sent (Kestra's
// defaults); otherwise the three are sent. A delete sent again after a lost answer that finds
// the execution gone reports success: the first attempt deleted it.
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
	var q url.Values
	if opts != nil {
		q = url.Values{
			"deleteLogs":    {strconv.FormatBool(!opts.KeepLogs)},
			"deleteMetrics": {strconv.FormatBool(!opts.KeepMetrics)},
			"deleteStorage": {strconv.FormatBool(!opts.KeepStorage)},
		}
	}
	return s.c.run(ctx, &call{method: http.MethodDelete, path: "executions/{executionId}", args: []string{id}, query: q, goneOK: true})
}

// Kill kills the execution id and returns it. Kestra 1.x kills in the
// background and answers without a body: the execution returned is then
// read afterwards and may still be KILLING. Kill is retried like a read
// (killing twice kills once); when a retry is refused because the
// execution is no longer running (the first attempt's effect),
// the execution is read and returned.
//
// Kestra API: DELETE /api/v1/{tenant}/executions/{executionId}/actions/kill
// (1.x: DELETE /api/v1/{tenant}/executions/{executionId}/kill)
func (s *ExecutionsService) Kill(ctx context.Context, id string) (*Execution, error) {
	ctx, cancel := s.c.bound(ctx)
	defer cancel()
	cl := actionCall(http.MethodDelete, "kill", nil)
	e, err := s.action(ctx, id, cl)
	if err != nil && cl.retried && errors.Is(err, ErrConflict) {
		return s.Get(ctx, id)
	}
	return e, err
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
	var q url.Values
	if opts != nil && opts.Revision > 0 {
		rev, err := int32Arg("RestartOptions.Revision", opts.Revision)
		if err != nil {
			return nil, err
		}
		q = url.Values{"revision": {rev}}
	}
	return s.action(ctx, id, actionCall(http.MethodPost, "restart", q))
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
	fb, err := newFormBody(ctx, parts)
	if err != nil {
		return nil, err
	}
	defer fb.finish()
	cl := actionCall(http.MethodPost, "resume", nil)
	cl.body, cl.contentType, cl.header, cl.untimed = fb.body, fb.contentType, fb.header(), fb.streamed
	return s.action(ctx, id, cl)
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
	q := url.Values{}
	if err := setBreakpoints(q, breakpoints); err != nil {
		return nil, err
	}
	return s.action(ctx, id, actionCall(http.MethodPost, "resume-from-breakpoint", q))
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
	return s.action(ctx, id, actionCall(http.MethodPost, "change-status", url.Values{"status": {string(status)}}))
}

// ForceRun runs the execution id now, and returns it: a CREATED execution
// starts without waiting for its schedule date or a concurrency slot, a
// QUEUED one leaves the queue, a PAUSED one is resumed. An execution that
// has ended is refused ([ErrConflict] on 2.0, [ErrInvalid] on 1.x).
//
// Kestra API: POST /api/v1/{tenant}/executions/{executionId}/actions/force-run
// (1.x: POST /api/v1/{tenant}/executions/{executionId}/force-run)
func (s *ExecutionsService) ForceRun(ctx context.Context, id string) (*Execution, error) {
	return s.action(ctx, id, actionCall(http.MethodPost, "force-run", nil))
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
	return s.action(ctx, id, actionCall(http.MethodPost, "unqueue", url.Values{"state": {string(state)}}))
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
	cl := &call{
		method: http.MethodPost, path: "executions/{executionId}/actions/eval", args: []string{id},
		body: strings.NewReader(expression), contentType: "text/plain",
	}
	if taskRunID != "" {
		// Only eval in a task run has a 1.x path.
		cl.path, cl.path1x = "executions/{executionId}/actions/eval/{taskRunId}", "executions/{executionId}/eval/{taskRunId}"
		cl.args = append(cl.args, taskRunID)
	}
	var out EvalResult
	cl.out = &out
	if err := s.c.run(ctx, cl); err != nil {
		return nil, err
	}
	return &out, nil
}

// setBreakpoints sets the breakpoints query parameter of q: the
// breakpoints joined by commas, none when there are none. A breakpoint
// must name a task, and cannot hold a comma (it would be read as two).
func setBreakpoints(q url.Values, breakpoints []string) error {
	for _, b := range breakpoints {
		if taskID, _, _ := strings.Cut(b, "."); strings.TrimSpace(taskID) == "" || strings.Contains(b, ",") {
			return fmt.Errorf("kestra: breakpoint %q: want a task id, or taskId.value, without commas", b)
		}
	}
	if len(breakpoints) > 0 {
		q.Set("breakpoints", strings.Join(breakpoints, ","))
	}
	return nil
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
	q := url.Values{}
	if opts != nil {
		if opts.TaskRunID != "" {
			q.Set("taskRunId", opts.TaskRunID)
		}
		if opts.Revision > 0 {
			rev, err := int32Arg("ReplayOptions.Revision", opts.Revision)
			if err != nil {
				return nil, err
			}
			q.Set("revision", rev)
		}
		if err := setBreakpoints(q, opts.Breakpoints); err != nil {
			return nil, err
		}
	}
	e, err := s.action(ctx, id, actionCall(http.MethodPost, "replay", q))
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
	return s.action(ctx, id, actionCall(http.MethodPost, "pause", nil))
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
	body, err := json.Marshal(labelList(labels))
	if err != nil {
		return nil, fmt.Errorf("kestra: %w", err)
	}
	cl := actionCall(http.MethodPost, "labels", nil)
	cl.body, cl.contentType = bytes.NewReader(body), "application/json"
	return s.action(ctx, id, cl)
}

// actionCall describes the action verb on an execution: the 2.0 path
// /executions/{id}/actions/<verb>, the 1.x path /executions/{id}/<verb>.
// Every action but Kill (a DELETE) may start or change a run: it is never
// re-sent once it may have reached the server.
func actionCall(method, verb string, q url.Values) *call {
	return &call{
		method: method, query: q,
		path:   "executions/{executionId}/actions/" + verb,
		path1x: "executions/{executionId}/" + verb,
		once:   method != http.MethodDelete,
	}
}

// action runs the action cl on the execution id. When the server version
// is unknown and the 2.0 route does not exist (a bare 404), the 1.x path
// is tried if the body can be sent again. An answer without a body is
// completed by a GET of the execution.
func (s *ExecutionsService) action(ctx context.Context, id string, cl *call) (*Execution, error) {
	if id == "" {
		return nil, errEmptyID
	}
	if !cl.untimed {
		// Config.Timeout bounds the action and the read that completes it.
		var cancel context.CancelFunc
		ctx, cancel = s.c.bound(ctx)
		defer cancel()
	}
	var e Execution
	cl.args, cl.out, cl.optional = []string{id}, &e, true
	if err := s.c.run(ctx, cl); err != nil {
		return nil, err
	}
	if !cl.found {
		return s.Get(ctx, id)
	}
	return &e, nil
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
	// Kind keeps the executions of this kind: NORMAL, TEST, PLAYGROUND, or,
	// on Kestra 2.0, LOOP (the executions a Loop task runs, one per
	// iteration). Without it Kestra lists NORMAL executions only.
	Kind string
	// ParentID keeps the executions whose parent is this execution: with
	// Kind LOOP, the iterations of its Loop tasks. Kestra 2.0 only; 1.3
	// refuses the filter with 400.
	ParentID string
	// Query is Kestra's free-text search.
	Query string
	// Sort orders the results: "field:asc" or "field:desc", such as
	// "state.startDate:desc". Kestra's default is the newest first.
	Sort []string
	ListOptions
}

// filters returns the search as Kestra's filters[field][OP]=value query.
func (o *ExecutionSearchOptions) filters() filters {
	f := filters{}
	f.add("namespace", "EQUALS", o.Namespace)
	f.add("flowId", "EQUALS", o.FlowID)
	switch len(o.States) {
	case 0:
	case 1:
		f.add("state", "EQUALS", string(o.States[0]))
	default:
		states := make([]string, len(o.States))
		for i, st := range o.States {
			states[i] = string(st)
		}
		f.add("state", "IN", strings.Join(states, ","))
	}
	f.labels(o.Labels)
	if !o.StartDate.IsZero() {
		f.add("startDate", "GREATER_THAN_OR_EQUAL_TO", o.StartDate.Format(time.RFC3339Nano))
	}
	if !o.EndDate.IsZero() {
		f.add("endDate", "LESS_THAN_OR_EQUAL_TO", o.EndDate.Format(time.RFC3339Nano))
	}
	if o.TimeRange > 0 {
		f.add("timeRange", "EQUALS", FormatISODuration(o.TimeRange))
	}
	f.add("triggerExecutionId", "EQUALS", o.TriggerExecutionID)
	f.add("kind", "EQUALS", o.Kind)
	f.add("parentId", "EQUALS", o.ParentID)
	f.add("q", "EQUALS", o.Query)
	return f
}

// List returns one page of the executions that match opts (nil: all
// executions, first page). On Kestra 2.0 the executions of a page are
// light: no task runs and no variables.
//
// Kestra API: GET /api/v1/{tenant}/executions/search
func (s *ExecutionsService) List(ctx context.Context, opts *ExecutionSearchOptions) (*Page[Execution], error) {
	if opts == nil {
		opts = &ExecutionSearchOptions{}
	}
	q, err := opts.ListOptions.query("ExecutionSearchOptions", opts.Sort)
	if err != nil {
		return nil, err
	}
	return list[Execution](ctx, s.c, "executions/search", opts.filters().into(q), "execution")
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
	return all(ctx, opts, s.List)
}

func (o *ExecutionSearchOptions) own() {
	o.States = slices.Clone(o.States)
	o.Labels = maps.Clone(o.Labels)
	o.Sort = slices.Clone(o.Sort)
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
	return s.c.openStream(ctx, &call{
		method: http.MethodGet, path: "executions/{executionId}/file", args: []string{id},
		query: url.Values{"path": {uri}},
	})
}

// noNil refuses a list answer with a null element, which would reach the
// caller as a nil item with a nil error.
func noNil[T any](list []*T, what string) error {
	for i, v := range list {
		if v == nil {
			return fmt.Errorf("kestra: the server answered a null %s at index %d", what, i)
		}
	}
	return nil
}
