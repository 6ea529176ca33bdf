package emulator

import (
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"
)

const failFlow = `id: failing
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "Execution {{ execution.id }}"
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "value-{{ flow.namespace }}"
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "boom {{ outputs.ret.value }}"
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: unreachable
`

func TestExecutionLifecycleLogReturnFail(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(failFlow)
	r := ts.execute("company.team", "failing", "", nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	created := r.json(t)
	id := created["id"].(string)
	if stateOf(created) != "CREATED" {
		t.Errorf("created state = %s", stateOf(created))
	}
	if u := created["url"]; u != ts.url+"/ui/main/executions/company.team/failing/"+id {
		t.Errorf("url = %v", u)
	}
	if created["deleted"] != false {
		t.Errorf("deleted = %v", created["deleted"])
	}
	e := ts.waitState(id, "FAILED")
	st := e["state"].(map[string]any)
	var hist []string
	for _, h := range st["histories"].([]any) {
		hist = append(hist, h.(map[string]any)["state"].(string))
	}
	if strings.Join(hist, ",") != "CREATED,RUNNING,FAILED" {
		t.Errorf("histories = %v", hist)
	}
	if _, ok := st["endDate"]; !ok {
		t.Error("no endDate")
	}
	if d, _ := st["duration"].(string); !strings.HasPrefix(d, "PT") {
		t.Errorf("duration = %v", st["duration"])
	}
	trs := e["taskRunList"].([]any)
	if len(trs) != 3 {
		t.Fatalf("task runs = %d", len(trs))
	}
	wantStates := []string{"SUCCESS", "SUCCESS", "FAILED"}
	for i, tr := range trs {
		m := tr.(map[string]any)
		if stateOf(m) != wantStates[i] {
			t.Errorf("task %d state = %s", i, stateOf(m))
		}
		if atts, _ := m["attempts"].([]any); len(atts) != 1 {
			t.Errorf("task %d attempts = %v", i, m["attempts"])
		}
		// 2.0 GET is ApiExecution: task runs without outputs, no deleted.
		if _, ok := m["outputs"]; ok {
			t.Errorf("task %d has outputs in ApiExecution", i)
		}
	}
	if _, ok := e["deleted"]; ok {
		t.Error("ApiExecution has deleted")
	}
	logs := ts.get("/api/v1/main/logs/" + id).jsonArray(t)
	if len(logs) != 2 {
		t.Fatalf("logs = %v", logs)
	}
	l0, l1 := logs[0].(map[string]any), logs[1].(map[string]any)
	if l0["message"] != "Execution "+id || l0["level"] != "INFO" || l0["taskId"] != "log" {
		t.Errorf("log 0 = %v", l0)
	}
	if l1["message"] != "boom value-company.team" || l1["level"] != "ERROR" {
		t.Errorf("log 1 = %v", l1)
	}
}

func TestExecutionOutputsAndInputs(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithVersion(Version13))
	ts.createFlow(helloFlow)
	r := ts.execute("company.team", "hello", "wait=true", map[string]string{"name": "kestra"})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	e := r.json(t)
	if stateOf(e) != "SUCCESS" {
		t.Fatalf("wait=true state = %s", stateOf(e))
	}
	if e["inputs"].(map[string]any)["name"] != "kestra" {
		t.Errorf("inputs = %v", e["inputs"])
	}
	if e["outputs"].(map[string]any)["greeting"] != "KESTRA" {
		t.Errorf("outputs = %v", e["outputs"])
	}
	trs := e["taskRunList"].([]any)
	if trs[1].(map[string]any)["outputs"].(map[string]any)["value"] != "KESTRA" {
		t.Errorf("return outputs = %v", trs[1])
	}
	// Default input.
	e = ts.execute("company.team", "hello", "wait=true", nil).json(t)
	if e["inputs"].(map[string]any)["name"] != "world" {
		t.Errorf("default input = %v", e["inputs"])
	}
	labels := map[string]string{}
	for _, l := range e["labels"].([]any) {
		m := l.(map[string]any)
		labels[m["key"].(string)] = m["value"].(string)
	}
	if labels["env"] != "test" || labels["system.from"] != "api" || labels["system.correlationId"] != e["id"] {
		t.Errorf("labels = %v", labels)
	}
}

const typedFlow = `id: typed
namespace: company.team
inputs:
  - id: s
    type: STRING
  - id: i
    type: INT
    required: false
  - id: f
    type: FLOAT
    required: false
  - id: b
    type: BOOL
    required: false
  - id: dt
    type: DATETIME
    required: false
  - id: d
    type: DURATION
    required: false
  - id: j
    type: JSON
    required: false
  - id: a
    type: ARRAY
    itemType: INT
    required: false
  - id: sel
    type: SELECT
    values: [x, y]
    required: false
  - id: file
    type: FILE
    required: false
tasks:
  - id: t
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.s }}"
`

