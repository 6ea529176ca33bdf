package emulator

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"
)

// Trigger states (webserver/.../controllers/api/TriggerController.java,
// core/.../models/triggers/Trigger.java, TriggerContext). The emulator
// schedules nothing: a trigger's state is what the API sets (disabled) and
// what [Server.LockTrigger] simulates (held by an execution).
//
// Only the triggers the scheduler evaluates (schedules and polling ones)
// have a state: 2.0 lists them as {trigger, state}, the state an
// ApiTriggerState of kind SCHEDULE or POLLING, 1.3 as {abstractTrigger,
// triggerContext}. Webhook and flow triggers are not listed: the newest
// Kestra lists them too, with a kind UNSCHEDULED that the API document
// this emulator follows does not have. Rows of deleted flows are not
// listed.

var triggerFilterFields = map[string]bool{
	"q": true, "scope": true, "namespace": true, "workerId": true, "flowId": true,
	"startDate": true, "endDate": true, "triggerId": true, "triggerState": true,
}

var triggerSorts = map[string]func(a, b triggerRow) int{
	"namespace":         func(a, b triggerRow) int { return cmp.Compare(a.key.namespace, b.key.namespace) },
	"flowId":            func(a, b triggerRow) int { return cmp.Compare(a.key.flowID, b.key.flowID) },
	"triggerId":         func(a, b triggerRow) int { return cmp.Compare(a.key.triggerID, b.key.triggerID) },
	"executionId":       func(a, b triggerRow) int { return cmp.Compare(a.rec.executionID, b.rec.executionID) },
	"nextExecutionDate": func(a, b triggerRow) int { return 0 }, // nothing is scheduled
}

// view renders the row as 2.0's {trigger, state} or 1.3's {abstractTrigger,
// triggerContext}.
func (row triggerRow) view(v13 bool) map[string]any {
	def := withoutNulls(row.def)
	if v13 {
		return map[string]any{"abstractTrigger": def, "triggerContext": row.context()}
	}
	return map[string]any{"trigger": def, "state": row.state()}
}

// state is 2.0's ApiTriggerState.
func (row triggerRow) state() map[string]any {
	st := map[string]any{
		"namespace": row.key.namespace, "flowId": row.key.flowID, "triggerId": row.key.triggerID,
		"updatedAt": row.rec.updatedAt, "disabled": row.rec.disabled, "locked": row.rec.executionID != "",
		"kind": row.kind,
	}
	if row.rec.executionID != "" {
		st["executionId"] = row.rec.executionID
	}
	return st
}

// context is 1.3's Trigger (a TriggerContext).
func (row triggerRow) context() map[string]any {
	c := map[string]any{
		"tenantId": row.key.tenant, "namespace": row.key.namespace, "flowId": row.key.flowID,
		"triggerId": row.key.triggerID, "date": row.rec.updatedAt, "disabled": row.rec.disabled,
		"updatedDate": row.rec.updatedAt,
	}
	if row.rec.executionID != "" {
		c["executionId"] = row.rec.executionID
	}
	return c
}

func (s *Server) searchTriggers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pp, err := parsePage(q, sortKeys(triggerSorts))
	if err != nil {
		return err
	}
	fs, err := parseFilters(q, triggerFilterFields)
	if err != nil {
		return err
	}
	if s.cfg.version == Version13 {
		for _, p := range []string{"namespace", "flowId", "workerId"} {
			if v := q.Get(p); v != "" {
				op := "EQUALS"
				if p == "namespace" {
					op = "PREFIX"
				}
				fs.and = append(fs.and, queryFilter{field: p, op: op, value: v})
			}
		}
		if v := q.Get("q"); v != "" {
			fs.and = append(fs.and, queryFilter{field: "q", op: "CONTAINS", value: v})
		}
	}
	return s.writeTriggerPage(w, r, pp, func(row triggerRow) bool { return fs.match(triggerLeaf(row)) })
}

