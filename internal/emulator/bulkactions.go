package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// Bulk execution actions other than delete and kill (bulk.go), by ids and
// by query, as webserver/.../controllers/api/ExecutionController.java
// (kestra-io/kestra develop, 2.0.0-SNAPSHOT) writes them: every id is
// checked first and one invalid id refuses the request with 400 and a
// BulkErrorResponse naming each invalid id; otherwise the actions are
// queued (202 ApiAsyncOperationResponse; 1.3 answers BulkResponse {count})
// and each one then does what the action on one execution does. The
// by-query forms take the ids of the matching executions.

// bulkAction describes one action.
type bulkAction struct {
	verb    string // path segment of the action on one execution
	message string // BulkErrorResponse.message
	// invalid returns why an execution cannot take the action, or "".
	invalid func(s *Server, ex *execution) string
}

var bulkActions = map[string]bulkAction{
	"restart": {"restart", "invalid bulk restart", func(s *Server, ex *execution) string {
		if s.restartableLocked(ex) {
			return ""
		}
		return "Execution '" + ex.e.ID + "' must be terminated or paused to be restarted, current state is '" + ex.e.State.Current + "' !"
	}},
	"resume": {"resume", "invalid bulk resume", func(_ *Server, ex *execution) string {
		if ex.e.State.Current == statePaused {
			return ""
		}
		return "execution not in state PAUSED"
	}},
	"pause": {"pause", "invalid bulk pause", func(_ *Server, ex *execution) string {
		if c := ex.e.State.Current; c == stateRunning || c == stateKilling {
			return ""
		}
		return "execution not in state RUNNING"
	}},
	"replay": {"replay", "invalid bulk replay", func(*Server, *execution) string { return "" }},
	"unqueue": {"unqueue", "invalid bulk unqueue", func(_ *Server, ex *execution) string {
		if ex.e.State.Current == stateQueued {
			return ""
		}
		return "execution not in state QUEUED"
	}},
	"force-run": {"force-run", "invalid bulk force run", func(_ *Server, ex *execution) string {
		if isTerminal(ex.e.State.Current) {
			return "execution in a terminated state"
		}
		return ""
	}},
	"change-status": {"change-status", "invalid bulk change executions state", func(_ *Server, ex *execution) string {
		if c := ex.e.State.Current; isTerminal(c) && c != stateKilled {
			return ""
		}
		return "execution not in a terminated state or is killed"
	}},
	"labels": {"labels", "invalid bulk set labels", func(_ *Server, ex *execution) string {
		if isTerminal(ex.e.State.Current) {
			return ""
		}
		return "execution is not terminated"
	}},
}

// restartableLocked reports whether restartExecution would restart ex.
func (en *engine) restartableLocked(ex *execution) bool {
	st := ex.e.State.Current
	if en.cfg.version == Version13 {
		return (isTerminal(st) || st == statePaused) && st != stateKilled
	}
	return st == stateFailed || st == statePaused
}

// bulkActionHandler serves POST /executions/<action>/by-ids and by-query.
func (s *Server) bulkActionHandler(name string, byQuery bool) handlerFunc {
	a := bulkActions[name]
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		one := url.Values{} // the query of the action on one execution
		var labels []Label
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
			one.Set("status", st)
		case "unqueue":
			p := "state"
			if byQuery {
				p = "newState"
			}
			if st := q.Get(p); st != "" {
				if !slices.Contains(allStates, st) {
					return conversionError(p, st)
				}
				one.Set("state", st)
			}
		case "replay":
			latest, err := boolParam(q, "latestRevision", false)
			if err != nil {
				return err
			}
			if latest {
				one.Set("latest", "true")
			}
		}
		var ids []string
		switch {
		case byQuery && name == "labels":
			if err := json.NewDecoder(r.Body).Decode(&labels); err != nil {
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
			ids, labels = body.ExecutionsID, body.ExecutionLabels
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
		s.mu.Lock()
		if name == "restart" {
			// Kestra reads each id with Optional.get(): an unknown id is a
			// NoSuchElementException (404), not an entry of invalids.
			for _, id := range ids {
				if ex := s.execs[id]; ex == nil || ex.e.TenantID != tenantOf(r) {
					s.mu.Unlock()
					return errNotFound("No value present")
				}
			}
		}
		exs, be := s.checkBulkLocked(r, ids, name, func(ex *execution) string { return a.invalid(s, ex) })
		if be != nil {
			s.mu.Unlock()
			be.Message = a.message
			writeJSON(w, http.StatusBadRequest, be)
			return nil
		}
		tenant := tenantOf(r)
		if !s.closed {
			s.wg.Add(1)
			go s.runBulkAction(tenant, a.verb, one, labels, exs)
		}
		s.mu.Unlock()
		if s.cfg.version == Version13 {
			writeJSON(w, http.StatusOK, map[string]int{"count": len(exs)})
			return nil
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"operationId": newID(), "totalItems": len(exs)})
		return nil
	}
}

// runBulkAction applies an action to each execution in turn, as the
// action on one execution does, once the answer is sent.
func (s *Server) runBulkAction(tenant, verb string, query url.Values, labels []Label, exs []*execution) {
	defer s.wg.Done()
	if !s.sleep(s.ctx, s.cfg.taskTime) {
		return
	}
	actions := "/actions/"
	if s.cfg.version == Version13 {
		actions = "/"
	}
	for _, ex := range exs {
		q := query
		if query.Get("latest") != "" {
			// latestRevision: replay with the flow's current revision.
			q = url.Values{}
			s.mu.Lock()
			if fe := s.flows[ex.key]; fe != nil {
				q.Set("revision", strconv.Itoa(fe.current().revision))
			}
			s.mu.Unlock()
		}
		var body []byte
		if verb == "labels" {
			s.mu.Lock()
			merged := mergeLabels(ex.e.Labels, labels)
			s.mu.Unlock()
			body, _ = json.Marshal(merged)
		}
		path := "/api/v1/" + tenant + "/executions/" + url.PathEscape(ex.e.ID) + actions + verb
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		req, err := http.NewRequestWithContext(context.WithValue(s.ctx, ctxBulkAction, true), http.MethodPost, path, bytes.NewReader(body))
		if err != nil {
			continue
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		s.mux.ServeHTTP(discardResponse{h: http.Header{}}, req)
	}
}

// mergeLabels is Kestra's Label.deduplicate of the existing labels followed
// by the new ones (a later value wins for a key), without the system
// labels, which the action on one execution keeps by itself.
func mergeLabels(old, add []Label) []Label {
	var out []Label
	for _, l := range append(slices.Clone(old), add...) {
		if len(l.Key) >= 7 && l.Key[:7] == "system." {
			continue
		}
		if i := slices.IndexFunc(out, func(o Label) bool { return o.Key == l.Key }); i >= 0 {
			out[i] = l
			continue
		}
		out = append(out, l)
	}
	return out
}

// discardResponse is a ResponseWriter that drops what it is given.
type discardResponse struct{ h http.Header }

func (d discardResponse) Header() http.Header         { return d.h }
func (d discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d discardResponse) WriteHeader(int)             {}
