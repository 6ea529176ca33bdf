package emulator

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// loopIterations returns the executions of kind LOOP whose parent is id,
// by iteration index; a search without a kind filter must not list them.
func loopIterations(t *testing.T, ts *testServer, id string) []map[string]any {
	t.Helper()
	q := url.Values{"filters[parentId][EQUALS]": {id}, "size": {"100"}}
	for _, r := range ts.get("/api/v1/main/executions/search?" + q.Encode()).json(t)["results"].([]any) {
		t.Errorf("a search without a kind filter lists the loop iteration %v", r.(map[string]any)["id"])
	}
	q.Set("filters[kind][EQUALS]", "LOOP")
	res := ts.get("/api/v1/main/executions/search?" + q.Encode()).json(t)["results"].([]any)
	subs := make([]map[string]any, len(res))
	for _, r := range res {
		// The full execution, as GET answers it.
		sub := ts.get("/api/v1/main/executions/" + r.(map[string]any)["id"].(string)).json(t)
		i := int(sub["loopRun"].(map[string]any)["index"].(float64))
		if i < 0 || i >= len(subs) || subs[i] != nil {
			t.Fatalf("loop iterations: index %d of %d", i, len(subs))
		}
		subs[i] = sub
	}
	return subs
}

const loopFlow = `id: looping
namespace: company.team
inputs:
  - id: greeting
    type: STRING
    defaults: hi
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: before
  - id: loop
    type: io.kestra.plugin.core.flow.Loop
    values: ["a", "b", "a", 3, {"k": 1}]
    outputs:
      - id: said
        type: STRING
        value: "{{ outputs.say.value }}"
    tasks:
      - id: say
        type: io.kestra.plugin.core.debug.Return
        format: "{{ inputs.greeting }} {{ item.value }} {{ item.index }} {{ outputs.first.value }}"
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.loop.iterationCount }} {{ outputs.loop.terminatedIterations }}"
`

// The 2.0 Loop runs each iteration in an execution of kind LOOP
// (Loop.java, ExecutorService#handleFlowableTasks,
// LoopExecutionEventMessageHandler, Execution#loopExecution,
// FlowableUtils#resolveValues, RunVariables#of(LoopRun), 2.0.0-SNAPSHOT).
func TestLoop_LoopJavaSubExecutions20(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(loopFlow)
	e := ts.execute("company.team", "looping", "wait=true", nil).json(t)
	if stateOf(e) != "SUCCESS" {
		t.Fatalf("state = %s", stateOf(e))
	}
	runs := taskRuns(t, e)
	if len(runs["say"]) != 0 {
		t.Errorf("the loop's tasks ran in the parent execution: %v", runs["say"])
	}
	loop := oneRun(t, runs, "loop")
	want := map[string]any{
		"iterationCount": 4, "runningIterations": 0, "terminatedIterations": 4,
		"outputs": []any{
			map[string]any{"item": map[string]any{"iteration": 0, "value": "a"}, "outputs": map[string]any{"said": "hi a 0 before"}},
			map[string]any{"item": map[string]any{"iteration": 1, "value": "b"}, "outputs": map[string]any{"said": "hi b 1 before"}},
			map[string]any{"item": map[string]any{"iteration": 2, "value": "3"}, "outputs": map[string]any{"said": "hi 3 2 before"}},
			map[string]any{"item": map[string]any{"iteration": 3, "value": `{"k":1}`}, "outputs": map[string]any{"said": `hi {"k":1} 3 before`}},
		},
	}
	if !jsonEqual(loop["outputs"], want) || stateOf(loop) != "SUCCESS" {
		t.Errorf("loop: %s, outputs %v;\nwant SUCCESS, %v", stateOf(loop), loop["outputs"], want)
	}
	// terminateLoop ends the Loop's attempt with it.
	if atts, _ := loop["attempts"].([]any); len(atts) != 1 || stateOf(atts[0].(map[string]any)) != "SUCCESS" {
		t.Errorf("loop attempts %v, want one SUCCESS", loop["attempts"])
	}
	if out := oneRun(t, runs, "after")["outputs"].(map[string]any)["value"]; out != "4 4" {
		t.Errorf("after = %v, want the loop's outputs 4 4", out)
	}

	subs := loopIterations(t, ts, e["id"].(string))
	if len(subs) != 4 {
		t.Fatalf("%d loop iterations, want 4 (duplicates dropped)", len(subs))
	}
	for i, sub := range subs {
		lr := sub["loopRun"].(map[string]any)
		if _, has := sub["originalId"]; has {
			t.Errorf("iteration %d has an originalId, which Kestra leaves null", i)
		}
		if sub["kind"] != "LOOP" || sub["parentId"] != e["id"] || stateOf(sub) != "SUCCESS" || sub["inputs"] != nil || sub["trigger"] != nil {
			t.Errorf("iteration %d: kind %v, parentId %v, state %s, inputs %v, trigger %v", i, sub["kind"], sub["parentId"], stateOf(sub), sub["inputs"], sub["trigger"])
		}
		if lr["taskId"] != "loop" || lr["taskRunId"] != loop["id"] || lr["value"] != want["outputs"].([]any)[i].(map[string]any)["item"].(map[string]any)["value"] {
			t.Errorf("iteration %d loopRun = %v", i, lr)
		}
		if p, _ := lr["parent"].(map[string]any); p == nil || p["id"] != e["id"] {
			t.Errorf("iteration %d loopRun.parent is not the parent execution", i)
		}
		say := oneRun(t, taskRuns(t, sub), "say")
		if say["parentTaskRunId"] != loop["id"] || say["value"] != nil || say["executionId"] != sub["id"] || stateOf(say) != "SUCCESS" {
			t.Errorf("iteration %d task run: %v", i, say)
		}
	}
}

