package emulator

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errStopped ends an operation that waited for an execution when the
// caller went away or the server closed: there is nothing to answer.
var errStopped = errors.New("emulator: wait ended before the execution")

// execLocked returns the execution id of tenant, or Kestra's 404.
func (en *engine) execLocked(tenant, id string) (*execution, error) {
	ex := en.execs[id]
	if ex == nil || ex.e.TenantID != tenant {
		return nil, errNotFound("")
	}
	return ex, nil
}

// executionURL is the UI link Kestra puts in the url field.
func (en *engine) executionURL(e *executionJSON) string {
	return en.executionURLOf(e, en.publicURL())
}

// executionURLOf is the UI link of e on a server at base.
func (en *engine) executionURLOf(e *executionJSON, base string) string {
	return base + "/ui/" + e.TenantID + "/executions/" + e.Namespace + "/" + e.FlowID + "/" + e.ID
}

// runRequest is what starting an execution of a flow takes.
type runRequest struct {
	key         flowKey
	revision    string // empty: the current one
	labels      []Label
	schedule    *time.Time
	kind        string // upper case; empty: NORMAL
	breakpoints []breakpointJSON
	wait        bool // answer the execution once it ended
}

// flowToRun returns the revision of the flow an execution would run: 404
// when the flow or the revision does not exist, 422 when it is disabled.
func (en *engine) flowToRun(key flowKey, revision string) (*flowRev, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	fe := en.flows[key]
	var rev *flowRev
	if fe != nil {
		rev = fe.current()
		if revision != "" {
			n, err := strconv.Atoi(revision)
			if err != nil {
				return nil, conversionError("revision", revision)
			}
			rev = fe.revision(n)
		}
	}
	if rev == nil || rev.deleted {
		return nil, errNotFound("Requested Flow is not found.")
	}
	if rev.pf.disabled {
		return nil, errIllegalState("Requested Flow is disabled.")
	}
	return rev, nil
}

// startExecution converts the raw inputs of req, creates the execution of
// rev and starts it. It returns the execution as created, or as it ended
// with req.wait (errStopped when ctx or the server ended first).
func (en *engine) startExecution(ctx context.Context, rev *flowRev, req runRequest, raw rawInputs) (*executionJSON, error) {
	key := req.key
	id := newID()
	files := map[string][]byte{}
	vars := map[string]any{"flow": map[string]any{"id": key.id, "namespace": key.namespace}, "execution": map[string]any{"id": id}}
	inputs, err := convertInputs(rev.pf, raw, storagePrefix(key.namespace, key.id, id), vars, files)
	if err != nil {
		return nil, err
	}

	ex, sub, snap, err := en.createExecution(key, rev, id, inputs, files, req)
	if err != nil {
		return nil, err
	}
	if req.wait {
		wctx, cancel := context.WithTimeout(ctx, en.scaled(streamTimeout))
		final, ok := en.waitFinal(wctx, ex, sub)
		cancel()
		if !ok {
			if ctx.Err() == nil && en.ctx.Err() == nil {
				return nil, errWaitTimeout
			}
			return nil, errStopped
		}
		snap = final
	}
	snap.URL = en.executionURL(snap)
	return snap, nil
}

// streamTimeout is how long Kestra waits for the next event of an
// execution or log stream: a Reactor timeout of one hour on the wait=true
// answer and between the frames of the follow streams
// (ExecutionController#createExecution and #follow, LogController#follow,
// 1.3.19 and 2.0.0-SNAPSHOT). Simulated: WithSpeed divides it.
const streamTimeout = time.Hour

// errWaitTimeout is the answer of a wait=true create whose execution did
// not end within streamTimeout: Reactor's TimeoutException, which
// ErrorController answers as any Throwable (500). The execution goes on.
var errWaitTimeout = errInternal(fmt.Sprintf("Did not observe any item or terminal signal within %dms in 'map' (and no fallback has been configured)", streamTimeout.Milliseconds()))

