// Deleteexecution deletes an execution, choosing what goes with it: its
// logs, its metrics and its files in internal storage. With nil options
// Kestra's defaults apply (all three are deleted).
//
//	go run ./examples/deleteexecution
package main

import (
	"errors"
	"fmt"
	"log"

	"github.com/kestra-go/sdk/examples/internal/setup"
	"github.com/kestra-go/sdk/kestra"
)

const flowYAML = `id: delete_execution_example
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: to be purged
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
	exec, err := c.Executions.Create(ctx, flow.Namespace, flow.ID, &kestra.ExecuteOptions{Wait: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("execution %s ended %s\n", exec.ID, exec.State.Current)

	// Keep the logs, purge metrics and storage.
	err = c.Executions.Delete(ctx, exec.ID, &kestra.DeleteExecutionOptions{KeepLogs: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("execution deleted, logs kept")

	if _, err := c.Executions.Get(ctx, exec.ID); errors.Is(err, kestra.ErrNotFound) {
		fmt.Println("get after delete: not found")
	}
	if err := c.Flows.Delete(ctx, flow.Namespace, flow.ID); err != nil {
		log.Fatal(err)
	}
}
