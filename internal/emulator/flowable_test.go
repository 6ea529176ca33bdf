package emulator

import (
	"encoding/json"
	"slices"
	"testing"
)

// taskRuns returns the task runs of e by task id (several for a ForEach).
func taskRuns(t *testing.T, e map[string]any) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	trs, _ := e["taskRunList"].([]any)
	for _, tr := range trs {
		tr := tr.(map[string]any)
		out[tr["taskId"].(string)] = append(out[tr["taskId"].(string)], tr)
	}
	return out
}

func oneRun(t *testing.T, runs map[string][]map[string]any, taskID string) map[string]any {
	t.Helper()
	if len(runs[taskID]) != 1 {
		t.Fatalf("%d task runs of %s, want 1", len(runs[taskID]), taskID)
	}
	return runs[taskID][0]
}

const controlFlow = `id: control
namespace: company.team
inputs:
  - id: color
    type: STRING
    defaults: red
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: s1
        type: io.kestra.plugin.core.debug.Return
        format: one
      - id: s2
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.s1.value }} two"
  - id: par
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: p1
        type: io.kestra.plugin.core.log.Log
        message: p1
      - id: p2
        type: io.kestra.plugin.core.log.Log
        message: p2
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.color }}"
    then:
      - id: yes
        type: io.kestra.plugin.core.log.Log
        message: yes
    else:
      - id: no
        type: io.kestra.plugin.core.log.Log
        message: no
  - id: pick
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.color }}"
    cases:
      red:
        - id: isRed
          type: io.kestra.plugin.core.debug.Return
          format: red!
    defaults:
      - id: other
        type: io.kestra.plugin.core.log.Log
        message: other
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "a", {"k": 1}]
    tasks:
      - id: item
        type: io.kestra.plugin.core.debug.Return
        format: "item {{ taskrun.value }}"
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.item.a.value }}"
`

