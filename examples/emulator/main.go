// Emulator is a program of your own on the Kestra emulator of package
// kestratest: it runs a flow on the emulator, or on the Kestra server that
// KESTRA_API_URL (or KESTRA_URL, KESTRA_HOST) names, deciding as
// kestra.LoadConfig reads the environment. It imports only the SDK's
// public packages, so it builds outside this module too (a test does).
//
//	go run ./examples/emulator
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

const flowYAML = `id: hello_emulator
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello from the emulator
`

func main() {
	ctx := context.Background()

	var c *kestra.Client
	if url, _ := kestra.EnvURL(); url != "" {
		// A server is named: use it, with KESTRA_USERNAME/KESTRA_PASSWORD
		// or KESTRA_TOKEN.
		var err error
		if c, err = kestra.NewFromEnv(); err != nil {
			log.Fatal(err)
		}
	} else {
		srv := kestratest.NewServer() // the emulator, on a free local port
		defer srv.Close()             // stops it and everything it runs
		c = srv.Client()              // a *kestra.Client for it, with its user
	}

	flow, err := c.Flows.Apply(ctx, flowYAML)
	if err != nil {
		log.Fatal(err)
	}
	exec, err := c.Executions.Create(ctx, flow.Namespace, flow.ID, &kestra.ExecuteOptions{Wait: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(exec.Namespace, exec.FlowID, exec.State.Current)
}
