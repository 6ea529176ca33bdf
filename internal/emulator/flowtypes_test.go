package emulator

import (
	"strings"
	"testing"
)

func flowWithTask(task string) string {
	return "id: typed\nnamespace: company.team\ntasks:\n  - id: t\n" + task
}

// Task types are those of Kestra's core module for each version (the
// @Plugin classes under io.kestra.plugin.core and their aliases, 1.3.19
// and 2.0.0-SNAPSHOT); a plugin type is refused unless installed, as
// Kestra cannot resolve its class.
func TestTaskTypesPerVersion(t *testing.T) {
	t.Parallel()
	dag := "    type: io.kestra.plugin.core.flow.Dag\n    tasks:\n      - task:\n          id: a\n          type: io.kestra.plugin.core.log.Log\n          message: x\n"
	loopUntil := "    type: io.kestra.plugin.core.flow.LoopUntil\n    condition: \"{{ true }}\"\n    tasks:\n      - id: a\n        type: io.kestra.plugin.core.log.Log\n        message: x\n"
	each := "    type: io.kestra.plugin.core.flow.EachSequential\n    value: '[1]'\n    tasks:\n      - id: a\n        type: io.kestra.plugin.core.log.Log\n        message: x\n"
	loop := "    type: io.kestra.plugin.core.flow.Loop\n    values: [1]\n    tasks:\n      - id: a\n        type: io.kestra.plugin.core.log.Log\n        message: x\n"
	forEach := "    type: io.kestra.plugin.core.flow.ForEach\n    values: [1]\n    tasks:\n      - id: a\n        type: io.kestra.plugin.core.log.Log\n        message: x\n"
	legacy := "    type: io.kestra.core.tasks.log.Log\n    message: x\n"
	shell := "    type: io.kestra.plugin.scripts.shell.Commands\n    commands: [exit 1]\n"
	tests := []struct {
		name, task string
		ok13, ok20 bool
	}{
		{"Dag", dag, true, true},
		{"LoopUntil", loopUntil, true, true},
		{"EachSequential", each, true, false},
		{"Loop", loop, false, true},
		{"ForEach", forEach, true, false},
		{"legacy alias", legacy, true, false},
		{"plugin not installed", shell, false, false},
		{"unknown core type", "    type: io.kestra.plugin.core.flow.Nope\n", false, false},
	}
	for _, v := range []Version{Version13, Version20} {
		ts := newTestServer(t, WithVersion(v))
		for _, tt := range tests {
			ok := tt.ok13
			if v == Version20 {
				ok = tt.ok20
			}
			r := ts.do("POST", "/api/v1/main/flows/validate", strings.NewReader(flowWithTask(tt.task)), yamlHeader())
			res := r.jsonArray(t)[0].(map[string]any)
			constraints, refused := res["constraints"].(string)
			if refused == ok {
				t.Errorf("%s %s: constraints %q, want accepted=%v", v, tt.name, constraints, ok)
			}
			if refused && !strings.Contains(constraints, "Invalid type: ") {
				t.Errorf("%s %s: constraints %q, want Invalid type", v, tt.name, constraints)
			}
		}
	}
	// Installed, the plugin's types are accepted.
	ts := newTestServer(t, WithPlugins("io.kestra.plugin.scripts."))
	if r := ts.do("POST", "/api/v1/main/flows", strings.NewReader(flowWithTask(shell)), yamlHeader()); r.status != 200 {
		t.Errorf("installed plugin type refused: %d %s", r.status, r.body)
	}
}

// Bean validation of a core task's required properties (@NotNull,
// @NotEmpty fields of Log, Subflow, Sequential ..., 1.3.19 and
// 2.0.0-SNAPSHOT), with the property path.
func TestRequiredTaskProperties(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.do("POST", "/api/v1/main/flows", strings.NewReader(flowWithTask("    type: io.kestra.plugin.core.log.Log\n")), yamlHeader())
	m := assertJSONError(t, r, 422, "Invalid entity: tasks[0].message: must not be null")
	if vs := violations(m); len(vs) != 1 || vs[0]["path"] != "tasks[0].message" {
		t.Errorf("violations = %v", vs)
	}
	src := "id: nested\nnamespace: company.team\ntasks:\n  - id: seq\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n      - id: sub\n        type: io.kestra.plugin.core.flow.Subflow\n        flowId: x\n  - id: empty\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks: []\n"
	assertJSONError(t, ts.do("POST", "/api/v1/main/flows", strings.NewReader(src), yamlHeader()), 422,
		"Invalid entity: tasks[0].tasks[0].namespace: must not be empty, tasks[1].tasks: must not be empty")
	dag := "id: dag\nnamespace: company.team\ntasks:\n  - id: d\n    type: io.kestra.plugin.core.flow.Dag\n    tasks:\n      - task:\n          id: a\n          type: io.kestra.plugin.core.log.Log\n"
	assertJSONError(t, ts.do("POST", "/api/v1/main/flows", strings.NewReader(dag), yamlHeader()), 422,
		"Invalid entity: tasks[0].tasks[0].task.message: must not be null")
	trig := "id: trig\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: x\ntriggers:\n  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n"
	assertJSONError(t, ts.do("POST", "/api/v1/main/flows", strings.NewReader(trig), yamlHeader()), 422,
		"Invalid entity: triggers[0].cron: must not be null")
}

