package emulator

import (
	"fmt"
	"strings"
	"testing"
)

func TestCreateFlow(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	f := ts.createFlow(helloFlow)
	for k, want := range map[string]any{"id": "hello", "namespace": "company.team", "revision": 1.0, "tenantId": "main", "deleted": false, "disabled": false, "source": helloFlow} {
		if f[k] != want {
			t.Errorf("%s = %v, want %v", k, f[k], want)
		}
	}
	labels := f["labels"].([]any)
	if len(labels) != 1 || labels[0].(map[string]any)["key"] != "env" || labels[0].(map[string]any)["value"] != "test" {
		t.Errorf("labels = %v", labels)
	}
	if _, ok := f["updated"].(string); !ok {
		t.Errorf("updated = %v", f["updated"])
	}
	if tasks := f["tasks"].([]any); len(tasks) != 2 {
		t.Errorf("tasks = %v", tasks)
	}
	if ts.FlowCount() != 1 {
		t.Errorf("FlowCount = %d", ts.FlowCount())
	}
}

func TestCreateFlowErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	tests := []struct {
		name, src, msg string
		paths          []string
	}{
		{"yaml syntax", "id: a\nnamespace: [b\n", "Invalid entity: Illegal genericflow source: YAML parsing error: ", []string{"yaml"}},
		{"empty", "", "Invalid entity: Illegal genericflow source: YAML parsing error: ", []string{"yaml"}},
		{"unknown type", "id: a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.invalid\n", "Invalid entity: Invalid type: io.kestra.invalid",
			[]string{`io.kestra.core.models.flows.FlowWithSource["tasks"]->java.util.ArrayList[0]`, `io.kestra.core.models.flows.FlowWithSource["tasks"]->java.util.ArrayList[0]->io.kestra.core.models.tasks.Task["type"]`}},
		{"unknown property", "id: a\nnamespace: b\nunknown: x\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
			`Invalid entity: Unrecognized field "unknown" (class io.kestra.core.models.flows.FlowWithSource), not marked as ignorable`,
			[]string{`io.kestra.core.models.flows.FlowWithSource["unknown"]`}},
		{"missing everything", "description: x\n", "Invalid entity: id: must not be null, namespace: must not be null, tasks: must not be empty", []string{"id", "namespace", "tasks"}},
		{"bad id", "id: -a\nnamespace: b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\n", `Invalid entity: id: must match "^[a-zA-Z0-9][a-zA-Z0-9._-]*"`, []string{"id"}},
		{"bad namespace", "id: a\nnamespace: B\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\n", "Invalid entity: namespace: must match", []string{"namespace"}},
		{"duplicate", helloFlow, "Invalid entity: flow.id: Flow id already exists", []string{"flow.id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do("POST", "/api/v1/main/flows", strings.NewReader(tt.src), yamlHeader())
			m := assertJSONError(t, r, 422, tt.msg)
			vs := violations(m)
			if len(vs) != len(tt.paths) {
				t.Fatalf("violations = %v, want paths %v", vs, tt.paths)
			}
			for i, p := range tt.paths {
				if vs[i]["path"] != p {
					t.Errorf("violation %d path = %v, want %v", i, vs[i]["path"], p)
				}
			}
		})
	}
	r := ts.do("POST", "/api/v1/main/flows", strings.NewReader("id: a\nnamespace: [b\n"), yamlHeader())
	if msg := r.json(t)["message"].(string); !strings.HasSuffix(msg, "(at line 2)") {
		t.Errorf("yaml message %q has no line", msg)
	}
}

