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
