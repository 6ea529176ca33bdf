package contract

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func mustShape(t *testing.T, s string) *Shape {
	t.Helper()
	sh, err := ShapeOfJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

func call(t *testing.T, method, route string, status int, body string) *Call {
	t.Helper()
	c := &Call{Method: method, Route: route, Status: status, Body: "json", Count: 1}
	if body == "" {
		c.Body = "empty"
	} else {
		c.Shape = mustShape(t, body)
	}
	return c
}

func diffStrings(ds []Difference) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return out
}

func TestShapeMerge(t *testing.T) {
	t.Parallel()
	a := mustShape(t, `{"id":"x","n":1,"list":[{"a":1}],"opt":null}`)
	b := mustShape(t, `{"id":"y","n":"2","list":[{"b":true}],"extra":{}}`)
	m := a.Merge(b)
	if got := m.Keys["n"].Kinds; !slices.Equal(got, []string{"number", "string"}) {
		t.Errorf("n kinds = %v", got)
	}
	if _, ok := m.Keys["extra"]; !ok {
		t.Error("extra lost in merge")
	}
	if it := m.Keys["list"].Items; it == nil || it.Keys["a"] == nil || it.Keys["b"] == nil {
		t.Errorf("list items = %+v", it)
	}
	// Merge leaves its operands alone.
	if len(a.Keys["n"].Kinds) != 1 || a.Keys["extra"] != nil {
		t.Errorf("a changed by Merge: %+v", a)
	}
}

