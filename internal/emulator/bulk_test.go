package emulator

import (
	"strings"
	"testing"
)

// bulkErr checks a 400 BulkErrorResponse and returns its invalids as
// invalidValue → message.
func bulkErr(t *testing.T, r response, message string) map[string]string {
	t.Helper()
	if r.status != 400 {
		t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
	}
	m := r.json(t)
	if m["message"] != message {
		t.Errorf("message = %v, want %q", m["message"], message)
	}
	out := map[string]string{}
	for _, v := range m["invalids"].([]any) {
		v := v.(map[string]any)
		out[v["invalidValue"].(string)] = v["message"].(string)
	}
	return out
}

func TestBulkDelete(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(failFlow)
	ts.createFlow(pauseFlow)
	var done []string
	for range 3 {
		done = append(done, ts.execute("company.team", "failing", "wait=true", nil).json(t)["id"].(string))
	}
	paused := ts.execute("company.team", "pausing", "", nil).json(t)["id"].(string)
	ts.waitState(paused, "PAUSED")
	byIDs := "/api/v1/main/executions/by-ids"
	jsonHeader := header{"Content-Type": "application/json"}

	// One invalid id refuses all: an unknown one, and a running one.
	r := ts.do("DELETE", byIDs, strings.NewReader(`["`+done[0]+`","nope","`+paused+`"]`), jsonHeader)
	if got := bulkErr(t, r, "invalid bulk delete"); len(got) != 2 || got["nope"] != "execution not found" || got[paused] != "execution not found" {
		t.Errorf("invalids = %v", got)
	}
	if r := ts.get("/api/v1/main/executions/" + done[0]); r.status != 200 {
		t.Fatalf("a refused bulk delete deleted %s: %d", done[0], r.status)
	}

	r = ts.do("DELETE", byIDs, strings.NewReader(`["`+done[0]+`"]`), jsonHeader)
	if r.status != 200 || r.json(t)["count"] != 1.0 {
		t.Fatalf("delete by ids: %d %s", r.status, r.body)
	}
	if r := ts.get("/api/v1/main/executions/" + done[0]); r.status != 404 {
		t.Errorf("deleted execution: %d", r.status)
	}

	// By query: the failed executions of the flow; the paused one refuses
	// a query that matches it unless non-terminated ones are included.
	r = ts.do("DELETE", "/api/v1/main/executions/by-query?filters[namespace][EQUALS]=company.team", nil, nil)
	if got := bulkErr(t, r, "invalid bulk delete"); len(got) != 1 || got[paused] == "" {
		t.Errorf("invalids = %v", got)
	}
	r = ts.do("DELETE", "/api/v1/main/executions/by-query?filters[flowId][EQUALS]=failing&deleteLogs=false", nil, nil)
	if r.status != 200 || r.json(t)["count"] != 2.0 {
		t.Fatalf("delete by query: %d %s", r.status, r.body)
	}
	if r := ts.get("/api/v1/main/logs/" + done[1]); r.status != 200 || len(r.jsonArray(t)) == 0 {
		t.Errorf("logs of %s after deleteLogs=false: %d %s", done[1], r.status, r.body)
	}
	r = ts.do("DELETE", "/api/v1/main/executions/by-query?filters[flowId][EQUALS]=pausing&includeNonTerminated=true", nil, nil)
	if r.status != 200 || r.json(t)["count"] != 1.0 {
		t.Fatalf("delete by query with non-terminated: %d %s", r.status, r.body)
	}
	if r := ts.get("/api/v1/main/executions/search"); r.json(t)["total"] != 0.0 {
		t.Errorf("executions left: %s", r.body)
	}
	assertJSONError(t, ts.do("DELETE", "/api/v1/main/executions/by-query?filters[nope][EQUALS]=x", nil, nil), 400, "Invalid query filters")
	assertJSONError(t, ts.do("DELETE", byIDs, strings.NewReader(`{`), jsonHeader), 422, "Invalid json")
}

func TestBulkKill(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, WithVersion(v))
			ts.createFlow(pauseFlow)
			ts.createFlow(failFlow)
			a := ts.execute("company.team", "pausing", "", nil).json(t)["id"].(string)
			b := ts.execute("company.team", "pausing", "", nil).json(t)["id"].(string)
			done := ts.execute("company.team", "failing", "wait=true", nil).json(t)["id"].(string)
			ts.waitState(a, "PAUSED")
			ts.waitState(b, "PAUSED")
			jsonHeader := header{"Content-Type": "application/json"}

			r := ts.do("DELETE", "/api/v1/main/executions/kill/by-ids", strings.NewReader(`["`+a+`","`+done+`","nope"]`), jsonHeader)
			if got := bulkErr(t, r, "invalid bulk kill"); len(got) != 2 || got[done] != "execution already finished" || got["nope"] != "execution not found" {
				t.Errorf("invalids = %v", got)
			}
			if st := stateOf(ts.get("/api/v1/main/executions/" + a).json(t)); st != "PAUSED" {
				t.Errorf("a refused bulk kill changed %s to %s", a, st)
			}

			r = ts.do("DELETE", "/api/v1/main/executions/kill/by-ids", strings.NewReader(`["`+a+`"]`), jsonHeader)
			checkKillAnswer(t, v, r, 1)
			ts.waitState(a, "KILLED")

			r = ts.do("DELETE", "/api/v1/main/executions/kill/by-query?filters[state][EQUALS]=PAUSED", nil, nil)
			checkKillAnswer(t, v, r, 1)
			ts.waitState(b, "KILLED")
		})
	}
}

// checkKillAnswer checks a bulk kill's answer: 2.0 202 {operationId,
// totalItems}, 1.3 200 {count}.
func checkKillAnswer(t *testing.T, v Version, r response, n float64) {
	t.Helper()
	m := r.json(t)
	if v == Version13 {
		if r.status != 200 || m["count"] != n {
			t.Fatalf("1.3 bulk kill: %d %s", r.status, r.body)
		}
		return
	}
	if id, _ := m["operationId"].(string); r.status != 202 || id == "" || m["totalItems"] != n {
		t.Fatalf("bulk kill: %d %s", r.status, r.body)
	}
}
