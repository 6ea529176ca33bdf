package emulator

import (
	"strings"
	"testing"
)

const triggersFlow = `id: scheduled
namespace: company.team
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: k
  - id: paused
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 3 * * *"
    disabled: true
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
`

func TestTriggers(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, WithVersion(v))
			ts.createFlow(triggersFlow)
			v13 := v == Version13
			stateOfRow := func(row map[string]any) map[string]any {
				if v13 {
					return row["triggerContext"].(map[string]any)
				}
				return row["state"].(map[string]any)
			}

			r := ts.get("/api/v1/main/triggers/search?filters[namespace][EQUALS]=company.team")
			page := r.json(t)
			rows := page["results"].([]any)
			ids := map[string]map[string]any{}
			for _, row := range rows {
				st := stateOfRow(row.(map[string]any))
				ids[st["triggerId"].(string)] = st
			}
			// Only the triggers the scheduler evaluates are listed.
			want := map[string]bool{"nightly": true, "paused": true, "hook": false}
			for id, listed := range want {
				if _, ok := ids[id]; ok != listed {
					t.Errorf("trigger %s listed: %v, want %v", id, ok, listed)
				}
			}
			if ids["paused"]["disabled"] != true || ids["nightly"]["disabled"] != false {
				t.Errorf("disabled states: nightly %v, paused %v", ids["nightly"]["disabled"], ids["paused"]["disabled"])
			}
			if !v13 && (ids["nightly"]["kind"] != "SCHEDULE" || ids["nightly"]["locked"] != false) {
				t.Errorf("2.0 states: %v", ids)
			}

			// Disable one.
			path, body := "/api/v1/main/triggers/set-disabled", `{"namespace":"company.team","flowId":"scheduled","triggerId":"nightly","disabled":true}`
			if v13 {
				path = "/api/v1/main/triggers"
			}
			r = ts.do("PUT", path, strings.NewReader(body), header{"Content-Type": "application/json"})
			if r.status != 200 || r.json(t)["disabled"] != true || r.json(t)["triggerId"] != "nightly" {
				t.Fatalf("set disabled: %d %s", r.status, r.body)
			}
			r = ts.get("/api/v1/main/triggers/company.team/scheduled")
			for _, st := range r.json(t)["results"].([]any) {
				st := st.(map[string]any)
				if st["triggerId"] == "nightly" && st["disabled"] != true {
					t.Errorf("nightly not disabled in the flow's list: %v", st)
				}
			}
			missing := strings.Replace(body, "nightly", "nope", 1)
			assertJSONError(t, ts.do("PUT", path, strings.NewReader(missing), header{"Content-Type": "application/json"}), 404, "Not Found")

			// Unlock: 409 unless held.
			unlock := "/api/v1/main/triggers/company.team/scheduled/nightly/unlock"
			notLocked := "Conflict: Trigger is not locked"
			if v13 {
				notLocked = "Illegal state: Trigger is not locked"
			}
			assertJSONError(t, ts.do("POST", unlock, nil, nil), 409, notLocked)
			if !ts.LockTrigger("main", "company.team", "scheduled", "nightly", "exec1") {
				t.Fatal("LockTrigger found no trigger")
			}
			r = ts.do("POST", unlock, nil, nil)
			if m := r.json(t); r.status != 200 || m["executionId"] != nil {
				t.Errorf("unlock: %d %s", r.status, r.body)
			}
			assertJSONError(t, ts.do("POST", "/api/v1/main/triggers/company.team/scheduled/nope/unlock", nil, nil), 404, "Not Found")

			// Restart: answers the state, and frees a held trigger.
			ts.LockTrigger("main", "company.team", "scheduled", "nightly", "exec2")
			r = ts.do("POST", "/api/v1/main/triggers/company.team/scheduled/nightly/restart", nil, nil)
			if m := r.json(t); r.status != 200 || m["executionId"] != nil || m["triggerId"] != "nightly" {
				t.Errorf("restart: %d %s", r.status, r.body)
			}
			if r := ts.do("POST", "/api/v1/main/triggers/company.team/scheduled/nightly/restart", nil, nil); r.status != 200 {
				t.Errorf("restart of a free trigger: %d %s", r.status, r.body)
			}
			assertJSONError(t, ts.do("POST", "/api/v1/main/triggers/company.team/scheduled/nope/restart", nil, nil), 404, "Not Found")

			// A deleted flow's triggers are gone.
			ts.do("DELETE", "/api/v1/main/flows/company.team/scheduled", nil, nil)
			if n := ts.get("/api/v1/main/triggers/search").json(t)["total"]; n != 0.0 {
				t.Errorf("triggers of a deleted flow: %v", n)
			}
		})
	}
}
