package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
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
	fe := s.liveFlowLocked(key)
	if fe == nil {
		s.mu.Unlock()
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
		s.mu.Unlock()
		return errNotFound("Webhook not found")
	}
	if rev.pf.disabled || trig["disabled"] == true {
		s.mu.Unlock()
		return errIllegalState("Flow is disabled")
	}
	if s.closed {
		s.mu.Unlock()
		return &apiError{status: http.StatusServiceUnavailable, message: "Service Unavailable: server closed"}
	}
	vars := map[string]any{"headers": valuesOf(r.Header, strings.ToLower), "parameters": valuesOf(r.URL.Query(), nil)}
	if body != nil {
		vars["body"] = body
	}
	tvars := map[string]any{"trigger": vars, "flow": map[string]any{"id": key.id, "namespace": key.namespace}}

	// The trigger's when is checked first (ConditionService#isValid): not
	// met, or not renderable, answers 204 and creates nothing.
	if when, ok := trig["when"]; ok && s.cfg.version != Version13 {
		if v, err := render(stringify(when), tvars); err != nil || !truthy(v) {
			s.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	// Then its inputs, rendered from the request, as the execution's
	// (Webhook inputs, FlowInputOutput#readExecutionInputs); a failure is
	// a 422 without a body.
	id := newID()
	files := map[string][]byte{}
	inputs, err := givenInputs(rev.pf, key, id, trig["inputs"], tvars, files)
	if err != nil {
		s.mu.Unlock()
		w.WriteHeader(http.StatusUnprocessableEntity)
		return nil
	}

	ex := s.newExecutionLocked(key, rev, id, inputs, nil, "trigger", files)
	trigID, _ := trig["id"].(string)
	ex.e.Trigger = &triggerJSON{ID: trigID, Type: typeWebhook, Variables: vars}
	s.publishLocked(ex)
	s.startRunnerLocked(ex, 0, false)
	if !boolProp(trig, "wait", false) {
		resp := s.webhookResponseLocked(ex.e)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, resp)
		return nil
	}

	// wait: the answer comes once the execution and its task runs ended,
	// with no deadline but the client's.
	sub := s.subscribeLocked(ex, true)
	s.mu.Unlock()
	final, ok := s.waitFinal(r.Context(), ex, sub)
	if !ok {
		if r.Context().Err() == nil && s.ctx.Err() == nil {
			return errNotFound("") // deleted while waiting
		}
		return nil
	}
	status := http.StatusOK
	if final.State.Current == stateFailed {
		status = http.StatusInternalServerError
	}
	if code, ok := trig["responseCode"]; ok {
		c, err := render(stringify(code), tvars)
		n, convErr := strconv.Atoi(c)
		if err != nil || convErr != nil || http.StatusText(n) == "" {
			return errInternal("Invalid response code: " + c)
		}
		status = n
	}
	if !boolProp(trig, "returnOutputs", false) {
		s.mu.Lock()
		resp := s.webhookResponseLocked(final)
		s.mu.Unlock()
		writeJSON(w, status, resp)
		return nil
	}
	// returnOutputs: the flow's outputs alone, as JSON, or as JSON text
	// under text/plain (Webhook#buildOutputResponse).
	b, _ := json.Marshal(final.Outputs)
	ct := "application/json"
	if stringify(trig["responseContentType"]) == "text/plain" {
		ct = "text/plain"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// webhookResponseLocked is Kestra's WebhookResponse of e.
func (s *Server) webhookResponseLocked(e *executionJSON) webhookResponse {
	return webhookResponse{
		TenantID: e.TenantID, ID: e.ID, Namespace: e.Namespace, FlowID: e.FlowID, FlowRevision: e.FlowRevision,
		Trigger: e.Trigger, Outputs: e.Outputs, Labels: e.Labels, State: e.State.clone(), URL: s.executionURLLocked(e),
	}
}

// valuesOf turns headers or query parameters into the lists a flow sees
// (trigger.headers, trigger.parameters), keys mapped by key when set.
func valuesOf(vs map[string][]string, key func(string) string) map[string]any {
	out := make(map[string]any, len(vs))
	for k, v := range vs {
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = x
		}
		if key != nil {
			k = key(k)
		}
		out[k] = l
	}
	return out
}

func (en *engine) executionURLLocked(e *executionJSON) string {
	return en.cfg.url + "/ui/" + e.TenantID + "/executions/" + e.Namespace + "/" + e.FlowID + "/" + e.ID
}
