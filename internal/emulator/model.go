package emulator

import (
	"slices"
	"time"
)

// Execution states (Kestra's State.Type).
const (
	stateCreated   = "CREATED"
	stateRunning   = "RUNNING"
	statePaused    = "PAUSED"
	stateRestarted = "RESTARTED"
	stateKilling   = "KILLING"
	stateSuccess   = "SUCCESS"
	stateWarning   = "WARNING"
	stateFailed    = "FAILED"
	stateKilled    = "KILLED"
	// stateBreakpoint: stopped before a task named in the breakpoints.
	stateBreakpoint = "BREAKPOINT"
)

var terminalStates = []string{"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED", "RESUBMITTED"}

func isTerminal(state string) bool { return slices.Contains(terminalStates, state) }

type stateHistory struct {
	State string    `json:"state"`
	Date  time.Time `json:"date"`
}

// stateJSON is Kestra's State: endDate and duration only once terminated
// or paused.
type stateJSON struct {
	Current   string         `json:"current"`
	Histories []stateHistory `json:"histories"`
	StartDate time.Time      `json:"startDate"`
	EndDate   *time.Time     `json:"endDate,omitempty"`
	Duration  string         `json:"duration,omitempty"`
}

func newState(t time.Time) stateJSON {
	return stateJSON{Current: stateCreated, Histories: []stateHistory{{State: stateCreated, Date: t}}, StartDate: t}
}

func (st *stateJSON) set(state string, t time.Time) {
	st.Current = state
	st.Histories = append(st.Histories, stateHistory{State: state, Date: t})
	if isTerminal(state) || state == statePaused {
		end := t
		st.EndDate = &end
		st.Duration = formatISODuration(t.Sub(st.StartDate))
	} else {
		st.EndDate = nil
		st.Duration = ""
	}
}

func (st stateJSON) clone() stateJSON {
	st.Histories = slices.Clone(st.Histories)
	if st.EndDate != nil {
		e := *st.EndDate
		st.EndDate = &e
	}
	return st
}

type attemptJSON struct {
	State    stateJSON `json:"state"`
	WorkerID string    `json:"workerId,omitempty"`
	LogFile  string    `json:"logFile,omitempty"`
}

// taskRunJSON is Kestra's TaskRun (ApiTaskRun when Outputs is dropped).
type taskRunJSON struct {
	ID              string         `json:"id"`
	ExecutionID     string         `json:"executionId"`
	Namespace       string         `json:"namespace"`
	FlowID          string         `json:"flowId"`
	TaskID          string         `json:"taskId"`
	ParentTaskRunID string         `json:"parentTaskRunId,omitempty"`
	Value           string         `json:"value,omitempty"`
	Iteration       *int           `json:"iteration,omitempty"`
	Attempts        []attemptJSON  `json:"attempts,omitempty"`
	Outputs         map[string]any `json:"outputs,omitempty"`
	State           stateJSON      `json:"state"`
	TenantID        string         `json:"tenantId,omitempty"`
}

type triggerJSON struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Variables map[string]any `json:"variables,omitempty"`
}

type metadataJSON struct {
	AttemptNumber       int       `json:"attemptNumber"`
	OriginalCreatedDate time.Time `json:"originalCreatedDate"`
}

type breakpointJSON struct {
	ID    string `json:"id"`
	Value string `json:"value,omitempty"`
}

// executionJSON is Kestra's Execution; the api and light views drop fields
// as ApiExecution and ApiLightExecution do.
type executionJSON struct {
	TenantID     string           `json:"tenantId,omitempty"`
	ID           string           `json:"id"`
	Namespace    string           `json:"namespace"`
	FlowID       string           `json:"flowId"`
	FlowRevision int              `json:"flowRevision"`
	TaskRunList  []*taskRunJSON   `json:"taskRunList,omitempty"`
	Inputs       map[string]any   `json:"inputs,omitempty"`
	Outputs      map[string]any   `json:"outputs,omitempty"`
	Labels       []Label          `json:"labels"`
	Variables    map[string]any   `json:"variables,omitempty"`
	State        stateJSON        `json:"state"`
	ParentID     string           `json:"parentId,omitempty"`
	OriginalID   string           `json:"originalId,omitempty"`
	Trigger      *triggerJSON     `json:"trigger,omitempty"`
	Deleted      *bool            `json:"deleted,omitempty"`
	Metadata     *metadataJSON    `json:"metadata,omitempty"`
	ScheduleDate *time.Time       `json:"scheduleDate,omitempty"`
	Kind         string           `json:"kind,omitempty"`
	Breakpoints  []breakpointJSON `json:"breakpoints,omitempty"`
	LoopRun      *loopRunJSON     `json:"loopRun,omitempty"`
	URL          string           `json:"url,omitempty"`
}

type view int

const (
	viewFull  view = iota // Execution: create, follow, 1.3
	viewAPI               // ApiExecution: 2.0 GET
	viewLight             // ApiLightExecution: 2.0 search
)

var falseValue = false

// render returns a copy of e shaped for the view; it shares maps, which are
// never mutated after being set.
func (e *executionJSON) render(v view) *executionJSON {
	out := *e
	out.State = e.State.clone()
	if e.Metadata != nil {
		m := *e.Metadata // restart increments the attempt number in place
		out.Metadata = &m
	}
	switch v {
	case viewFull:
		out.Deleted = &falseValue
		out.TaskRunList = cloneTaskRuns(e.TaskRunList, true)
	case viewAPI:
		out.TaskRunList = cloneTaskRuns(e.TaskRunList, false)
	case viewLight:
		out.TaskRunList = nil
		out.Variables = nil
	}
	return &out
}

func cloneTaskRuns(trs []*taskRunJSON, outputs bool) []*taskRunJSON {
	if trs == nil {
		return nil
	}
	out := make([]*taskRunJSON, len(trs))
	for i, tr := range trs {
		c := *tr
		c.State = tr.State.clone()
		c.Attempts = make([]attemptJSON, len(tr.Attempts))
		for j, a := range tr.Attempts {
			c.Attempts[j] = attemptJSON{State: a.State.clone(), WorkerID: a.WorkerID, LogFile: a.LogFile}
		}
		if !outputs {
			c.Outputs = nil
		}
		out[i] = &c
	}
	return out
}

// allTaskRunsTerminal reports whether every task run ended.
func (e *executionJSON) allTaskRunsTerminal() bool {
	for _, tr := range e.TaskRunList {
		if !isTerminal(tr.State.Current) {
			return false
		}
	}
	return true
}
