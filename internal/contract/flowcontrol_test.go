package contract

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/kestra-go/sdk/gen"
	"github.com/kestra-go/sdk/kestra"
)

// A 2.0 Loop runs each iteration as an execution of kind LOOP whose parent
// is the looping execution; a search lists them only when it names the
// kind. A Dag starts a task once its dependencies ended; a LoopUntil
// counts its iterations on its task run.
func TestFlowControl(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClient(t)
	ns := namespace(t)
	src := fmt.Sprintf(`id: control
namespace: %s
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.Loop
    values: ["a", "b", "c"]
    tasks:
      - id: say
        type: io.kestra.plugin.core.log.Log
        message: "{{ item.value }}"
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: second
          type: io.kestra.plugin.core.debug.Return
          format: "2"
        dependsOn: [first]
      - task:
          id: first
          type: io.kestra.plugin.core.debug.Return
          format: "1"
  - id: until
    type: io.kestra.plugin.core.flow.LoopUntil
    condition: "{{ outputs.count.value == '2' }}"
    checkFrequency:
      interval: PT0.1S
    tasks:
      - id: count
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.until.iterationCount }}"
`, ns)
	if _, err := c.Flows.Create(ctx, src); err != nil {
		t.Fatal(err)
	}
	e, err := c.Executions.Run(ctx, ns, "control", nil, nil)
	if err != nil || e.CurrentState() != kestra.StateSuccess {
		t.Fatalf("Run = %v, %v", e, err)
	}

	page, err := c.Executions.List(ctx, &kestra.ExecutionSearchOptions{Kind: "LOOP", ParentID: e.ID})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 {
		t.Errorf("%d loop iterations, want 3", page.Total)
	}
	for _, it := range page.Items {
		if it.ParentID != e.ID || it.Kind != "LOOP" {
			t.Errorf("iteration %s: parent %q, kind %q", it.ID, it.ParentID, it.Kind)
		}
	}
	all, err := c.Executions.List(ctx, &kestra.ExecutionSearchOptions{Namespace: ns})
	if err != nil || all.Total != 1 {
		t.Errorf("search without a kind = %v, %v; want the looping execution alone", all, err)
	}

	first, ok1 := e.TaskRun("first")
	second, ok2 := e.TaskRun("second")
	if !ok1 || !ok2 || second.State.StartDate.Before(first.State.EndDate) {
		t.Errorf("dag: second started before first ended (%v, %v)", first, second)
	}
	if until, ok := e.TaskRun("until"); !ok || until.Iteration < 1 {
		t.Errorf("until: %v, want a task run past its first iteration", until)
	}
}

// The labels=key:value refusals, reached through the generated client (the
// SDK refuses such labels before any request): 422 with Kestra's text.
func TestLabelRefusalTexts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClient(t)
	ns := namespace(t)
	if _, err := c.Flows.Create(ctx, flowSource(ns, "labelled", "Hi")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ label, want string }{
		{"novalue", "Unprocessable Entity: Can't split the queryString parameter by ':'"},
		{"k:", "Unprocessable Entity: Can't have an empty part of queryString"},
		{"a b:v", "Unprocessable Entity: Key of queryString can't contain a whitespace character"},
	} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.Close()
		resp, err := c.API().CreateExecutionWithBody(ctx, c.Tenant(), ns, "labelled",
			&gen.CreateExecutionParams{Labels: &[]string{tc.label}}, mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"message":"`+tc.want+`"`) {
			t.Errorf("labels=%s: %d %s, want 422 %q", tc.label, resp.StatusCode, b, tc.want)
		}
	}
}
