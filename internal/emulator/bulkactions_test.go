package emulator

import (
	"strings"
	"testing"
)

// Bulk actions by ids and by query
// (webserver/.../controllers/api/ExecutionController.java, develop
// 2.0.0-SNAPSHOT: restartExecutionsByIds, resumeExecutionsByIds,
// pauseExecutionsByIds, replayExecutionsByIds, unqueueExecutionsByIds,
// forceRunByIds, updateExecutionsStatusByIds,
// setLabelsOnTerminatedExecutionsByIds and their by-query forms): an
// invalid id refuses all with Kestra's messages; valid ones are acted on
// after a 202.
func TestBulkActions_ExecutionController(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	ts.createFlow(failFlow)
	ts.createFlow(pauseFlow)
	failed := ts.execute("company.team", "failing", "wait=true", nil).json(t)["id"].(string)
	paused := ts.execute("company.team", "pausing", "", nil).json(t)["id"].(string)
	ts.waitState(paused, "PAUSED")
	jsonHeader := header{"Content-Type": "application/json"}
	post := func(path, body string) response {
		return ts.do("POST", "/api/v1/main/executions/"+path, strings.NewReader(body), jsonHeader)
	}
	ids := `["` + failed + `","` + paused + `","nope"]`

	for _, c := range []struct {
		action, message string
		want            map[string]string // invalids, without "nope"
	}{
		{"resume", "invalid bulk resume", map[string]string{failed: "execution not in state PAUSED"}},
		{"pause", "invalid bulk pause", map[string]string{failed: "execution not in state RUNNING", paused: "execution not in state RUNNING"}},
		{"unqueue", "invalid bulk unqueue", map[string]string{failed: "execution not in state QUEUED", paused: "execution not in state QUEUED"}},
		{"force-run", "invalid bulk force run", map[string]string{failed: "execution in a terminated state"}},
		{"replay", "invalid bulk replay", map[string]string{}},
		{"change-status/by-ids?newStatus=SUCCESS&x", "invalid bulk change executions state", map[string]string{paused: "execution not in a terminated state or is killed"}},
	} {
		path := c.action + "/by-ids"
		if i := strings.Index(c.action, "/by-ids"); i > 0 {
			path = c.action
		}
		got := bulkErr(t, post(path, ids), c.message)
		c.want["nope"] = "execution not found"
		if len(got) != len(c.want) {
			t.Errorf("%s: invalids = %v, want %v", c.action, got, c.want)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: invalid %s = %q, want %q", c.action, k, got[k], v)
			}
		}
	}
	// Restart reads each id with Optional.get(): an unknown id is a 404.
	assertJSONError(t, post("restart/by-ids", ids), 404, "Not Found: No value present")
	ok := ts.execute("company.team", "hello", "wait=true", nil).json(t)["id"].(string)
	if got := bulkErr(t, post("restart/by-ids", `["`+ok+`"]`), "invalid bulk restart"); got[ok] != "Execution '"+ok+"' must be terminated or paused to be restarted, current state is 'SUCCESS' !" {
		t.Errorf("restart invalids = %v", got)
	}
	failed2 := ts.execute("company.team", "failing", "wait=true", nil).json(t)["id"].(string)
	if r := post("restart/by-ids", `["`+failed2+`"]`); r.status != 202 || r.json(t)["totalItems"] != 1.0 {
		t.Fatalf("restart by ids: %d %s", r.status, r.body)
	}
	ts.waitRestarted(failed2)
	assertJSONError(t, post("change-status/by-ids?newStatus=RUNNING", ids), 422,
		"Illegal argument: You can only change the state of an execution to a terminal state.")

	// Labels on terminated executions, by ids then by query.
	lb := `{"executionsId":["` + failed + `"],"executionLabels":[{"key":"team","value":"a"}]}`
	if r := post("labels/by-ids", lb); r.status != 202 || r.json(t)["totalItems"] != 1.0 {
		t.Fatalf("labels by ids: %d %s", r.status, r.body)
	}
	got := bulkErr(t, post("labels/by-ids", `{"executionsId":["`+paused+`"],"executionLabels":[]}`), "invalid bulk set labels")
	if got[paused] != "execution is not terminated" {
		t.Errorf("labels invalids = %v", got)
	}

	// By query: resume every paused execution of the flow.
	r := ts.do("POST", "/api/v1/main/executions/resume/by-query?filters[flowId][EQUALS]=pausing", nil, nil)
	if r.status != 202 || r.json(t)["totalItems"] != 1.0 {
		t.Fatalf("resume by query: %d %s", r.status, r.body)
	}
	// Resumed without onResume inputs: the next task cannot render them.
	ts.waitState(paused, "FAILED")
	ex := ts.waitLabel(failed, "team", "a")
	if ex == nil {
		t.Error("label not set")
	}
}

// waitRestarted polls an execution until its history has RESTARTED.
func (ts *testServer) waitRestarted(id string) {
	ts.t.Helper()
	for range 5000 {
		e := ts.get("/api/v1/main/executions/" + id).json(ts.t)
		for _, h := range e["state"].(map[string]any)["histories"].([]any) {
			if h.(map[string]any)["state"] == "RESTARTED" {
				return
			}
		}
	}
	ts.t.Errorf("execution %s never restarted", id)
}

// waitLabel polls an execution until it has the label key=value.
func (ts *testServer) waitLabel(id, key, value string) map[string]any {
	ts.t.Helper()
	for range 5000 {
		e := ts.get("/api/v1/main/executions/" + id).json(ts.t)
		for _, l := range e["labels"].([]any) {
			if m := l.(map[string]any); m["key"] == key && m["value"] == value {
				return e
			}
		}
	}
	return nil
}