// createExecution registers and starts the execution id of an API
// request; sub follows it to its end when req.wait.
func (en *engine) createExecution(key flowKey, rev *flowRev, id string, inputs map[string]any, files map[string][]byte, req runRequest) (*execution, *execSub, *executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	if en.closed {
		return nil, nil, nil, &apiError{status: http.StatusServiceUnavailable, message: "Service Unavailable: server closed"}
	}
	ex := en.newExecutionLocked(key, rev, id, inputs, req.labels, "api", files)
	ex.e.ScheduleDate = req.schedule
	ex.e.Breakpoints = req.breakpoints
	ex.e.Kind = req.kind
	en.publishLocked(ex)
	en.startRunnerLocked(ex, 0, false)
	var sub *execSub
	if req.wait {
		sub = en.subscribeLocked(ex, true)
	}
	return ex, sub, ex.e.render(viewFull), nil
}

// execution returns the execution id of tenant shaped for v.
func (en *engine) execution(tenant, id string, v view) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	return ex.e.render(v), nil
}

// deleteExecution removes an execution, and its logs and files if asked.
func (en *engine) deleteExecution(tenant, id string, delLogs, delStorage bool) error {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return err
	}
	en.deleteExecutionLocked(ex, delLogs, delStorage)
	return nil
}

// executionPage returns the executions of tenant that keep accepts, newest
// first unless pp sorts otherwise, shaped for v.
func (en *engine) executionPage(tenant string, pp pageParams, keep func(*execution) bool, v view) pagedResults[*executionJSON] {
	en.mu.Lock()
	defer en.mu.Unlock()
	var items []*execution
	for _, ex := range en.execs {
		if ex.e.TenantID == tenant && keep(ex) {
			items = append(items, ex)
		}
	}
	slices.SortFunc(items, func(a, b *execution) int {
		return cmp.Or(b.e.State.StartDate.Compare(a.e.State.StartDate), cmp.Compare(a.e.ID, b.e.ID))
	})
	page := paginate(items, pp, execSorts)
	out := pagedResults[*executionJSON]{Results: make([]*executionJSON, len(page.Results)), Total: page.Total}
	for i, ex := range page.Results {
		out.Results[i] = ex.e.render(v)
	}
	return out
}

// killExecution kills a running execution, and with cascade the subflow
// executions it started; a finished one is refused unless cascade.
func (en *engine) killExecution(tenant, id string, cascade bool) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	if isTerminal(ex.e.State.Current) {
		if !cascade {
			return nil, errIllegalState("Execution is already finished, can't kill it")
		}
	} else {
		en.killLocked(ex)
		if cascade {
			en.killSubflowsLocked(ex.e.ID)
		}
	}
	return ex.e.render(viewFull), nil
}

// restartExecution restarts a failed or paused execution (1.3: any ended
// but killed one) from its first task that did not succeed, on the given
// flow revision if any.
func (en *engine) restartExecution(tenant, id, revision string) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	st := ex.e.State.Current
	restartable := st == stateFailed || st == statePaused
	if en.cfg.version == Version13 {
		restartable = (isTerminal(st) || st == statePaused) && st != stateKilled
	}
	if !restartable {
		return nil, errIllegalState("Execution '" + ex.e.ID + "' is not in a restartable state (" + st + ")")
	}
	if revision != "" {
		n, err := strconv.Atoi(revision)
		if err != nil {
			return nil, conversionError("revision", revision)
		}
		rev := en.flows[ex.key].revision(n)
		if rev == nil || rev.deleted {
			return nil, errNotFound("Requested Flow is not found.")
		}
		ex.rev = rev
		ex.e.FlowRevision = n
	}
	from := en.restartIndexLocked(ex)
	en.stopRunnerLocked(ex)
	t := now()
	for _, tr := range ex.e.TaskRunList {
		if tr.State.Current == stateFailed || tr.State.Current == stateKilled || tr.State.Current == statePaused {
			tr.State.set(stateRestarted, t)
		}
	}
	ex.e.State.set(stateRestarted, t)
	ex.e.Metadata.AttemptNumber++
	ex.e.Outputs = nil
	en.publishLocked(ex)
	en.startRunnerLocked(ex, from, true)
	return ex.e.render(viewFull), nil
}