func TestGetUpdateDeleteFlow(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	const base = "/api/v1/main/flows/company.team/hello"

	f := ts.get(base).json(t)
	if _, ok := f["source"]; ok {
		t.Error("source without ?source=true")
	}
	if ts.get(base + "?source=true").json(t)["source"] != helloFlow {
		t.Error("no source with ?source=true")
	}
	assertJSONError(t, ts.get("/api/v1/main/flows/company.team/nope"), 404, "Not Found")

	// Same source: same revision.
	r := ts.do("PUT", base, strings.NewReader(helloFlow), yamlHeader())
	if r.status != 200 || r.json(t)["revision"] != 1.0 {
		t.Fatalf("same-source update: %d %s", r.status, r.body)
	}
	updated := strings.Replace(helloFlow, "world", "there", 1)
	r = ts.do("PUT", base, strings.NewReader(updated), yamlHeader())
	if r.status != 200 || r.json(t)["revision"] != 2.0 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if ts.get(base + "?revision=1&source=true").json(t)["source"] != helloFlow {
		t.Error("revision 1 source")
	}
	// Mismatched id and namespace.
	bad := strings.Replace(strings.Replace(helloFlow, "id: hello", "id: other", 1), "namespace: company.team", "namespace: other", 1)
	m := assertJSONError(t, ts.do("PUT", base, strings.NewReader(bad), yamlHeader()), 422, "Invalid entity: flow.id: Illegal flow id update, flow.namespace: Illegal namespace update")
	if vs := violations(m); len(vs) != 2 || vs[0]["path"] != "flow.id" || vs[1]["path"] != "flow.namespace" {
		t.Errorf("violations = %v", vs)
	}
	assertJSONError(t, ts.do("PUT", "/api/v1/main/flows/company.team/nope", strings.NewReader(helloFlow), yamlHeader()), 404, "Not Found")

	revs := ts.get(base + "/revisions").jsonArray(t)
	if len(revs) != 2 {
		t.Errorf("revisions = %d", len(revs))
	}

	if r := ts.do("DELETE", base, nil, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	assertJSONError(t, ts.get(base), 404, "Not Found")
	d := ts.get(base + "?allowDeleted=true").json(t)
	if d["deleted"] != true || d["revision"] != 3.0 {
		t.Errorf("deleted revision = %v %v", d["deleted"], d["revision"])
	}
	assertJSONError(t, ts.do("DELETE", base, nil, nil), 404, "Not Found")
	if ts.FlowCount() != 0 {
		t.Errorf("FlowCount = %d", ts.FlowCount())
	}
	// Re-creating a deleted flow continues its revisions.
	if f := ts.createFlow(helloFlow); f["revision"] != 4.0 {
		t.Errorf("re-created revision = %v", f["revision"])
	}
}

func flowSrc(ns, id string, labels string) string {
	return fmt.Sprintf("id: %s\nnamespace: %s\n%stasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n", id, ns, labels)
}

func TestListAndSearchFlows(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(flowSrc("a.b", "f1", "labels:\n  team: x\n"))
	ts.createFlow(flowSrc("a.b", "f2", ""))
	ts.createFlow(flowSrc("a.bc", "f3", ""))
	ts.createFlow(flowSrc("a.b.c", "g4", "labels:\n  team: y\n"))

	if l := ts.get("/api/v1/main/flows/a.b").jsonArray(t); len(l) != 2 {
		t.Errorf("list a.b = %d", len(l))
	}
	tests := []struct {
		query string
		total int
		first string
	}{
		{"", 4, ""},
		{"filters[namespace][EQUALS]=a.b", 2, ""},
		{"filters[namespace][PREFIX]=a.b", 3, ""},
		{"filters[namespace][STARTS_WITH]=a.b", 4, ""},
		{"filters[q][EQUALS]=g4", 1, "g4"},
		{"filters[labels][EQUALS][team]=y", 1, "g4"},
		{"filters[flowId][EQUALS]=f2", 1, "f2"},
		{"sort=id:desc&size=1", 4, "g4"},
		{"sort=id:asc&size=1&page=2", 4, "f2"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			m := ts.get("/api/v1/main/flows/search?" + tt.query).json(t)
			if m["total"] != float64(tt.total) {
				t.Errorf("total = %v, want %d", m["total"], tt.total)
			}
			res := m["results"].([]any)
			if tt.first != "" && (len(res) == 0 || res[0].(map[string]any)["id"] != tt.first) {
				t.Errorf("results = %v, want first %s", res, tt.first)
			}
		})
	}
	assertJSONError(t, ts.get("/api/v1/main/flows/search?filters[bogus][EQUALS]=x"), 400, "Invalid query filters: ")
	assertJSONError(t, ts.get("/api/v1/main/flows/search?sort=bogus:asc"), 422, "Illegal argument: ")
}

func TestValidateFlows(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(flowSrc("a", "f1", ""))
	body := flowSrc("a", "ok", "") + "\n---\n" + "id: bad\nnamespace: a\ntasks:\n  - id: t\n    type: io.kestra.invalid.X\n" +
		"\n---\n" + "revision: 5\n" + flowSrc("a", "f1", "")
	r := ts.do("POST", "/api/v1/main/flows/validate", strings.NewReader(body), yamlHeader())
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	res := r.jsonArray(t)
	if len(res) != 3 {
		t.Fatalf("results = %v", res)
	}
	ok, bad, old := res[0].(map[string]any), res[1].(map[string]any), res[2].(map[string]any)
	if _, has := ok["constraints"]; has || ok["flow"] != "ok" || ok["index"] != 0.0 || ok["outdated"] != false {
		t.Errorf("valid result = %v", ok)
	}
	for _, k := range []string{"deprecationPaths", "warnings", "infos"} {
		if _, isArr := ok[k].([]any); !isArr {
			t.Errorf("%s = %v", k, ok[k])
		}
	}
	if c, _ := bad["constraints"].(string); !strings.Contains(c, "Invalid type: io.kestra.invalid.X") {
		t.Errorf("invalid result = %v", bad)
	}
	if old["outdated"] != true {
		t.Errorf("outdated = %v", old["outdated"])
	}

	mb, ct := multipartBody(t, nil, map[string][2]string{"flows": {"one.yaml", flowSrc("a", "x", "")}})
	r = ts.do("POST", "/api/v1/main/flows/validate", mb, header{"Content-Type": ct})
	res = r.jsonArray(t)
	if len(res) != 1 || res[0].(map[string]any)["filename"] != "one.yaml" {
		t.Errorf("multipart validate = %s", r.body)
	}
}

