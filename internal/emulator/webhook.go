package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
)

// webhookResponse is Kestra's WebhookResponse.
type webhookResponse struct {
	TenantID     string         `json:"tenantId,omitempty"`
	ID           string         `json:"id"`
	Namespace    string         `json:"namespace"`
	FlowID       string         `json:"flowId"`
	FlowRevision int            `json:"flowRevision"`
	Trigger      *triggerJSON   `json:"trigger,omitempty"`
	Outputs      map[string]any `json:"outputs,omitempty"`
	Labels       []Label        `json:"labels"`
	State        stateJSON      `json:"state"`
	URL          string         `json:"url"`
}

// webhook serves GET|POST|PUT /executions/webhook/{namespace}/{id}/{key}.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) error {
	key := flowKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("id")}
	whKey := r.PathValue("key")
	raw, err := readBody(r)
	if err != nil {
		return err
	}
	var body any
	if strings.TrimSpace(raw) != "" {
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err == nil {
			switch v.(type) {
			case map[string]any, []any:
				body = v
			default:
				body = raw
			}
		} else {
			body = raw
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fe := s.liveFlowLocked(key)
	if fe == nil {
		return errNotFound("Flow not found")
	}
	rev := fe.current()
	var trig map[string]any
	for _, t := range rev.pf.triggers {
		typ, _ := t["type"].(string)
		if c, _ := canonicalType(typ); c == typeWebhook && stringify(t["key"]) == whKey {
			trig = t
			break
		}
	}
	if trig == nil {
		return errNotFound("Webhook not found")
	}
	if rev.pf.disabled || trig["disabled"] == true {
		return errIllegalState("Flow is disabled")
	}
	if s.closed {
		return &apiError{status: http.StatusServiceUnavailable, message: "Service Unavailable: server closed"}
	}
	headers := map[string]any{}
	for k, v := range r.Header {
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = x
		}
		headers[strings.ToLower(k)] = l
	}
	params := map[string]any{}
	for k, v := range r.URL.Query() {
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = x
		}
		params[k] = l
	}
	vars := map[string]any{"headers": headers, "parameters": params}
	if body != nil {
		vars["body"] = body
	}
	id := newID()
	ex := s.newExecutionLocked(key, rev, id, nil, nil, "trigger", nil)
	trigID, _ := trig["id"].(string)
	ex.e.Trigger = &triggerJSON{ID: trigID, Type: typeWebhook, Variables: vars}
	s.publishLocked(ex)
	s.startRunnerLocked(ex, 0, false)
	e := ex.e
	writeJSON(w, http.StatusOK, webhookResponse{
		TenantID: e.TenantID, ID: e.ID, Namespace: e.Namespace, FlowID: e.FlowID, FlowRevision: e.FlowRevision,
		Trigger: e.Trigger, Labels: e.Labels, State: e.State.clone(), URL: s.executionURLLocked(e),
	})
	return nil
}

func (s *Server) executionURLLocked(e *executionJSON) string {
	return s.cfg.url + "/ui/" + e.TenantID + "/executions/" + e.Namespace + "/" + e.FlowID + "/" + e.ID
}