func TestExecutionInputs(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(typedFlow)
	fields := map[string]string{
		"s": "text", "i": "42", "f": "1.5", "b": "true", "dt": "2024-01-02T03:04:05+01:00",
		"d": "PT90S", "j": `{"k":[1,2]}`, "a": "[1,2,3]", "sel": "y", "undeclared": "ignored",
	}
	body, ct := multipartBody(t, fields, map[string][2]string{"file": {"data.csv", "a,b\n1,2\n"}})
	r := ts.do("POST", "/api/v1/main/executions/company.team/typed", body, header{"Content-Type": ct})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	e := r.json(t)
	id := e["id"].(string)
	in := e["inputs"].(map[string]any)
	want := map[string]any{
		"s": "text", "i": 42.0, "f": 1.5, "b": true, "dt": "2024-01-02T02:04:05Z", "d": "PT1M30S", "sel": "y",
		"file": "kestra:///company/team/typed/executions/" + id + "/inputs/file/data.csv",
	}
	for k, v := range want {
		if in[k] != v {
			t.Errorf("input %s = %v (%T), want %v", k, in[k], in[k], v)
		}
	}
	if j := in["j"].(map[string]any); len(j["k"].([]any)) != 2 {
		t.Errorf("json = %v", in["j"])
	}
	if a := in["a"].([]any); len(a) != 3 || a[2] != 3.0 {
		t.Errorf("array = %v", in["a"])
	}
	if _, ok := in["undeclared"]; ok {
		t.Error("undeclared input kept")
	}
	// The stored FILE input is served as an execution file.
	fr := ts.get("/api/v1/main/executions/" + id + "/file?path=" + url.QueryEscape(want["file"].(string)))
	if fr.status != 200 || string(fr.body) != "a,b\n1,2\n" || fr.header.Get("Content-Type") != "application/octet-stream" ||
		!strings.Contains(fr.header.Get("Content-Disposition"), `filename="data.csv"`) {
		t.Errorf("file: %d %q %v", fr.status, fr.body, fr.header)
	}
	if m := ts.get("/api/v1/main/executions/" + id + "/file/metas?path=" + url.QueryEscape(want["file"].(string))).json(t); m["size"] != 8.0 {
		t.Errorf("metas = %v", m)
	}
	assertJSONError(t, ts.get("/api/v1/main/executions/"+id+"/file?path="+url.QueryEscape("kestra:///other/flow/x.txt")), 422, "Illegal argument: Invalid prefix path")
	assertJSONError(t, ts.get("/api/v1/main/executions/"+id+"/file?path="+url.QueryEscape("kestra:///company/team/typed/executions/"+id+"/nope")), 404, "Not Found")
	assertJSONError(t, ts.get("/api/v1/main/executions/nope/file?path=x"), 404, "Not Found")

	errs := []struct {
		fields map[string]string
		msg    string
	}{
		// FlowInputOutput#resolveInputValue and #parseType (Kestra 1.3.19 and
		// 2.0.0-SNAPSHOT): a missing input and a parse failure other than
		// an IllegalArgumentException do not name the input in a Cause.
		{map[string]string{}, "Invalid entity: Missing required input:s"},
		{map[string]string{"s": "x", "i": "abc"}, "Invalid entity: Invalid value for input `i`. Cause: For input string: \"abc\""},
		{map[string]string{"s": "x", "dt": "yesterday"}, "Invalid entity:  errors:\n```\nText 'yesterday' could not be parsed at index 0\n```"},
		{map[string]string{"s": "x", "j": "{nope"}, "Invalid entity:  errors:\n```\n"},
	}
	for _, tt := range errs {
		assertJSONError(t, ts.execute("company.team", "typed", "", tt.fields), 422, tt.msg)
	}
}

func TestExecutionCreateErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	assertJSONError(t, ts.execute("company.team", "nope", "", nil), 404, "Not Found: Requested Flow is not found.")
	for _, q := range []string{"labels=novalue", "labels=a:1&labels=a:2", "labels=bad%20key:1", "labels=system.x:1", "labels=:v"} {
		// The texts: TestLabelRefusals_RequestUtilsToMap.
		assertJSONError(t, ts.execute("company.team", "hello", q, nil), 422, "")
	}
	if ts.ExecutionCount() != 0 {
		t.Errorf("ExecutionCount = %d", ts.ExecutionCount())
	}
	r := ts.execute("company.team", "hello", "labels=team:%20core%20&labels=system.correlationId:abc", nil)
	labels := map[string]string{}
	for _, l := range r.json(t)["labels"].([]any) {
		m := l.(map[string]any)
		labels[m["key"].(string)] = m["value"].(string)
	}
	if labels["team"] != "core" || labels["system.correlationId"] != "abc" {
		t.Errorf("labels = %v", labels)
	}
}

func TestScheduledExecution(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSpeed(1000))
	ts.createFlow(helloFlow)
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	e := ts.execute("company.team", "hello", "scheduleDate="+url.QueryEscape(at), nil).json(t)
	if e["scheduleDate"] == nil {
		t.Fatal("no scheduleDate")
	}
	time.Sleep(50 * time.Millisecond)
	if got := stateOf(ts.get("/api/v1/main/executions/" + e["id"].(string)).json(t)); got != "CREATED" {
		t.Errorf("scheduled execution state = %s", got)
	}
}

const pauseFlow = `id: pausing
namespace: company.team
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: before
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOL
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "approved={{ outputs.pause.onResume.approved }}"
`

