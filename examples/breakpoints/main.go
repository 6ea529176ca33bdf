// Breakpoints stops an execution before a task, looks at what ran so far,
// then lets it go on: a debugging session from code.
//
//	go run ./examples/breakpoints
package main

import (
	"fmt"
	"log"

	"github.com/kestra-go/sdk/examples/internal/setup"
	"github.com/kestra-go/sdk/kestra"
)

const flowYAML = `id: breakpoints_example
namespace: company.team
tasks:
  - id: extract
    type: io.kestra.plugin.core.debug.Return
    format: "42 rows"
  - id: load
    type: io.kestra.plugin.core.log.Log
    message: "loading {{ outputs.extract.value }}"
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
		Breakpoints: []string{"load"}, // stop before the task load
	})
	if err != nil {
		log.Fatal(err)
	}

	// Follow until the execution stops at the breakpoint.
	var stopped *kestra.Execution
	for e, err := range c.Executions.Follow(ctx, exec.ID, nil) {
		if err != nil {
			log.Fatal(err)
		}
		if e.CurrentState() == kestra.StateBreakpoint {
			stopped = e
			break
		}
	}
	for _, tr := range stopped.TaskRunList {
		fmt.Printf("stopped: %s %s", tr.TaskID, tr.State.Current)
		if len(tr.Outputs) > 0 {
			fmt.Printf(" %v", tr.Outputs)
		}
		fmt.Println()
	}

	// Go on, without breakpoints: it runs to its end.
	if _, err := c.Executions.ResumeFromBreakpoint(ctx, exec.ID); err != nil {
		log.Fatal(err)
	}
	final, err := c.Executions.Wait(ctx, exec.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("resumed, ended", final.CurrentState())

	if err := c.Executions.Delete(ctx, exec.ID, nil); err != nil {
		log.Fatal(err)
	}
	if err := c.Flows.Delete(ctx, flow.Namespace, flow.ID); err != nil {
		log.Fatal(err)
	}
}