// searchTriggersForFlow lists the triggers of one flow: 2.0 as states,
// 1.3 as trigger contexts.
func (s *Server) searchTriggersForFlow(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pp, err := parsePage(q, sortKeys(triggerSorts))
	if err != nil {
		return err
	}
	ns, flowID, text := r.PathValue("namespace"), r.PathValue("flowId"), q.Get("q")
	rows := s.triggerRows(tenantOf(r), func(row triggerRow) bool {
		return row.key.namespace == ns && row.key.flowID == flowID && strings.Contains(row.key.triggerID, text)
	})
	page := paginate(rows, pp, triggerSorts)
	out := pagedResults[map[string]any]{Results: make([]map[string]any, len(page.Results)), Total: page.Total}
	for i, row := range page.Results {
		out.Results[i] = s.stateOf(row)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func triggerLeaf(row triggerRow) func(queryFilter) bool {
	return func(f queryFilter) bool {
		switch f.field {
		case "namespace":
			return matchString(f.op, row.key.namespace, f.value)
		case "flowId":
			return matchString(f.op, row.key.flowID, f.value)
		case "triggerId":
			return matchString(f.op, row.key.triggerID, f.value)
		case "q":
			return matchString("CONTAINS", row.key.flowID, f.value) || matchString("CONTAINS", row.key.triggerID, f.value) ||
				matchString("CONTAINS", row.key.namespace, f.value)
		case "workerId":
			return f.value == ""
		}
		return true // scope, dates, triggerState
	}
}

func (s *Server) writeTriggerPage(w http.ResponseWriter, r *http.Request, pp pageParams, keep func(triggerRow) bool) error {
	rows := s.triggerRows(tenantOf(r), keep)
	page := paginate(rows, pp, triggerSorts)
	out := pagedResults[map[string]any]{Results: make([]map[string]any, len(page.Results)), Total: page.Total}
	for i, row := range page.Results {
		out.Results[i] = row.view(s.cfg.version == Version13)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// setTriggerDisabled serves 2.0's PUT /triggers/set-disabled, whose body is
// {namespace, flowId, triggerId, disabled}, and 1.3's PUT /triggers, whose
// body is a Trigger: both answer the new state.
func (s *Server) setTriggerDisabled(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Namespace string `json:"namespace"`
		FlowID    string `json:"flowId"`
		TriggerID string `json:"triggerId"`
		Disabled  *bool  `json:"disabled"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return &apiError{status: http.StatusUnprocessableEntity, message: "Invalid json: " + err.Error()}
	}
	row, err := s.engine.setTriggerDisabled(triggerKey{tenantOf(r), req.Namespace, req.FlowID, req.TriggerID}, req.Disabled)
	if err != nil {
		return err
	}
	s.writeTriggerState(w, row)
	return nil
}

func (s *Server) unlockTrigger(w http.ResponseWriter, r *http.Request) error {
	row, err := s.engine.unlockTrigger(triggerKeyOf(r))
	if err != nil {
		return err
	}
	s.writeTriggerState(w, row)
	return nil
}

// restartTrigger answers the state of a trigger whose evaluation it reset.
func (s *Server) restartTrigger(w http.ResponseWriter, r *http.Request) error {
	row, err := s.engine.restartTrigger(triggerKeyOf(r))
	if err != nil {
		return err
	}
	s.writeTriggerState(w, row)
	return nil
}

// stateOf is a trigger's state as the server's generation writes it:
// 2.0's ApiTriggerState or 1.3's Trigger.
func (s *Server) stateOf(row triggerRow) map[string]any {
	if s.cfg.version == Version13 {
		return row.context()
	}
	return row.state()
}

// writeTriggerState answers a trigger's state.
func (s *Server) writeTriggerState(w http.ResponseWriter, row triggerRow) {
	writeJSON(w, http.StatusOK, s.stateOf(row))
}

func triggerKeyOf(r *http.Request) triggerKey {
	return triggerKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("flowId"), r.PathValue("triggerId")}
}

// LockTrigger makes a trigger look held by the execution executionID, as
// when Kestra's scheduler is stuck on it, so that a test can unlock it.
// It returns false when the tenant has no live flow declaring that
// trigger (in 1.3, no scheduled one).
func (s *Server) LockTrigger(tenant, namespace, flowID, triggerID, executionID string) bool {
	return s.lockTrigger(triggerKey{tenant, namespace, flowID, triggerID}, executionID)
}
