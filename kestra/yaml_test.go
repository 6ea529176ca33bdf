package kestra_test

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kestra-go/sdk/kestra"
)

const validFlow = `# leading comment
id: hello
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
`

func TestParseFlow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		source string
		want   kestra.FlowRef
	}{
		{"minimal", validFlow, kestra.FlowRef{Namespace: "company.team", ID: "hello"}},
		{"document marker", "---\n" + validFlow, kestra.FlowRef{Namespace: "company.team", ID: "hello"}},
		{"trailing empty document", validFlow + "---\n# nothing but a comment\n", kestra.FlowRef{Namespace: "company.team", ID: "hello"}},
		{"flow style", `{id: f, namespace: n, tasks: [{id: t, type: x}]}`, kestra.FlowRef{Namespace: "n", ID: "f"}},
		{"quoted", "id: \"q\"\nnamespace: 'n.s'\ntasks: [1]\n", kestra.FlowRef{Namespace: "n.s", ID: "q"}},
		{"number id kept as written", "id: 007\nnamespace: n\ntasks: [1]\n", kestra.FlowRef{Namespace: "n", ID: "007"}},
		{
			"revision, labels map, disabled",
			"id: f\nnamespace: n\nrevision: 4\ndisabled: true\nlabels:\n  env: prod\n  tier: 2\ntasks: [1]\n",
			kestra.FlowRef{Namespace: "n", ID: "f", Revision: 4, Disabled: true, Labels: map[string]string{"env": "prod", "tier": "2"}},
		},
		{
			"labels list",
			"id: f\nnamespace: n\nlabels:\n  - key: a\n    value: b\n  - {key: c, value: true}\ntasks: [1]\n",
			kestra.FlowRef{Namespace: "n", ID: "f", Labels: map[string]string{"a": "b", "c": "true"}},
		},
		{"anchors", "id: &i f\nnamespace: n\ndescription: *i\ntasks: [1]\n", kestra.FlowRef{Namespace: "n", ID: "f"}},
	} {
		got, err := kestra.ParseFlow(tc.source)
		if err != nil {
			t.Errorf("%s: ParseFlow: %v", tc.name, err)
			continue
		}
		if got.Namespace != tc.want.Namespace || got.ID != tc.want.ID || got.Revision != tc.want.Revision ||
			got.Disabled != tc.want.Disabled || !maps.Equal(got.Labels, tc.want.Labels) {
			t.Errorf("%s: ParseFlow = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestParseFlowErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		source    string
		line, col int    // of the first error; 0: no position
		field     string // of the first error
		msg       []string
	}{
		{"bad indentation", "id: a\nnamespace: b\ntasks:\n  - id: x\n   type: t\n", 5, 4, "", []string{"line 5, column 4"}},
		{"unclosed flow sequence", "id: a\nnamespace: b\ntasks: [x\n", 3, 8, "", []string{"line 3, column 8"}},
		{"tab", "id: a\n\tnamespace: b\n", 2, 1, "", []string{"line 2, column 1"}},
		{"duplicate key", "id: a\nid: b\nnamespace: n\ntasks: [1]\n", 2, 1, "", []string{"line 2", `"id" already defined`}},
		{"missing id", "namespace: n\ntasks: [1]\n", 0, 0, "id", []string{`"id" is missing`}},
		{"missing namespace", "id: a\ntasks: [1]\n", 0, 0, "namespace", []string{`"namespace" is missing`}},
		{"missing tasks", "id: a\nnamespace: n\n", 0, 0, "tasks", []string{`"tasks" is missing`}},
		{"empty id", "id: ''\nnamespace: n\ntasks: [1]\n", 1, 5, "id", []string{`line 1, column 5: "id" is empty`}},
		{"null namespace", "id: a\nnamespace:\ntasks: [1]\n", 2, 11, "namespace", []string{`"namespace" is empty`}},
		{"empty tasks", "id: a\nnamespace: n\ntasks: []\n", 3, 8, "tasks", []string{`"tasks" is empty`}},
		{"tasks not a list", "id: a\nnamespace: n\ntasks: yes\n", 3, 8, "tasks", []string{`"tasks" must be a list`}},
		{"id not a string", "id: [a]\nnamespace: n\ntasks: [1]\n", 1, 5, "id", []string{`"id" must be a string`}},
		{"bad revision", "id: a\nnamespace: n\nrevision: two\ntasks: [1]\n", 3, 11, "revision", []string{`"revision" must be an integer`}},
		{"bad labels", "id: a\nnamespace: n\nlabels: [x]\ntasks: [1]\n", 3, 9, "labels", []string{`"labels"`}},
		{"several missing", "description: nothing\n", 0, 0, "id", []string{`"id" is missing`, `"namespace" is missing`, `"tasks" is missing`}},
		{"not a mapping", "- id: a\n", 1, 1, "", []string{"mapping"}},
		{"scalar", "hello\n", 1, 1, "", []string{"mapping"}},
		{"empty", "", 0, 0, "", []string{"empty"}},
		{"only comments", "# nothing\n", 0, 0, "", []string{"empty"}},
		{"two flows", validFlow + "---\n" + validFlow, 8, 1, "", []string{"line 8, column 1", "2 YAML documents"}},
		{"three flows", validFlow + "---\n" + validFlow + "\n---\n" + validFlow, 8, 1, "", []string{"3 YAML documents"}},
	} {
		_, err := kestra.ParseFlow(tc.source)
		if err == nil {
			t.Errorf("%s: ParseFlow accepted %q", tc.name, tc.source)
			continue
		}
		for _, m := range tc.msg {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, m)
			}
		}
		if !strings.HasPrefix(err.Error(), "kestra: flow source: ") {
			t.Errorf("%s: error %q lacks the kestra: flow source: prefix", tc.name, err)
		}
		var fe *kestra.FlowSourceError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %T is not a *FlowSourceError", tc.name, err)
			continue
		}
		if fe.Line != tc.line || fe.Column != tc.col || fe.Field != tc.field {
			t.Errorf("%s: error at %d:%d field %q, want %d:%d field %q (%v)", tc.name, fe.Line, fe.Column, fe.Field, tc.line, tc.col, tc.field, err)
		}
	}
}

