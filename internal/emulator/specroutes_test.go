package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

// Every operation of openapi.yaml is either emulated (its answer is not
// 501, and TestMain validates it against the document) or answers 501 with
// a JsonError that names it.
func TestEveryOperationEmulatedOr501(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ids, total := ts.EmulatedOperations()
	emulated := map[string]bool{}
	for _, id := range ids {
		emulated[id] = true
	}
	if total != len(specOperations) || len(ids) == 0 || len(ids) >= total {
		t.Fatalf("EmulatedOperations = %d of %d", len(ids), total)
	}
	for _, op := range specOperations {
		path := op.path
		for strings.Contains(path, "{") {
			i, j := strings.Index(path, "{"), strings.Index(path, "}")
			v := "x"
			if path[i:j+1] == "{tenant}" {
				v = "main"
			}
			path = path[:i] + v + path[j+1:]
		}
		ctx, cancel := context.WithCancel(t.Context())
		req, err := http.NewRequestWithContext(ctx, op.method, ts.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		ts.authorize(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("%s %s: %v", op.method, path, err)
		}
		var body struct{ Message, OperationID string }
		if resp.StatusCode == http.StatusNotImplemented {
			_ = json.NewDecoder(resp.Body).Decode(&body)
		}
		cancel() // ends follow streams
		resp.Body.Close()
		switch {
		case emulated[op.id] && resp.StatusCode == http.StatusNotImplemented:
			t.Errorf("%s (%s %s) is emulated but answered 501", op.id, op.method, op.path)
		case emulated[op.id] && resp.StatusCode >= 500:
			t.Errorf("%s (%s %s) answered %d", op.id, op.method, path, resp.StatusCode)
		case !emulated[op.id] && resp.StatusCode != http.StatusNotImplemented:
			t.Errorf("%s (%s %s) is not emulated but answered %d", op.id, op.method, path, resp.StatusCode)
		case !emulated[op.id] && (body.OperationID != op.id || !strings.Contains(body.Message, op.id) || !strings.Contains(body.Message, "not emulated")):
			t.Errorf("%s: 501 body %+v", op.id, body)
		}
	}
	t.Logf("%d of %d operations emulated", len(ids), total)
}

// Paths that are operations of openapi.yaml are not taken for a route with
// a variable in their place: POST /flows/import is not the namespace
// "import" (it used to answer 200 [] and import nothing).
func TestNoOperationFallsIntoAVariable(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for _, c := range []struct{ method, path, id string }{
		{"GET", "/api/v1/main/flows/export/by-query", "exportFlowsByQuery"},
		{"GET", "/api/v1/main/flows/source", "searchFlowsBySourceCode"},
		{"GET", "/api/v1/users", "listUsers"},
	} {
		r := ts.do(c.method, c.path, nil, nil)
		if r.status != 501 || !strings.Contains(string(r.body), `"operationId":"`+c.id+`"`) {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
	}
	// A path that is no operation: Kestra's global 404 handler
	// (webserver/.../controllers/ErrorController.java#notFound,
	// @Error(global = true, status = NOT_FOUND); 1.3.25 and 2.0).
	r := ts.get("/api/v1/main/nothing/here")
	m := assertJSONError(t, r, 404, "Not Found")
	if m["message"] != "Not Found" {
		t.Errorf("message %q", m["message"])
	}
}

// The README states how many operations are emulated.
func TestREADMEStatesEmulatedCount(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	ids, total := s.EmulatedOperations()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d of the %d operations of `openapi.yaml` are emulated", len(ids), total)
	if !strings.Contains(strings.Join(strings.Fields(string(b)), " "), want) {
		t.Errorf("README.md does not say %q", want)
	}
}