// transmitFailed (default true): the first iteration that fails ends the
// Loop FAILED, its outputs as they were before (one iteration running,
// one ended), and no further iteration starts
// (LoopExecutionEventMessageHandler#handleTerminated, 2.0.0-SNAPSHOT);
// without it the Loop runs them all and succeeds.
func TestLoopTransmitFailed_LoopExecutionEventMessageHandler20(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for _, transmit := range []bool{true, false} {
		src := `id: failing` + map[bool]string{true: "1", false: "2"}[transmit] + `
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.Loop
    values: [1, 2, 3]
    transmitFailed: ` + map[bool]string{true: "true", false: "false"}[transmit] + `
    tasks:
      - id: check
        type: io.kestra.plugin.core.flow.If
        condition: "{{ item.value == '2' }}"
        then:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
`
		ts.createFlow(src)
		e := ts.execute("company.team", "failing"+map[bool]string{true: "1", false: "2"}[transmit], "wait=true", nil).json(t)
		loop := oneRun(t, taskRuns(t, e), "loop")
		subs := loopIterations(t, ts, e["id"].(string))
		var states []string
		for _, s := range subs {
			states = append(states, stateOf(s))
		}
		if transmit {
			if stateOf(e) != "FAILED" || stateOf(loop) != "FAILED" || !slices.Equal(states, []string{"SUCCESS", "FAILED"}) ||
				!jsonEqual(loop["outputs"], map[string]any{"iterationCount": 3, "runningIterations": 1, "terminatedIterations": 1}) {
				t.Errorf("transmitFailed: execution %s, loop %s %v, iterations %v", stateOf(e), stateOf(loop), loop["outputs"], states)
			}
		} else if stateOf(e) != "SUCCESS" || stateOf(loop) != "SUCCESS" || !slices.Equal(states, []string{"SUCCESS", "FAILED", "SUCCESS"}) {
			t.Errorf("transmitFailed false: execution %s, loop %s, iterations %v", stateOf(e), stateOf(loop), states)
		}
	}
}

