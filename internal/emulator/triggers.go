package emulator

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
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

type triggerKey struct{ tenant, namespace, flowID, triggerID string }

// triggerRecord is what the API changed in a trigger's state.
type triggerRecord struct {
	disabled    bool
	executionID string
	updatedAt   time.Time
}

var triggerFilterFields = map[string]bool{
	"q": true, "scope": true, "namespace": true, "workerId": true, "flowId": true,
	"startDate": true, "endDate": true, "triggerId": true, "triggerState": true,
}

// triggerRow is one trigger of a live flow, with its state.
type triggerRow struct {
	key  triggerKey
	def  map[string]any
	kind string
	rec  *triggerRecord
}

var triggerSorts = map[string]func(a, b triggerRow) int{
	"namespace":         func(a, b triggerRow) int { return cmp.Compare(a.key.namespace, b.key.namespace) },
	"flowId":            func(a, b triggerRow) int { return cmp.Compare(a.key.flowID, b.key.flowID) },
	"triggerId":         func(a, b triggerRow) int { return cmp.Compare(a.key.triggerID, b.key.triggerID) },
	"executionId":       func(a, b triggerRow) int { return cmp.Compare(a.rec.executionID, b.rec.executionID) },
	"nextExecutionDate": func(a, b triggerRow) int { return 0 }, // nothing is scheduled
}

// triggerKind is the kind of a trigger definition in 2.0's state, "" for
// the triggers the scheduler does not evaluate (webhook, flow).
func triggerKind(def map[string]any) string {
	typ, _ := def["type"].(string)
	switch c, _ := canonicalType(typ); c {
	case "io.kestra.plugin.core.trigger.Schedule":
		return "SCHEDULE"
	case typeWebhook, "io.kestra.plugin.core.trigger.Flow":
		return ""
	}
	return "POLLING"
}

// recordLocked returns the state record of k, made on first use with the
// definition's disabled.
func (en *engine) recordLocked(k triggerKey, def map[string]any) *triggerRecord {
	rec := en.triggers[k]
	if rec == nil {
		rec = &triggerRecord{disabled: def["disabled"] == true, updatedAt: now().Truncate(time.Second)}
		en.triggers[k] = rec
	}
	return rec
}

// triggerRowsLocked returns the triggers of the tenant's live flows that
// the server's generation lists.
func (en *engine) triggerRowsLocked(tenant string) []triggerRow {
	var rows []triggerRow
	for fk, fe := range en.flows {
		if fk.tenant != tenant || en.liveFlowLocked(fk) == nil {
			continue
		}
		for _, def := range fe.current().pf.triggers {
			kind := triggerKind(def)
			if kind == "" {
				continue
			}
			id, _ := def["id"].(string)
			k := triggerKey{fk.tenant, fk.namespace, fk.id, id}
			rows = append(rows, triggerRow{key: k, def: def, kind: kind, rec: en.recordLocked(k, def)})
		}
	}
	slices.SortFunc(rows, func(a, b triggerRow) int {
		return cmp.Or(cmp.Compare(a.key.namespace, b.key.namespace), cmp.Compare(a.key.flowID, b.key.flowID), cmp.Compare(a.key.triggerID, b.key.triggerID))
	})
	return rows
}

// findTriggerLocked returns the row of a trigger, or a 404.
func (en *engine) findTriggerLocked(k triggerKey) (triggerRow, error) {
	for _, row := range en.triggerRowsLocked(k.tenant) {
		if row.key == k {
			return row, nil
		}
	}
	return triggerRow{}, errNotFound("Unable to find trigger '" + k.namespace + "." + k.flowID + "." + k.triggerID + "'")
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
	s.mu.Lock()
	var rows []triggerRow
	for _, row := range s.triggerRowsLocked(tenantOf(r)) {
		if row.key.namespace == ns && row.key.flowID == flowID && strings.Contains(row.key.triggerID, text) {
			rows = append(rows, row)
		}
	}
	page := paginate(rows, pp, triggerSorts)
	out := pagedResults[map[string]any]{Results: make([]map[string]any, len(page.Results)), Total: page.Total}
	for i, row := range page.Results {
		out.Results[i] = s.stateOf(row)
	}
	s.mu.Unlock()
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
	s.mu.Lock()
	var rows []triggerRow
	for _, row := range s.triggerRowsLocked(tenantOf(r)) {
		if keep(row) {
			rows = append(rows, row)
		}
	}
	page := paginate(rows, pp, triggerSorts)
	out := pagedResults[map[string]any]{Results: make([]map[string]any, len(page.Results)), Total: page.Total}
	for i, row := range page.Results {
		out.Results[i] = row.view(s.cfg.version == Version13)
	}
	s.mu.Unlock()
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
	s.mu.Lock()
	defer s.mu.Unlock()
	row, err := s.findTriggerLocked(triggerKey{tenantOf(r), req.Namespace, req.FlowID, req.TriggerID})
	if err != nil {
		return err
	}
	if req.Disabled != nil {
		row.rec.disabled = *req.Disabled
		row.rec.updatedAt = now().Truncate(time.Second)
	}
	s.writeTriggerState(w, row)
	return nil
}

// unlockTrigger releases a trigger held by an execution; one that is not
// held is a 409. Restart (TriggerController#restart) has no such case.
func (s *Server) unlockTrigger(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	row, err := s.findTriggerLocked(triggerKeyOf(r))
	if err != nil {
		return err
	}
	if row.rec.executionID == "" {
		if s.cfg.version == Version13 {
			return errIllegalState("Trigger is not locked")
		}
		return errConflict("Trigger is not locked")
	}
	row.rec.executionID = ""
	row.rec.updatedAt = now().Truncate(time.Second)
	s.writeTriggerState(w, row)
	return nil
}

// restartTrigger resets a trigger's evaluation: the execution holding it,
// if any, no longer does, and the state is answered.
func (s *Server) restartTrigger(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	row, err := s.findTriggerLocked(triggerKeyOf(r))
	if err != nil {
		return err
	}
	row.rec.executionID = ""
	row.rec.updatedAt = now().Truncate(time.Second)
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
	s.mu.Lock()
	defer s.mu.Unlock()
	row, err := s.findTriggerLocked(triggerKey{tenant, namespace, flowID, triggerID})
	if err != nil {
		return false
	}
	row.rec.executionID = executionID
	row.rec.updatedAt = now().Truncate(time.Second)
	return true
}