func TestPauseResume(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, WithVersion(v))
			ts.createFlow(pauseFlow)
			id := ts.execute("company.team", "pausing", "", nil).json(t)["id"].(string)
			resume := "/api/v1/main/executions/" + id + "/actions/resume"
			if v == Version13 {
				resume = "/api/v1/main/executions/" + id + "/resume"
			}
			paused := ts.waitState(id, "PAUSED")
			if _, ok := paused["state"].(map[string]any)["endDate"]; !ok {
				t.Error("PAUSED state has no endDate")
			}
			body, ct := multipartBody(t, map[string]string{"approved": "true"}, nil)
			r := ts.do("POST", resume, body, header{"Content-Type": ct})
			if v == Version13 {
				if r.status != 204 {
					t.Fatalf("1.3 resume: %d %s", r.status, r.body)
				}
			} else if r.status != 200 || stateOf(r.json(t)) != "RUNNING" {
				t.Fatalf("resume: %d %s", r.status, r.body)
			}
			ts.waitState(id, "SUCCESS")
			logs := ts.get("/api/v1/main/logs/" + id).jsonArray(t)
			if last := logs[len(logs)-1].(map[string]any); last["message"] != "approved=true" {
				t.Errorf("last log = %v", last)
			}
			body, ct = multipartBody(t, nil, nil)
			assertJSONError(t, ts.do("POST", resume, body, header{"Content-Type": ct}), 409,
				"Illegal state: Execution '"+id+"' is not paused, can't resume it")
		})
	}
}

func TestPauseDurationAutoResumes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSpeed(1000))
	ts.createFlow("id: auto\nnamespace: a\ntasks:\n  - id: p\n    type: io.kestra.plugin.core.flow.Pause\n    pauseDuration: PT1S\n  - id: s\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT2S\n")
	e := ts.execute("a", "auto", "wait=true", nil).json(t)
	if stateOf(e) != "SUCCESS" {
		t.Errorf("state = %s", stateOf(e))
	}
}

func TestKill(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(pauseFlow)
	id := ts.execute("company.team", "pausing", "", nil).json(t)["id"].(string)
	ts.waitState(id, "PAUSED")
	r := ts.do("DELETE", "/api/v1/main/executions/"+id+"/actions/kill", nil, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "text/json" {
		t.Fatalf("kill: %d %v %s", r.status, r.header, r.body)
	}
	if stateOf(r.json(t)) != "KILLED" {
		t.Errorf("killed state = %s", stateOf(r.json(t)))
	}
	e := ts.waitState(id, "KILLED")
	for _, tr := range e["taskRunList"].([]any) {
		if s := stateOf(tr.(map[string]any)); s != "SUCCESS" && s != "KILLED" {
			t.Errorf("task run state %s after kill", s)
		}
	}
	// Killing again: accepted with the default cascade, 409 without.
	if r := ts.do("DELETE", "/api/v1/main/executions/"+id+"/actions/kill", nil, nil); r.status != 200 {
		t.Errorf("re-kill: %d", r.status)
	}
	assertJSONError(t, ts.do("DELETE", "/api/v1/main/executions/"+id+"/actions/kill?isOnKillCascade=false", nil, nil), 409, "Illegal state: ")
	assertJSONError(t, ts.do("DELETE", "/api/v1/main/executions/nope/actions/kill", nil, nil), 404, "Not Found")
}

func TestRestartReplay(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(failFlow)
	id := ts.execute("company.team", "failing", "wait=true", nil).json(t)["id"].(string)

	// Restart of FAILED reruns from the failed task (which fails again).
	r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/restart", nil, nil)
	if r.status != 200 || stateOf(r.json(t)) != "RESTARTED" {
		t.Fatalf("restart: %d %s", r.status, r.body)
	}
	e := ts.waitState(id, "FAILED")
	trs := e["taskRunList"].([]any)
	if len(trs) != 3 {
		t.Fatalf("task runs after restart = %d", len(trs))
	}
	if atts := trs[2].(map[string]any)["attempts"].([]any); len(atts) != 2 {
		t.Errorf("failed task attempts = %d, want 2", len(atts))
	}
	if atts := trs[0].(map[string]any)["attempts"].([]any); len(atts) != 1 {
		t.Errorf("first task attempts = %d, want 1", len(atts))
	}

	// Replay makes a new execution.
	r = ts.do("POST", "/api/v1/main/executions/"+id+"/actions/replay", nil, nil)
	if r.status != 200 {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	newID := r.json(t)["id"].(string)
	if newID == id || r.json(t)["originalId"] != id {
		t.Errorf("replay id %s original %v", newID, r.json(t)["originalId"])
	}
	ts.waitState(newID, "FAILED")
	assertJSONError(t, ts.do("POST", "/api/v1/main/executions/"+id+"/actions/replay?taskRunId=nope", nil, nil), 422, "Illegal argument: ")

	// SUCCESS is not restartable in 2.0.
	ts.createFlow(helloFlow)
	ok := ts.execute("company.team", "hello", "wait=true", nil).json(t)["id"].(string)
	assertJSONError(t, ts.do("POST", "/api/v1/main/executions/"+ok+"/actions/restart", nil, nil), 409, "Illegal state: ")
	assertJSONError(t, ts.do("POST", "/api/v1/main/executions/nope/actions/restart", nil, nil), 404, "Not Found")
}

func TestDeleteExecution(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	id := ts.execute("company.team", "hello", "wait=true", nil).json(t)["id"].(string)
	if ts.LogCount(id) == 0 {
		t.Fatal("no logs")
	}
	if r := ts.do("DELETE", "/api/v1/main/executions/"+id, nil, nil); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	assertJSONError(t, ts.get("/api/v1/main/executions/"+id), 404, "Not Found")
	assertJSONError(t, ts.do("DELETE", "/api/v1/main/executions/"+id, nil, nil), 404, "Not Found")
	if ts.ExecutionCount() != 0 || ts.LogCount(id) != 0 || ts.ExecutionsCreated() != 1 {
		t.Errorf("after delete: %d executions, %d logs", ts.ExecutionCount(), ts.LogCount(id))
	}
}

func TestSearchExecutions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	ts.createFlow(failFlow)
	ok := ts.execute("company.team", "hello", "wait=true&labels=k:v", nil).json(t)["id"].(string)
	ts.execute("company.team", "failing", "wait=true", nil)
	tests := []struct {
		query string
		total int
	}{
		{"", 2},
		{"filters[namespace][EQUALS]=company.team", 2},
		{"filters[flowId][EQUALS]=hello", 1},
		{"filters[state][EQUALS]=FAILED", 1},
		{"filters[state][IN]=FAILED,SUCCESS", 2},
		{"filters[labels][EQUALS][k]=v", 1},
		{"filters[timeRange][EQUALS]=PT1H", 2},
		{"filters[startDate][GREATER_THAN]=2100-01-01T00:00:00Z", 0},
		{"size=1&sort=state.startDate:desc", 2},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			m := ts.get("/api/v1/main/executions/search?" + tt.query).json(t)
			if m["total"] != float64(tt.total) {
				t.Errorf("total = %v, want %d", m["total"], tt.total)
			}
			for _, e := range m["results"].([]any) {
				if _, has := e.(map[string]any)["taskRunList"]; has {
					t.Error("search result has taskRunList (ApiLightExecution has none)")
				}
			}
		})
	}
	m := ts.get("/api/v1/main/executions?namespace=company.team&flowId=hello").json(t)
	if m["total"] != 1.0 || m["results"].([]any)[0].(map[string]any)["id"] != ok {
		t.Errorf("by flow = %v", m)
	}
	assertJSONError(t, ts.get("/api/v1/main/executions?namespace=company.team"), 400, "Bad Request: ")
	assertJSONError(t, ts.get("/api/v1/main/executions/search?filters[nope][EQUALS]=x"), 400, "Invalid query filters: ")
	assertJSONError(t, ts.get("/api/v1/main/executions/search?filters[state][WHATEVER]=x"), 400, "Invalid query filters: ")
}

