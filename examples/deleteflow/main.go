// Deleteflow deletes a flow and shows that a flow that is not there is
// reported as kestra.ErrNotFound.
//
//	go run ./examples/deleteflow
package main

import (
	"errors"
	"fmt"
	"log"

	"github.com/kestra-go/sdk/examples/internal/setup"
	"github.com/kestra-go/sdk/kestra"
)

const flowYAML = `id: delete_flow_example
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: soon gone
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
	if err := c.Flows.Delete(ctx, flow.Namespace, flow.ID); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("deleted %s.%s\n", flow.Namespace, flow.ID)

	_, err = c.Flows.Get(ctx, flow.Namespace, flow.ID, nil)
	if !errors.Is(err, kestra.ErrNotFound) {
		log.Fatalf("expected not found, got %v", err)
	}
	fmt.Println("get after delete: not found")
}