// replayExecution starts a new execution with the inputs (and files) of
// execution id, from the task of taskRunID if given, keeping the task
// runs before it.
func (en *engine) replayExecution(tenant, id, revision, taskRunID string, bps []breakpointJSON) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	src, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	rev := src.rev
	if revision != "" {
		n, err := strconv.Atoi(revision)
		if err != nil {
			return nil, conversionError("revision", revision)
		}
		if rev = en.flows[src.key].revision(n); rev == nil || rev.deleted {
			return nil, errNotFound("Requested Flow is not found.")
		}
	}
	from := 0
	if taskRunID != "" {
		var taskID string
		for _, tr := range src.e.TaskRunList {
			if tr.ID == taskRunID {
				taskID = tr.TaskID
			}
		}
		if taskID == "" {
			return nil, errIllegalArgument("No task found for taskRunId '" + taskRunID + "'")
		}
		for i, t := range rev.pf.tasks {
			if id, _ := t["id"].(string); id == taskID {
				from = i
			}
		}
	}
	var labels []Label
	for _, l := range src.e.Labels {
		if l.Key != "system.correlationId" {
			labels = append(labels, l)
		}
	}
	nid := newID()
	files := map[string][]byte{}
	oldPrefix := storagePrefix(src.e.Namespace, src.e.FlowID, src.e.ID)
	newPrefix := storagePrefix(src.e.Namespace, src.e.FlowID, nid)
	inputs := map[string]any{}
	for k, v := range src.e.Inputs {
		if sv, ok := v.(string); ok && strings.HasPrefix(sv, oldPrefix) {
			nv := newPrefix + strings.TrimPrefix(sv, oldPrefix)
			files[nv] = src.files[sv]
			v = nv
		}
		inputs[k] = v
	}
	ex := en.newExecutionLocked(src.key, rev, nid, inputs, labels, "", files)
	ex.e.OriginalID = src.e.OriginalID
	ex.e.Trigger = src.e.Trigger
	ex.e.Kind = src.e.Kind
	ex.e.Breakpoints = bps
	// Task runs before the replayed task are kept as they were.
	for i := 0; i < from; i++ {
		tid, _ := rev.pf.tasks[i]["id"].(string)
		for _, tr := range src.e.TaskRunList {
			if tr.TaskID == tid {
				c := cloneTaskRuns([]*taskRunJSON{tr}, true)[0]
				c.ID, c.ExecutionID = newID(), nid
				ex.e.TaskRunList = append(ex.e.TaskRunList, c)
			}
		}
	}
	en.publishLocked(ex)
	en.startRunnerLocked(ex, from, from > 0)
	return ex.e.render(viewFull), nil
}

// newExecutionLocked registers an execution of a flow revision and starts
// its runner.
func (en *engine) newExecutionLocked(key flowKey, rev *flowRev, id string, inputs map[string]any, labels []Label, from string, files map[string][]byte) *execution {
	t := now()
	all := []Label{}
	for _, l := range rev.pf.labels {
		if !strings.HasPrefix(l.Key, "system.") {
			all = append(all, l)
		}
	}
	for _, l := range labels {
		all = slices.DeleteFunc(all, func(x Label) bool { return x.Key == l.Key })
		all = append(all, l)
	}
	if !hasLabel(all, "system.from") && from != "" {
		all = append(all, Label{Key: "system.from", Value: from})
	}
	if !hasLabel(all, "system.correlationId") {
		all = append(all, Label{Key: "system.correlationId", Value: id})
	}
	e := &executionJSON{
		TenantID: key.tenant, ID: id, Namespace: key.namespace, FlowID: key.id, FlowRevision: rev.revision,
		Labels: all, State: newState(t), OriginalID: id, Kind: "",
		Metadata: &metadataJSON{AttemptNumber: 1, OriginalCreatedDate: t},
	}
	if len(inputs) > 0 {
		e.Inputs = inputs
	}
	if files == nil {
		files = map[string][]byte{}
	}
	ex := &execution{e: e, key: key, rev: rev, subs: map[*execSub]struct{}{}, files: files, wake: make(chan struct{})}
	en.execs[id] = ex
	en.execSeq++
	en.logs[id] = &logBucket{}
	close(en.newExec)
	en.newExec = make(chan struct{})
	return ex
}

