package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
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
	return s.executionIDs(tenantOf(r), keep), nil
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
	n, be := s.deleteExecutions(tenantOf(r), ids, includeRunning, delLogs, delStorage)
	if be != nil {
		writeJSON(w, http.StatusBadRequest, be)
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
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
	n, be := s.killExecutions(tenantOf(r), ids)
	if be != nil {
		writeJSON(w, http.StatusBadRequest, be)
		return nil
	}
	if s.cfg.version == Version13 {
		writeJSON(w, http.StatusOK, map[string]int{"count": n})
		return nil
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"operationId": newID(), "totalItems": n})
	return nil
}
