package emulator

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
)

const loopUntilFlow = `id: until
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.LoopUntil
    condition: "{{ outputs.count.value == '3' }}"
    checkFrequency:
      interval: PT0.1S
    tasks:
      - id: count
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.loop.iterationCount }}"
      - id: inner
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: deep
            type: io.kestra.plugin.core.log.Log
            message: deep
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.loop.iterationCount }}"
`

// LoopUntil runs its tasks until the condition is truthy, pausing
// checkFrequency.interval between iterations; each new iteration removes
// the task runs of the previous one and counts on the task run's
// iteration (LoopUntil.java, ExecutorService#handleFlowableTasks,
// ExecutionService#retryWaitFor: children on 1.3.19, all descendants on
// 2.0.0-SNAPSHOT).
func TestLoopUntil_ExecutionServiceRetryWaitFor(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		ts := newTestServer(t, WithVersion(v))
		ts.createFlow(loopUntilFlow)
		e := ts.execute("company.team", "until", "wait=true", nil).json(t)
		if stateOf(e) != "SUCCESS" {
			t.Fatalf("%s: state = %s", v, stateOf(e))
		}
		runs := taskRuns(t, e)
		loop := oneRun(t, runs, "loop")
		if loop["iteration"] != 2.0 || !jsonEqual(loop["outputs"], map[string]any{"iterationCount": 3}) || stateOf(loop) != "SUCCESS" {
			t.Errorf("%s: loop iteration %v, outputs %v, state %s; want 2, iterationCount 3, SUCCESS", v, loop["iteration"], loop["outputs"], stateOf(loop))
		}
		// Each iteration drops the attempts (TaskRun#resetAttempts) and
		// starts one.
		if atts, _ := loop["attempts"].([]any); len(atts) != 1 || stateOf(atts[0].(map[string]any)) != "SUCCESS" {
			t.Errorf("%s: loop attempts %v, want one SUCCESS", v, loop["attempts"])
		}
		var states []string
		for _, h := range loop["state"].(map[string]any)["histories"].([]any) {
			states = append(states, h.(map[string]any)["state"].(string))
		}
		if want := []string{"CREATED", "RUNNING", "PAUSED", "RUNNING", "PAUSED", "RUNNING", "SUCCESS"}; !slices.Equal(states, want) {
			t.Errorf("%s: loop histories %q, want %q", v, states, want)
		}
		count := oneRun(t, runs, "count")
		if count["iteration"] != 2.0 || count["parentTaskRunId"] != loop["id"] || count["outputs"].(map[string]any)["value"] != "3" {
			t.Errorf("%s: count = %v", v, count)
		}
		if n := len(runs["inner"]); n != 1 {
			t.Errorf("%s: %d runs of inner, want the last iteration's", v, n)
		}
		if want := map[Version]int{Version20: 1, Version13: 3}[v]; len(runs["deep"]) != want {
			t.Errorf("%s: %d runs of deep, want %d", v, len(runs["deep"]), want)
		}
		if out := oneRun(t, runs, "after")["outputs"].(map[string]any)["value"]; out != "3" {
			t.Errorf("%s: after = %v", v, out)
		}
	}
}

// Past checkFrequency.maxIterations (iterationCount above it) the loop
// ends with a WARN log, FAILED with failOnMaxReached (LoopUntil#
// reachedMaximums and #resolveState, 1.3.19 and 2.0.0-SNAPSHOT).
func TestLoopUntilMaxIterations_LoopUntilReachedMaximums(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for fail, want := range map[string]string{"true": "FAILED", "false": "SUCCESS"} {
		ts.createFlow(`id: capped` + fail + `
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{{ false }}"
    failOnMaxReached: ` + fail + `
    checkFrequency:
      maxIterations: 2
      interval: PT0.1S
    tasks:
      - id: count
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.loop.iterationCount }}"
`)
		e := ts.execute("company.team", "capped"+fail, "wait=true", nil).json(t)
		loop := oneRun(t, taskRuns(t, e), "loop")
		if stateOf(e) != want || stateOf(loop) != want || !jsonEqual(loop["outputs"], map[string]any{"iterationCount": 3}) || loop["iteration"] != 2.0 {
			t.Errorf("failOnMaxReached %s: execution %s, loop %s %v iteration %v; want %s after 3 iterations", fail, stateOf(e), stateOf(loop), loop["outputs"], loop["iteration"], want)
		}
		var warned bool
		for _, l := range ts.get("/api/v1/main/logs/" + e["id"].(string)).jsonArray(t) {
			l := l.(map[string]any)
			warned = warned || (l["level"] == "WARN" && l["message"] == "Max iterations reached" && l["taskRunId"] == loop["id"])
		}
		if !warned {
			t.Errorf("failOnMaxReached %s: no WARN log on the loop", fail)
		}
	}
}

// A restart goes on with the LoopUntil's iteration that failed: its
// iterationCount and iteration are kept, its tasks that succeeded are
// not run again (ExecutionService#restart marks the failed task runs
// RESTARTED, 2.0.0-SNAPSHOT).
func TestLoopUntilRestart_ExecutionServiceRestart20(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var calls, failed atomic.Int32
	ts.HandleTask("io.kestra.plugin.scripts.shell.Commands", func(tk Task) TaskResult {
		calls.Add(1)
		// Fails the first time it runs in the second iteration.
		if v, _ := tk.Render("{{ outputs.loop.iterationCount }}"); v == "2" && failed.Add(1) == 1 {
			return TaskResult{Err: errors.New("exit 1")}
		}
		return TaskResult{}
	})
	ts.createFlow(`id: untilrestart
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.LoopUntil
    condition: "{{ outputs.loop.iterationCount == 3 }}"
    checkFrequency:
      interval: PT0.1S
    tasks:
      - id: first
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.loop.iterationCount }}"
      - id: cmd
        type: io.kestra.plugin.scripts.shell.Commands
        commands: [run]
`)
	e := ts.execute("company.team", "untilrestart", "wait=true", nil).json(t)
	id := e["id"].(string)
	if stateOf(e) != "FAILED" {
		t.Fatalf("first run: %s", stateOf(e))
	}
	if r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/restart", nil, nil); r.status != 200 {
		t.Fatalf("restart: %d %s", r.status, r.body)
	}
	e = ts.waitState(id, "SUCCESS")
	runs := taskRuns(t, e)
	if loop := oneRun(t, runs, "loop"); loop["iteration"] != 2.0 {
		t.Errorf("loop iteration %v, want 2: the restart went on with the second iteration", loop["iteration"])
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("cmd ran %d times, want 4 (first iteration, second failed then restarted, third)", n)
	}
}
