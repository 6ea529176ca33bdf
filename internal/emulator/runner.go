package emulator

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// execution is the server's record of one execution.
type execution struct {
	e      *executionJSON
	key    flowKey
	rev    *flowRev
	gen    int // bumped when a runner must stop (kill, restart, delete)
	cancel context.CancelFunc
	wake   chan struct{} // closed (and replaced) to wake a runner waiting in a pause or at a breakpoint

	pauseRequested bool
	resumeInputs   map[string]any
	forced         bool // force-run: do not wait for the schedule date

	// Concurrency limit: admitted holds a slot of its flow until released
	// (when it ends); a QUEUED execution waits since queuedAt.
	admitted, released bool
	queuedAt           time.Time

	last  []byte // latest full JSON
	final bool   // last snapshot is the end one
	subs  map[*execSub]struct{}
	files map[string][]byte
}

// execSub is one follower's queue of snapshots; nothing is coalesced, so
// each step reaches each follower.
type execSub struct {
	finalOnly bool // wait=true needs only the end

	mu     sync.Mutex
	queue  []snapshot
	notify chan struct{}
}

type snapshot struct {
	data  []byte
	final bool
}

func (sub *execSub) push(sn snapshot) {
	sub.mu.Lock()
	sub.queue = append(sub.queue, sn)
	sub.mu.Unlock()
	select {
	case sub.notify <- struct{}{}:
	default:
	}
}

func (sub *execSub) take() []snapshot {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	q := sub.queue
	sub.queue = nil
	return q
}

// publishLocked records a change of the execution and hands its snapshot
// to every follower. Nothing is marshalled when no one needs it.
func (en *engine) publishLocked(ex *execution) {
	if isTerminal(ex.e.State.Current) {
		defer en.releaseLocked(ex) // after this execution's followers are served
	}
	ex.last = nil
	ex.final = isTerminal(ex.e.State.Current) && ex.e.allTaskRunsTerminal()
	for sub := range ex.subs {
		if !sub.finalOnly || ex.final {
			sub.push(snapshot{data: en.snapshotLocked(ex), final: ex.final})
		}
	}
}

// snapshotLocked returns the full Execution JSON of the current state.
func (en *engine) snapshotLocked(ex *execution) []byte {
	if ex.last == nil {
		// Marshal in place (the lock is held): no copy of large task runs.
		ex.e.Deleted = &falseValue
		ex.last, _ = json.Marshal(ex.e)
		ex.e.Deleted = nil
	}
	return ex.last
}

// startRunnerLocked starts a runner from task index from; it supersedes
// any previous runner.
func (en *engine) startRunnerLocked(ex *execution, from int, resumePaused bool) {
	if ex.cancel != nil {
		ex.cancel()
	}
	ex.gen++
	ex.pauseRequested = false
	gen := ex.gen
	ctx, cancel := context.WithCancel(en.ctx)
	ex.cancel = cancel
	if en.closed {
		cancel()
		return
	}
	en.wg.Add(1)
	go func() {
		defer en.wg.Done()
		defer cancel()
		(&runner{en: en, ex: ex, gen: gen, ctx: ctx}).run(from, resumePaused)
	}()
}

// stopRunnerLocked makes the current runner stop without touching state.
func (en *engine) stopRunnerLocked(ex *execution) {
	ex.gen++
	if ex.cancel != nil {
		ex.cancel()
	}
}

type runner struct {
	en  *engine
	ex  *execution
	gen int
	ctx context.Context
}

// lock takes the server lock if this runner is still the current one.
func (rn *runner) lock() bool {
	rn.en.mu.Lock()
	if rn.ex.gen != rn.gen || rn.ctx.Err() != nil {
		rn.en.mu.Unlock()
		return false
	}
	return true
}

func (rn *runner) step() bool { return rn.en.sleep(rn.ctx, rn.en.cfg.taskTime) }

// wasForced reports whether the execution was force-run; it takes the
// lock, under which the flag is written.
func (rn *runner) wasForced() bool {
	rn.en.mu.Lock()
	defer rn.en.mu.Unlock()
	return rn.ex.forced
}

type outcome int

const (
	outSuccess outcome = iota
	outFailed
	outStopped // superseded or server closed
)