func TestSearchExecutions13Legacy(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithVersion(Version13))
	ts.createFlow(helloFlow)
	ts.execute("company.team", "hello", "wait=true&labels=k:v", nil)
	m := ts.get("/api/v1/main/executions/search?namespace=company&labels=k:v&state=SUCCESS").json(t)
	if m["total"] != 1.0 {
		t.Fatalf("legacy search = %v", m)
	}
	if _, has := m["results"].([]any)[0].(map[string]any)["taskRunList"]; !has {
		t.Error("1.3 search returns full executions")
	}
}

func TestExecutionLabelsAndPauseActions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSpeed(20))
	ts.createFlow("id: slow\nnamespace: a\ntasks:\n  - id: s1\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT1S\n  - id: s2\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
	id := ts.execute("a", "slow", "", nil).json(t)["id"].(string)
	ts.waitState(id, "RUNNING")
	r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/labels", strings.NewReader(`[{"key":"a","value":"b"}]`), header{"Content-Type": "application/json"})
	if r.status != 200 {
		t.Fatalf("labels: %d %s", r.status, r.body)
	}
	if r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/pause", nil, nil); r.status != 200 {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	ts.waitState(id, "PAUSED")
	body, ct := multipartBody(t, nil, nil)
	if r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/resume", body, header{"Content-Type": ct}); r.status != 200 {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
	e := ts.waitState(id, "SUCCESS")
	found := false
	for _, l := range e["labels"].([]any) {
		if l.(map[string]any)["key"] == "a" {
			found = true
		}
	}
	if !found {
		t.Errorf("labels = %v", e["labels"])
	}
}

func TestActions13(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithVersion(Version13))
	ts.createFlow(failFlow)
	ts.createFlow(helloFlow)
	id := ts.execute("company.team", "failing", "wait=true", nil).json(t)["id"].(string)
	base := "/api/v1/main/executions/" + id
	if r := ts.do("POST", base+"/restart", nil, nil); r.status != 200 || stateOf(r.json(t)) != "RESTARTED" {
		t.Fatalf("1.3 restart: %d %s", r.status, r.body)
	}
	ts.waitState(id, "FAILED")
	r := ts.do("POST", base+"/replay", nil, nil)
	if r.status != 200 || r.json(t)["id"] == id {
		t.Fatalf("1.3 replay: %d %s", r.status, r.body)
	}
	// 1.3 restarts any terminated execution but a KILLED one.
	ok := ts.execute("company.team", "hello", "wait=true", nil).json(t)["id"].(string)
	if r := ts.do("POST", "/api/v1/main/executions/"+ok+"/restart", nil, nil); r.status != 200 {
		t.Errorf("1.3 restart of SUCCESS: %d %s", r.status, r.body)
	}
	ts.waitState(ok, "SUCCESS")
	// The 2.0 action paths do not exist.
	if r := ts.do("POST", base+"/actions/restart", nil, nil); r.status != 404 {
		t.Errorf("1.3 /actions/restart: %d", r.status)
	}
	// GET returns the full Execution.
	if e := ts.get(base).json(t); e["deleted"] != false {
		t.Errorf("1.3 GET deleted = %v", e["deleted"])
	}
}

const breakpointFlow = `id: stepping
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: first
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: second
  - id: third
    type: io.kestra.plugin.core.log.Log
    message: third
`

