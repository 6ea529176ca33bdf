package kestra

import (
	"fmt"
	"slices"
	"time"

	"github.com/kestra-go/sdk/gen"
)

// Models shared by the services. Most are the generated types themselves,
// so go doc lists their fields under package gen; the fields programs read
// are named here.
type (
	// Flow is a flow as Kestra returns it. The fields programs read:
	// Namespace and ID (its identity), Revision (1, then one more per
	// change), Source (its YAML as sent, comments kept), Disabled,
	// Deleted, Labels, Description, Inputs (the declared inputs), Tasks and
	// Triggers, Updated.
	Flow = gen.FlowWithSource
	// State is an execution's or a task run's state: Current (a
	// [StateType]), Histories (each state with its Date), StartDate, and
	// EndDate and Duration (ISO-8601, such as PT1.5S) once it has ended or
	// paused.
	State = gen.State
	// StateType is one of Kestra's states (CREATED, RUNNING, SUCCESS ...).
	// It is an open string: a state this SDK does not know still decodes.
	StateType = gen.StateType
	// TaskRun is one run of a task inside an execution. The fields programs
	// read: ID, TaskID (the task's id in the flow), State (State.Current is
	// its [StateType]), Outputs (what the task returned, numbers as
	// json.Number; see [Execution.TaskOutputs]), Value (the iteration
	// value inside a loop), ParentTaskRunID (the flow-control task that
	// ran it), Attempts (each with its State) and Iteration.
	TaskRun = gen.TaskRun
	// Label is a key and value attached to a flow or an execution.
	Label = gen.Label
	// LogEntry is one log line of an execution: Timestamp, Level (ERROR,
	// WARN, INFO, DEBUG, TRACE), Message, TaskID and TaskRunID (empty for
	// the execution's own lines), AttemptNumber, ExecutionID, Namespace,
	// FlowID, TriggerID and Thread.
	LogEntry = gen.LogEntry
)

// Kestra's states.
const (
	StateCreated     StateType = gen.StateTypeCREATED
	StateSubmitted   StateType = gen.StateTypeSUBMITTED
	StateRunning     StateType = gen.StateTypeRUNNING
	StatePaused      StateType = gen.StateTypePAUSED
	StateRestarted   StateType = gen.StateTypeRESTARTED
	StateKilling     StateType = gen.StateTypeKILLING
	StateSuccess     StateType = gen.StateTypeSUCCESS
	StateWarning     StateType = gen.StateTypeWARNING
	StateFailed      StateType = gen.StateTypeFAILED
	StateKilled      StateType = gen.StateTypeKILLED
	StateCancelled   StateType = gen.StateTypeCANCELLED
	StateQueued      StateType = gen.StateTypeQUEUED
	StateRetrying    StateType = gen.StateTypeRETRYING
	StateRetried     StateType = gen.StateTypeRETRIED
	StateSkipped     StateType = gen.StateTypeSKIPPED
	StateBreakpoint  StateType = gen.StateTypeBREAKPOINT
	StateResubmitted StateType = gen.StateTypeRESUBMITTED
)

// IsTerminalState reports whether s is final, as Kestra defines it:
// SUCCESS, WARNING, FAILED, KILLED, CANCELLED, RETRIED, SKIPPED, RESUBMITTED.
// PAUSED, QUEUED, BREAKPOINT, SUBMITTED and RETRYING are not.
func IsTerminalState(s StateType) bool {
	switch s {
	case StateSuccess, StateWarning, StateFailed, StateKilled, StateCancelled,
		StateRetried, StateSkipped, StateResubmitted:
		return true
	}
	return false
}

// IsFailedState reports whether s is a terminal failure: FAILED, KILLED or
// CANCELLED.
func IsFailedState(s StateType) bool {
	switch s {
	case StateFailed, StateKilled, StateCancelled:
		return true
	}
	return false
}

// Execution is one run of a flow. It decodes every shape Kestra sends: the
// full execution of create and follow, and the lighter one of GET on Kestra
// 2.0, whose task runs have no outputs. Its free-form values (Inputs,
// Outputs, the task runs' Outputs, the trigger's Variables) are
// [github.com/kestra-go/sdk/kestra/kestrajson.Object]s: maps whose
// numbers are json.Number, exact however large.
//
// The fields programs read: ID; Namespace, FlowID and FlowRevision (the
// flow that ran); State (State.Current is its [StateType], with
// [Execution.IsTerminal] and [Execution.IsFailed]); TaskRunList (each
// [TaskRun], with [Execution.TaskRun], [Execution.TaskOutputs] and
// [Execution.FailedTasks]); Inputs (the inputs as Kestra read them, FILE
// inputs as kestra:// URIs; [Execution.InputInto] decodes one); Outputs
// (the flow's outputs); Labels ([Execution.LabelMap]); Trigger (what
// started it; [Execution.ParentExecution]); ParentID and OriginalID
// (restarts and replays); ScheduleDate; URL (the execution in Kestra's UI,
// set by create).
type Execution gen.ExecutionControllerExecutionResponse