// subscribeLocked registers a follower; its queue starts with the current
// snapshot.
func (en *engine) subscribeLocked(ex *execution, finalOnly bool) *execSub {
	sub := &execSub{notify: make(chan struct{}, 1), finalOnly: finalOnly}
	ex.subs[sub] = struct{}{}
	if !finalOnly || ex.final {
		sub.push(snapshot{data: en.snapshotLocked(ex), final: ex.final})
	}
	return sub
}

func (en *engine) unsubscribe(ex *execution, sub *execSub) {
	en.mu.Lock()
	delete(ex.subs, sub)
	en.mu.Unlock()
}

// waitFinal blocks until the execution ends (as wait=true does) and returns
// its final state; false when ctx is done or the server closes. A deleted
// execution never ends, so its waiters hold until then.
func (en *engine) waitFinal(ctx context.Context, ex *execution, sub *execSub) (*executionJSON, bool) {
	defer en.unsubscribe(ex, sub)
	for {
		for _, sn := range sub.take() {
			if sn.final {
				var e executionJSON
				if json.Unmarshal(sn.data, &e) == nil {
					return &e, true
				}
			}
		}
		select {
		case <-sub.notify:
		case <-ctx.Done():
			return nil, false
		case <-en.ctx.Done():
			return nil, false
		}
	}
}

// deleteExecutionLocked removes ex, and its logs and files if asked.
// Kestra only purges the rows (ExecutionService#delete, 1.3.19 and
// 2.0.0-SNAPSHOT): nothing is killed, but the executor, which finds no row
// when the next result comes (AbstractJdbcExecutionRepository#lock), moves
// it no further. So the runner stops without a state change, and its
// followers keep an open, silent stream: no end frame, and wait=true holds
// until its own timeout.
func (en *engine) deleteExecutionLocked(ex *execution, delLogs, delStorage bool) {
	en.stopRunnerLocked(ex)
	delete(en.execs, ex.e.ID)
	en.releaseLocked(ex)
	if delLogs {
		delete(en.logs, ex.e.ID)
	}
	if delStorage {
		ex.files = nil
	}
}

// killLocked kills the running execution ex: KILLING, then KILLED with
// each task run that had not ended.
func (en *engine) killLocked(ex *execution) {
	en.stopRunnerLocked(ex)
	t := now()
	ex.e.State.set(stateKilling, t)
	en.publishLocked(ex)
	for _, tr := range ex.e.TaskRunList {
		if !isTerminal(tr.State.Current) {
			if n := len(tr.Attempts); n > 0 && !isTerminal(tr.Attempts[n-1].State.Current) {
				tr.Attempts[n-1].State.set(stateKilled, t)
			}
			tr.State.set(stateKilled, t)
		}
	}
	ex.e.State.set(stateKilled, now())
	en.publishLocked(ex)
	// And the iterations of its loops (ExecutionService#killLoopSubExecutions).
	for _, sub := range en.execs {
		if sub.e.Kind == "LOOP" && sub.e.ParentID == ex.e.ID && !isTerminal(sub.e.State.Current) {
			en.killLocked(sub)
		}
	}
}

// killSubflowsLocked kills the running executions that the execution id
// started as subflows, and theirs.
func (en *engine) killSubflowsLocked(id string) {
	for _, ex := range en.execs {
		if t := ex.e.Trigger; t != nil && t.Type == typeSubflow && t.Variables["executionId"] == id && !isTerminal(ex.e.State.Current) {
			en.killLocked(ex)
			en.killSubflowsLocked(ex.e.ID)
		}
	}
}

