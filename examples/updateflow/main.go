// Updateflow updates a flow from new YAML: namespace and id come from the
// YAML itself, and Kestra makes a new revision only when the source
// changed.
//
//	go run ./examples/updateflow
package main

import (
	"fmt"
	"log"
	"strings"

	"github.com/kestra-go/sdk/examples/internal/setup"
)

const v1 = `id: update_flow_example
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: version one
`

func main() {
	ctx, stop := setup.Context()
	defer stop()
	c, done := setup.Client()
	defer done()

	flow, err := c.Flows.Apply(ctx, v1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("revision %d: %s\n", flow.Revision, "version one")

	v2 := strings.Replace(v1, "version one", "version two", 1)
	flow, err = c.Flows.Update(ctx, v2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("revision %d: %s\n", flow.Revision, "version two")

	// The same source again makes no new revision.
	flow, result, err := c.Flows.ApplyWithResult(ctx, v2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("revision %d: %s\n", flow.Revision, result)

	if err := c.Flows.Delete(ctx, flow.Namespace, flow.ID); err != nil {
		log.Fatal(err)
	}
}
