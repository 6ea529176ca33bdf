// Follow starts an execution and follows it over Server-Sent Events,
// printing each change of state until the terminal one. A dropped
// connection is re-opened, and no change is printed twice.
//
//	go run ./examples/follow
package main

import (
	"fmt"
	"log"

	"github.com/kestra-go/sdk/examples/internal/setup"
)

const flowYAML = `id: follow_example
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: step one
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.2S
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: step two
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
	exec, err := c.Executions.Create(ctx, flow.Namespace, flow.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	for e, err := range c.Executions.Follow(ctx, exec.ID, nil) {
		if err != nil {
			log.Fatal(err)
		}
		line := string(e.State.Current)
		for _, tr := range e.TaskRunList {
			line += fmt.Sprintf(" %s=%s", tr.TaskID, tr.State.Current)
		}
		fmt.Println(line)
		if e.IsTerminal() {
			fmt.Println("terminal state reached")
		}
	}
	if err := c.Flows.Delete(ctx, flow.Namespace, flow.ID); err != nil {
		log.Fatal(err)
	}
}