// restartIndexLocked returns the index of the first task whose run failed,
// was killed or is paused; len(tasks) when none.
func (en *engine) restartIndexLocked(ex *execution) int {
	for i, t := range ex.rev.pf.tasks {
		id, _ := t["id"].(string)
		for _, tr := range ex.e.TaskRunList {
			if tr.TaskID == id {
				switch tr.State.Current {
				case stateFailed, stateKilled, statePaused, stateRunning, stateCreated:
					return i
				}
			}
		}
	}
	for i, t := range ex.rev.pf.tasks {
		id, _ := t["id"].(string)
		found := false
		for _, tr := range ex.e.TaskRunList {
			if tr.TaskID == id {
				found = true
			}
		}
		if !found {
			return i
		}
	}
	return len(ex.rev.pf.tasks)
}

// wakeRunnerLocked puts a paused or stopped execution back to RUNNING and
// wakes whatever of its runner waits: every paused task of a Parallel, for
// one.
func (en *engine) wakeRunnerLocked(ex *execution, t time.Time) {
	ex.pauseRequested = false // a runner that did not reach its hold yet goes on
	ex.e.State.set(stateRunning, t)
	en.publishLocked(ex)
	close(ex.wake)
	ex.wake = make(chan struct{})
}

// findTaskDef returns the definition of the task id among tasks and the
// tasks they hold (flowable branches), or nil.
func findTaskDef(tasks []map[string]any, id string) map[string]any {
	for _, t := range tasks {
		if t["id"] == id {
			return t
		}
		var nested []map[string]any
		for _, k := range []string{"tasks", "then", "else", "errors", "defaults"} {
			nested = append(nested, subTasks(t[k])...)
		}
		if cases, ok := t["cases"].(map[string]any); ok {
			for _, c := range cases {
				nested = append(nested, mapList(c)...)
			}
		}
		if d := findTaskDef(nested, id); d != nil {
			return d
		}
	}
	return nil
}

// checkExecution says whether execution id of tenant exists.
func (en *engine) checkExecution(tenant, id string) error {
	en.mu.Lock()
	defer en.mu.Unlock()
	_, err := en.execLocked(tenant, id)
	return err
}

// resumeExecution resumes a paused execution; unless noInputs, raw holds
// the onResume inputs of its paused task.
func (en *engine) resumeExecution(tenant, id string, raw rawInputs, noInputs bool) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	if ex.e.State.Current != statePaused {
		return nil, errIllegalState("Execution '" + ex.e.ID + "' is not paused, can't resume it")
	}
	var pauseTask map[string]any
	var pausedRuns []*taskRunJSON
	for _, tr := range ex.e.TaskRunList {
		if tr.State.Current == statePaused {
			pausedRuns = append(pausedRuns, tr)
			// The onResume inputs are those of the paused task that
			// declares some.
			if def := findTaskDef(ex.rev.pf.tasks, tr.TaskID); pauseTask == nil || pauseTask["onResume"] == nil {
				pauseTask = def
			}
		}
	}
	if pauseTask != nil && !noInputs {
		decl := &parsedFlow{inputs: mapList(pauseTask["onResume"])}
		inputs, err := convertInputs(decl, raw, storagePrefix(ex.e.Namespace, ex.e.FlowID, ex.e.ID), map[string]any{}, ex.files)
		if err != nil {
			return nil, err
		}
		if len(inputs) > 0 {
			ex.resumeInputs = inputs
		}
	}
	t := now()
	for _, tr := range pausedRuns {
		tr.State.set(stateRunning, t)
	}
	en.wakeRunnerLocked(ex, t)
	return ex.e.render(viewFull), nil
}

// resumeFromBreakpoint continues an execution stopped at a breakpoint:
// its breakpoints become bps, the task runs stopped go back to CREATED and
// the execution to RUNNING.
func (en *engine) resumeFromBreakpoint(tenant, id string, bps []breakpointJSON) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	v13 := en.cfg.version == Version13
	switch {
	case ex.e.State.Current != stateBreakpoint && v13:
		return nil, errIllegalState("Execution is not suspended")
	case ex.e.State.Current != stateBreakpoint:
		return nil, errConflict("Cannot resume execution: execution is not suspended.")
	case len(ex.e.Breakpoints) == 0 && v13:
		return nil, errIllegalState("Execution has no breakpoint")
	case len(ex.e.Breakpoints) == 0:
		return nil, errConflict("Cannot resume execution: no breakpoint defined.")
	}
	ex.e.Breakpoints = bps
	t := now()
	for _, tr := range ex.e.TaskRunList {
		if tr.State.Current == stateBreakpoint {
			tr.State.set(stateCreated, t)
		}
	}
	en.wakeRunnerLocked(ex, t)
	return ex.e.render(viewFull), nil
}