// controlFlow uses ForEach, which only 1.3 has.
func TestFlowableTasks(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithVersion(Version13))
	ts.createFlow(controlFlow)
	e := ts.execute("company.team", "control", "wait=true", nil).json(t)
	if stateOf(e) != "SUCCESS" {
		t.Fatalf("state = %s", stateOf(e))
	}
	runs := taskRuns(t, e)
	parentOf := func(taskID string) string {
		p, _ := oneRun(t, runs, taskID)["parentTaskRunId"].(string)
		return p
	}
	for parent, children := range map[string][]string{"seq": {"s1", "s2"}, "par": {"p1", "p2"}, "check": {"yes"}, "pick": {"isRed"}} {
		// A flowable's task run has one attempt, RUNNING then in its final
		// state (JdbcExecutor "flowable attempt state transition", 1.3.19).
		p := oneRun(t, runs, parent)
		if atts, _ := p["attempts"].([]any); len(atts) != 1 || stateOf(atts[0].(map[string]any)) != "SUCCESS" || stateOf(p) != "SUCCESS" {
			t.Errorf("flowable %s: state %s, attempts %v; want SUCCESS with one SUCCESS attempt", parent, stateOf(p), p["attempts"])
		}
		for _, c := range children {
			if parentOf(c) != p["id"] {
				t.Errorf("%s has parentTaskRunId %q, want %s's %q", c, parentOf(c), parent, p["id"])
			}
		}
	}
	if parentOf("seq") != "" {
		t.Error("a top-level task run has a parent")
	}
	if out := oneRun(t, runs, "s2")["outputs"].(map[string]any)["value"]; out != "one two" {
		t.Errorf("s2 output = %v: a sequential child sees the outputs of the one before", out)
	}
	if len(runs["no"]) != 0 || len(runs["other"]) != 0 {
		t.Error("a branch not taken ran")
	}
	if out := oneRun(t, runs, "check")["outputs"]; !jsonEqual(out, map[string]any{"evaluationResult": true}) {
		t.Errorf("If outputs = %v", out)
	}
	if out := oneRun(t, runs, "pick")["outputs"]; !jsonEqual(out, map[string]any{"value": "red", "defaults": false}) {
		t.Errorf("Switch outputs = %v", out)
	}
	var values []string
	for _, tr := range runs["item"] {
		values = append(values, tr["value"].(string))
		if want := "item " + tr["value"].(string); tr["outputs"].(map[string]any)["value"] != want {
			t.Errorf("item output = %v, want %q", tr["outputs"], want)
		}
	}
	if want := []string{"a", "b", `{"k":1}`}; !slices.Equal(values, want) {
		t.Errorf("ForEach values = %q, want %q (duplicates dropped, maps as JSON)", values, want)
	}
	if out := oneRun(t, runs, "after")["outputs"].(map[string]any)["value"]; out != "item a" {
		t.Errorf("outputs.item.a.value = %v", out)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestFlowableFailure(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(`id: failing
namespace: company.team
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: ok
        type: io.kestra.plugin.core.log.Log
        message: ok
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: never
    errors:
      - id: handler
        type: io.kestra.plugin.core.log.Log
        message: handled
  - id: notReached
    type: io.kestra.plugin.core.log.Log
    message: no
`)
	e := ts.execute("company.team", "failing", "wait=true", nil).json(t)
	runs := taskRuns(t, e)
	if stateOf(e) != "FAILED" || stateOf(oneRun(t, runs, "seq")) != "FAILED" {
		t.Fatalf("execution %s, seq %s; want both FAILED", stateOf(e), stateOf(oneRun(t, runs, "seq")))
	}
	if len(runs["never"]) != 0 || len(runs["notReached"]) != 0 {
		t.Error("tasks after a failure ran")
	}
	if h := oneRun(t, runs, "handler"); stateOf(h) != "SUCCESS" || h["parentTaskRunId"] != oneRun(t, runs, "seq")["id"] {
		t.Errorf("the flowable's errors branch: %v", h)
	}

	// A restart runs the failed child again, not the ones that succeeded.
	id := e["id"].(string)
	if r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/restart", nil, nil); r.status != 200 {
		t.Fatalf("restart: %d %s", r.status, r.body)
	}
	e = ts.waitState(id, "FAILED")
	runs = taskRuns(t, e)
	if len(runs["ok"]) != 1 || len(runs["seq"]) != 1 || len(runs["boom"]) != 1 || len(oneRun(t, runs, "boom")["attempts"].([]any)) != 2 {
		t.Errorf("after a restart: %d ok, %d seq, %d boom runs; want one each, boom with two attempts", len(runs["ok"]), len(runs["seq"]), len(runs["boom"]))
	}

	ts.createFlow(`id: tolerant
namespace: company.team
tasks:
  - id: allow
    type: io.kestra.plugin.core.flow.AllowFailure
    tasks:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
  - id: next
    type: io.kestra.plugin.core.log.Log
    message: next
`)
	e = ts.execute("company.team", "tolerant", "wait=true", nil).json(t)
	runs = taskRuns(t, e)
	if stateOf(e) != "WARNING" || stateOf(oneRun(t, runs, "allow")) != "WARNING" || stateOf(oneRun(t, runs, "next")) != "SUCCESS" {
		t.Errorf("AllowFailure: execution %s, allow %s; want WARNING and the next task run", stateOf(e), stateOf(oneRun(t, runs, "allow")))
	}
}

// A breakpoint with a value stops only the task run of that value
// (ExecutorService#shouldSuspend, 2.0.0-SNAPSHOT). No 2.0 core task gives
// its task runs a value since ForEach is gone, so the rule is checked on
// the runner directly.
func TestBreakpointValue_ExecutorServiceShouldSuspend(t *testing.T) {
	t.Parallel()
	rn := &runner{ex: &execution{e: &executionJSON{Breakpoints: []breakpointJSON{{ID: "item", Value: "b"}, {ID: "any"}}}}}
	for _, tt := range []struct {
		taskID, value string
		stop          bool
	}{
		{"item", "a", false}, {"item", "b", true}, {"item", "", false}, {"any", "x", true}, {"other", "b", false},
	} {
		tr := &taskRunJSON{TaskID: tt.taskID, Value: tt.value, State: newState(now())}
		if got := rn.atBreakpointLocked(tr); got != tt.stop {
			t.Errorf("task %s value %q: stops %v, want %v", tt.taskID, tt.value, got, tt.stop)
		}
	}
}

