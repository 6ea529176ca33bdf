package emulator

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// A Dag task runs each task once the tasks it depends on ended
// (Dag.java, FlowableUtils#resolveDagNexts, 1.3.19 and 2.0.0-SNAPSHOT),
// whatever their order in the list.
func TestDag_FlowableUtilsResolveDagNexts(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		ts := newTestServer(t, WithVersion(v))
		ts.createFlow(`id: dagged
namespace: company.team
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: c
          type: io.kestra.plugin.core.debug.Return
          format: "{{ outputs.a.value }}{{ outputs.b.value }}"
        dependsOn: [a, b]
      - task:
          id: a
          type: io.kestra.plugin.core.debug.Return
          format: A
      - task:
          id: b
          type: io.kestra.plugin.core.debug.Return
          format: B
        dependsOn: [a]
`)
		e := ts.execute("company.team", "dagged", "wait=true", nil).json(t)
		if stateOf(e) != "SUCCESS" {
			t.Fatalf("%s: state = %s", v, stateOf(e))
		}
		var order []string
		for _, tr := range e["taskRunList"].([]any) {
			order = append(order, tr.(map[string]any)["taskId"].(string))
		}
		if !slices.Equal(order, []string{"dag", "a", "b", "c"}) {
			t.Errorf("%s: task runs in order %q, want dag a b c", v, order)
		}
		runs := taskRuns(t, e)
		dag := oneRun(t, runs, "dag")
		for _, id := range []string{"a", "b", "c"} {
			if tr := oneRun(t, runs, id); tr["parentTaskRunId"] != dag["id"] || stateOf(tr) != "SUCCESS" {
				t.Errorf("%s: %s: parent %v, state %s", v, id, tr["parentTaskRunId"], stateOf(tr))
			}
		}
		if out := oneRun(t, runs, "c")["outputs"].(map[string]any)["value"]; out != "AB" {
			t.Errorf("%s: c = %v, want AB: it ran after a and b", v, out)
		}
		if stateOf(dag) != "SUCCESS" {
			t.Errorf("%s: dag %s", v, stateOf(dag))
		}
	}
}

// After a failure no task of the Dag starts; it fails and its errors
// branch runs (FlowableUtils#resolveParallelNexts: errors run once a
// child failed).
func TestDagFailure_FlowableUtilsResolveParallelNexts(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(`id: dagfail
namespace: company.team
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: boom
          type: io.kestra.plugin.core.execution.Fail
      - task:
          id: after
          type: io.kestra.plugin.core.log.Log
          message: never
        dependsOn: [boom]
    errors:
      - id: handler
        type: io.kestra.plugin.core.log.Log
        message: handled
`)
	e := ts.execute("company.team", "dagfail", "wait=true", nil).json(t)
	runs := taskRuns(t, e)
	if stateOf(e) != "FAILED" || stateOf(oneRun(t, runs, "dag")) != "FAILED" || len(runs["after"]) != 0 {
		t.Errorf("execution %s, dag %s, %d runs of after; want FAILED, FAILED, 0", stateOf(e), stateOf(oneRun(t, runs, "dag")), len(runs["after"]))
	}
	if h := oneRun(t, runs, "handler"); stateOf(h) != "SUCCESS" || h["parentTaskRunId"] != oneRun(t, runs, "dag")["id"] {
		t.Errorf("errors branch: %v", h)
	}
}

// concurrent bounds the Dag's tasks running at once; 0, the default, is
// no limit (Dag.java). Independent tasks pause here until resumed, so the
// ones started can be counted.
func TestDagConcurrent_DagJava(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		concurrent string
		paused     int
	}{{"", 2}, {"concurrent: 1", 1}} {
		ts := newTestServer(t)
		ts.createFlow(`id: dagpause
namespace: company.team
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    ` + tt.concurrent + `
    tasks:
      - task:
          id: p1
          type: io.kestra.plugin.core.flow.Pause
      - task:
          id: p2
          type: io.kestra.plugin.core.flow.Pause
`)
		id := ts.execute("company.team", "dagpause", "", nil).json(t)["id"].(string)
		for resumed := 0; resumed < 2; {
			want := min(tt.paused, 2-resumed)
			// Wait until the resumed tasks ended and want are paused.
			var paused, ended, started int
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
				paused, ended, started = 0, 0, 0
				trs, _ := ts.get("/api/v1/main/executions/" + id).json(t)["taskRunList"].([]any)
				for _, tr := range trs {
					switch tr := tr.(map[string]any); {
					case tr["taskId"] == "dag":
					case stateOf(tr) == "PAUSED":
						paused++
						started++
					case stateOf(tr) == "SUCCESS":
						ended++
						started++
					default:
						started++
					}
				}
				if paused == want && ended == resumed {
					break
				}
			}
			if paused != want || started != resumed+want {
				t.Fatalf("%q: %d tasks paused, %d started after %d resumed; want %d paused", tt.concurrent, paused, started, resumed, want)
			}
			if r := ts.do("POST", "/api/v1/main/executions/"+id+"/actions/resume", nil, nil); r.status != 200 && r.status != 204 {
				t.Fatalf("resume: %d %s", r.status, r.body)
			}
			resumed += want
		}
		ts.waitState(id, "SUCCESS")
	}
}

// A dependsOn naming no task of the Dag, or dependencies that loop, are
// refused when the flow is saved (DagTaskValidator, 1.3.19 and
// 2.0.0-SNAPSHOT).
func TestDagValidation_DagTaskValidator(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	flow := func(deps string) string {
		return "id: badDag\nnamespace: company.team\ntasks:\n  - id: dag\n    type: io.kestra.plugin.core.flow.Dag\n    tasks:\n" +
			"      - task:\n          id: a\n          type: io.kestra.plugin.core.log.Log\n          message: a\n        dependsOn: [" + deps + "]\n" +
			"      - task:\n          id: b\n          type: io.kestra.plugin.core.log.Log\n          message: b\n        dependsOn: [a]\n"
	}
	for deps, want := range map[string]string{
		"nope, gone": "tasks[0]: Not existing task id in dependency: nope, gone",
		"b":          "tasks[0]: Cyclic dependency detected: a, b",
	} {
		r := ts.do("POST", "/api/v1/main/flows", strings.NewReader(flow(deps)), yamlHeader())
		m := assertJSONError(t, r, 422, "Invalid entity: "+want)
		if vs := violations(m); len(vs) != 1 || vs[0]["path"] != "tasks[0]" {
			t.Errorf("violations = %v", vs)
		}
	}
}
