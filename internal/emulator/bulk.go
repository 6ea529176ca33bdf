package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
)

// Bulk execution operations (webserver/.../controllers/api/ExecutionController.java:
// deleteExecutionsByIds/ByQuery, killExecutionsByIds/ByQuery). Every id is
// checked first; one invalid id refuses the whole request with 400 and a
// BulkErrorResponse {message, invalids}, and nothing is done. The by-query
// forms find the ids, then act as the by-ids forms do.
//
// Deletion is synchronous and answers BulkResponse {count} in both
// generations. Kills are asynchronous: 2.0 answers 202 with
// ApiAsyncOperationResponse {operationId, totalItems}, 1.3 answers 200 with
// {count}; the executions are killed afterwards.

// bulkViolation is one entry of BulkErrorResponse.invalids, a Kestra
// ManualConstraintViolation of which only the message and the invalid
// value (the id) are reproduced.
type bulkViolation struct {
	Message      string `json:"message"`
	InvalidValue string `json:"invalidValue"`
}

type bulkError struct {
	Message  string          `json:"message"`
	Invalids []bulkViolation `json:"invalids"`
}

// bulkIDs reads the JSON array of execution ids of a by-ids request.
func bulkIDs(r *http.Request) ([]string, error) {
	var ids []string
	if err := json.NewDecoder(r.Body).Decode(&ids); err != nil {
		return nil, &apiError{status: http.StatusUnprocessableEntity, message: "Invalid json: " + err.Error()}
	}
	return ids, nil
}

// queryIDs returns the ids of the tenant's executions that match the
// search filters of q.
func (s *Server) queryIDs(r *http.Request, q url.Values) ([]string, error) {
	keep, err := s.execQuery(q)
	if err != nil {
		return nil, err
	}
	tenant := tenantOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, ex := range s.execs {
		if ex.e.TenantID == tenant && keep(ex) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// checkBulkLocked returns the executions of ids, or the 400 to answer
// when invalid says one of them is invalid (a non-empty reason).
func (s *Server) checkBulkLocked(r *http.Request, ids []string, verb string, invalid func(*execution) string) ([]*execution, *bulkError) {
	tenant := tenantOf(r)
	var (
		exs []*execution
		be  bulkError
	)
	for _, id := range ids {
		ex := s.execs[id]
		reason := "execution not found"
		if ex != nil && ex.e.TenantID == tenant {
			reason = invalid(ex)
		}
		if reason != "" {
			be.Invalids = append(be.Invalids, bulkViolation{Message: reason, InvalidValue: id})
			continue
		}
		exs = append(exs, ex)
	}
	if len(be.Invalids) > 0 {
		be.Message = "invalid bulk " + verb
		return nil, &be
	}
	return exs, nil
}

func (s *Server) deleteExecutionsByIDs(w http.ResponseWriter, r *http.Request) error {
	ids, err := bulkIDs(r)
	if err != nil {
		return err
	}
	return s.bulkDelete(w, r, ids)
}

func (s *Server) deleteExecutionsByQuery(w http.ResponseWriter, r *http.Request) error {
	ids, err := s.queryIDs(r, r.URL.Query())
	if err != nil {
		return err
	}
	return s.bulkDelete(w, r, ids)
}

func (s *Server) bulkDelete(w http.ResponseWriter, r *http.Request, ids []string) error {
	q := r.URL.Query()
	includeRunning, err := boolParam(q, "includeNonTerminated", false)
	if err != nil {
		return err
	}
	delLogs, delStorage, err := deleteFlags(q)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A running execution is reported as not found, as Kestra does.
	exs, be := s.checkBulkLocked(r, ids, "delete", func(ex *execution) string {
		if !includeRunning && !isTerminal(ex.e.State.Current) {
			return "execution not found"
		}
		return ""
	})
	if be != nil {
		writeJSON(w, http.StatusBadRequest, be)
		return nil
	}
	for _, ex := range exs {
		s.deleteExecutionLocked(ex, delLogs, delStorage)
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": len(exs)})
	return nil
}

func (s *Server) killExecutionsByIDs(w http.ResponseWriter, r *http.Request) error {
	ids, err := bulkIDs(r)
	if err != nil {
		return err
	}
	return s.bulkKill(w, r, ids)
}

func (s *Server) killExecutionsByQuery(w http.ResponseWriter, r *http.Request) error {
	ids, err := s.queryIDs(r, r.URL.Query())
	if err != nil {
		return err
	}
	return s.bulkKill(w, r, ids)
}

func (s *Server) bulkKill(w http.ResponseWriter, r *http.Request, ids []string) error {
	s.mu.Lock()
	exs, be := s.checkBulkLocked(r, ids, "kill", func(ex *execution) string {
		if isTerminal(ex.e.State.Current) {
			return "execution already finished"
		}
		return ""
	})
	if be != nil {
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, be)
		return nil
	}
	if !s.closed {
		// Kestra queues the kills and answers at once.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if !s.sleep(s.ctx, s.cfg.taskTime) {
				return
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, ex := range exs {
				if s.execs[ex.e.ID] == ex && !isTerminal(ex.e.State.Current) {
					s.killLocked(ex)
				}
			}
		}()
	}
	s.mu.Unlock()
	if s.cfg.version == Version13 {
		writeJSON(w, http.StatusOK, map[string]int{"count": len(exs)})
		return nil
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"operationId": newID(), "totalItems": len(exs)})
	return nil
}