const childFlow = `id: child
namespace: company.team
labels:
  owner: child
inputs:
  - id: n
    type: INT
  - id: fail
    type: BOOL
    defaults: false
tasks:
  - id: double
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.n }}{{ inputs.n }}"
  - id: maybe
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.fail }}"
    then:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
outputs:
  - id: result
    type: STRING
    value: "{{ outputs.double.value }}"
`

func TestSubflow(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(childFlow)
	ts.createFlow(`id: parent
namespace: company.team
labels:
  team: data
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    inputs:
      n: 21
    labels:
      run: one
  - id: fire
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    wait: false
    inheritLabels: true
    inputs:
      n: 1
  - id: use
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.call.outputs.result }}"
`)
	e := ts.execute("company.team", "parent", "wait=true", nil).json(t)
	if stateOf(e) != "SUCCESS" {
		t.Fatalf("parent state = %s", stateOf(e))
	}
	runs := taskRuns(t, e)
	call := oneRun(t, runs, "call")
	out := call["outputs"].(map[string]any)
	childID, _ := out["executionId"].(string)
	if out["state"] != "SUCCESS" || !jsonEqual(out["outputs"], map[string]any{"result": "2121"}) {
		t.Errorf("Subflow outputs = %v", out)
	}
	if atts, _ := call["attempts"].([]any); len(atts) != 1 || stateOf(atts[0].(map[string]any)) != "SUCCESS" {
		t.Errorf("Subflow attempts = %v, want one SUCCESS", call["attempts"])
	}
	if got := oneRun(t, runs, "use")["outputs"].(map[string]any)["value"]; got != "2121" {
		t.Errorf("the child's outputs seen by the parent: %v", got)
	}

	child := ts.get("/api/v1/main/executions/" + childID).json(t)
	trig := child["trigger"].(map[string]any)
	vars := trig["variables"].(map[string]any)
	if trig["id"] != "call" || trig["type"] != "io.kestra.plugin.core.flow.Subflow" || vars["executionId"] != e["id"] ||
		vars["flowId"] != "parent" || vars["taskRunId"] != call["id"] || vars["taskId"] != "call" {
		t.Errorf("child trigger = %v", trig)
	}
	labels := labelMap(child)
	if labels["system.correlationId"] != e["id"] || labels["run"] != "one" || labels["owner"] != "child" || labels["team"] != "" {
		t.Errorf("child labels = %v: the parent's correlation id, the task's and the flow's labels, not the parent's own", labels)
	}

	// wait: false ends at once, with the child's first state; labels are
	// inherited.
	fire := oneRun(t, runs, "fire")
	fout := fire["outputs"].(map[string]any)
	if stateOf(fire) != "SUCCESS" || fout["state"] != "CREATED" || fout["outputs"] != nil {
		t.Errorf("Subflow without wait: %s %v", stateOf(fire), fout)
	}
	fired := ts.waitState(fout["executionId"].(string), "SUCCESS")
	if l := labelMap(fired); l["team"] != "data" || l["owner"] != "child" {
		t.Errorf("inherited labels = %v", l)
	}

	// The children are found by their trigger's execution id.
	r := ts.get("/api/v1/main/executions/search?filters[triggerExecutionId][EQUALS]=" + e["id"].(string))
	if r.json(t)["total"] != 2.0 {
		t.Errorf("children found by triggerExecutionId: %s", r.body)
	}
}

