// Createflow creates a flow from its YAML source, as Kestra stores it
// (comments and formatting kept), and shows how an invalid flow is
// reported: Kestra's 422 becomes an *kestra.APIError with each violation.
//
//	go run ./examples/createflow
package main

import (
	"errors"
	"fmt"
	"log"

	"github.com/kestra-go/sdk/examples/internal/setup"
	"github.com/kestra-go/sdk/kestra"
)

const flowYAML = `# Says hello.
id: create_flow_example
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello from Go
`

func main() {
	ctx, stop := setup.Context()
	defer stop()
	c, done := setup.Client()
	defer done()

	flow, err := c.Flows.Create(ctx, flowYAML)
	if errors.Is(err, kestra.ErrInvalid) {
		// Kestra answers 422 when the flow exists already, among other things.
		var apiErr *kestra.APIError
		errors.As(err, &apiErr)
		log.Fatalf("kestra refused the flow: %s %v", apiErr.Message, apiErr.Violations)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("created %s.%s revision %d\n", flow.Namespace, flow.ID, flow.Revision)

	// A flow with an unknown task type is refused with its violations.
	_, err = c.Flows.Create(ctx, "id: broken\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.invalid\n")
	var apiErr *kestra.APIError
	if errors.As(err, &apiErr) {
		fmt.Printf("invalid flow refused: %d, %d violation(s)\n", apiErr.StatusCode, len(apiErr.Violations))
	}

	if err := c.Flows.Delete(ctx, flow.Namespace, flow.ID); err != nil {
		log.Fatal(err)
	}
}