func TestBulkNamespaceFlows(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(flowSrc("a", "old", ""))
	ts.createFlow(flowSrc("a", "keep", ""))
	body := flowSrc("a", "keep", "labels:\n  v: '2'\n") + "---\n" + flowSrc("a", "new", "")
	r := ts.do("POST", "/api/v1/main/flows/a", strings.NewReader(body), yamlHeader())
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	res := r.jsonArray(t)
	if len(res) != 3 {
		t.Fatalf("bulk = %s", r.body)
	}
	first := res[0].(map[string]any)
	if first["id"] != "old" || first["deleted"] != true {
		t.Errorf("first = %v", first)
	}
	if ts.FlowCount() != 2 {
		t.Errorf("FlowCount = %d", ts.FlowCount())
	}
	// delete=false keeps others.
	r = ts.do("POST", "/api/v1/main/flows/a?delete=false", strings.NewReader(flowSrc("a", "third", "")), yamlHeader())
	if r.status != 200 || ts.FlowCount() != 3 {
		t.Errorf("delete=false: %d, count %d", r.status, ts.FlowCount())
	}
	m := assertJSONError(t, ts.do("POST", "/api/v1/main/flows/a", strings.NewReader(flowSrc("other", "x", "")), yamlHeader()), 422,
		"Invalid entity: flow.namespace: main_other_x_-1 - flow namespace is invalid")
	if vs := violations(m); len(vs) != 1 || vs[0]["path"] != "flow.namespace" {
		t.Errorf("violations = %v", vs)
	}
	assertJSONError(t, ts.do("POST", "/api/v1/main/flows/a", strings.NewReader(flowSrc("a", "x", "")+"---\n"+flowSrc("a", "x", "")), yamlHeader()), 422,
		"Invalid entity: flow.id: Duplicate flow id")

	r = ts.do("POST", "/api/v1/main/flows/bulk", strings.NewReader(flowSrc("z", "one", "")+"---\n"+flowSrc("y", "two", "")), yamlHeader())
	if r.status != 200 || len(r.jsonArray(t)) != 2 {
		t.Errorf("bulk any: %d %s", r.status, r.body)
	}
}

func TestDisabledFlow(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow("disabled: true\n" + flowSrc("a", "off", ""))
	assertJSONError(t, ts.execute("a", "off", "", nil), 409, "Illegal state: Requested Flow is disabled.")
	if ts.ExecutionCount() != 0 {
		t.Error("execution created for a disabled flow")
	}
}

// Kestra writes an input's defaults and prefill (a Property) as a string
// whatever YAML node they came from (Kestra 2.0
// core/.../models/property/Property.java, PropertySerializer), and its
// required flag always (true unless the source says false:
// core/.../models/flows/Input.java), while a run still uses the typed
// default.
func TestFlowInputDefaultsAreWrittenAsStrings(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	src := `id: defaults
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: world
  - id: count
    type: INT
    defaults: 3
  - id: ratio
    type: FLOAT
    defaults: 1.5
  - id: on
    type: BOOL
    defaults: true
  - id: doc
    type: JSON
    defaults: {"a": [1, 2]}
  - id: hint
    type: STRING
    required: false
    prefill: 7
  - id: none
    type: STRING
    required: false
tasks:
  - id: out
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.count + 1 }}"
`
	want := map[string]string{"name": "world", "count": "3", "ratio": "1.5", "on": "true", "doc": `{"a":[1,2]}`}
	check := func(what string, f map[string]any) {
		t.Helper()
		for _, in := range f["inputs"].([]any) {
			decl := in.(map[string]any)
			id := decl["id"].(string)
			if want := id != "none" && id != "hint"; decl["required"] != want {
				t.Errorf("%s: required of %s = %#v, want %v", what, id, decl["required"], want)
			}
			switch id {
			case "hint":
				if decl["prefill"] != "7" {
					t.Errorf("%s: prefill of %s = %#v, want \"7\"", what, id, decl["prefill"])
				}
			case "none":
				if _, ok := decl["defaults"]; ok {
					t.Errorf("%s: defaults of %s = %#v, want absent", what, id, decl["defaults"])
				}
			default:
				if decl["defaults"] != want[id] {
					t.Errorf("%s: defaults of %s = %#v, want %q", what, id, decl["defaults"], want[id])
				}
			}
		}
	}
	check("create", ts.createFlow(src))
	check("get", ts.get("/api/v1/main/flows/company.team/defaults").json(t))
	r := ts.execute("company.team", "defaults", "wait=true", nil)
	if r.status != 200 {
		t.Fatalf("execute: %d %s", r.status, r.body)
	}
	ex := r.json(t)
	if got := ex["inputs"].(map[string]any)["count"]; got != 3.0 {
		t.Errorf("run input count = %#v, want the number 3", got)
	}
}
