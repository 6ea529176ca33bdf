package emulator

import (
	"strings"
	"testing"
)

const webhookFlow = `id: hook
namespace: company.team
triggers:
  - id: wh
    type: io.kestra.plugin.core.trigger.Webhook
    key: secret-key
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "got {{ trigger.body.name }}"
`

func TestWebhook(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithBasicAuth("u", "p"))
	r := ts.do("POST", "/api/v1/main/flows", strings.NewReader(webhookFlow), header{"Content-Type": "application/x-yaml", "Authorization": "Basic dTpw"})
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	r = ts.do("POST", "/api/v1/main/executions/webhook/company.team/hook/secret-key", strings.NewReader(`{"name":"joe"}`), header{"Content-Type": "application/json"})
	if r.status != 200 {
		t.Fatalf("webhook: %d %s", r.status, r.body)
	}
	m := r.json(t)
	trig := m["trigger"].(map[string]any)
	if trig["id"] != "wh" || trig["type"] != "io.kestra.plugin.core.trigger.Webhook" || trig["variables"].(map[string]any)["body"].(map[string]any)["name"] != "joe" {
		t.Errorf("trigger = %v", trig)
	}
	for _, k := range []string{"id", "namespace", "flowId", "flowRevision", "labels", "state", "url"} {
		if _, ok := m[k]; !ok {
			t.Errorf("WebhookResponse without %s", k)
		}
	}
	id := m["id"].(string)
	deadline := 0
	for ts.LogCount(id) == 0 && deadline < 1000 {
		deadline++
		r := ts.do("GET", "/api/v1/main/executions/"+id, nil, header{"Authorization": "Basic dTpw"})
		if stateOf(r.json(t)) == "SUCCESS" {
			break
		}
	}
	if r := ts.do("GET", "/api/v1/main/executions/webhook/company.team/hook/secret-key?x=1", nil, nil); r.status != 200 {
		t.Errorf("GET webhook: %d", r.status)
	}
	assertJSONError(t, ts.do("POST", "/api/v1/main/executions/webhook/company.team/hook/wrong", nil, nil), 404, "Not Found: Webhook not found")
	assertJSONError(t, ts.do("POST", "/api/v1/main/executions/webhook/company.team/nope/secret-key", nil, nil), 404, "Not Found: Flow not found")
}
