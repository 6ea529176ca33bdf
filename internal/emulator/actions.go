package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// More single-execution actions (webserver/.../ExecutionController.java:
// updateExecutionStatus, forceRun, eval). 2.0 answers 200 with the
// execution and refuses a wrong state with 409; 1.3 refuses it with an
// IllegalArgumentException (422).

// allStates are the values of State.Type.
var allStates = []string{
	"CREATED", "SUBMITTED", "RUNNING", "PAUSED", "RESTARTED", "KILLING", "SUCCESS", "WARNING", "FAILED",
	"KILLED", "CANCELLED", "QUEUED", "RETRYING", "RETRIED", "SKIPPED", "BREAKPOINT", "RESUBMITTED",
}

// changeExecutionStatus sets an ended execution's state to another
// terminal one.
func (s *Server) changeExecutionStatus(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if status == "" {
		return errBadRequest("Required QueryValue [status] not specified")
	}
	if !slices.Contains(allStates, status) {
		return conversionError("status", status)
	}
	if !isTerminal(status) {
		return errIllegalArgument("You can only change the state of an execution to a terminal state.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, err := s.lookupExecution(r)
	if err != nil {
		return err
	}
	cur := ex.e.State.Current
	switch {
	case s.cfg.version == Version13 && !isTerminal(cur):
		return errIllegalArgument("You can only change the state of a terminated execution.")
	case s.cfg.version != Version13 && (!isTerminal(cur) || cur == stateKilled):
		return errConflict("Cannot change execution state: execution must be terminated and not killed.")
	}
	ex.e.State.set(status, now())
	s.publishLocked(ex)
	writeJSON(w, http.StatusOK, ex.e.render(viewFull))
	return nil
}

// forceRunExecution runs a CREATED execution now (a scheduled one without
// waiting for its date) and resumes a PAUSED one; other executions that
// have not ended are left as they are.
func (s *Server) forceRunExecution(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, err := s.lookupExecution(r)
	if err != nil {
		return err
	}
	switch cur := ex.e.State.Current; {
	case isTerminal(cur) && s.cfg.version == Version13:
		return errIllegalArgument("Only non terminated executions can be forced run.")
	case isTerminal(cur):
		return errConflict("Cannot force run execution: only non-terminated executions can be force run.")
	case cur == stateCreated:
		ex.forced = true
		s.startRunnerLocked(ex, 0, false)
	case cur == stateQueued:
		s.admitLocked(ex)
	case cur == statePaused:
		t := now()
		for _, tr := range ex.e.TaskRunList {
			if tr.State.Current == statePaused {
				tr.State.set(stateRunning, t)
			}
		}
		s.wakeRunnerLocked(ex, t)
	}
	writeJSON(w, http.StatusOK, ex.e.render(viewFull))
	return nil
}

// evalExpression renders the text/plain body against the execution, or
// one of its task runs: {result}, or {error, stackTrace} with a 200 when
// it does not render.
func (s *Server) evalExpression(w http.ResponseWriter, r *http.Request) error {
	expr, err := readBody(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ex := s.execs[r.PathValue("executionId")]
	if ex == nil || ex.e.TenantID != tenantOf(r) {
		return errNotFound("Unable to find execution '" + r.PathValue("executionId") + "'")
	}
	var tr *taskRunJSON
	if id := r.PathValue("taskRunId"); id != "" {
		for _, t := range ex.e.TaskRunList {
			if t.ID == id {
				tr = t
			}
		}
		if tr == nil {
			return errNotFound("Unable to find task run '" + id + "'")
		}
	}
	out, err := render(expr, s.varsLocked(ex, tr))
	if err != nil {
		msg := "Unable to render `" + strings.TrimSpace(expr) + "`: " + err.Error()
		writeJSON(w, http.StatusOK, map[string]string{"error": msg, "stackTrace": "io.kestra.core.exceptions.IllegalVariableEvaluationException: " + msg})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{"result": out})
	return nil
}
