// Createflow creates a flow from its YAML source, as Kestra stores it
// (comments and formatting kept), and shows how an invalid flow is
// reported: Kestra's 422 becomes an *kestra.APIError with each violation,
// and YAML that does not parse a *kestra.FlowSourceError with its line;
// errors.Is(err, kestra.ErrInvalid) holds for both.
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
		// Refused before any request (a *kestra.FlowSourceError, with line
		// and column) or by Kestra (a 422 *kestra.APIError with violations;
		// Kestra answers 422 when the flow exists already, among others).
		log.Fatalf("invalid flow: %v", err)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("created %s.%s revision %d\n", flow.Namespace, flow.ID, flow.Revision)

	// A flow with an unknown task type is refused by Kestra, which names
	// each violation.
	_, err = c.Flows.Create(ctx, "id: broken\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.invalid\n")
	var apiErr *kestra.APIError
	if errors.As(err, &apiErr) {
		fmt.Printf("invalid flow refused: %d, %d violation(s)\n", apiErr.StatusCode, len(apiErr.Violations))
		for _, v := range apiErr.Violations {
			fmt.Printf("  %s: %s\n", v.Path, v.Message)
		}
	}

	// YAML that does not parse is refused before any request, at its line.
	_, err = c.Flows.Create(ctx, "id: broken\nnamespace: company.team\ntasks:\n  - id: t\n   type: x\n")
	var srcErr *kestra.FlowSourceError
	if errors.As(err, &srcErr) {
		fmt.Printf("refused before sending: line %d, column %d: %s\n", srcErr.Line, srcErr.Column, srcErr.Message)
	}

	if err := c.Flows.Delete(ctx, flow.Namespace, flow.ID); err != nil {
		log.Fatal(err)
	}
}
