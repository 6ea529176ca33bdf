package emulator

import (
	"encoding/json"
	"strings"
	"testing"
)

// Kestra writes no null (core/.../serializers/JacksonMapper.java:
// setSerializationInclusion(NON_NULL), and the webserver's
// application.yml jackson.serialization-inclusion: non_null; 1.3.25 and
// 2.0), and AbstractFlow.labels is null when the source has none: a flow
// without labels comes back without "labels" (the emulator used to write
// "labels":[]), and a property written as null in the YAML is left out.
func TestFlowOmitsNullFields_JacksonMapperNonNull(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	src := "id: bare\nnamespace: company.team\ndescription:\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
	created := ts.createFlow(src)
	got := ts.get("/api/v1/main/flows/company.team/bare")
	for name, m := range map[string]map[string]any{"create": created, "get": got.json(t)} {
		for _, k := range []string{"labels", "description", "inputs", "variables"} {
			if _, ok := m[k]; ok {
				t.Errorf("%s: %q present: %v", name, k, m[k])
			}
		}
	}
	if strings.Contains(string(got.body), "null") {
		t.Errorf("a null in %s", got.body)
	}
	// A flow with labels still has them, as a list of key/value.
	m := ts.createFlow(helloFlow)
	if l, ok := m["labels"].([]any); !ok || len(l) != 1 {
		t.Errorf("labels = %v", m["labels"])
	}
}

// A trigger's definition comes back without its null properties
// (JacksonMapper NON_NULL), in the 2.0 and the 1.3 shape.
func TestTriggerOmitsNullFields_JacksonMapperNonNull(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		ts := newTestServer(t, WithVersion(v))
		ts.createFlow("id: sched\nnamespace: company.team\ntriggers:\n  - id: nightly\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"0 2 * * *\"\n    description:\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n")
		r := ts.get("/api/v1/main/triggers/search?filters[namespace][EQUALS]=company.team")
		if v == Version13 {
			r = ts.get("/api/v1/main/triggers/search?namespace=company.team")
		}
		if r.status != 200 || !strings.Contains(string(r.body), `"nightly"`) || strings.Contains(string(r.body), "null") {
			t.Errorf("%s: %d %s", v, r.status, r.body)
		}
	}
}

// withoutNulls drops null properties at every depth, keeps null list
// elements (Jackson's NON_NULL is about properties), and leaves its input
// alone.
func TestWithoutNulls(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"a": nil,
		"b": map[string]any{"c": nil, "d": 1},
		"e": []any{nil, map[string]any{"f": nil, "g": "x"}},
		"h": "kept",
	}
	got := withoutNulls(in)
	b, _ := json.Marshal(got)
	if want := `{"b":{"d":1},"e":[null,{"g":"x"}],"h":"kept"}`; string(b) != want {
		t.Errorf("withoutNulls = %s, want %s", b, want)
	}
	if _, ok := in["a"]; !ok || len(in["b"].(map[string]any)) != 2 || len(in["e"].([]any)[1].(map[string]any)) != 2 {
		t.Errorf("input modified: %v", in)
	}
}