// Values may be a map: each iteration has its key (FlowableUtils#
// resolveValues, RunVariables#of(LoopRun), 2.0.0-SNAPSHOT); no value ends
// the Loop SUCCESS at once (ExecutorService#handleFlowableTasks).
func TestLoopMapValues_FlowableUtilsResolveValues20(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(`id: mapped
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.Loop
    values:
      x: 1
      y: two
    outputs:
      - id: shown
        type: STRING
        value: "{{ outputs.show.value }}"
    tasks:
      - id: show
        type: io.kestra.plugin.core.debug.Return
        format: "{{ item.key }}={{ item.value }}"
  - id: none
    type: io.kestra.plugin.core.flow.Loop
    values: "[]"
    tasks:
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: never
`)
	e := ts.execute("company.team", "mapped", "wait=true", nil).json(t)
	if stateOf(e) != "SUCCESS" {
		t.Fatalf("state = %s", stateOf(e))
	}
	runs := taskRuns(t, e)
	if none := oneRun(t, runs, "none"); stateOf(none) != "SUCCESS" ||
		!jsonEqual(none["outputs"], map[string]any{"iterationCount": 0, "runningIterations": 0, "terminatedIterations": 0}) {
		t.Errorf("empty loop: %s %v", stateOf(none), none["outputs"])
	}
	want := []any{
		map[string]any{"item": map[string]any{"iteration": 0, "key": "x", "value": "1"}, "outputs": map[string]any{"shown": "x=1"}},
		map[string]any{"item": map[string]any{"iteration": 1, "key": "y", "value": "two"}, "outputs": map[string]any{"shown": "y=two"}},
	}
	if out := oneRun(t, runs, "loop")["outputs"].(map[string]any)["outputs"]; !jsonEqual(out, want) {
		t.Errorf("loop outputs = %v, want %v", out, want)
	}
	for i, sub := range loopIterations(t, ts, e["id"].(string)) {
		if k := sub["loopRun"].(map[string]any)["key"]; k != []string{"x", "y"}[i] {
			t.Errorf("iteration %d: loopRun.key = %v", i, k)
		}
	}
}

// concurrencyLimit bounds the iterations running at once: 1 by default,
// 0 for all (Loop#initFromValues, 2.0.0-SNAPSHOT). Each iteration pauses
// here until resumed, so the iterations started can be counted.
func TestLoopConcurrencyLimit_LoopInitFromValues20(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		limit   string
		started int
	}{{"", 1}, {"concurrencyLimit: 0", 3}, {"concurrencyLimit: 2", 2}} {
		ts := newTestServer(t)
		ts.createFlow(`id: paced
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.Loop
    values: [1, 2, 3]
    ` + tt.limit + `
    tasks:
      - id: wait
        type: io.kestra.plugin.core.flow.Pause
`)
		id := ts.execute("company.team", "paced", "", nil).json(t)["id"].(string)
		for resumed := 0; resumed < 3; {
			want := min(tt.started, 3-resumed)
			paused, total := waitLoopPaused(t, ts, id, resumed, want)
			if total != resumed+want {
				t.Fatalf("%q: %d iterations started with %d resumed, want %d", tt.limit, total, resumed, resumed+want)
			}
			for _, sub := range paused {
				if r := ts.do("POST", "/api/v1/main/executions/"+sub+"/actions/resume", nil, nil); r.status != 204 && r.status != 200 {
					t.Fatalf("resume %s: %d %s", sub, r.status, r.body)
				}
				resumed++
			}
		}
		ts.waitState(id, "SUCCESS")
	}
}

// waitLoopPaused waits until done iterations of id succeeded and want
// are paused; it returns the paused ones and how many iterations exist.
func waitLoopPaused(t *testing.T, ts *testServer, id string, done, want int) ([]string, int) {
	t.Helper()
	q := url.Values{"filters[parentId][EQUALS]": {id}, "filters[kind][EQUALS]": {"LOOP"}, "size": {"100"}}
	var paused []string
	ended, total := 0, 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		paused, ended = nil, 0
		res := ts.get("/api/v1/main/executions/search?" + q.Encode()).json(t)["results"].([]any)
		total = len(res)
		for _, r := range res {
			switch m := r.(map[string]any); stateOf(m) {
			case "PAUSED":
				paused = append(paused, m["id"].(string))
			case "SUCCESS":
				ended++
			}
		}
		if ended == done && len(paused) == want {
			return paused, total
		}
	}
	t.Fatalf("loop iterations of %s: %d ended, %d paused of %d; want %d ended, %d paused", id, ended, len(paused), total, done, want)
	return nil, 0
}

// Killing an execution kills the running iterations of its loops
// (ExecutionService#killLoopSubExecutions, 2.0.0-SNAPSHOT).
func TestLoopKill_ExecutionServiceKillLoopSubExecutions20(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(`id: killed
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.Loop
    values: [1, 2]
    tasks:
      - id: wait
        type: io.kestra.plugin.core.flow.Pause
`)
	id := ts.execute("company.team", "killed", "", nil).json(t)["id"].(string)
	paused, _ := waitLoopPaused(t, ts, id, 0, 1)
	if r := ts.do("DELETE", "/api/v1/main/executions/"+id+"/actions/kill", nil, nil); r.status != 202 && r.status != 200 {
		t.Fatalf("kill: %d %s", r.status, r.body)
	}
	ts.waitState(id, "KILLED")
	if sub := ts.waitState(paused[0], "KILLED"); stateOf(oneRun(t, taskRuns(t, sub), "wait")) != "KILLED" {
		t.Errorf("iteration's task run not killed: %v", sub["taskRunList"])
	}
	if n := len(loopIterations(t, ts, id)); n != 1 {
		t.Errorf("%d iterations after the kill, want the one that ran", n)
	}
}