func TestCompareFindsDifferences(t *testing.T) {
	t.Parallel()
	real := []*Call{
		call(t, "GET", "/api/v1/{tenant}/flows/{namespace}/{id}", 200, `{"id":"a","inputs":[{"defaults":"3"}],"updated":"2026-01-01T00:00:00Z"}`),
		call(t, "DELETE", "/api/v1/{tenant}/flows/{namespace}/{id}", 204, ""),
		call(t, "GET", "/api/v1/{tenant}/executions/{executionId}", 404, `{"message":"Not Found"}`),
	}
	emu := []*Call{
		call(t, "GET", "/api/v1/{tenant}/flows/{namespace}/{id}", 200, `{"id":"a","inputs":[{"defaults":3}],"extra":1}`),
		call(t, "DELETE", "/api/v1/{tenant}/flows/{namespace}/{id}", 200, ""),
		call(t, "GET", "/api/v1/{tenant}/executions/{executionId}", 404, `{"message":"Not Found","_links":{}}`),
	}
	got := diffStrings(Compare("kestra", real, "emulator", emu, nil))
	want := []string{
		"DELETE /api/v1/{tenant}/flows/{namespace}/{id} 200 $: answered by emulator only",
		"DELETE /api/v1/{tenant}/flows/{namespace}/{id} 204 $: answered by kestra only",
		"GET /api/v1/{tenant}/executions/{executionId} 404 $._links: sent by emulator only ([object])",
		"GET /api/v1/{tenant}/flows/{namespace}/{id} 200 $.extra: sent by emulator only ([number])",
		"GET /api/v1/{tenant}/flows/{namespace}/{id} 200 $.inputs[].defaults: kinds [string] (kestra) vs [number] (emulator)",
		"GET /api/v1/{tenant}/flows/{namespace}/{id} 200 $.updated: sent by kestra only ([string])",
	}
	if !slices.Equal(got, want) {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := Compare("kestra", real, "emulator", real, nil); len(d) != 0 {
		t.Errorf("a log compared with itself: %v", d)
	}
}

func TestCompareLeavesOutAccepted(t *testing.T) {
	t.Parallel()
	real := []*Call{call(t, "GET", "/api/v1/{tenant}/executions/{executionId}", 200, `{"id":"a","state":{"current":"SUCCESS","endDate":"x"}}`)}
	emu := []*Call{call(t, "GET", "/api/v1/{tenant}/executions/{executionId}", 200, `{"id":"a","state":{"current":"SUCCESS"},"url":"u","extra":1}`)}
	acc, err := ParseAccepted(strings.NewReader(`
# comment
GET /api/v1/{tenant}/executions/{executionId} 200 $.state.endDate | the execution ends later on a real server
* * * $.url | not sent by every version
`))
	if err != nil {
		t.Fatal(err)
	}
	got := diffStrings(Compare("kestra", real, "emulator", emu, acc))
	want := []string{"GET /api/v1/{tenant}/executions/{executionId} 200 $.extra: sent by emulator only ([number])"}
	if !slices.Equal(got, want) {
		t.Errorf("differences = %q, want %q", got, want)
	}
	// A prefix entry covers everything under it.
	acc2, err := ParseAccepted(strings.NewReader("GET * 200 $.* | everything\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare("kestra", real, "emulator", emu, acc2); len(d) != 0 {
		t.Errorf("prefix entry left %v", d)
	}
}

func TestParseAcceptedRefusesEntriesWithoutReason(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"GET /a 200 $.x\n",
		"GET /a 200 $.x |   \n",
		"GET /a 200 | reason\n",
		"GET /a two $.x | reason\n",
	} {
		if _, err := ParseAccepted(strings.NewReader(in)); err == nil {
			t.Errorf("ParseAccepted(%q) accepted it", in)
		}
	}
}

func TestAcceptedFileParses(t *testing.T) {
	t.Parallel()
	if _, err := LoadAccepted("accepted-differences.txt"); err != nil {
		t.Fatal(err)
	}
}

func TestRoutesTemplate(t *testing.T) {
	t.Parallel()
	r := loadRoutes(t)
	for mp, want := range map[string]string{
		"GET /api/v1/main/executions/ns/flow/{x}":                         "/api/v1/main/executions/ns/flow/{x} (no route)",
		"GET /api/v1/main/executions/abc/flow":                            "/api/v1/{tenant}/executions/{executionId}/flow",
		"GET /api/v1/main/executions/search":                              "/api/v1/{tenant}/executions/search",
		"GET /api/v1/main/executions/abc":                                 "/api/v1/{tenant}/executions/{executionId}",
		"GET /api/v1/main/flows/ns/id":                                    "/api/v1/{tenant}/flows/{namespace}/{id}",
		"GET /api/v1/main/namespaces/ns/kv/key":                           "/api/v1/{tenant}/namespaces/{namespace}/kv/{key}",
		"DELETE /api/v1/main/executions/abc/actions/kill":                 "/api/v1/{tenant}/executions/{executionId}/actions/kill",
		"GET /api/v1/configs":                                             "/api/v1/configs",
		"GET /nowhere":                                                    "/nowhere (no route)",
		"GET /api/v1/main/executions/webhook/ns/flow/key":                 "/api/v1/{tenant}/executions/webhook/{namespace}/{id}/{key}",
		"GET /api/v1/main/namespaces/ns/files/directory":                  "/api/v1/{tenant}/namespaces/{namespace}/files/directory",
		"POST /api/v1/main/flows/validate":                                "/api/v1/{tenant}/flows/validate",
		"GET /api/v1/main/logs/abc/follow":                                "/api/v1/{tenant}/logs/{executionId}/follow",
		"POST /api/v1/main/triggers/ns/flow/trigger/restart":              "/api/v1/{tenant}/triggers/{namespace}/{flowId}/{triggerId}/restart",
		"GET /api/v1/main/namespaces/ns/kv/inheritance":                   "/api/v1/{tenant}/namespaces/{namespace}/kv/inheritance",
		"GET /api/v1/main/executions/abc/follow":                          "/api/v1/{tenant}/executions/{executionId}/follow",
		"DELETE /api/v1/main/executions/by-ids":                           "/api/v1/{tenant}/executions/by-ids",
		"POST /api/v1/main/executions/ns/flow":                            "/api/v1/{tenant}/executions/{namespace}/{id}",
		"POST /api/v1/main/executions/abc/actions/resume":                 "/api/v1/{tenant}/executions/{executionId}/actions/resume",
		"POST /api/v1/main/executions/abc/actions/restart":                "/api/v1/{tenant}/executions/{executionId}/actions/restart",
		"GET /api/v1/main/namespaces/ns/files":                            "/api/v1/{tenant}/namespaces/{namespace}/files",
		"GET /api/v1/main/namespaces/ns/files/export":                     "/api/v1/{tenant}/namespaces/{namespace}/files/export",
		"DELETE /api/v1/main/executions/kill/by-ids":                      "/api/v1/{tenant}/executions/kill/by-ids",
		"POST /api/v1/main/executions/abc/actions/pause":                  "/api/v1/{tenant}/executions/{executionId}/actions/pause",
		"GET /api/v1/main/flows/ns":                                       "/api/v1/{tenant}/flows/{namespace}",
		"GET /api/v1/main/executions/webhook/ns/flow/key/extra":           "/api/v1/{tenant}/executions/webhook/{namespace}/{id}/{key}/{path}",
		"GET /api/v1/main/logs/abc":                                       "/api/v1/{tenant}/logs/{executionId}",
		"GET /api/v1/main/kv":                                             "/api/v1/{tenant}/kv",
		"GET /api/v1/main/triggers/search":                                "/api/v1/{tenant}/triggers/search",
		"GET /api/v1/main/flows/search":                                   "/api/v1/{tenant}/flows/search",
		"GET /api/v1/main/flows/ns/id/revisions":                          "/api/v1/{tenant}/flows/{namespace}/{id}/revisions",
		"GET /api/v1/main/namespaces/ns/files/stats":                      "/api/v1/{tenant}/namespaces/{namespace}/files/stats",
		"GET /api/v1/main/executions/abc/file":                            "/api/v1/{tenant}/executions/{executionId}/file",
		"GET /api/v1/main/triggers/ns/flow":                               "/api/v1/{tenant}/triggers/{namespace}/{flowId}",
		"POST /api/v1/main/executions/abc/actions/change-status":          "/api/v1/{tenant}/executions/{executionId}/actions/change-status",
		"GET /api/v1/main/logs/abc/download":                              "/api/v1/{tenant}/logs/{executionId}/download",
		"POST /api/v1/main/executions/abc/actions/resume-from-breakpoint": "/api/v1/{tenant}/executions/{executionId}/actions/resume-from-breakpoint",
	} {
		method, path, _ := strings.Cut(mp, " ")
		if got := r.Template(method, path); got != want {
			t.Errorf("Template(%s %q) = %q, want %q", method, path, got, want)
		}
	}
}

// loadRoutes returns the routes of openapi.yaml, which TestMain loaded.
func loadRoutes(t *testing.T) *Routes {
	t.Helper()
	if recorder == nil || recorder.Routes == nil {
		t.Fatal("routes not loaded")
	}
	return recorder.Routes
}

func TestRecorderRecordsJSONAndStreams(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/{tenant}/executions/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"`+r.PathValue("id")+`","state":{"current":"RUNNING"}}`)
	})
	mux.HandleFunc("GET /api/v1/{tenant}/executions/{id}/follow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "id: start\ndata: {\"id\":\"a\"}\n\nid: progress\ndata: {\"id\":\"a\",\"state\":{}}\n\nid: end\ndata: {\"id\":\"a\",\"state\":{},\"x\":1}\n\n")
	})
	mux.HandleFunc("DELETE /api/v1/{tenant}/flows/{namespace}/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	rec := &Recorder{Routes: loadRoutes(t)}
	hc := &http.Client{Transport: rec}
	for _, p := range []string{"GET /api/v1/main/executions/a", "GET /api/v1/main/executions/b", "GET /api/v1/main/executions/a/follow", "DELETE /api/v1/main/flows/n/f"} {
		m, path, _ := strings.Cut(p, " ")
		req, _ := http.NewRequestWithContext(t.Context(), m, ts.URL+path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	calls := rec.Calls()
	var keys []string
	for _, c := range calls {
		keys = append(keys, c.Key()+" "+c.Body)
	}
	want := []string{
		"DELETE /api/v1/{tenant}/flows/{namespace}/{id} 204 empty",
		"GET /api/v1/{tenant}/executions/{executionId} 200 json",
		"GET /api/v1/{tenant}/executions/{executionId}/follow 200 sse",
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("calls = %q, want %q", keys, want)
	}
	if calls[1].Count != 2 || calls[1].Shape.Keys["state"].Keys["current"] == nil {
		t.Errorf("json call = %+v", calls[1])
	}
	frames := calls[2].Shape.Keys
	if frames["start"] == nil || frames["progress"] == nil || frames["end"].Keys["x"] == nil {
		t.Errorf("sse frames = %+v", frames)
	}
	// The log round-trips.
	file := filepath.Join(t.TempDir(), "shapes.json")
	if err := rec.WriteLog(file); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLog(file)
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare("written", calls, "read", back, nil); len(d) != 0 {
		t.Errorf("log does not round-trip: %v", d)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}
}
