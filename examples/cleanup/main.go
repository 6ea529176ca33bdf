// Cleanup removes what a CI run left on Kestra: its executions, found by
// label, with one request per step. Kestra refuses to delete an execution
// that has not ended, so the run's stuck executions are killed first.
//
//	go run ./examples/cleanup
package main

import (
	"errors"
	"fmt"
	"log"

	"github.com/kestra-go/sdk/examples/internal/setup"
	"github.com/kestra-go/sdk/kestra"
)

const (
	quickYAML = `id: cleanup_quick
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: done quickly
`
	stuckYAML = `id: cleanup_stuck
namespace: company.team
tasks:
  - id: approval
    type: io.kestra.plugin.core.flow.Pause
`
)

func main() {
	ctx, stop := setup.Context()
	defer stop()
	c, done := setup.Client()
	defer done()

	// What a CI run might leave behind: three ended executions and one
	// waiting for an approval that will never come, all labelled with the
	// run's id.
	run := map[string]string{"ci-run": "1234"}
	quick, err := c.Flows.Apply(ctx, quickYAML)
	if err != nil {
		log.Fatal(err)
	}
	stuck, err := c.Flows.Apply(ctx, stuckYAML)
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		if _, err := c.Executions.Create(ctx, quick.Namespace, quick.ID, &kestra.ExecuteOptions{Wait: true, Labels: run}); err != nil {
			log.Fatal(err)
		}
	}
	waiting, err := c.Executions.Create(ctx, stuck.Namespace, stuck.ID, &kestra.ExecuteOptions{Labels: run})
	if err != nil {
		log.Fatal(err)
	}
	for e, err := range c.Executions.Follow(ctx, waiting.ID, nil) {
		if err != nil {
			log.Fatal(err)
		}
		if e.CurrentState() == kestra.StatePaused {
			break
		}
	}

	query := &kestra.ExecutionSearchOptions{Namespace: "company.team", Labels: run}

	// Kestra checks every execution first: the paused one, which has not
	// ended, makes it refuse the whole deletion (its message for such an
	// execution is "execution not found").
	_, err = c.Executions.DeleteByQuery(ctx, query, nil)
	var apiErr *kestra.APIError
	if !errors.As(err, &apiErr) {
		log.Fatalf("expected a refusal, got %v", err)
	}
	fmt.Println("as expected, Kestra refuses to delete executions that have not ended:")
	for _, v := range apiErr.Violations {
		fmt.Printf("  %s: %s\n", v.Path, v.Message)
	}

	// Kill what has not ended, wait until it has, then delete them all.
	running := *query
	running.States = []kestra.StateType{kestra.StateCreated, kestra.StateRunning, kestra.StatePaused}
	n, err := c.Executions.KillByQuery(ctx, &running)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kill accepted for", n)
	if e, err := c.Executions.Wait(ctx, waiting.ID, nil); !errors.As(err, new(*kestra.ExecutionError)) {
		log.Fatalf("expected the execution to end KILLED, got %v, %v", e, err)
	}
	n, err = c.Executions.DeleteByQuery(ctx, query, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted", n, "executions")

	for _, f := range []*kestra.Flow{quick, stuck} {
		if err := c.Flows.Delete(ctx, f.Namespace, f.ID); err != nil {
			log.Fatal(err)
		}
	}
}
