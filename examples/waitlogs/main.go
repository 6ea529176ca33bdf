// Waitlogs runs a flow and streams its logs while it runs, ending when the
// execution ends (Kestra's own log stream never ends by itself).
//
//	go run ./examples/waitlogs
package main

import (
	"errors"
	"fmt"
	"log"

	"github.com/kestra-go/sdk/examples/internal/setup"
	"github.com/kestra-go/sdk/kestra"
)

const flowYAML = `id: wait_logs_example
namespace: company.team
tasks:
  - id: extract
    type: io.kestra.plugin.core.log.Log
    message: extracting
  - id: pause
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.1S
  - id: load
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: loaded with warnings
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
	for l, err := range c.Logs.Follow(ctx, exec.ID, &kestra.LogFollowOptions{UntilDone: true}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %-5s %s\n", l.TaskID, l.Level, l.Message)
	}
	final, err := c.Executions.Wait(ctx, exec.ID, nil)
	var execErr *kestra.ExecutionError
	if errors.As(err, &execErr) {
		log.Fatalf("execution failed in %v", execErr.FailedTasks)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("execution %s ended %s\n", final.ID, final.State.Current)
}