// Values Kestra cannot iterate on fail the task with the texts of
// FlowableUtils#resolveValues (2.0.0-SNAPSHOT, Loop) and
// #resolveEachTasks (1.3.19, ForEach and Each*).
func TestIterationValueErrors_FlowableUtilsResolveValues(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		values any
		loop   string
		each   string
	}{
		{true, "Unknown value type: class java.lang.Boolean", "Unknown value type: class java.lang.Boolean"},
		{[]any{"a", true}, "Unknown value element type: class java.lang.Boolean", "Unknown value element type: class java.lang.Boolean"},
		// (1.3 reads a null list element with a NullPointerException.)
		{[]any{"a", nil}, `Found a null value inside the iteration values=["a",null]`, ""},
		{`["a", null, "a"]`, `Found a null value inside the iteration values="[\"a\", null, \"a\"]"`, "Found '1' null values on Each, with values=[a, null, a]"},
		{`"one"`, "Unknown value type: STRING", ""},
	} {
		if _, err := loopValues(tt.values, nil); err == nil || err.Error() != tt.loop {
			t.Errorf("Loop values %v: %v, want %q", tt.values, err, tt.loop)
		}
		if tt.each == "" {
			continue
		}
		if _, err := forEachValues(tt.values, nil); err == nil || err.Error() != tt.each {
			t.Errorf("ForEach values %v: %v, want %q", tt.values, err, tt.each)
		}
	}
	ts := newTestServer(t)
	ts.createFlow("id: badvalues\nnamespace: company.team\ntasks:\n  - id: loop\n    type: io.kestra.plugin.core.flow.Loop\n    values: true\n    tasks:\n      - id: a\n        type: io.kestra.plugin.core.log.Log\n        message: a\n")
	e := ts.execute("company.team", "badvalues", "wait=true", nil).json(t)
	loop := oneRun(t, taskRuns(t, e), "loop")
	if stateOf(e) != "FAILED" || stateOf(loop) != "FAILED" {
		t.Errorf("execution %s, loop %s; want FAILED", stateOf(e), stateOf(loop))
	}
	var logged bool
	for _, l := range ts.get("/api/v1/main/logs/" + e["id"].(string)).jsonArray(t) {
		l := l.(map[string]any)
		logged = logged || (l["level"] == "ERROR" && l["message"] == "Failed to process flowable task "+loop["id"].(string)+": Unknown value type: class java.lang.Boolean")
	}
	if !logged {
		t.Error("no ERROR log naming the failure")
	}
}

// A loop iteration's execution takes the breakpoints of the loop's
// (Execution#loopExecution) and stops there; resuming it from the
// breakpoint lets the loop go on (2.0.0-SNAPSHOT).
func TestLoopBreakpoint_ExecutionLoopExecution20(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(`id: stops
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.Loop
    values: [1]
    tasks:
      - id: step
        type: io.kestra.plugin.core.log.Log
        message: step
`)
	id := ts.execute("company.team", "stops", "breakpoints=step", nil).json(t)["id"].(string)
	q := url.Values{"filters[parentId][EQUALS]": {id}, "filters[kind][EQUALS]": {"LOOP"}}
	var sub string
	for deadline := time.Now().Add(10 * time.Second); sub == "" && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		for _, r := range ts.get("/api/v1/main/executions/search?" + q.Encode()).json(t)["results"].([]any) {
			if stateOf(r.(map[string]any)) == "BREAKPOINT" {
				sub = r.(map[string]any)["id"].(string)
			}
		}
	}
	if sub == "" {
		t.Fatal("the iteration never stopped at the breakpoint")
	}
	if e := ts.get("/api/v1/main/executions/" + id).json(t); stateOf(e) != "RUNNING" {
		t.Errorf("parent execution %s while an iteration is at a breakpoint, want RUNNING", stateOf(e))
	}
	if r := ts.do("POST", "/api/v1/main/executions/"+sub+"/actions/resume-from-breakpoint", nil, nil); r.status != 200 {
		t.Fatalf("resume from breakpoint: %d %s", r.status, r.body)
	}
	ts.waitState(sub, "SUCCESS")
	ts.waitState(id, "SUCCESS")
}

