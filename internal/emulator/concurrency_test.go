package emulator

import (
	"slices"
	"strings"
	"testing"
)

// concurrencyFlow holds its slot in a pause until resumed.
func concurrencyFlow(id, behavior string) string {
	return "id: " + id + `
namespace: company.team
concurrency:
  limit: 1
  behavior: ` + behavior + `
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
  - id: done
    type: io.kestra.plugin.core.log.Log
    message: done
`
}

func TestConcurrencyQueue(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, WithVersion(v))
			ts.createFlow(concurrencyFlow("one_at_a_time", "QUEUE"))
			act := func(id, verb string) string {
				if v == Version13 {
					return "/api/v1/main/executions/" + id + "/" + verb
				}
				return "/api/v1/main/executions/" + id + "/actions/" + verb
			}
			run := func() string {
				return ts.execute("company.team", "one_at_a_time", "", nil).json(t)["id"].(string)
			}
			a := run()
			ts.waitState(a, "PAUSED")
			b := run()
			qb := ts.waitState(b, "QUEUED")
			if trs, _ := qb["taskRunList"].([]any); len(trs) != 0 {
				t.Errorf("a queued execution has task runs: %v", trs)
			}
			c := run()
			ts.waitState(c, "QUEUED")
			if logs := logMessages(t, ts, c); !slices.Contains(logs, "Execution is queued due to concurrency limit exceeded, 1 running(s)") {
				t.Errorf("logs of a queued execution: %q", logs)
			}

			// A ends: the oldest queued one runs.
			body, ct := multipartBody(t, nil, nil)
			if r := ts.do("POST", act(a, "resume"), body, header{"Content-Type": ct}); r.status >= 300 {
				t.Fatalf("resume: %d %s", r.status, r.body)
			}
			ts.waitState(a, "SUCCESS")
			ts.waitState(b, "PAUSED")
			if st := stateOf(ts.get("/api/v1/main/executions/" + c).json(t)); st != "QUEUED" {
				t.Errorf("c is %s while b holds the slot", st)
			}

			// Unqueue: C to CANCELLED; D run at once despite the limit.
			r := ts.do("POST", act(c, "unqueue")+"?state=CANCELLED", nil, nil)
			if r.status != 200 || stateOf(r.json(t)) != "CANCELLED" {
				t.Fatalf("unqueue to CANCELLED: %d %s", r.status, r.body)
			}
			d := run()
			ts.waitState(d, "QUEUED")
			r = ts.do("POST", act(d, "unqueue"), nil, nil)
			if r.status != 200 || stateOf(r.json(t)) != "RUNNING" {
				t.Fatalf("unqueue: %d %s", r.status, r.body)
			}
			ts.waitState(d, "PAUSED")
			e := run()
			ts.waitState(e, "QUEUED")
			if r := ts.do("POST", act(e, "force-run"), nil, nil); r.status != 200 {
				t.Fatalf("force-run of a queued execution: %d %s", r.status, r.body)
			}
			ts.waitState(e, "PAUSED")

			if v == Version13 {
				assertJSONError(t, ts.do("POST", act(d, "unqueue"), nil, nil), 422, "Illegal argument: Only QUEUED execution can be unqueued")
			} else {
				assertJSONError(t, ts.do("POST", act(d, "unqueue"), nil, nil), 409, "Conflict: Cannot unqueue execution")
			}
			assertJSONError(t, ts.do("POST", act(d, "unqueue")+"?state=SUCCESS", nil, nil), 422, "Illegal argument: Invalid target state: SUCCESS")

			// Killing what holds slots lets nothing else in: the queue is empty.
			for _, id := range []string{b, d, e} {
				if r := ts.do("DELETE", act(id, "kill"), nil, nil); r.status >= 300 {
					t.Fatalf("kill: %d %s", r.status, r.body)
				}
				ts.waitState(id, "KILLED")
			}
		})
	}
}

func TestConcurrencyCancelAndFail(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for behavior, want := range map[string]string{"CANCEL": "CANCELLED", "FAIL": "FAILED"} {
		flow := "limited_" + strings.ToLower(behavior)
		ts.createFlow(concurrencyFlow(flow, behavior))
		first := ts.execute("company.team", flow, "", nil).json(t)["id"].(string)
		ts.waitState(first, "PAUSED")
		second := ts.execute("company.team", flow, "wait=true", nil).json(t)
		if stateOf(second) != want {
			t.Errorf("%s: the execution over the limit ended %s, want %s", behavior, stateOf(second), want)
		}
		if trs, _ := second["taskRunList"].([]any); len(trs) != 0 {
			t.Errorf("%s: task runs of a refused execution: %v", behavior, trs)
		}
		logs := logMessages(t, ts, second["id"].(string))
		if failed := slices.Contains(logs, "Execution is FAILED due to concurrency limit exceeded"); failed != (behavior == "FAIL") {
			t.Errorf("%s: logs %q", behavior, logs)
		}
	}
}

// logMessages returns the messages of an execution's logs.
func logMessages(t *testing.T, ts *testServer, id string) []string {
	t.Helper()
	var out []string
	for _, l := range ts.get("/api/v1/main/logs/" + id).jsonArray(t) {
		out = append(out, l.(map[string]any)["message"].(string))
	}
	return out
}
