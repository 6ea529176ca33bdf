package emulator

import (
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
