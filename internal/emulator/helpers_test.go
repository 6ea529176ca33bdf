package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	go func() { _, _ = loadSpec() }() // slow under -race: overlap it with the tests
	code := m.Run()
	if err := validateRecorded(); err != nil {
		fmt.Fprintln(os.Stderr, "responses not checked against openapi.yaml:", err)
	}
	if code == 0 && !reportSpecMismatches() {
		fmt.Fprintln(os.Stderr, "FAIL: responses do not match openapi.yaml")
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testServer is an emulator behind an httptest server.
type testServer struct {
	*Server
	url string
	t   *testing.T
}

// newTestServer starts an emulator running at high speed; both are closed
// at the end of the test.
func newTestServer(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	opts = append([]Option{WithSpeed(200)}, opts...)
	s := New(opts...)
	ts := httptest.NewServer(recordResponses(t, s))
	s.SetURL(ts.URL)
	t.Cleanup(func() {
		s.Close()
		ts.CloseClientConnections()
		ts.Close()
	})
	return &testServer{Server: s, url: ts.URL, t: t}
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (r response) jsonArray(t *testing.T) []any {
	t.Helper()
	var a []any
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("body is not a JSON array: %v: %s", err, r.body)
	}
	return a
}

type header map[string]string

// do sends a request and reads the whole response.
func (ts *testServer) do(method, path string, body io.Reader, h header) response {
	ts.t.Helper()
	req, err := http.NewRequestWithContext(ts.t.Context(), method, ts.url+path, body)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.authorize(req)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Del("Authorization")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// authorize sets basic credentials of one of the server's users (the
// default user unless the test configured others): like Kestra OSS, the
// emulator answers 401 to /api/v1 calls without them. A test that wants no
// credentials passes an empty Authorization header to do.
func (ts *testServer) authorize(req *http.Request) {
	user, pass := DefaultUsername, DefaultPassword
	if _, ok := ts.cfg.users[user]; !ok {
		keys := slices.Sorted(maps.Keys(ts.cfg.users))
		user, pass = keys[0], ts.cfg.users[keys[0]]
	}
	req.SetBasicAuth(user, pass)
}

func (ts *testServer) get(path string) response { return ts.do("GET", path, nil, nil) }

func yamlHeader() header { return header{"Content-Type": "application/x-yaml"} }

// createFlow creates a flow and fails the test unless it worked.
func (ts *testServer) createFlow(src string) map[string]any {
	ts.t.Helper()
	r := ts.do("POST", "/api/v1/main/flows", strings.NewReader(src), yamlHeader())
	if r.status != 200 {
		ts.t.Fatalf("create flow: %d %s", r.status, r.body)
	}
	return r.json(ts.t)
}

// multipartBody builds a multipart/form-data body of text fields and files
// (name → filename, content).
func multipartBody(t *testing.T, fields map[string]string, files map[string][2]string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for k, f := range files {
		fw, err := mw.CreateFormFile(k, f[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte(f[1]))
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// execute creates an execution with inputs and returns the response.
func (ts *testServer) execute(ns, flow, query string, fields map[string]string) response {
	ts.t.Helper()
	body, ct := multipartBody(ts.t, fields, nil)
	p := "/api/v1/main/executions/" + ns + "/" + flow
	if query != "" {
		p += "?" + query
	}
	return ts.do("POST", p, body, header{"Content-Type": ct})
}

// waitState polls an execution until its state is want.
func (ts *testServer) waitState(id, want string) map[string]any {
	ts.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last map[string]any
	for time.Now().Before(deadline) {
		r := ts.get("/api/v1/main/executions/" + id)
		if r.status != 200 {
			ts.t.Fatalf("get execution: %d %s", r.status, r.body)
		}
		last = r.json(ts.t)
		if stateOf(last) == want {
			return last
		}
		time.Sleep(2 * time.Millisecond)
	}
	ts.t.Fatalf("execution %s never reached %s; last: %v", id, want, stateOf(last))
	return nil
}

func stateOf(e map[string]any) string {
	st, _ := e["state"].(map[string]any)
	s, _ := st["current"].(string)
	return s
}

// assertJSONError checks a Micronaut JsonError body.
func assertJSONError(t *testing.T, r response, status int, messagePrefix string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	m := r.json(t)
	msg, _ := m["message"].(string)
	if !strings.HasPrefix(msg, messagePrefix) {
		t.Errorf("message = %q, want prefix %q", msg, messagePrefix)
	}
	links, _ := m["_links"].(map[string]any)
	self, _ := links["self"].(map[string]any)
	if _, ok := self["href"].(string); !ok || self["templated"] != false {
		t.Errorf("_links.self = %v", links)
	}
	if emb, ok := m["_embedded"].(map[string]any); ok {
		if _, ok := emb["errors"].([]any); !ok {
			t.Errorf("_embedded.errors is not an array: %v", emb)
		}
	}
	return m
}

func violations(m map[string]any) []map[string]any {
	emb, _ := m["_embedded"].(map[string]any)
	l, _ := emb["errors"].([]any)
	var out []map[string]any
	for _, e := range l {
		out = append(out, e.(map[string]any))
	}
	return out
}

const helloFlow = `id: hello
namespace: company.team
labels:
  env: test
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.name }} from {{ flow.id }}"
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.name | upper }}"
outputs:
  - id: greeting
    type: STRING
    value: "{{ outputs.ret.value }}"
`