func TestParseFlowKeepsWhatItRead(t *testing.T) {
	t.Parallel()
	ref, err := kestra.ParseFlow("id: a\nnamespace: n\n")
	if err == nil || ref.ID != "a" || ref.Namespace != "n" {
		t.Errorf("ParseFlow without tasks = %+v, %v; want id and namespace with the error", ref, err)
	}
}

func TestLoadFlowsMapFS(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"flows/b.yaml":       {Data: []byte("id: b\nnamespace: n\ntasks: [1]\n")},
		"flows/a.yaml":       {Data: []byte(validFlow)},
		"flows/notes.txt":    {Data: []byte("not a flow")},
		"flows/sub/c.yaml":   {Data: []byte("id: c\nnamespace: n\ntasks: [1]\n")},
		"flows/dir.yaml/x":   {Data: []byte("a directory whose name matches")},
		"other/ignored.yaml": {Data: []byte("id: [")},
	}
	got, err := kestra.LoadFlows(fsys, "flows/*.yaml")
	if err != nil {
		t.Fatalf("LoadFlows: %v", err)
	}
	if len(got) != 2 || got[0].File != "flows/a.yaml" || got[1].File != "flows/b.yaml" {
		t.Fatalf("LoadFlows = %+v, want flows/a.yaml and flows/b.yaml in order", got)
	}
	if got[0].Source != validFlow || got[0].ID != "hello" || got[0].Namespace != "company.team" {
		t.Errorf("LoadFlows[0] = %+v", got[0])
	}

	fsys["flows/bad.yaml"] = &fstest.MapFile{Data: []byte("id: x\nnamespace: n\ntasks:\n  - id: t\n   type: x\n")}
	fsys["flows/empty.yaml"] = &fstest.MapFile{Data: []byte("id: y\nnamespace: n\n")}
	_, err = kestra.LoadFlows(fsys, "flows/*.yaml")
	if err == nil {
		t.Fatal("LoadFlows accepted bad files")
	}
	for _, want := range []string{"kestra: flows/bad.yaml:5:4: ", `kestra: flows/empty.yaml: "tasks" is missing`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	var fe *kestra.FlowSourceError
	if !errors.As(err, &fe) || fe.File != "flows/bad.yaml" {
		t.Errorf("errors.As: %+v", fe)
	}

	dup := fstest.MapFS{
		"a.yaml": {Data: []byte(validFlow)},
		"b.yaml": {Data: []byte("# same flow\n" + validFlow)},
	}
	if _, err := kestra.LoadFlows(dup, "*.yaml"); err == nil || !strings.Contains(err.Error(), "b.yaml: flow company.team/hello is also declared in a.yaml") {
		t.Errorf("LoadFlows(duplicate) = %v", err)
	}
	if _, err := kestra.LoadFlows(fsys, "nothing/*.yaml"); err == nil || !strings.Contains(err.Error(), "no file matches") {
		t.Errorf("LoadFlows(no match) = %v", err)
	}
	if _, err := kestra.LoadFlows(fsys, "[bad"); err == nil {
		t.Error("LoadFlows accepted a bad pattern")
	}
}

