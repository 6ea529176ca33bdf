package emulator

import (
	"slices"
	"testing"
	"time"
)

// EachSequential runs its tasks for each value, one after the other;
// EachParallel runs each task of each value on its own, at once up to
// concurrent (0, the default: no limit). Their task runs carry the value
// and its index as iteration (EachSequential.java, EachParallel.java,
// FlowableUtils#resolveEachTasks, 1.3.19); so do ForEach's.
func TestEachTasks_FlowableUtilsResolveEachTasks13(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithVersion(Version13))
	ts.createFlow(`id: each
namespace: company.team
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.EachSequential
    value: ["a", "b", "a"]
    tasks:
      - id: s1
        type: io.kestra.plugin.core.debug.Return
        format: "s1 {{ taskrun.value }}"
      - id: s2
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.s1.a.value }} s2"
  - id: par
    type: io.kestra.core.tasks.flows.EachParallel
    value: '[1, 2]'
    tasks:
      - id: p1
        type: io.kestra.plugin.core.debug.Return
        format: "p1 {{ taskrun.value }}"
      - id: p2
        type: io.kestra.plugin.core.debug.Return
        format: "p2 {{ taskrun.value }}"
  - id: fe
    type: io.kestra.plugin.core.flow.ForEach
    values: ["x", "y"]
    tasks:
      - id: f
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }} {{ taskrun.iteration }} {{ taskrun.parentId }}"
`)
	e := ts.execute("company.team", "each", "wait=true", nil).json(t)
	if stateOf(e) != "SUCCESS" {
		t.Fatalf("state = %s", stateOf(e))
	}
	runs := taskRuns(t, e)
	var seq []string
	for _, tr := range e["taskRunList"].([]any) {
		tr := tr.(map[string]any)
		if id := tr["taskId"].(string); id == "s1" || id == "s2" {
			seq = append(seq, id+":"+tr["value"].(string))
		}
	}
	if want := []string{"s1:a", "s2:a", "s1:b", "s2:b"}; !slices.Equal(seq, want) {
		t.Errorf("EachSequential ran %q, want %q", seq, want)
	}
	if out := runs["s2"][0]["outputs"].(map[string]any)["value"]; out != "s1 a s2" {
		t.Errorf("s2 of a = %v: it runs after s1 of a", out)
	}
	for id, parent := range map[string]string{"s1": "seq", "s2": "seq", "p1": "par", "p2": "par", "f": "fe"} {
		p := oneRun(t, runs, parent)
		if stateOf(p) != "SUCCESS" {
			t.Errorf("%s: %s", parent, stateOf(p))
		}
		if len(runs[id]) != 2 {
			t.Fatalf("%d runs of %s, want 2", len(runs[id]), id)
		}
		// Parallel runs start in any order: the iteration is the index
		// of the value.
		values := map[string][]string{"seq": {"a", "b"}, "par": {"1", "2"}, "fe": {"x", "y"}}[parent]
		for i, tr := range runs[id] {
			if tr["iteration"] != float64(slices.Index(values, tr["value"].(string))) || tr["parentTaskRunId"] != p["id"] || stateOf(tr) != "SUCCESS" {
				t.Errorf("%s run %d: iteration %v, parent %v, state %s", id, i, tr["iteration"], tr["parentTaskRunId"], stateOf(tr))
			}
		}
	}
	// The task run's iteration and parentId are template variables
	// (RunVariables#of(TaskRun)).
	for i, tr := range runs["f"] {
		want := []string{"x", "y"}[i] + " " + []string{"0", "1"}[i] + " " + oneRun(t, runs, "fe")["id"].(string)
		if got := tr["outputs"].(map[string]any)["value"]; got != want {
			t.Errorf("f run %d = %v, want %q", i, got, want)
		}
	}
	var pv []string
	for _, id := range []string{"p1", "p2"} {
		for _, tr := range runs[id] {
			pv = append(pv, tr["outputs"].(map[string]any)["value"].(string))
		}
	}
	slices.Sort(pv)
	if want := []string{"p1 1", "p1 2", "p2 1", "p2 2"}; !slices.Equal(pv, want) {
		t.Errorf("EachParallel outputs %q, want %q", pv, want)
	}
}