// pauseExecution pauses a running (RUNNING or KILLING: State#isRunning)
// execution at once: its state becomes PAUSED while the task at work ends
// as it would, and no further task starts until a resume
// (ExecutionService#pause, 1.3.19 and 2.0.0-SNAPSHOT). Another state is
// refused: 1.3 with 422 (IllegalArgumentException), 2.0 with 409
// (ExecutionController#pauseExecution throws a ConflictException).
func (en *engine) pauseExecution(tenant, id string) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	if st := ex.e.State.Current; st != stateRunning && st != stateKilling {
		if en.cfg.version == Version13 {
			return nil, errIllegalArgument("The execution is not running")
		}
		return nil, errConflict("Cannot pause execution: execution is not running.")
	}
	ex.pauseRequested = true
	ex.e.State.set(statePaused, now())
	en.publishLocked(ex)
	return ex.e.render(viewFull), nil
}

// setExecutionLabels replaces the labels of an execution but its system
// ones, which labels may not hold.
func (en *engine) setExecutionLabels(tenant, id string, labels []Label) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	for _, l := range labels {
		if strings.HasPrefix(l.Key, "system.") {
			return nil, errIllegalArgument("System labels can only be set by Kestra itself, offending label: " + l.Key + "=" + l.Value)
		}
	}
	var kept []Label
	for _, l := range ex.e.Labels {
		if strings.HasPrefix(l.Key, "system.") {
			kept = append(kept, l)
		}
	}
	ex.e.Labels = append(labels, kept...)
	en.publishLocked(ex)
	return ex.e.render(viewFull), nil
}

// executionFileData returns the file uri of an execution. A uri in the storage
// of another existing execution of the same flow gives that execution's id
// (otherID) and no data: Kestra redirects there.
func (en *engine) executionFileData(tenant, id, uri string) (data []byte, otherID string, err error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, "", err
	}
	prefix := storagePrefix(ex.e.Namespace, ex.e.FlowID, ex.e.ID)
	if !strings.HasPrefix(uri, prefix) {
		other := storagePrefix(ex.e.Namespace, ex.e.FlowID, "")
		if rest, ok := strings.CutPrefix(uri, other); ok {
			otherID, _, _ := strings.Cut(rest, "/")
			if en.execs[otherID] != nil {
				return nil, otherID, nil
			}
		}
		return nil, "", errIllegalArgument("Invalid prefix path")
	}
	data, ok := ex.files[uri]
	if !ok {
		return nil, "", errNotFound("Unable to find file at '" + uri + "'")
	}
	if data == nil {
		data = []byte{}
	}
	return data, "", nil
}

// webhookCall is a request to a flow's Webhook trigger: the flow, the
// trigger's key and what the flow sees as trigger (headers, parameters,
// body).
type webhookCall struct {
	key   flowKey
	whKey string
	vars  map[string]any
}

// webhookResult is what a webhook call did.
type webhookResult struct {
	skipped       bool // the trigger's when is not met: nothing was created
	invalidInputs bool // the trigger's inputs failed: nothing was created
	status        int
	exec          *executionJSON // as created, or as it ended with wait
	url           string         // exec's UI link
	outputsOnly   bool           // returnOutputs: the answer is exec's outputs
	textPlain     bool           // the outputs go as text/plain

	sub *execSub // while waiting for the end
}