func TestLoadFlowsDirFS(t *testing.T) {
	t.Parallel()
	fsys := os.DirFS("testdata/flows")
	got, err := kestra.LoadFlows(fsys, "*.yaml")
	if err != nil {
		t.Fatalf("LoadFlows: %v", err)
	}
	var files []string
	for _, f := range got {
		files = append(files, f.File)
	}
	if strings.Join(files, " ") != "bye.yaml hello.yaml" {
		t.Errorf("LoadFlows(*.yaml) = %q", files)
	}
	raw, err := os.ReadFile("testdata/flows/hello.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got[1].Source != string(raw) || got[1].Labels["env"] != "dev" {
		t.Errorf("hello.yaml: %+v", got[1])
	}

	got, err = kestra.LoadFlows(fsys, "team/*.yaml")
	if err != nil || len(got) != 1 {
		t.Fatalf("LoadFlows(team/*.yaml) = %+v, %v", got, err)
	}
	want := kestra.FlowRef{Namespace: "company.team.jobs", ID: "nightly", Revision: 3, Disabled: true, Labels: map[string]string{"owner": "data"}}
	if g := got[0]; g.File != "team/nightly.yaml" || g.Namespace != want.Namespace || g.ID != want.ID ||
		g.Revision != want.Revision || g.Disabled != want.Disabled || !maps.Equal(g.Labels, want.Labels) {
		t.Errorf("nightly = %+v, want %+v", g, want)
	}
}

func FuzzParseFlow(f *testing.F) {
	for _, s := range []string{
		validFlow,
		"---\n" + validFlow,
		validFlow + "---\n" + validFlow,
		"id: a\nnamespace: b\n",
		"{id: f, namespace: n, tasks: [{id: t}]}",
		"id: &a x\nnamespace: *a\ntasks: [1]\n",
		"id: a\n\tnamespace: b\n",
		"labels: [{key: k, value: v}]\nrevision: 9999999999999999999999\n",
		"<<: {id: a}\nnamespace: n\ntasks: [1]\n",
		"? [a]\n: b\n",
		"",
		// The limits: nesting just past MaxFlowNestingDepth, a byte order
		// mark, a tagged id.
		"id: a\nnamespace: b\ntasks: [1]\nx: " + strings.Repeat("[", kestra.MaxFlowNestingDepth),
		"id: a\nnamespace: b\ntasks: [1]\nx:\n" + strings.Repeat("- ", kestra.MaxFlowNestingDepth) + "1\n",
		"id: a\nnamespace: b\ntasks: [1]\nx: \"" + strings.Repeat("[", 2*kestra.MaxFlowNestingDepth) + "\"\n",
		"\ufeff" + validFlow,
		"id: !!binary YWJj\nnamespace: n\ntasks: [1]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, source string) {
		ref, err := kestra.ParseFlow(source)
		again, err2 := kestra.ParseFlow(source)
		if (err == nil) != (err2 == nil) || ref.ID != again.ID || ref.Namespace != again.Namespace {
			t.Fatalf("ParseFlow is not deterministic: %v / %v", err, err2)
		}
		if err == nil {
			if ref.ID == "" || ref.Namespace == "" {
				t.Fatalf("ParseFlow(%q) = %+v without error", source, ref)
			}
			return
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "kestra: flow source: ") {
			t.Fatalf("error %q lacks the prefix", msg)
		}
		if strings.Contains(msg, "YAML parser failure") {
			t.Fatalf("the YAML parser panicked on %q: %v", source, err)
		}
		var fe *kestra.FlowSourceError
		if !errors.As(err, &fe) {
			t.Fatalf("%T is not a *FlowSourceError", err)
		}
		// YAML breaks lines at \n, \r\n and \r.
		lines := strings.Count(source, "\n") + strings.Count(source, "\r") + 1
		if fe.Line < 0 || fe.Line > lines+1 || fe.Column < 0 {
			t.Fatalf("position %d:%d out of the source (at most %d lines): %v", fe.Line, fe.Column, lines, err)
		}
	})
}

func ExampleParseFlow() {
	ref, err := kestra.ParseFlow(`id: hello
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: Hello
`)
	fmt.Println(ref.Namespace, ref.ID, err)

	_, err = kestra.ParseFlow("id: hello\ntasks:\n  - id: log\n   type: x\n")
	fmt.Println(err)
	// Output:
	// company.team hello <nil>
	// kestra: flow source: line 4, column 4: value is not allowed in this context
}