func (rn *runner) run(from int, resumePaused bool) {
	ex := rn.ex
	if from == 0 && !resumePaused {
		// CREATED, maybe scheduled for later.
		if sd := ex.e.ScheduleDate; sd != nil && !rn.wasForced() {
			if wait := time.Until(*sd); wait > 0 && !rn.en.sleep(rn.ctx, wait) {
				return
			}
		}
		if !rn.step() || !rn.lock() {
			return
		}
		if st := rn.en.admissionLocked(ex); st != "" {
			rn.queueLocked(st)
			if st != stateQueued {
				rn.en.mu.Unlock()
				return
			}
			wake := ex.wake // admitted (and set RUNNING) by whoever closes it
			rn.en.mu.Unlock()
			if !rn.waitResume(wake) || !rn.lock() {
				return
			}
		}
		if ex.e.State.Current != stateRunning {
			ex.e.State.set(stateRunning, now())
		}
		rn.en.publishLocked(ex)
		rn.en.mu.Unlock()
	} else {
		if !rn.lock() {
			return
		}
		if ex.e.State.Current != stateRunning {
			ex.e.State.set(stateRunning, now())
		}
		rn.en.publishLocked(ex)
		rn.en.mu.Unlock()
	}
	out := rn.runTasks(ex.rev.pf.tasks, from, resumePaused)
	if out == outStopped {
		return
	}
	if out == outFailed {
		if rn.runTasks(mapList(ex.rev.pf.doc["errors"]), 0, false) == outStopped {
			return
		}
	}
	if !rn.step() || !rn.lock() {
		return
	}
	if !rn.holdWhilePausedLocked() {
		return
	}
	defer rn.en.mu.Unlock()
	// The execution's state is guessed from its top-level task runs; a
	// flowable's state already sums up its children
	// (Execution#guessFinalState).
	var top []*taskRunJSON
	for _, tr := range ex.e.TaskRunList {
		if tr.ParentTaskRunID == "" {
			top = append(top, tr)
		}
	}
	final := guessState(top)
	if final != stateFailed {
		if outs, err := rn.flowOutputs(); err != nil {
			rn.logLocked(nil, "ERROR", "Failed to render outputs: "+err.Error())
			final = stateFailed
		} else if len(outs) > 0 {
			ex.e.Outputs = outs
		}
	}
	ex.e.State.set(final, now())
	rn.en.publishLocked(ex)
}

func (rn *runner) flowOutputs() (map[string]any, error) {
	outs := map[string]any{}
	vars := rn.en.varsLocked(rn.ex, nil)
	for _, o := range rn.ex.rev.pf.outputs {
		id, _ := o["id"].(string)
		v, err := renderValue(o["value"], vars)
		if err != nil {
			return nil, err
		}
		outs[id] = v
	}
	return outs, nil
}

// runTasks runs the top-level tasks[from:] in order; the first failure
// stops the list.
func (rn *runner) runTasks(tasks []map[string]any, from int, resumePaused bool) outcome {
	for i := from; i < len(tasks); i++ {
		out := rn.runTask(tasks[i], scope{}, resumePaused && i == from)
		if out != outSuccess {
			return out
		}
	}
	return outSuccess
}

// scope is where a task runs: under the task run of a flowable parent
// (nil at the top level), for one ForEach value.
type scope struct {
	parent    *taskRunJSON
	value     string
	iteration *int // a LoopUntil iteration's
}

// findTaskRunLocked returns the latest task run of taskID in sc, if any.
func (rn *runner) findTaskRunLocked(taskID string, sc scope) *taskRunJSON {
	parentID := ""
	if sc.parent != nil {
		parentID = sc.parent.ID
	}
	for _, tr := range slices.Backward(rn.ex.e.TaskRunList) {
		if tr.TaskID == taskID && tr.ParentTaskRunID == parentID && tr.Value == sc.value {
			return tr
		}
	}
	return nil
}

