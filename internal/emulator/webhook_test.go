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

const webhookWaitFlow = `id: hookwait
namespace: company.team
inputs:
  - id: name
    type: STRING
triggers:
  - id: sync
    type: io.kestra.plugin.core.trigger.Webhook
    key: sync
    wait: true
    inputs:
      name: "{{ trigger.body.name }}"
  - id: outputs
    type: io.kestra.plugin.core.trigger.Webhook
    key: outputs
    wait: true
    returnOutputs: true
    responseCode: 201
    inputs:
      name: "{{ trigger.body.name }}"
  - id: text
    type: io.kestra.plugin.core.trigger.Webhook
    key: text
    wait: true
    returnOutputs: true
    responseContentType: text/plain
    inputs:
      name: "{{ trigger.body.name }}"
  - id: guarded
    type: io.kestra.plugin.core.trigger.Webhook
    key: guarded
    when: "{{ trigger.body.go == 'yes' }}"
    inputs:
      name: guarded
tasks:
  - id: maybe
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.name == 'boom' }}"
    then:
      - id: fail
        type: io.kestra.plugin.core.execution.Fail
outputs:
  - id: greeting
    type: STRING
    value: "hello {{ inputs.name }}"
`

func TestWebhookWait(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(webhookWaitFlow)
	hook := func(key, body string) response {
		return ts.do("POST", "/api/v1/main/executions/webhook/company.team/hookwait/"+key, strings.NewReader(body), header{"Content-Type": "application/json"})
	}

	// wait: the final execution, with its outputs.
	r := hook("sync", `{"name":"ada"}`)
	if m := r.json(t); r.status != 200 || stateOf(m) != "SUCCESS" || m["outputs"].(map[string]any)["greeting"] != "hello ada" {
		t.Errorf("wait: %d %s", r.status, r.body)
	}
	// A failed execution answers 500, with the execution.
	if r := hook("sync", `{"name":"boom"}`); r.status != 500 || stateOf(r.json(t)) != "FAILED" {
		t.Errorf("wait on a failure: %d %s", r.status, r.body)
	}
	// returnOutputs: the outputs alone, with the trigger's response code.
	r = hook("outputs", `{"name":"bob"}`)
	if r.status != 201 || r.header.Get("Content-Type") != "application/json" || string(r.body) != `{"greeting":"hello bob"}` {
		t.Errorf("returnOutputs: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	r = hook("text", `{"name":"cy"}`)
	if r.status != 200 || r.header.Get("Content-Type") != "text/plain" || string(r.body) != `{"greeting":"hello cy"}` {
		t.Errorf("text/plain outputs: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	// Inputs that cannot be rendered or converted: 422 without a body.
	if r := hook("sync", `{}`); r.status != 422 || len(r.body) != 0 {
		t.Errorf("missing input: %d %q", r.status, r.body)
	}
	// when not met: 204 and no execution.
	before := ts.ExecutionCount()
	if r := hook("guarded", `{"go":"no"}`); r.status != 204 || len(r.body) != 0 {
		t.Errorf("when not met: %d %q", r.status, r.body)
	}
	if r := hook("guarded", `{}`); r.status != 204 {
		t.Errorf("when that does not render: %d", r.status)
	}
	if n := ts.ExecutionCount(); n != before {
		t.Errorf("%d executions created by calls whose when was not met", n-before)
	}
	if r := hook("guarded", `{"go":"yes"}`); r.status != 200 || r.json(t)["state"] == nil {
		t.Errorf("when met: %d %s", r.status, r.body)
	}
}