// CurrentState returns the execution's current state.
func (e *Execution) CurrentState() StateType { return e.State.Current }

// IsTerminal reports whether the execution has ended.
func (e *Execution) IsTerminal() bool { return IsTerminalState(e.State.Current) }

// IsFailed reports whether the execution ended FAILED, KILLED or CANCELLED.
func (e *Execution) IsFailed() bool { return IsFailedState(e.State.Current) }

// Duration is how long the execution ran: until its end when it has one,
// else until now. Zero when it has not started.
func (e *Execution) Duration() time.Duration {
	if e.State.Duration != "" {
		if d, err := ParseISODuration(e.State.Duration); err == nil {
			return d
		}
	}
	start := e.State.StartDate
	if start.IsZero() && len(e.State.Histories) > 0 {
		start = e.State.Histories[0].Date
	}
	if start.IsZero() {
		return 0
	}
	if !e.State.EndDate.IsZero() {
		return e.State.EndDate.Sub(start)
	}
	return time.Since(start)
}

// TaskRun returns the last run of the task taskID, and false when the task
// has not run.
func (e *Execution) TaskRun(taskID string) (*TaskRun, bool) {
	for i := len(e.TaskRunList) - 1; i >= 0; i-- {
		if e.TaskRunList[i].TaskID == taskID {
			return &e.TaskRunList[i], true
		}
	}
	return nil, false
}

// FailedTasks returns the ids of the tasks whose last run failed, in the
// order they ran. A flow-control task (Sequential, ForEach ...) that failed
// because one of its children did is left out: the child names the
// failure. On Kestra 2.0 a Loop runs each iteration in an execution of its
// own, so a failed iteration's task is not here but the Loop is; list the
// iterations with [ExecutionSearchOptions] Kind "LOOP" and ParentID.
func (e *Execution) FailedTasks() []string {
	parents := map[string]bool{}
	for i := range e.TaskRunList {
		if p := e.TaskRunList[i].ParentTaskRunID; p != "" {
			parents[p] = true
		}
	}
	var ids []string
	seen := map[string]bool{}
	for i := len(e.TaskRunList) - 1; i >= 0; i-- {
		tr := &e.TaskRunList[i]
		if seen[tr.TaskID] {
			continue
		}
		seen[tr.TaskID] = true
		if IsFailedState(tr.State.Current) && !parents[tr.ID] {
			ids = append(ids, tr.TaskID)
		}
	}
	slices.Reverse(ids)
	return ids
}

// TaskOutputs decodes the outputs of the last run of taskID into v, a
// pointer to a struct or a map. Kestra 2.0 leaves outputs out of GET: they
// are in the executions that create (with Wait), follow and Wait return.
func (e *Execution) TaskOutputs(taskID string, v any) error {
	tr, ok := e.TaskRun(taskID)
	if !ok {
		return fmt.Errorf("kestra: execution %s has no run of task %q", e.ID, taskID)
	}
	if err := decodeValue(tr.Outputs, v); err != nil {
		return fmt.Errorf("kestra: outputs of task %q: %w", taskID, err)
	}
	return nil
}

// subflowTriggerType is the trigger type of an execution created by a
// subflow task (ExecutableUtils#SUBFLOW_TRIGGER_TYPE).
const subflowTriggerType = "io.kestra.plugin.core.flow.Subflow"

// ParentExecution returns the id of the execution whose Subflow task
// started e, and false when e was not started as a subflow. The parent's
// subflows are found with [ExecutionSearchOptions.TriggerExecutionID].
func (e *Execution) ParentExecution() (string, bool) {
	if e.Trigger.Type != subflowTriggerType {
		return "", false
	}
	id, ok := e.Trigger.Variables["executionId"].(string)
	return id, ok && id != ""
}

// LabelMap returns the execution's labels as a map.
func (e *Execution) LabelMap() map[string]string {
	m := make(map[string]string, len(e.Labels))
	for _, l := range e.Labels {
		m[l.Key] = l.Value
	}
	return m
}

// stateSignature identifies what a caller sees change in an execution: its
// state and the state of each task run.
func (e *Execution) stateSignature() string {
	b := make([]byte, 0, 16+24*len(e.TaskRunList))
	b = append(b, e.State.Current...)
	for i := range e.TaskRunList {
		b = append(b, '|')
		b = append(b, e.TaskRunList[i].ID...)
		b = append(b, ':')
		b = append(b, e.TaskRunList[i].State.Current...)
	}
	return string(b)
}