// In nested loops, an inner iteration's execution has the outer
// iteration's as parent, and item.parent / loopRun.parents give the outer
// iteration (Execution#loopExecution#computeParents, RunVariables#of
// (LoopRun), 2.0.0-SNAPSHOT).
func TestNestedLoops_ExecutionComputeParents20(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(`id: nested
namespace: company.team
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.Loop
    values: ["x", "y"]
    outputs:
      - id: got
        type: STRING
        value: "{{ outputs.inner.outputs }}"
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.Loop
        values: [1, 2]
        outputs:
          - id: v
            type: STRING
            value: "{{ outputs.show.value }}"
        tasks:
          - id: show
            type: io.kestra.plugin.core.debug.Return
            format: "{{ item.parent.value }}-{{ item.value }}"
`)
	e := ts.execute("company.team", "nested", "wait=true", nil).json(t)
	if stateOf(e) != "SUCCESS" {
		t.Fatalf("state = %s", stateOf(e))
	}
	outs := oneRun(t, taskRuns(t, e), "outer")["outputs"].(map[string]any)["outputs"].([]any)
	for i, want := range [][]string{{`x-1`, `x-2`}, {`y-1`, `y-2`}} {
		got := outs[i].(map[string]any)["outputs"].(map[string]any)["got"].(string)
		for _, w := range want {
			if !strings.Contains(got, `"`+w+`"`) {
				t.Errorf("outer iteration %d got %s, want %s in it", i, got, w)
			}
		}
	}
	outerSubs := loopIterations(t, ts, e["id"].(string))
	for i, o := range outerSubs {
		inner := loopIterations(t, ts, o["id"].(string))
		if len(inner) != 2 {
			t.Fatalf("outer iteration %d has %d inner iterations", i, len(inner))
		}
		parents := inner[1]["loopRun"].(map[string]any)["parents"]
		if want := []any{map[string]any{"index": i, "value": []string{"x", "y"}[i]}}; !jsonEqual(parents, want) {
			t.Errorf("inner loopRun.parents = %v, want %v", parents, want)
		}
	}
}

// Restarting an execution whose Loop failed restarts the Loop's last
// failed iteration, in its own execution, and goes on with the following
// ones (ExecutorService#handleFlowableTasks on a RESTARTED Loop,
// ExecutionService#findLastFailingLoopSubExecution,
// LoopExecutionEventMessageHandler, 2.0.0-SNAPSHOT).
func TestLoopRestart_FindLastFailingLoopSubExecution20(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var calls atomic.Int32
	ts.HandleTask("io.kestra.plugin.scripts.shell.Commands", func(tk Task) TaskResult {
		// The second iteration fails the first time it runs.
		if v, _ := tk.Render("{{ item.value }}"); v == "2" && calls.Add(1) == 1 {
			return TaskResult{Err: errors.New("exit 1")}
		}
		return TaskResult{}
	})
	ts.createFlow(`id: restarted
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.Loop
    values: [1, 2, 3]
    tasks:
      - id: cmd
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["{{ item.value }}"]
`)
	e := ts.execute("company.team", "restarted", "wait=true", nil).json(t)
	id := e["id"].(string)
	if stateOf(e) != "FAILED" || len(loopIterations(t, ts, id)) != 2 {
		t.Fatalf("first run: %s with %d iterations, want FAILED after 2", stateOf(e), len(loopIterations(t, ts, id)))
	}
	if r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/restart", nil, nil); r.status != 200 {
		t.Fatalf("restart: %d %s", r.status, r.body)
	}
	ts.waitState(id, "SUCCESS")
	subs := loopIterations(t, ts, id)
	if len(subs) != 3 {
		t.Fatalf("%d iterations after the restart, want 3 (the failed one restarted in place)", len(subs))
	}
	for i, sub := range subs {
		cmd := oneRun(t, taskRuns(t, sub), "cmd")
		wantAttempts := map[int]int{1: 2}[i]
		if wantAttempts == 0 {
			wantAttempts = 1
		}
		if stateOf(sub) != "SUCCESS" || len(cmd["attempts"].([]any)) != wantAttempts {
			t.Errorf("iteration %d: %s, %d attempts of cmd; want SUCCESS, %d", i, stateOf(sub), len(cmd["attempts"].([]any)), wantAttempts)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("the failing command ran %d times, want 2", n)
	}
}
