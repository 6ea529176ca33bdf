// Quickstart runs the whole lifecycle of a Kestra flow from Go: it creates
// a flow with an input, executes it, follows the execution live, waits for
// its result, prints its logs, then deletes the execution (with its logs,
// metrics and files) and the flow.
//
//	go run ./examples/quickstart
//
// With KESTRA_API_URL unset it runs against the built-in emulator; set
// KESTRA_API_URL (and KESTRA_USERNAME/KESTRA_PASSWORD or KESTRA_TOKEN) to
// run it against a real Kestra.
package main

import (
	"fmt"
	"log"

	"github.com/kestra-go/sdk/examples/internal/setup"
	"github.com/kestra-go/sdk/kestra"
)

const flowYAML = `id: hello_go
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello, {{ inputs.name }}!
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.name }} is 42"
`

func main() {
	ctx, stop := setup.Context()
	defer stop()
	c, done := setup.Client()
	defer done()

	// 1. Create (or update) the flow from its YAML source.
	flow, err := c.Flows.Apply(ctx, flowYAML)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("flow %s.%s revision %d\n", flow.Namespace, flow.ID, flow.Revision)

	// 2. Execute it with an input and a label.
	exec, err := c.Executions.Create(ctx, flow.Namespace, flow.ID, &kestra.ExecuteOptions{
		Inputs: map[string]any{"name": "Go"},
		Labels: map[string]string{"team": "platform"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("execution %s created\n", exec.ID)

	// 3. Follow it live: one line per change, until it ends.
	for e, err := range c.Executions.Follow(ctx, exec.ID, nil) {
		if err != nil {
			log.Fatal(err)
		}
		line := "  " + string(e.State.Current)
		for _, tr := range e.TaskRunList {
			line += fmt.Sprintf(" %s=%s", tr.TaskID, tr.State.Current)
		}
		fmt.Println(line)
	}

	// 4. Wait for the result (at once here: it has ended).
	final, err := c.Executions.Wait(ctx, exec.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	var answer struct {
		Value string `json:"value"`
	}
	if err := final.TaskOutputs("answer", &answer); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("execution %s ended %s in %s: %q\n", final.ID, final.State.Current, final.Duration().Round(1e6), answer.Value)

	// 5. Its logs.
	logs, err := c.Logs.List(ctx, exec.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range logs {
		fmt.Printf("  log %-5s %s: %s\n", l.Level, l.TaskID, l.Message)
	}

	// 6. Clean up: the execution with its logs, metrics and files, then the flow.
	if err := c.Executions.Delete(ctx, exec.ID, &kestra.DeleteExecutionOptions{}); err != nil {
		log.Fatal(err)
	}
	if err := c.Flows.Delete(ctx, flow.Namespace, flow.ID); err != nil {
		log.Fatal(err)
	}
	fmt.Println("execution and flow deleted")
}
