// Execute starts a flow with typed inputs (a string, a number, a JSON
// value and a file) and labels, and waits on the server for its end
// (Wait: true).
//
//	go run ./examples/execute
package main

import (
	"fmt"
	"log"
	"strings"

	"github.com/kestra-go/sdk/examples/internal/setup"
	"github.com/kestra-go/sdk/kestra"
)

const flowYAML = `id: execute_example
namespace: company.team
inputs:
  - id: user
    type: STRING
  - id: count
    type: INT
  - id: settings
    type: JSON
  - id: report
    type: FILE
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.user }} asked for {{ inputs.count }} item(s)"
  - id: result
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.user }}:{{ inputs.count }}"
`

func main() {
	ctx, stop := setup.Context()
	defer stop()
	c, done := setup.Client()
	defer done()

	flow, err := c.Flows.Apply(ctx, flowYAML)
	if err != nil {
		log.Fatal(err)
	}

	exec, err := c.Executions.Create(ctx, flow.Namespace, flow.ID, &kestra.ExecuteOptions{
		Wait: true, // Kestra answers when the execution has ended
		Inputs: map[string]any{
			"user":     "ada",
			"count":    3,
			"settings": map[string]any{"verbose": true},
			"report":   kestra.File{Name: "report.csv", Reader: strings.NewReader("a,b\n1,2\n")},
		},
		Labels: map[string]string{"team": "platform", "env": "dev"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("execution %s: %s\n", exec.ID, exec.State.Current)
	fmt.Printf("labels: team=%s env=%s\n", exec.LabelMap()["team"], exec.LabelMap()["env"])
	fmt.Printf("inputs: user=%v count=%v\n", exec.Inputs["user"], exec.Inputs["count"])

	var out struct {
		Value string `json:"value"`
	}
	if err := exec.TaskOutputs("result", &out); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("output of result: %s\n", out.Value)

	if err := c.Flows.Delete(ctx, flow.Namespace, flow.ID); err != nil {
		log.Fatal(err)
	}
}
