package emulator

import (
	"fmt"
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
	out, err := s.engine.changeExecutionStatus(tenantOf(r), r.PathValue("executionId"), status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// forceRunExecution runs a CREATED execution now (a scheduled one without
// waiting for its date) and resumes a PAUSED one; other executions that
// have not ended are left as they are.
func (s *Server) forceRunExecution(w http.ResponseWriter, r *http.Request) error {
	out, err := s.engine.forceRunExecution(tenantOf(r), r.PathValue("executionId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
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
	out, renderErr, err := s.engine.evalExpression(tenantOf(r), r.PathValue("executionId"), r.PathValue("taskRunId"), expr)
	if err != nil {
		return err
	}
	if renderErr != nil {
		msg := "Unable to render `" + strings.TrimSpace(expr) + "`: " + renderErr.Error()
		writeJSON(w, http.StatusOK, map[string]string{"error": msg, "stackTrace": "io.kestra.core.exceptions.IllegalVariableEvaluationException: " + msg})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{"result": out})
	return nil
}

// unqueueExecution leaves a QUEUED execution out of the queue: to RUNNING
// (the default; the limit does not apply), CANCELLED or FAILED.
func (s *Server) unqueueExecution(w http.ResponseWriter, r *http.Request) error {
	target := r.URL.Query().Get("state")
	if target == "" {
		target = stateRunning
	}
	if !validUnqueueTarget(target) {
		return errIllegalArgument(fmt.Sprintf("Invalid target state: %s. Valid states are: %v", target, unqueueTargets))
	}
	out, err := s.engine.unqueueExecution(tenantOf(r), r.PathValue("executionId"), target)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