// webhook starts an execution from a flow's Webhook trigger; with the
// trigger's wait it returns once the execution and its task runs ended,
// with no deadline but ctx.
func (en *engine) webhook(ctx context.Context, call webhookCall) (webhookResult, error) {
	ex, trig, tvars, res, err := en.startWebhook(call)
	if ex == nil || err != nil {
		return res, err
	}
	if !boolProp(trig, "wait", false) {
		return res, nil
	}
	// wait: the answer comes once the execution and its task runs ended,
	// with no deadline but the client's.
	final, ok := en.waitFinal(ctx, ex, res.sub)
	if !ok {
		if ctx.Err() == nil && en.ctx.Err() == nil {
			return webhookResult{}, errNotFound("") // deleted while waiting
		}
		return webhookResult{}, errStopped
	}
	res = webhookResult{status: http.StatusOK, exec: final}
	if final.State.Current == stateFailed {
		res.status = http.StatusInternalServerError
	}
	if code, ok := trig["responseCode"]; ok {
		c, err := render(stringify(code), tvars)
		n, convErr := strconv.Atoi(c)
		if err != nil || convErr != nil || http.StatusText(n) == "" {
			return webhookResult{}, errInternal("Invalid response code: " + c)
		}
		res.status = n
	}
	res.outputsOnly = boolProp(trig, "returnOutputs", false)
	res.textPlain = stringify(trig["responseContentType"]) == "text/plain"
	res.url = en.executionURL(final)
	return res, nil
}

// startWebhook finds the trigger of call and starts its execution, ex
// (nil when none started: res says why). With the trigger's wait, res.sub
// follows ex to its end; without, res is the answer.
func (en *engine) startWebhook(call webhookCall) (ex *execution, trig, tvars map[string]any, res webhookResult, err error) {
	key := call.key
	en.mu.Lock()
	defer en.mu.Unlock()
	fe := en.liveFlowLocked(key)
	if fe == nil {
		return nil, nil, nil, res, errNotFound("Flow not found")
	}
	rev := fe.current()
	for _, t := range rev.pf.triggers {
		typ, _ := t["type"].(string)
		if c, _ := canonicalType(typ); c == typeWebhook && stringify(t["key"]) == call.whKey {
			trig = t
			break
		}
	}
	if trig == nil {
		return nil, nil, nil, res, errNotFound("Webhook not found")
	}
	if rev.pf.disabled || trig["disabled"] == true {
		return nil, nil, nil, res, errIllegalState("Flow is disabled")
	}
	if en.closed {
		return nil, nil, nil, res, &apiError{status: http.StatusServiceUnavailable, message: "Service Unavailable: server closed"}
	}
	tvars = map[string]any{"trigger": call.vars, "flow": map[string]any{"id": key.id, "namespace": key.namespace}}

	// The trigger's when is checked first (ConditionService#isValid): not
	// met, or not renderable, answers 204 and creates nothing.
	if when, ok := trig["when"]; ok && en.cfg.version != Version13 {
		if v, err := render(stringify(when), tvars); err != nil || !truthy(v) {
			return nil, nil, nil, webhookResult{skipped: true}, nil
		}
	}
	// Then its inputs, rendered from the request, as the execution's
	// (Webhook inputs, FlowInputOutput#readExecutionInputs); a failure is
	// a 422 without a body.
	id := newID()
	files := map[string][]byte{}
	inputs, err := givenInputs(rev.pf, key, id, trig["inputs"], tvars, files)
	if err != nil {
		return nil, nil, nil, webhookResult{invalidInputs: true}, nil
	}

	ex = en.newExecutionLocked(key, rev, id, inputs, nil, "trigger", files)
	trigID, _ := trig["id"].(string)
	ex.e.Trigger = &triggerJSON{ID: trigID, Type: typeWebhook, Variables: call.vars}
	en.publishLocked(ex)
	en.startRunnerLocked(ex, 0, false)
	if boolProp(trig, "wait", false) {
		return ex, trig, tvars, webhookResult{sub: en.subscribeLocked(ex, true)}, nil
	}
	e := ex.e.render(viewLight)
	return ex, trig, tvars, webhookResult{status: http.StatusOK, exec: e, url: en.executionURLOf(e, en.cfg.url)}, nil
}