func labelMap(e map[string]any) map[string]string {
	m := map[string]string{}
	ls, _ := e["labels"].([]any)
	for _, l := range ls {
		l := l.(map[string]any)
		m[l["key"].(string)] = l["value"].(string)
	}
	return m
}

func TestSubflowFailures(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(childFlow)
	ts.createFlow(`id: strict
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    inputs:
      n: 1
      fail: true
`)
	ts.createFlow(`id: lenient
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    transmitFailed: false
    inputs:
      n: 1
      fail: true
`)
	ts.createFlow(`id: lost
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: nowhere
`)
	ts.createFlow(`id: badinput
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    inputs:
      n: not-a-number
`)
	for flow, want := range map[string][2]string{
		"strict": {"FAILED", "FAILED"}, "lenient": {"SUCCESS", "SUCCESS"}, "lost": {"FAILED", "FAILED"}, "badinput": {"FAILED", "FAILED"},
	} {
		e := ts.execute("company.team", flow, "wait=true", nil).json(t)
		call := oneRun(t, taskRuns(t, e), "call")
		if stateOf(e) != want[0] || stateOf(call) != want[1] {
			t.Errorf("%s: execution %s, task %s; want %v", flow, stateOf(e), stateOf(call), want)
		}
	}
}

func TestSubflowKillCascades(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow("id: sleeper\nnamespace: company.team\ntasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT1H\n")
	ts.createFlow("id: caller\nnamespace: company.team\ntasks:\n  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: company.team\n    flowId: sleeper\n")
	id := ts.execute("company.team", "caller", "", nil).json(t)["id"].(string)
	var childID string
	for childID == "" {
		r := ts.get("/api/v1/main/executions/search?filters[triggerExecutionId][EQUALS]=" + id).json(t)
		if res := r["results"].([]any); len(res) == 1 {
			childID = res[0].(map[string]any)["id"].(string)
		}
	}
	ts.waitState(childID, "RUNNING")
	if r := ts.do("DELETE", "/api/v1/main/executions/"+id+"/actions/kill", nil, nil); r.status != 200 {
		t.Fatalf("kill: %d %s", r.status, r.body)
	}
	ts.waitState(id, "KILLED")
	ts.waitState(childID, "KILLED")
}

func TestPausesInParallel(t *testing.T) {
	t.Parallel()
	// 1.3: its GET carries the task runs' outputs.
	ts := newTestServer(t, WithVersion(Version13))
	ts.createFlow(`id: approvals
namespace: company.team
tasks:
  - id: both
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: legal
        type: io.kestra.plugin.core.flow.Pause
        onResume:
          - id: ok
            type: BOOL
      - id: finance
        type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: approved
`)
	id := ts.execute("company.team", "approvals", "", nil).json(t)["id"].(string)
	for {
		e := ts.waitState(id, "PAUSED")
		runs := taskRuns(t, e)
		if len(runs["legal"]) == 1 && len(runs["finance"]) == 1 && stateOf(runs["legal"][0]) == "PAUSED" && stateOf(runs["finance"][0]) == "PAUSED" {
			break
		}
	}
	body, ct := multipartBody(t, map[string]string{"ok": "true"}, nil)
	if r := ts.do("POST", "/api/v1/main/executions/"+id+"/resume", body, header{"Content-Type": ct}); r.status != 204 {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
	e := ts.waitState(id, "SUCCESS")
	runs := taskRuns(t, e)
	for _, task := range []string{"legal", "finance", "both", "after"} {
		if st := stateOf(oneRun(t, runs, task)); st != "SUCCESS" {
			t.Errorf("%s ended %s", task, st)
		}
	}
	var resumedWith []any
	for _, task := range []string{"legal", "finance"} {
		if out, ok := oneRun(t, runs, task)["outputs"].(map[string]any); ok {
			resumedWith = append(resumedWith, out["onResume"])
		}
	}
	if len(resumedWith) != 1 || !jsonEqual(resumedWith[0], map[string]any{"ok": true}) {
		t.Errorf("onResume outputs = %v, want the inputs once", resumedWith)
	}
}