// taskRunStates maps task id to task-run state.
func taskRunStates(e map[string]any) map[string]string {
	m := map[string]string{}
	trs, _ := e["taskRunList"].([]any)
	for _, tr := range trs {
		tr := tr.(map[string]any)
		m[tr["taskId"].(string)] = stateOf(tr)
	}
	return m
}

func TestBreakpoints(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, WithVersion(v))
			ts.createFlow(breakpointFlow)
			id := ts.execute("company.team", "stepping", "breakpoints=second,third", nil).json(t)["id"].(string)
			resume := "/api/v1/main/executions/" + id + "/actions/resume-from-breakpoint"
			if v == Version13 {
				resume = "/api/v1/main/executions/" + id + "/resume-from-breakpoint"
			}

			// Stopped before second: its task run exists, nothing after it.
			e := ts.waitState(id, "BREAKPOINT")
			if got, want := taskRunStates(e), map[string]string{"first": "SUCCESS", "second": "BREAKPOINT"}; !maps.Equal(got, want) {
				t.Fatalf("task runs at the first breakpoint = %v, want %v", got, want)
			}
			if _, ok := e["state"].(map[string]any)["endDate"]; ok {
				t.Error("BREAKPOINT is not terminal, yet the state has an endDate")
			}
			// A normal resume is for PAUSED executions only.
			body, ct := multipartBody(t, nil, nil)
			assertJSONError(t, ts.do("POST", strings.TrimSuffix(resume, "-from-breakpoint"), body, header{"Content-Type": ct}), 409,
				"Illegal state: Execution '"+id+"' is not paused")

			// Resumed with third kept: it stops again before third.
			r := ts.do("POST", resume+"?breakpoints=third", nil, nil)
			if v == Version13 {
				if r.status != 204 {
					t.Fatalf("1.3 resume from breakpoint: %d %s", r.status, r.body)
				}
			} else if r.status != 200 || stateOf(r.json(t)) != "RUNNING" {
				t.Fatalf("resume from breakpoint: %d %s", r.status, r.body)
			}
			// The answer came after the execution left BREAKPOINT: this is
			// the next stop.
			e = ts.waitState(id, "BREAKPOINT")
			if got, want := taskRunStates(e), map[string]string{"first": "SUCCESS", "second": "SUCCESS", "third": "BREAKPOINT"}; !maps.Equal(got, want) {
				t.Fatalf("task runs at the second breakpoint = %v, want %v", got, want)
			}
			if bps := e["breakpoints"].([]any); len(bps) != 1 || bps[0].(map[string]any)["id"] != "third" {
				t.Errorf("breakpoints after resuming with third = %v", bps)
			}

			// Resumed without breakpoints: it runs to its end.
			if r := ts.do("POST", resume, nil, nil); r.status >= 300 {
				t.Fatalf("resume from breakpoint: %d %s", r.status, r.body)
			}
			e = ts.waitState(id, "SUCCESS")
			if _, ok := e["breakpoints"]; ok {
				t.Errorf("breakpoints left after resuming without any: %v", e["breakpoints"])
			}

			notSuspended := "Conflict: Cannot resume execution: execution is not suspended."
			if v == Version13 {
				notSuspended = "Illegal state: Execution is not suspended"
			}
			assertJSONError(t, ts.do("POST", resume, nil, nil), 409, notSuspended)
			assertJSONError(t, ts.do("POST", strings.Replace(resume, id, "nope", 1), nil, nil), 404, "Not Found")
		})
	}
}

func TestBreakpointKill(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(breakpointFlow)
	id := ts.execute("company.team", "stepping", "breakpoints=first", nil).json(t)["id"].(string)
	ts.waitState(id, "BREAKPOINT")
	if r := ts.do("DELETE", "/api/v1/main/executions/"+id+"/actions/kill", nil, nil); r.status != 200 {
		t.Fatalf("kill at a breakpoint: %d %s", r.status, r.body)
	}
	e := ts.waitState(id, "KILLED")
	if got := taskRunStates(e); !maps.Equal(got, map[string]string{"first": "KILLED"}) {
		t.Errorf("task runs after kill = %v", got)
	}
}

func TestBreakpointWithValueDoesNotStopPlainTasks(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(breakpointFlow)
	e := ts.execute("company.team", "stepping", "wait=true&breakpoints=second.x", nil).json(t)
	if stateOf(e) != "SUCCESS" {
		t.Errorf("state = %s: a breakpoint with a value stopped a task run without one", stateOf(e))
	}
}

