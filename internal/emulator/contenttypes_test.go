package emulator

import (
	"strings"
	"testing"
)

// FlowController (1.3.25 and 2.0) serves a flow body that is not
// application/x-yaml with its deprecated JSON endpoints
// (createFlowFromJson, updateFlowFromJson: consumes = MediaType.ALL, @Body
// Flow): the body is a JSON Flow and the answer a Flow without source.
func TestFlowJSONEndpoint_FlowController(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	js := `{"id":"fromjson","namespace":"company.team","tasks":[{"id":"log","type":"io.kestra.plugin.core.log.Log","message":"hi"}]}`
	r := ts.do("POST", "/api/v1/main/flows", strings.NewReader(js), header{"Content-Type": "application/json"})
	if r.status != 200 {
		t.Fatalf("JSON create: %d %s", r.status, r.body)
	}
	if m := r.json(t); m["id"] != "fromjson" || m["source"] != nil || m["revision"] != 1.0 {
		t.Errorf("JSON create answered %v", m)
	}
	src := ts.get("/api/v1/main/flows/company.team/fromjson?source=true").json(t)["source"].(string)
	if !strings.Contains(src, "id: fromjson") || strings.Contains(src, "{") {
		t.Errorf("generated source = %q", src)
	}
	// Text that is not JSON, sent as JSON: a JsonParseException.
	r = ts.do("POST", "/api/v1/main/flows", strings.NewReader("id: x\nnamespace: y\n"), header{"Content-Type": "application/json"})
	assertJSONError(t, r, 422, "Invalid json: ")
	// A YAML source sent as text/plain is not taken as YAML either.
	r = ts.do("POST", "/api/v1/main/flows", strings.NewReader(helloFlow), header{"Content-Type": "text/plain"})
	assertJSONError(t, r, 422, "Invalid json: ")
	// Update through the JSON endpoint.
	js2 := strings.Replace(js, `"hi"`, `"bye"`, 1)
	r = ts.do("PUT", "/api/v1/main/flows/company.team/fromjson", strings.NewReader(js2), header{"Content-Type": "application/json"})
	if m := r.json(t); r.status != 200 || m["revision"] != 2.0 || m["source"] != nil {
		t.Errorf("JSON update: %d %v", r.status, m)
	}
}

// KVController#setKeyValue consumes text/plain only (1.3.25 and 2.0): any
// other content type is Micronaut's 415.
func TestKVPutTextPlainOnly_KVController(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	path := "/api/v1/main/namespaces/company.team/kv/k"
	r := ts.do("PUT", path, strings.NewReader(`"v"`), header{"Content-Type": "application/json"})
	m := assertJSONError(t, r, 415, "Unsupported Media Type: ")
	if m["message"] != "Unsupported Media Type: Content Type [application/json] not allowed. Allowed types: [text/plain]" {
		t.Errorf("message = %q", m["message"])
	}
	if r := ts.get(path); r.status != 404 {
		t.Errorf("refused value stored: %d", r.status)
	}
	if r := ts.do("PUT", path, strings.NewReader(`"v"`), header{"Content-Type": "text/plain; charset=utf-8"}); r.status != 200 {
		t.Errorf("text/plain: %d %s", r.status, r.body)
	}
}

// A schedule date that does not parse is a ConversionErrorException:
// ErrorController (1.3.25 and 2.0) answers 422 "Internal server error: "
// and Micronaut's "Failed to convert argument [...] for value [...] due
// to: " with java.time's cause.
func TestScheduleDateRefusal_ErrorControllerConversionError(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	r := ts.execute("company.team", "hello", "scheduleDate=2024-13", nil)
	m := assertJSONError(t, r, 422, "Internal server error: ")
	if want := "Internal server error: Failed to convert argument [scheduleDate] for value [2024-13] due to: Text '2024-13' could not be parsed at index 7"; m["message"] != want {
		t.Errorf("message = %q, want %q", m["message"], want)
	}
}

// The labels=key:value refusals of Kestra 1.3.19 and 2.0.0-SNAPSHOT
// (webserver/.../utils/RequestUtils.java#toMap, ExecutionController#parseLabels):
// HttpStatusExceptions, written "Unprocessable Entity: <text>".
func TestLabelRefusals_RequestUtilsToMap(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	ts13 := newTestServer(t, WithVersion(Version13))
	for _, tc := range []struct{ query, want string }{
		{"labels=novalue", "Unprocessable Entity: Can't split the queryString parameter by ':'"},
		{"labels=:v", "Unprocessable Entity: Can't split the queryString parameter by ':'"},
		{"labels=k:", "Unprocessable Entity: Can't have an empty part of queryString"},
		{"labels=%20:v", "Unprocessable Entity: Can't have an empty part of queryString"},
		{"labels=a%20b:v", "Unprocessable Entity: Key of queryString can't contain a whitespace character"},
		{"labels=env:a&labels=%20env%20:b", "Unprocessable Entity: The queryString parameter keys contains duplicities: Duplicate key env (attempted merging values a and b)"},
		// Every value is parsed before the system labels are checked.
		{"labels=system.x:1&labels=bad", "Unprocessable Entity: Can't split the queryString parameter by ':'"},
		{"labels=system.x:1&labels=ok:2", "Illegal argument: System labels can only be set by Kestra itself, offending label: system.x=1"},
	} {
		m := assertJSONError(t, ts.execute("company.team", "hello", tc.query, nil), 422, "")
		if m["message"] != tc.want {
			t.Errorf("execute ?%s: message = %q, want %q", tc.query, m["message"], tc.want)
		}
	}
	// Trimmed on both sides: " k : v " is the label k=v.
	if m := ts.execute("company.team", "hello", "labels=%20k%20:%20v%20", nil).json(t); m["labels"] == nil || !hasLabelJSON(m["labels"], "k", "v") {
		t.Errorf("trimmed label: %v", m["labels"])
	}
	// 1.3's legacy search parameter goes through the same toMap.
	for _, path := range []string{"/api/v1/main/executions/search?labels=bad", "/api/v1/main/flows/search?labels=bad"} {
		m := assertJSONError(t, ts13.get(path), 422, "")
		if want := "Unprocessable Entity: Can't split the queryString parameter by ':'"; m["message"] != want {
			t.Errorf("%s: message = %q, want %q", path, m["message"], want)
		}
	}
}

func hasLabelJSON(labels any, key, value string) bool {
	ls, _ := labels.([]any)
	for _, l := range ls {
		if m, _ := l.(map[string]any); m["key"] == key && m["value"] == value {
			return true
		}
	}
	return false
}
