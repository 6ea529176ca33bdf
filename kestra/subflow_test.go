package kestra_test

import (
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

const (
	flowChild = `id: child
namespace: company.team
inputs:
  - id: n
    type: INT
tasks:
  - id: double
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.n }}{{ inputs.n }}"
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.n == 0 }}"
    then:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
outputs:
  - id: result
    type: STRING
    value: "{{ outputs.double.value }}"
`
	flowParent = `id: parent
namespace: company.team
inputs:
  - id: n
    type: INT
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["1", "2"]
    tasks:
      - id: call
        type: io.kestra.plugin.core.flow.Subflow
        namespace: company.team
        flowId: child
        inputs:
          n: "{{ taskrun.value }}"
  - id: last
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    inputs:
      n: "{{ inputs.n }}"
`
)

// TestSubflows runs a flow whose ForEach starts subflows, waits for it,
// and finds its subflows and their outputs. ForEach is a 1.3 task (2.0
// removed it).
func TestSubflows(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, []kestratest.Option{kestratest.WithVersion(kestratest.Version13)}, flowChild, flowParent)
	ctx := t.Context()
	ex := env.c.Executions

	e, err := ex.Run(ctx, execNS, "parent", &kestra.ExecuteOptions{Inputs: map[string]any{"n": 3}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		ExecutionID string
		State       kestra.StateType
		Outputs     struct{ Result string }
	}
	if err := e.TaskOutputs("last", &out); err != nil {
		t.Fatal(err)
	}
	if out.State != kestra.StateSuccess || out.Outputs.Result != "33" {
		t.Errorf("last subflow outputs = %+v", out)
	}
	var values []string
	for _, tr := range e.TaskRunList {
		if tr.TaskID == "call" {
			values = append(values, tr.Value)
		}
	}
	if !slices.Equal(values, []string{"1", "2"}) {
		t.Errorf("ForEach task runs of call have values %q", values)
	}

	var children []string
	for c, err := range ex.All(ctx, &kestra.ExecutionSearchOptions{TriggerExecutionID: e.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		if parent, ok := c.ParentExecution(); !ok || parent != e.ID {
			t.Errorf("ParentExecution of %s = %q, %v", c.ID, parent, ok)
		}
		children = append(children, c.ID)
	}
	if len(children) != 3 || !slices.Contains(children, out.ExecutionID) {
		t.Errorf("subflows found: %v, want 3 with %s", children, out.ExecutionID)
	}
	reqs := env.requests("/executions/search")
	if q, _ := url.ParseQuery(reqs[len(reqs)-1].RawQuery); q.Get("filters[triggerExecutionId][EQUALS]") != e.ID {
		t.Errorf("search query = %s", reqs[len(reqs)-1].RawQuery)
	}
	if _, ok := e.ParentExecution(); ok {
		t.Error("an execution started by the API has a parent")
	}

	// A failed subflow fails its task, and Wait says which task failed.
	_, err = ex.Run(ctx, execNS, "parent", &kestra.ExecuteOptions{Inputs: map[string]any{"n": 0}}, nil)
	var execErr *kestra.ExecutionError
	if !errors.As(err, &execErr) || !slices.Equal(execErr.FailedTasks, []string{"last"}) {
		t.Fatalf("Run with a failing subflow: %v, want an ExecutionError naming the task last", err)
	}
}

// TestFailedTasksInsideFlowControl checks that a failure inside a
// flow-control task is reported by the task that failed, not by its
// parents. ForEach is a 1.3 task (2.0 removed it).
func TestFailedTasksInsideFlowControl(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, []kestratest.Option{kestratest.WithVersion(kestratest.Version13)}, `id: nested
namespace: company.team
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: each
        type: io.kestra.plugin.core.flow.ForEach
        values: ["a", "b"]
        tasks:
          - id: check
            type: io.kestra.plugin.core.flow.If
            condition: "{{ taskrun.value == 'b' }}"
            then:
              - id: boom
                type: io.kestra.plugin.core.execution.Fail
`)
	_, err := env.c.Executions.Run(t.Context(), execNS, "nested", nil, nil)
	var execErr *kestra.ExecutionError
	if !errors.As(err, &execErr) || !slices.Equal(execErr.FailedTasks, []string{"boom"}) {
		t.Fatalf("Run: %v, want an ExecutionError naming only boom", err)
	}
}
