package emulator

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"
)

// Task is what a task handler ([Server.HandleTask]) is given of one run of
// a task.
type Task struct {
	// Context ends when the execution is killed or deleted, or the server
	// closes; a handler that waits should stop then.
	Context context.Context
	// Type is the task type as the emulator knows it (legacy class names
	// are given under their current name).
	Type                           string
	TaskID, TaskRunID, ExecutionID string
	Namespace, FlowID, TenantID    string
	// Value is the value of the ForEach (or EachSequential, EachParallel)
	// iteration the task runs in, if any; a Loop iteration's value is not
	// a task run's (see Render: item.value).
	Value string
	// Properties are the task's properties as the flow writes them
	// (expressions not rendered; see Render), without id and type. They
	// are shared with the flow: read them, do not modify them.
	Properties map[string]any
	// Inputs are the execution's inputs.
	Inputs map[string]any

	vars map[string]any
}

// Render renders a Pebble template with the task's context (inputs,
// outputs of earlier tasks, labels, flow, execution, taskrun, vars, and
// a Loop iteration's item) as the emulator renders the core tasks'
// properties: a subset of Pebble.
func (t Task) Render(template string) (string, error) { return render(template, t.vars) }

// TaskResult is what a handled task did.
type TaskResult struct {
	// Outputs become the task run's outputs (outputs.<taskId> in later
	// expressions).
	Outputs map[string]any
	// Logs are written to the execution's logs, in order, before the task
	// ends.
	Logs []TaskLog
	// Duration is the simulated time the task takes (divided by the
	// server's speed); zero means the server's task duration.
	Duration time.Duration
	// Err, when not nil, fails the task: its message is logged at ERROR
	// and the task run ends FAILED, as when a plugin throws.
	Err error
	// Warning ends the task run in WARNING instead of SUCCESS.
	Warning bool
}

// TaskLog is one log line a handled task writes.
type TaskLog struct {
	// Level is ERROR, WARN, INFO, DEBUG or TRACE; empty means INFO.
	Level   string
	Message string
}

// TaskHandler says what a task type does in the emulator.
type TaskHandler func(Task) TaskResult

// HandleTask makes every task of type typ run fn instead of the emulator's
// own behaviour (a no-op for plugin types). It applies to tasks that start
// after the call; a nil fn removes the handler. Flow-control tasks
// (Sequential, Parallel, If, Switch, Dag, Loop, LoopUntil, ForEach,
// EachSequential, EachParallel, AllowFailure, WorkingDirectory), Subflow
// and Pause cannot be handled. The type must be one the emulator accepts in a
// flow.
func (s *Server) HandleTask(typ string, fn TaskHandler) {
	if c, ok := canonicalType(typ); ok {
		typ = c
	}
	s.setTaskHandler(typ, fn)
}

// runnableTypes are the task types the emulator really runs (in
// runner.execute); any other type is a no-op unless a handler says what it
// does.
var runnableTypes = map[string]bool{
	typeLog: true, typeReturn: true, typeFail: true, typeSleep: true, typePause: true,
	"io.kestra.plugin.core.storage.Write":       true,
	"io.kestra.plugin.core.output.OutputValues": true,
}

// notRunMessage is the WARN line an execution gets for a task the emulator
// does not run.
func notRunMessage(typ string) string {
	return "Task type " + typ + " is not run by the Kestra emulator: it succeeded without doing anything (tests say what it does with HandleTask)"
}

// runHandler runs a task handler outside the lock; it returns the task's
// final state ("" when stopped) and a failure message.
func (rn *runner) runHandler(fn TaskHandler, task map[string]any, typ string, tr *taskRunJSON, vars map[string]any) (string, string) {
	props := maps.Clone(task)
	delete(props, "id")
	delete(props, "type")
	inputs, _ := vars["inputs"].(map[string]any)
	res := fn(Task{
		Context: rn.ctx, Type: typ, TaskID: tr.TaskID, TaskRunID: tr.ID, ExecutionID: tr.ExecutionID,
		Namespace: tr.Namespace, FlowID: tr.FlowID, TenantID: tr.TenantID, Value: tr.Value,
		Properties: props, Inputs: inputs, vars: vars,
	})
	if !rn.lock() {
		return "", ""
	}
	for _, l := range res.Logs {
		level := strings.ToUpper(l.Level)
		if level == "" {
			level = "INFO"
		}
		rn.logLocked(tr, level, l.Message)
	}
	if len(res.Outputs) > 0 {
		tr.Outputs = maps.Clone(res.Outputs)
	}
	rn.en.mu.Unlock()
	d := res.Duration
	if d <= 0 {
		d = rn.en.cfg.taskTime
	}
	if !rn.en.sleep(rn.ctx, d) {
		return "", ""
	}
	switch {
	case res.Err != nil:
		return stateFailed, res.Err.Error()
	case res.Warning:
		return stateWarning, ""
	}
	return stateSuccess, ""
}

// setTaskHandler makes tasks of the canonical type typ run fn (nil: the
// emulator's own behaviour).
func (en *engine) setTaskHandler(typ string, fn TaskHandler) {
	en.mu.Lock()
	defer en.mu.Unlock()
	if en.taskHandlers == nil {
		en.taskHandlers = map[string]TaskHandler{}
	}
	if fn == nil {
		delete(en.taskHandlers, typ)
		return
	}
	en.taskHandlers[typ] = fn
	// A type a test says how to run is a type its server has: as on a
	// Kestra with that plugin installed, flows may use it.
	en.pluginsMu.Lock()
	en.cfg.plugins = append(slices.Clip(en.cfg.plugins), typ)
	en.pluginsMu.Unlock()
}

// taskHandler returns the handler of a task type, if any.
func (en *engine) taskHandler(typ string) TaskHandler {
	en.mu.Lock()
	defer en.mu.Unlock()
	return en.taskHandlers[typ]
}
