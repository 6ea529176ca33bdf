package emulator

import (
	"encoding/json"
	"errors"
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
	raw, err := readBody(r)
	if err != nil {
		return err
	}
	vars := map[string]any{"headers": valuesOf(r.Header, strings.ToLower), "parameters": valuesOf(r.URL.Query(), nil)}
	if body := webhookBody(raw); body != nil {
		vars["body"] = body
	}
	call := webhookCall{key: flowKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("id")}, whKey: r.PathValue("key"), vars: vars}
	res, err := s.engine.webhook(r.Context(), call)
	switch {
	case errors.Is(err, errStopped):
		return nil
	case err != nil:
		return err
	case res.skipped:
		w.WriteHeader(http.StatusNoContent)
		return nil
	case res.invalidInputs:
		w.WriteHeader(http.StatusUnprocessableEntity)
		return nil
	case !res.outputsOnly:
		writeJSON(w, res.status, webhookResponseOf(res.exec, res.url))
		return nil
	}
	// returnOutputs: the flow's outputs alone, as JSON, or as JSON text
	// under text/plain (Webhook#buildOutputResponse).
	b, _ := json.Marshal(res.exec.Outputs)
	ct := "application/json"
	if res.textPlain {
		ct = "text/plain"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(res.status)
	_, _ = w.Write(b)
	return nil
}

// webhookBody is the body a flow sees as trigger.body: a JSON object or
// array decoded, anything else as text; nil when blank.
func webhookBody(raw string) any {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err == nil {
		switch v.(type) {
		case map[string]any, []any:
			return v
		}
	}
	return raw
}

// webhookResponseOf is Kestra's WebhookResponse of e.
func webhookResponseOf(e *executionJSON, url string) webhookResponse {
	return webhookResponse{
		TenantID: e.TenantID, ID: e.ID, Namespace: e.Namespace, FlowID: e.FlowID, FlowRevision: e.FlowRevision,
		Trigger: e.Trigger, Outputs: e.Outputs, Labels: e.Labels, State: e.State, URL: url,
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