func (rn *runner) runTask(task map[string]any, sc scope, resumePaused bool) outcome {
	ex := rn.ex
	taskID, _ := task["id"].(string)
	typ, _ := task["type"].(string)
	typ, _ = canonicalType(typ)

	if !rn.lock() {
		return outStopped
	}
	if !rn.holdWhilePausedLocked() {
		return outStopped
	}
	tr := rn.findTaskRunLocked(taskID, sc)
	switch {
	case tr != nil && (tr.State.Current == stateSuccess || tr.State.Current == stateWarning):
		// Done before a restart: not run again.
		rn.en.mu.Unlock()
		return outSuccess
	case tr == nil || isTerminal(tr.State.Current):
		tr = &taskRunJSON{
			ID: newID(), ExecutionID: ex.e.ID, Namespace: ex.e.Namespace, FlowID: ex.e.FlowID,
			TaskID: taskID, Value: sc.value, Iteration: sc.iteration, State: newState(now()), TenantID: ex.e.TenantID,
		}
		if sc.parent != nil {
			tr.ParentTaskRunID = sc.parent.ID
		}
		ex.e.TaskRunList = append(ex.e.TaskRunList, tr)
		rn.en.publishLocked(ex)
	}
	// Only tasks sent to a worker stop at a breakpoint: not flowable
	// tasks nor subflows (ExecutorService#handleWorkerTask).
	for !flowableTypes[typ] && typ != typeSubflow && rn.atBreakpointLocked(tr) {
		// Stopped before the task is sent to a worker, until resumed from
		// the breakpoint (the runner is woken) or killed (stopped).
		t := now()
		tr.State.set(stateBreakpoint, t)
		ex.e.State.set(stateBreakpoint, t)
		rn.en.publishLocked(ex)
		wake := ex.wake
		rn.en.mu.Unlock()
		if !rn.waitResume(wake) || !rn.lock() {
			return outStopped
		}
	}
	if resumePaused && tr.State.Current == stateRunning && typ == typePause {
		// Resumed: the pause task completes.
		if ex.resumeInputs != nil {
			tr.Outputs = map[string]any{"onResume": ex.resumeInputs}
			ex.resumeInputs = nil
		}
		rn.finishLocked(tr, stateSuccess)
		rn.en.mu.Unlock()
		return outSuccess
	}
	switch {
	case flowableTypes[typ]:
		return rn.runFlowable(task, typ, tr) // unlocks
	case typ == typeSubflow:
		return rn.runSubflow(task, tr) // unlocks
	}
	t := now()
	tr.State.set(stateRunning, t)
	att := attemptJSON{State: newState(t)}
	att.State.set(stateRunning, t)
	tr.Attempts = append(tr.Attempts, att)
	rn.en.publishLocked(ex)
	vars := rn.en.varsLocked(ex, tr)
	rn.en.mu.Unlock()

	state, failMsg := rn.execute(task, typ, tr, vars)
	if state == "" {
		return outStopped
	}
	if !rn.lock() {
		return outStopped
	}
	defer rn.en.mu.Unlock()
	if failMsg != "" {
		rn.logLocked(tr, "ERROR", failMsg)
	}
	rn.finishLocked(tr, state)
	if state == stateFailed {
		return outFailed
	}
	return outSuccess
}

// execute does the work of one task outside the lock; it returns the final
// task state ("" when stopped) and a failure message.
func (rn *runner) execute(task map[string]any, typ string, tr *taskRunJSON, vars map[string]any) (string, string) {
	if typ != typePause {
		if h := rn.en.taskHandler(typ); h != nil {
			return rn.runHandler(h, task, typ, tr, vars)
		}
	}
	if !runnableTypes[typ] {
		// Not run: succeeds as a no-op, and says so in the execution.
		if !rn.lock() {
			return "", ""
		}
		rn.logLocked(tr, "WARN", notRunMessage(typ))
		rn.en.mu.Unlock()
	}
	switch typ {
	case typeLog:
		var msgs []string
		switch m := task["message"].(type) {
		case []any:
			for _, x := range m {
				msgs = append(msgs, stringify(x))
			}
		default:
			msgs = []string{stringify(m)}
		}
		level := strings.ToUpper(stringify(task["level"]))
		if level == "" {
			level = "INFO"
		}
		for _, m := range msgs {
			out, err := render(m, vars)
			if err != nil {
				return stateFailed, err.Error()
			}
			if !rn.lock() {
				return "", ""
			}
			rn.logLocked(tr, level, out)
			rn.en.mu.Unlock()
		}
	case typeReturn:
		out, err := render(stringify(task["format"]), vars)
		if err != nil {
			return stateFailed, err.Error()
		}
		if !rn.lock() {
			return "", ""
		}
		tr.Outputs = map[string]any{"value": out}
		rn.en.mu.Unlock()
	case typeFail:
		msg := "Task failure"
		if m, ok := task["errorMessage"].(string); ok {
			r, err := render(m, vars)
			if err != nil {
				return stateFailed, err.Error()
			}
			msg = r
		}
		if !rn.step() {
			return "", ""
		}
		return stateFailed, msg
	case typeSleep:
		d, err := parseISODuration(stringify(task["duration"]))
		if err != nil {
			return stateFailed, "Invalid duration: " + stringify(task["duration"])
		}
		if !rn.en.sleep(rn.ctx, d) {
			return "", ""
		}
		return stateSuccess, ""
	case typePause:
		return rn.pause(task, tr)
	case "io.kestra.plugin.core.storage.Write":
		content, err := render(stringify(task["content"]), vars)
		if err != nil {
			return stateFailed, err.Error()
		}
		ext := stringify(task["extension"])
		if ext == "" {
			ext = ".txt"
		}
		if !rn.lock() {
			return "", ""
		}
		uri := storagePrefix(rn.ex.e.Namespace, rn.ex.e.FlowID, rn.ex.e.ID) + "tasks/" + tr.TaskID + "/" + tr.ID + "/" + newID() + ext
		rn.ex.files[uri] = []byte(content)
		tr.Outputs = map[string]any{"uri": uri, "size": len(content)}
		rn.en.mu.Unlock()
	case "io.kestra.plugin.core.output.OutputValues":
		vals, err := renderValue(task["values"], vars)
		if err != nil {
			return stateFailed, err.Error()
		}
		if !rn.lock() {
			return "", ""
		}
		tr.Outputs = map[string]any{"values": vals}
		rn.en.mu.Unlock()
	}
	if !rn.step() {
		return "", ""
	}
	return stateSuccess, ""
}