// EachParallel starts each task of each value on its own: with the
// default concurrent (0) all of them pause together, not one value after
// the other (EachParallel#resolveNexts: resolveParallelNexts, 1.3.19).
func TestEachParallelAtOnce_EachParallelResolveNexts13(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithVersion(Version13))
	ts.createFlow(`id: eachpar
namespace: company.team
tasks:
  - id: par
    type: io.kestra.plugin.core.flow.EachParallel
    value: ["a", "b"]
    tasks:
      - id: w1
        type: io.kestra.plugin.core.flow.Pause
      - id: w2
        type: io.kestra.plugin.core.flow.Pause
`)
	id := ts.execute("company.team", "eachpar", "", nil).json(t)["id"].(string)
	var paused int
	for range 5000 {
		e := ts.waitState(id, "PAUSED")
		paused = 0
		for _, tr := range e["taskRunList"].([]any) {
			if stateOf(tr.(map[string]any)) == "PAUSED" {
				paused++
			}
		}
		if paused == 4 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if paused != 4 {
		t.Fatalf("%d task runs paused, want 4", paused)
	}
	if r := ts.do("POST", "/api/v1/main/executions/"+id+"/resume", nil, nil); r.status != 200 && r.status != 204 {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
	ts.waitState(id, "SUCCESS")
}

// WorkingDirectory runs its tasks one after the other (it is a Sequential
// whose tasks the worker runs: WorkingDirectory.java, 1.3.19 and
// 2.0.0-SNAPSHOT); its files are not emulated, which it logs.
func TestWorkingDirectory_WorkingDirectoryJava(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(`id: wd
namespace: company.team
tasks:
  - id: dir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["out.txt"]
    tasks:
      - id: one
        type: io.kestra.plugin.core.debug.Return
        format: one
      - id: two
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.one.value }} two"
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: never
`)
	e := ts.execute("company.team", "wd", "wait=true", nil).json(t)
	runs := taskRuns(t, e)
	dir := oneRun(t, runs, "dir")
	if stateOf(e) != "FAILED" || stateOf(dir) != "FAILED" || len(runs["never"]) != 0 {
		t.Errorf("execution %s, dir %s, %d runs of never; want FAILED, FAILED, 0", stateOf(e), stateOf(dir), len(runs["never"]))
	}
	if two := oneRun(t, runs, "two"); two["parentTaskRunId"] != dir["id"] || two["outputs"].(map[string]any)["value"] != "one two" {
		t.Errorf("two = %v", two)
	}
	var warned, notRun bool
	for _, l := range ts.get("/api/v1/main/logs/" + e["id"].(string)).jsonArray(t) {
		l := l.(map[string]any)
		msg, _ := l["message"].(string)
		warned = warned || (l["level"] == "WARN" && l["taskRunId"] == dir["id"] && msg == "WorkingDirectory's outputFiles is not emulated by the Kestra emulator: its tasks ran without it")
		notRun = notRun || msg == notRunMessage(typeWorkingDirectory)
	}
	if !warned || notRun {
		t.Errorf("logs: outputFiles warning %v, not-run line %v", warned, notRun)
	}
}

// The legacy class names of the flow-control tasks are @Plugin aliases of
// the same classes (If.java, Switch.java, AllowFailure.java, Dag.java,
// WorkingDirectory.java ..., 1.3.19): they run as the tasks they name.
func TestLegacyFlowAliases_PluginAliases13(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithVersion(Version13))
	ts.createFlow(`id: legacy
namespace: company.team
tasks:
  - id: check
    type: io.kestra.core.tasks.flows.If
    condition: "{{ true }}"
    then:
      - id: yes
        type: io.kestra.core.tasks.debugs.Return
        format: yes
  - id: pick
    type: io.kestra.core.tasks.flows.Switch
    value: b
    cases:
      b:
        - id: isB
          type: io.kestra.core.tasks.debugs.Return
          format: b
  - id: dir
    type: io.kestra.core.tasks.flows.Worker
    tasks:
      - id: inDir
        type: io.kestra.core.tasks.debugs.Return
        format: dir
  - id: allow
    type: io.kestra.core.tasks.flows.AllowFailure
    tasks:
      - id: boom
        type: io.kestra.core.tasks.executions.Fail
`)
	e := ts.execute("company.team", "legacy", "wait=true", nil).json(t)
	runs := taskRuns(t, e)
	if stateOf(e) != "WARNING" || stateOf(oneRun(t, runs, "allow")) != "WARNING" {
		t.Errorf("execution %s, allow %s; want WARNING (AllowFailure ran)", stateOf(e), stateOf(oneRun(t, runs, "allow")))
	}
	for child, parent := range map[string]string{"yes": "check", "isB": "pick", "inDir": "dir", "boom": "allow"} {
		if oneRun(t, runs, child)["parentTaskRunId"] != oneRun(t, runs, parent)["id"] {
			t.Errorf("%s did not run under %s", child, parent)
		}
	}
}