func TestChangeStatusForceRunEval(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, WithVersion(v))
			ts.createFlow(failFlow)
			ts.createFlow("id: holdon\nnamespace: company.team\ntasks:\n  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: after\n")
			v13 := v == Version13
			act := func(id, verb string) string {
				if v13 {
					return "/api/v1/main/executions/" + id + "/" + verb
				}
				return "/api/v1/main/executions/" + id + "/actions/" + verb
			}

			// change-status: an ended execution to another terminal state.
			failed := ts.execute("company.team", "failing", "wait=true", nil).json(t)
			id := failed["id"].(string)
			r := ts.do("POST", act(id, "change-status")+"?status=SUCCESS", nil, nil)
			if r.status != 200 || stateOf(r.json(t)) != "SUCCESS" {
				t.Fatalf("change-status: %d %s", r.status, r.body)
			}
			if st := stateOf(ts.get("/api/v1/main/executions/" + id).json(t)); st != "SUCCESS" {
				t.Errorf("state after change-status = %s", st)
			}
			assertJSONError(t, ts.do("POST", act(id, "change-status")+"?status=RUNNING", nil, nil), 422,
				"Illegal argument: You can only change the state of an execution to a terminal state.")
			// A query value that does not convert: ErrorController's
			// ConversionErrorException branch, "Internal server error" (still
			// 422); "Invalid type" is only for a JSON type id.
			assertJSONError(t, ts.do("POST", act(id, "change-status")+"?status=NOPE", nil, nil), 422, "Internal server error: Failed to convert argument [status] for value [NOPE]")
			paused := ts.execute("company.team", "holdon", "", nil).json(t)["id"].(string)
			ts.waitState(paused, "PAUSED")
			if v13 {
				assertJSONError(t, ts.do("POST", act(paused, "change-status")+"?status=SUCCESS", nil, nil), 422,
					"Illegal argument: You can only change the state of a terminated execution.")
			} else {
				assertJSONError(t, ts.do("POST", act(paused, "change-status")+"?status=SUCCESS", nil, nil), 409,
					"Conflict: Cannot change execution state: execution must be terminated and not killed.")
			}

			// force-run: a paused execution goes on; an ended one is refused.
			if r := ts.do("POST", act(paused, "force-run"), nil, nil); r.status != 200 {
				t.Fatalf("force-run: %d %s", r.status, r.body)
			}
			ts.waitState(paused, "SUCCESS")
			if v13 {
				assertJSONError(t, ts.do("POST", act(paused, "force-run"), nil, nil), 422, "Illegal argument: Only non terminated executions can be forced run.")
			} else {
				assertJSONError(t, ts.do("POST", act(paused, "force-run"), nil, nil), 409, "Conflict: Cannot force run execution")
			}

			// eval: in a task run (both), or the execution (2.0 only).
			var retRun string
			for _, tr := range failed["taskRunList"].([]any) {
				if tr := tr.(map[string]any); tr["taskId"] == "ret" {
					retRun = tr["id"].(string)
				}
			}
			r = ts.do("POST", act(id, "eval/"+retRun), strings.NewReader("{{ outputs.ret.value }} in {{ taskrun.id }}"), header{"Content-Type": "text/plain"})
			if m := r.json(t); r.status != 200 || m["result"] != "value-company.team in "+retRun {
				t.Errorf("eval in a task run: %d %s", r.status, r.body)
			}
			r = ts.do("POST", act(id, "eval/"+retRun), strings.NewReader("{{ nope.nope }}"), header{"Content-Type": "text/plain"})
			if m := r.json(t); r.status != 200 || m["error"] == nil || m["result"] != nil {
				t.Errorf("eval that does not render: %d %s", r.status, r.body)
			}
			assertJSONError(t, ts.do("POST", act(id, "eval/nope"), strings.NewReader("x"), header{"Content-Type": "text/plain"}), 404, "Not Found")
			r = ts.do("POST", act(id, "eval"), strings.NewReader("{{ flow.id }}"), header{"Content-Type": "text/plain"})
			if v13 {
				if r.status != 404 {
					t.Errorf("1.3 eval without a task run: %d", r.status)
				}
			} else if m := r.json(t); r.status != 200 || m["result"] != "failing" {
				t.Errorf("eval: %d %s", r.status, r.body)
			}
		})
	}
}

func TestForceRunScheduled(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSpeed(1))
	ts.createFlow(failFlow)
	later := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	id := ts.execute("company.team", "failing", "scheduleDate="+later, nil).json(t)["id"].(string)
	time.Sleep(20 * time.Millisecond)
	if st := stateOf(ts.get("/api/v1/main/executions/" + id).json(t)); st != "CREATED" {
		t.Fatalf("scheduled execution is %s before its date", st)
	}
	if r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/force-run", nil, nil); r.status != 200 {
		t.Fatalf("force-run: %d %s", r.status, r.body)
	}
	ts.waitState(id, "FAILED")
}

// The pause action pauses a running execution at once: PAUSED while its
// running task goes on to its end, no next task until a resume; another
// state is refused, 1.3 with 422 and 2.0 with 409
// (ExecutionService#pause and ExecutionController#pauseExecution, Kestra
// 1.3.19 and 2.0.0-SNAPSHOT).
func TestPauseActionPausesAtOnce(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, WithVersion(v), WithSpeed(1))
			ts.createFlow("id: slow\nnamespace: a\ntasks:\n  - id: s1\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT1H\n  - id: s2\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
			id := ts.execute("a", "slow", "", nil).json(t)["id"].(string)
			act := func(verb string) string {
				if v == Version13 {
					return "/api/v1/main/executions/" + id + "/" + verb
				}
				return "/api/v1/main/executions/" + id + "/actions/" + verb
			}
			ts.waitState(id, "RUNNING")
			r := ts.do("POST", act("pause"), nil, nil)
			switch {
			case v == Version13 && r.status != 204:
				t.Fatalf("1.3 pause: %d %s", r.status, r.body)
			case v == Version20 && (r.status != 200 || stateOf(r.json(t)) != "PAUSED"):
				t.Fatalf("2.0 pause: %d %s", r.status, r.body)
			}
			// At once, although s1 sleeps for an hour.
			e := ts.get("/api/v1/main/executions/" + id).json(t)
			if stateOf(e) != "PAUSED" {
				t.Fatalf("state after pause = %s", stateOf(e))
			}
			if runs := e["taskRunList"].([]any); len(runs) != 1 || stateOf(runs[0].(map[string]any)) != "RUNNING" {
				t.Errorf("task runs after pause: %v", runs)
			}
			if v == Version13 {
				assertJSONError(t, ts.do("POST", act("pause"), nil, nil), 422, "Illegal argument: The execution is not running")
			} else {
				assertJSONError(t, ts.do("POST", act("pause"), nil, nil), 409, "Conflict: Cannot pause execution: execution is not running.")
			}
			body, ct := multipartBody(t, nil, nil)
			if r := ts.do("POST", act("resume"), body, header{"Content-Type": ct}); r.status/100 != 2 {
				t.Fatalf("resume: %d %s", r.status, r.body)
			}
			ts.waitState(id, "RUNNING")
			if r := ts.do("DELETE", act("kill"), nil, nil); r.status/100 != 2 {
				t.Fatalf("kill: %d %s", r.status, r.body)
			}
			ts.waitState(id, "KILLED")
			if v == Version13 {
				assertJSONError(t, ts.do("POST", act("pause"), nil, nil), 422, "Illegal argument: The execution is not running")
			} else {
				assertJSONError(t, ts.do("POST", act("pause"), nil, nil), 409, "Conflict: Cannot pause execution: execution is not running.")
			}
		})
	}
}