// pause puts the task and the execution in PAUSED and waits for a resume,
// the pause duration, or the timeout.
func (rn *runner) pause(task map[string]any, tr *taskRunJSON) (string, string) {
	if !rn.lock() {
		return "", ""
	}
	t := now()
	tr.State.set(statePaused, t)
	rn.ex.e.State.set(statePaused, t)
	rn.en.publishLocked(rn.ex)
	wake := rn.ex.wake // taken under the lock: a resume after it closes this one
	rn.en.mu.Unlock()

	var auto <-chan time.Time
	autoState := stateSuccess
	for _, k := range []string{"pauseDuration", "delay", "timeout"} {
		if v, ok := task[k].(string); ok {
			if d, err := parseISODuration(v); err == nil {
				timer := time.NewTimer(rn.en.scaled(d))
				defer timer.Stop()
				auto = timer.C
				if k == "timeout" {
					autoState = stateFailed
				}
				break
			}
		}
	}
	select {
	case <-wake:
		// Resumed by the API: the handler moved the task back to RUNNING.
		if !rn.lock() {
			return "", ""
		}
		if rn.ex.resumeInputs != nil {
			tr.Outputs = map[string]any{"onResume": rn.ex.resumeInputs}
			rn.ex.resumeInputs = nil
		}
		rn.en.mu.Unlock()
		return stateSuccess, ""
	case <-auto:
		if !rn.lock() {
			return "", ""
		}
		tr.State.set(stateRunning, now())
		rn.ex.e.State.set(stateRunning, now())
		rn.en.publishLocked(rn.ex)
		rn.en.mu.Unlock()
		if autoState == stateFailed {
			return stateFailed, "Pause timed out"
		}
		return stateSuccess, ""
	case <-rn.ctx.Done():
		return "", ""
	}
}

// atBreakpointLocked reports whether the task run tr, about to run, must
// stop at one of the execution's breakpoints: one naming its task, and
// its value (a ForEach iteration's) if the breakpoint has one
// (ExecutorService#shouldSuspend).
func (rn *runner) atBreakpointLocked(tr *taskRunJSON) bool {
	if tr.State.Current != stateCreated && tr.State.Current != stateRestarted {
		return false
	}
	for _, bp := range rn.ex.e.Breakpoints {
		if bp.ID == tr.TaskID && (bp.Value == "" || bp.Value == tr.Value) {
			return true
		}
	}
	return false
}

// holdWhilePausedLocked waits, when the pause action paused the
// execution, for a resume before the next task starts (or the execution
// ends). Called and returning with the lock held; false (lock released)
// when the runner was stopped.
func (rn *runner) holdWhilePausedLocked() bool {
	if !rn.ex.pauseRequested {
		return true
	}
	rn.ex.pauseRequested = false
	wake := rn.ex.wake
	rn.en.mu.Unlock()
	return rn.waitResume(wake) && rn.lock()
}

// waitResume waits for a resume of an execution paused by the pause
// action, or stopped at a breakpoint: for wake, the execution's wake
// channel taken under the lock when it stopped, to close.
func (rn *runner) waitResume(wake <-chan struct{}) bool {
	select {
	case <-wake:
		return true
	case <-rn.ctx.Done():
		return false
	}
}

// finishLocked ends a task run and its last attempt.
func (rn *runner) finishLocked(tr *taskRunJSON, state string) {
	t := now()
	if n := len(tr.Attempts); n > 0 && !isTerminal(tr.Attempts[n-1].State.Current) {
		tr.Attempts[n-1].State.set(state, t)
	}
	tr.State.set(state, t)
	rn.en.publishLocked(rn.ex)
}

