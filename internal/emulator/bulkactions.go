package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
)

// Bulk execution actions other than delete and kill (bulk.go), by ids and
// by query, as webserver/.../controllers/api/ExecutionController.java
// (kestra-io/kestra develop, 2.0.0-SNAPSHOT) writes them: every id is
// checked first and one invalid id refuses the request with 400 and a
// BulkErrorResponse naming each invalid id; otherwise the actions are
// queued (202 ApiAsyncOperationResponse; 1.3 answers BulkResponse {count})
// and each one then does what the action on one execution does. The
// by-query forms take the ids of the matching executions.

// bulkActionHandler serves POST /executions/<action>/by-ids and by-query.
func (s *Server) bulkActionHandler(name string, byQuery bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		var p bulkParams
		switch name {
		case "change-status":
			st := q.Get("newStatus")
			if st == "" {
				return errBadRequest("Required QueryValue [newStatus] not specified")
			}
			if !slices.Contains(allStates, st) {
				return conversionError("newStatus", st)
			}
			if !isTerminal(st) {
				return errIllegalArgument("You can only change the state of an execution to a terminal state.")
			}
			p.status = st
		case "unqueue":
			param := "state"
			if byQuery {
				param = "newState"
			}
			if st := q.Get(param); st != "" {
				if !slices.Contains(allStates, st) {
					return conversionError(param, st)
				}
				p.state = st
			}
		case "replay":
			latest, err := boolParam(q, "latestRevision", false)
			if err != nil {
				return err
			}
			p.latest = latest
		}
		var ids []string
		switch {
		case byQuery && name == "labels":
			if err := json.NewDecoder(r.Body).Decode(&p.labels); err != nil {
				return &apiError{status: http.StatusUnprocessableEntity, message: "Invalid json: " + err.Error()}
			}
		case name == "labels":
			var body struct {
				ExecutionsID    []string `json:"executionsId"`
				ExecutionLabels []Label  `json:"executionLabels"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				return &apiError{status: http.StatusUnprocessableEntity, message: "Invalid json: " + err.Error()}
			}
			ids, p.labels = body.ExecutionsID, body.ExecutionLabels
		case !byQuery:
			var err error
			if ids, err = bulkIDs(r); err != nil {
				return err
			}
		}
		if byQuery {
			var err error
			if ids, err = s.queryIDs(r, q); err != nil {
				return err
			}
		}
		n, be, err := s.startBulkAction(tenantOf(r), name, ids, p)
		if err != nil {
			return err
		}
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
}