// A pause taken while a task runs holds the next task: after the running
// one ends, nothing starts until a resume.
func TestPauseActionHoldsNextTask(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSpeed(20))
	ts.createFlow("id: slow\nnamespace: a\ntasks:\n  - id: s1\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT1S\n  - id: s2\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
	id := ts.execute("a", "slow", "", nil).json(t)["id"].(string)
	ts.waitState(id, "RUNNING")
	if r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/pause", nil, nil); r.status != 200 {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	// Wait for s1 to end, then check s2 did not start.
	var e map[string]any
	for {
		e = ts.get("/api/v1/main/executions/" + id).json(t)
		runs := e["taskRunList"].([]any)
		if stateOf(runs[0].(map[string]any)) == "SUCCESS" {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if stateOf(e) != "PAUSED" || len(e["taskRunList"].([]any)) != 1 {
		t.Fatalf("after the running task ended: %s with %d task runs", stateOf(e), len(e["taskRunList"].([]any)))
	}
	body, ct := multipartBody(t, nil, nil)
	if r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/resume", body, header{"Content-Type": ct}); r.status != 200 {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
	if e := ts.waitState(id, "SUCCESS"); len(e["taskRunList"].([]any)) != 2 {
		t.Errorf("task runs at the end: %v", e["taskRunList"])
	}
}

const validatedFlow = `id: validated
namespace: company.team
inputs:
  - id: i
    type: INT
    required: false
    min: 1
    max: 10
  - id: f
    type: FLOAT
    required: false
    max: 2.5
  - id: s
    type: STRING
    required: false
    validator: "[a-z]+"
  - id: mail
    type: EMAIL
    required: false
  - id: u
    type: URI
    required: false
  - id: ms
    type: MULTISELECT
    required: false
    values: [a, b]
  - id: sel
    type: SELECT
    values: [x, y]
  - id: custom
    type: SELECT
    values: [x, y]
    allowCustomValue: true
    required: false
  - id: loose
    type: SELECT
    values: [x, y]
    required: false
  - id: dt
    type: DATETIME
    required: false
    after: "2024-01-01T00:00:00Z"
  - id: day
    type: DATE
    required: false
    before: "2024-12-31"
  - id: tm
    type: TIME
    required: false
  - id: dur
    type: DURATION
    required: false
    max: PT1H
  - id: secret
    type: SECRET
    required: false
tasks:
  - id: t
    type: io.kestra.plugin.core.log.Log
    message: hi
`

// Inputs are parsed by FlowInputOutput#parseType and checked by the
// validate method of each input class (IntInput, FloatInput, StringInput,
// EmailInput, MultiselectInput, SelectInput, DateTimeInput, DateInput,
// DurationInput; Kestra 1.3.19 and 2.0.0-SNAPSHOT).
func TestInputValidationAsKestra(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(validatedFlow)
	refused := []struct {
		fields map[string]string
		msg    string
	}{
		{map[string]string{"i": "1099511627776"}, "Invalid entity: Invalid value for input `i`. Cause: For input string: \"1099511627776\""},
		{map[string]string{"i": "-2147483649"}, "Invalid entity: Invalid value for input `i`. Cause: For input string: \"-2147483649\""},
		{map[string]string{"i": " 5"}, "Invalid entity: Invalid value for input `i`. Cause: For input string: \" 5\""},
		{map[string]string{"i": "0"}, "Invalid entity: Invalid value for input `i`. Cause: it must be more than `1`"},
		{map[string]string{"i": "11"}, "Invalid entity: Invalid value for input `i`. Cause: it must be less than `10`"},
		{map[string]string{"f": "3"}, "Invalid entity: Invalid value for input `f`. Cause: it must be less than `2.5`"},
		{map[string]string{"s": "abc1"}, "Invalid entity: Invalid value for input `s`. Cause: it must match the pattern `[a-z]+`"},
		{map[string]string{"mail": "nope"}, "Invalid entity: Invalid value for input `mail`. Cause: The input must be a valid email"},
		{map[string]string{"u": "example.com/x"}, "Invalid entity: Invalid value for input `u`. Cause: Invalid URI format."},
		{map[string]string{"u": "http://h/a b"}, "Invalid entity: Invalid value for input `u`. Cause: Illegal character in path at index 10: http://h/a b"},
		{map[string]string{"ms": "a,b"}, "Invalid entity:  errors:\n```\n"},
		{map[string]string{"ms": `["a","c"]`}, "Invalid entity: Invalid value for input `ms`. Cause: value `c` doesn't match the values `[a, b]`"},
		{map[string]string{"sel": "z"}, "Invalid entity: Invalid value for input `sel`. Cause: it must match the values `[x, y]`"},
		{map[string]string{"dt": "2023-06-01T00:00:00Z"}, "Invalid entity: Invalid value for input `dt`. Cause: it must be after `2024-01-01T00:00:00Z`"},
		{map[string]string{"day": "2025-01-01"}, "Invalid entity: Invalid value for input `day`. Cause: it must be before `2024-12-31`"},
		{map[string]string{"dur": "PT2H"}, "Invalid entity: Invalid value for input `dur`. Cause: It must be less than `PT1H`"},
		{map[string]string{"secret": "s3cr3t"}, "Invalid entity:  errors:\n```\nUnable to use a `SECRET` input/output as encryption is not configured\n```"},
	}
	for _, tt := range refused {
		fields := map[string]string{"sel": "x"}
		for k, v := range tt.fields {
			fields[k] = v
		}
		m := assertJSONError(t, ts.execute("company.team", "validated", "", fields), 422, tt.msg)
		if !strings.HasSuffix(tt.msg, "```\n") && m["message"] != tt.msg {
			t.Errorf("%v: message %q, want exactly %q", tt.fields, m["message"], tt.msg)
		}
	}
	accepted := map[string]string{
		"i": "7", "f": "1.1", "s": "abc", "mail": "a.b@example.com", "u": "s3://bucket/key",
		"ms": `["a","b"]`, "sel": "x", "custom": "z", "loose": "z",
		"dt": "2024-06-01T10:00:00.5+02:00", "day": "2024-01-01", "tm": "10:15:30.25", "dur": "PT30M",
	}
	r := ts.execute("company.team", "validated", "", accepted)
	if r.status != 200 {
		t.Fatalf("valid inputs refused: %d %s", r.status, r.body)
	}
	in := r.json(t)["inputs"].(map[string]any)
	for k, want := range map[string]any{
		"i": 7.0, "f": 1.1, "custom": "z", "loose": "z", "dt": "2024-06-01T08:00:00.500Z", "tm": "10:15:30.250",
	} {
		if in[k] != want {
			t.Errorf("input %s = %v, want %v", k, in[k], want)
		}
	}
}

// A search lists NORMAL executions only, unless a filter names the kind
// (AbstractJdbcExecutionRepository#computeFindCondition, 1.3.19 and
// 2.0.0-SNAPSHOT).
func TestSearchKinds_NormalKindCondition(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		ts := newTestServer(t, WithVersion(v))
		ts.createFlow(helloFlow)
		normal := ts.execute("company.team", "hello", "", nil).json(t)["id"]
		test := ts.execute("company.team", "hello", "kind=TEST", nil).json(t)["id"]
		ids := func(query string) []any {
			var out []any
			for _, r := range ts.get("/api/v1/main/executions/search" + query).json(t)["results"].([]any) {
				out = append(out, r.(map[string]any)["id"])
			}
			return out
		}
		if got := ids(""); len(got) != 1 || got[0] != normal {
			t.Errorf("%s: search without kind = %v, want only %v", v, got, normal)
		}
		if got := ids("?filters[kind][EQUALS]=TEST"); len(got) != 1 || got[0] != test {
			t.Errorf("%s: search of kind TEST = %v, want %v", v, got, test)
		}
	}
}

// A log search lists the lines of NORMAL executions unless a filter names
// the kind (AbstractJdbcLogRepository#find, NORMAL_KIND_CONDITION); its
// fields are those of QueryFilter.Resource.LOG: 1.3.19 has minLevel and no
// kind, 2.0.0-SNAPSHOT has level, kind, taskId ...
func TestLogSearchKindsAndFields_AbstractJdbcLogRepository(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	normal := ts.execute("company.team", "hello", "wait=true", nil).json(t)["id"]
	test := ts.execute("company.team", "hello", "wait=true&kind=TEST", nil).json(t)["id"]
	execs := func(ts *testServer, query string) map[any]bool {
		out := map[any]bool{}
		for _, r := range ts.get("/api/v1/main/logs/search" + query).json(t)["results"].([]any) {
			out[r.(map[string]any)["executionId"]] = true
		}
		return out
	}
	if got := execs(ts, ""); !got[normal] || got[test] {
		t.Errorf("search without kind lists the lines of %v; want %v's, not %v's", got, normal, test)
	}
	if got := execs(ts, "?filters[kind][EQUALS]=TEST"); !got[test] || got[normal] {
		t.Errorf("search of kind TEST lists the lines of %v; want %v's only", got, test)
	}

	ts13 := newTestServer(t, WithVersion(Version13))
	ts13.createFlow(helloFlow)
	ts13.execute("company.team", "hello", "wait=true", nil)
	assertJSONError(t, ts13.get("/api/v1/main/logs/search?filters[kind][EQUALS]=TEST"), 400, "Invalid query filters: ")
	if got := execs(ts13, "?filters[minLevel][EQUALS]=INFO"); len(got) != 1 {
		t.Errorf("1.3 minLevel filter: lines of %v, want one execution's", got)
	}
	if got := execs(ts13, "?filters[minLevel][EQUALS]=ERROR"); len(got) != 0 {
		t.Errorf("1.3 minLevel ERROR: lines of %v, want none", got)
	}
}