func (rn *runner) logLocked(tr *taskRunJSON, level, msg string) {
	rn.en.appendLogLocked(rn.ex, tr, level, msg)
}

// varsLocked builds the template context of a task.
func (en *engine) varsLocked(ex *execution, tr *taskRunJSON) map[string]any {
	labels := map[string]any{}
	for _, l := range ex.e.Labels {
		labels[l.Key] = l.Value
	}
	// A loop iteration's execution takes its context from the execution
	// of the loop (RunVariables: loopRun.parent), its inputs and trigger
	// from the top one.
	real, top := ex.e, ex.e
	if ex.e.LoopRun != nil && ex.e.LoopRun.Parent != nil {
		real = ex.e.LoopRun.Parent
		for top = real; top.LoopRun != nil && top.LoopRun.Parent != nil; {
			top = top.LoopRun.Parent
		}
	}
	inputs := map[string]any{}
	for k, v := range top.Inputs {
		inputs[k] = v
	}
	vars := map[string]any{
		"inputs":  inputs,
		"outputs": taskOutputs(ex.e),
		"labels":  labels,
		"execution": map[string]any{
			"id": real.ID, "startDate": real.State.StartDate.Format(time.RFC3339Nano),
			"originalId": real.OriginalID, "state": real.State.Current,
		},
		"flow": map[string]any{
			"id": ex.e.FlowID, "namespace": ex.e.Namespace, "revision": ex.e.FlowRevision, "tenantId": ex.e.TenantID,
		},
		"vars": map[string]any{},
	}
	if ex.rev.pf.variables != nil {
		vars["vars"] = ex.rev.pf.variables
	}
	if top.Trigger != nil {
		vars["trigger"] = top.Trigger.Variables
	}
	if ex.e.LoopRun != nil {
		vars["item"] = loopVars(ex.e.LoopRun)
	}
	if tr != nil {
		taskrun := map[string]any{"id": tr.ID, "startDate": tr.State.StartDate.Format(time.RFC3339Nano), "attemptsCount": len(tr.Attempts)}
		if tr.Value != "" {
			taskrun["value"] = tr.Value
		}
		if tr.Iteration != nil {
			taskrun["iteration"] = *tr.Iteration
		}
		if tr.ParentTaskRunID != "" {
			taskrun["parentId"] = tr.ParentTaskRunID
		}
		vars["taskrun"] = taskrun
		vars["task"] = map[string]any{"id": tr.TaskID}
		// The parent task run may be in the loop's execution.
		for e := ex.e; e != nil && tr.ParentTaskRunID != ""; {
			if i := slices.IndexFunc(e.TaskRunList, func(p *taskRunJSON) bool { return p.ID == tr.ParentTaskRunID }); i >= 0 {
				p := e.TaskRunList[i]
				pv := map[string]any{"id": p.ID}
				if p.Value != "" {
					pv["value"] = p.Value
				}
				vars["parent"] = map[string]any{"taskrun": pv, "task": map[string]any{"id": p.TaskID}}
				break
			}
			if e.LoopRun == nil {
				break
			}
			e = e.LoopRun.Parent
		}
	}
	return vars
}

// taskOutputs are the outputs of the task runs of e by task id
// (TaskOutputService#computeOutputs): those of a task run with a value
// (a ForEach iteration's) under outputs.<taskId>.<value>; those of the
// iterations of a LoopUntil merged, the later ones winning. A loop
// iteration's execution adds those of the loop's execution, which win.
func taskOutputs(e *executionJSON) map[string]any {
	outputs := map[string]any{}
	for _, t := range e.TaskRunList {
		switch {
		case t.Outputs == nil:
		case t.Value != "":
			byValue, _ := outputs[t.TaskID].(map[string]any)
			if byValue == nil {
				byValue = map[string]any{}
				outputs[t.TaskID] = byValue
			}
			byValue[t.Value] = t.Outputs
		case t.Iteration != nil:
			prev, _ := outputs[t.TaskID].(map[string]any)
			outputs[t.TaskID] = mergeMaps(prev, t.Outputs)
		default:
			outputs[t.TaskID] = t.Outputs
		}
	}
	if e.LoopRun != nil && e.LoopRun.Parent != nil {
		maps.Copy(outputs, taskOutputs(e.LoopRun.Parent))
	}
	return outputs
}

// mergeMaps merges b into a copy of a, recursively for maps (MapUtils#merge).
func mergeMaps(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range b {
		am, aok := out[k].(map[string]any)
		bm, bok := v.(map[string]any)
		if aok && bok {
			out[k] = mergeMaps(am, bm)
		} else {
			out[k] = v
		}
	}
	return out
}