// Jackson coerces a YAML number to a String property: id: 2024 is the
// flow "2024", and a task id 7 is "7".
func TestNumericIDsCoerced(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	f := ts.createFlow("id: 2024\nnamespace: company.team\ntasks:\n  - id: 7\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
	if f["id"] != "2024" {
		t.Errorf("id = %v", f["id"])
	}
	e := ts.execute("company.team", "2024", "wait=true", nil).json(t)
	runs := e["taskRunList"].([]any)
	if stateOf(e) != "SUCCESS" || runs[0].(map[string]any)["taskId"] != "7" {
		t.Errorf("execution %s, task runs %v", stateOf(e), runs)
	}
}

// An update whose source differs only by its revision line is the same
// flow: no new revision (FlowInterface#isSameWithSource drops the first
// "revision: N" line, 1.3.19 and 2.0.0-SNAPSHOT).
func TestUpdateIgnoresRevisionLine(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	r := ts.do("PUT", "/api/v1/main/flows/company.team/hello", strings.NewReader("revision: 7\n"+helloFlow), yamlHeader())
	if r.status != 200 || r.json(t)["revision"] != 1.0 {
		t.Fatalf("update with only a revision line: %d %s", r.status, r.body)
	}
	if revs := ts.get("/api/v1/main/flows/company.team/hello/revisions").jsonArray(t); len(revs) != 1 {
		t.Errorf("%d revisions, want 1", len(revs))
	}
}

// A YAML syntax error: the message says "Illegal genericflow source: "
// once, its violation not at all (YamlParser#toConstraintViolationException);
// a namespace over 150 characters breaks @Size(min = 1, max = 150)
// (AbstractFlow, 1.3.19 and 2.0.0-SNAPSHOT).
func TestFlowErrorTexts(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	m := assertJSONError(t, ts.do("POST", "/api/v1/main/flows", strings.NewReader("id: a\nnamespace: [b\n"), yamlHeader()), 422,
		"Invalid entity: Illegal genericflow source: YAML parsing error: ")
	vs := violations(m)
	if len(vs) != 1 || !strings.HasPrefix(vs[0]["message"].(string), "YAML parsing error: ") {
		t.Errorf("violations = %v", vs)
	}
	long := "id: a\nnamespace: " + strings.Repeat("n", 151) + "\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"
	assertJSONError(t, ts.do("POST", "/api/v1/main/flows", strings.NewReader(long), yamlHeader()), 422,
		"Invalid entity: namespace: size must be between 1 and 150")
}

// /flows/validate writes "Validation error: " before the refusal's text,
// and names a YAML error's resource "Flow" (FlowService#formatValidationError
// and PluginDefaultService#parseFlowWithVersionDefaults, 1.3.19 and
// 2.0.0-SNAPSHOT).
func TestValidateConstraintTexts_FlowServiceFormatValidationError(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	long := "id: a\nnamespace: " + strings.Repeat("n", 151) + "\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"
	for _, tc := range []struct{ name, src, want string }{
		{"yaml", "id: a\nnamespace: [b\n", "Validation error: Illegal Flow source: YAML parsing error: "},
		{"size", long, "Validation error: namespace: size must be between 1 and 150"},
		{"type", flowWithTask("    type: io.kestra.invalid.X\n"), "Validation error: Invalid type: io.kestra.invalid.X"},
	} {
		r := ts.do("POST", "/api/v1/main/flows/validate", strings.NewReader(tc.src), yamlHeader())
		c, _ := r.jsonArray(t)[0].(map[string]any)["constraints"].(string)
		if !strings.HasPrefix(c, tc.want) {
			t.Errorf("%s: constraints = %q, want it to start %q", tc.name, c, tc.want)
		}
	}
}

// 2.0.0-SNAPSHOT removed the ForEach task (develop commit e03e3de9e, its
// class core/.../plugin/core/flow/ForEach.java is gone): creating a 2.0
// flow that uses it is refused as any type Kestra cannot resolve; 1.3.19
// keeps it.
func TestForEachRemovedIn20_ForEachJavaGone(t *testing.T) {
	t.Parallel()
	src := flowWithTask("    type: io.kestra.plugin.core.flow.ForEach\n    values: [1]\n    tasks:\n      - id: a\n        type: io.kestra.plugin.core.log.Log\n        message: x\n")
	r := newTestServer(t).do("POST", "/api/v1/main/flows", strings.NewReader(src), yamlHeader())
	m := assertJSONError(t, r, 422, "Invalid entity: Invalid type: io.kestra.plugin.core.flow.ForEach")
	if vs := violations(m); len(vs) == 0 || vs[0]["message"] != "Invalid type: io.kestra.plugin.core.flow.ForEach" {
		t.Errorf("violations = %v", vs)
	}
	if r := newTestServer(t, WithVersion(Version13)).do("POST", "/api/v1/main/flows", strings.NewReader(src), yamlHeader()); r.status != 200 {
		t.Errorf("1.3 refused ForEach: %d %s", r.status, r.body)
	}
}