// changeExecutionStatus sets an ended execution's state to another
// terminal one (status is one).
func (en *engine) changeExecutionStatus(tenant, id, status string) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	cur := ex.e.State.Current
	switch {
	case en.cfg.version == Version13 && !isTerminal(cur):
		return nil, errIllegalArgument("You can only change the state of a terminated execution.")
	case en.cfg.version != Version13 && (!isTerminal(cur) || cur == stateKilled):
		return nil, errConflict("Cannot change execution state: execution must be terminated and not killed.")
	}
	ex.e.State.set(status, now())
	en.publishLocked(ex)
	return ex.e.render(viewFull), nil
}

// forceRunExecution runs a CREATED execution now (a scheduled one without
// waiting for its date), admits a QUEUED one and resumes a PAUSED one;
// other executions that have not ended are left as they are.
func (en *engine) forceRunExecution(tenant, id string) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	switch cur := ex.e.State.Current; {
	case isTerminal(cur) && en.cfg.version == Version13:
		return nil, errIllegalArgument("Only non terminated executions can be forced run.")
	case isTerminal(cur):
		return nil, errConflict("Cannot force run execution: only non-terminated executions can be force run.")
	case cur == stateCreated:
		ex.forced = true
		en.startRunnerLocked(ex, 0, false)
	case cur == stateQueued:
		en.admitLocked(ex)
	case cur == statePaused:
		t := now()
		for _, tr := range ex.e.TaskRunList {
			if tr.State.Current == statePaused {
				tr.State.set(stateRunning, t)
			}
		}
		en.wakeRunnerLocked(ex, t)
	}
	return ex.e.render(viewFull), nil
}

// evalExpression renders expr against an execution, or one of its task
// runs when taskRunID is set. renderErr is why expr does not render; err
// is a 404.
func (en *engine) evalExpression(tenant, id, taskRunID, expr string) (result string, renderErr, err error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex := en.execs[id]
	if ex == nil || ex.e.TenantID != tenant {
		return "", nil, errNotFound("Unable to find execution '" + id + "'")
	}
	var tr *taskRunJSON
	if taskRunID != "" {
		for _, t := range ex.e.TaskRunList {
			if t.ID == taskRunID {
				tr = t
			}
		}
		if tr == nil {
			return "", nil, errNotFound("Unable to find task run '" + taskRunID + "'")
		}
	}
	result, renderErr = render(expr, en.varsLocked(ex, tr))
	return result, renderErr, nil
}

// unqueueExecution moves a QUEUED execution to target: RUNNING admits it
// past its flow's concurrency limit, another state ends it.
func (en *engine) unqueueExecution(tenant, id, target string) (*executionJSON, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex, err := en.execLocked(tenant, id)
	if err != nil {
		return nil, err
	}
	if ex.e.State.Current != stateQueued {
		if en.cfg.version == Version13 {
			return nil, errIllegalArgument("Only QUEUED execution can be unqueued")
		}
		return nil, errConflict("Cannot unqueue execution: only QUEUED executions can be unqueued.")
	}
	if target == stateRunning {
		en.admitLocked(ex)
	} else {
		en.stopRunnerLocked(ex)
		ex.e.State.set(target, now())
		en.publishLocked(ex)
	}
	return ex.e.render(viewFull), nil
}

// errNoExecution ends a follow of an execution that did not appear in time.
var errNoExecution = errors.New("emulator: no such execution")

// followExecution subscribes to every step of execution id of tenant; the
// subscription's queue starts with the current state. An unknown
// execution is waited for up to wait (then errNoExecution); errStopped
// when ctx or the server ends first.
func (en *engine) followExecution(ctx context.Context, tenant, id string, wait time.Duration) (sub *execSub, stop func(), err error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		en.mu.Lock()
		ex := en.execs[id]
		if ex != nil && ex.e.TenantID == tenant {
			sub := en.subscribeLocked(ex, false)
			en.mu.Unlock()
			return sub, func() { en.unsubscribe(ex, sub) }, nil
		}
		created := en.newExec
		en.mu.Unlock()
		select {
		case <-created:
		case <-deadline.C:
			return nil, nil, errNoExecution
		case <-ctx.Done():
			return nil, nil, errStopped
		case <-en.ctx.Done():
			return nil, nil, errStopped
		}
	}
}
