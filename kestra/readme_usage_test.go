package kestra_test

import (
	"testing"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// TestReadmeKestratest is the kestratest snippet of the README: a test
// against the emulator with a fault the client's retries absorb.
func TestReadmeKestratest(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	srv := kestratest.Start(t) // closed when the test ends
	c := srv.Client()          // a *kestra.Client for it
	srv.InjectFault(kestratest.Fault{Method: "GET", Path: "/api/v1/main/flows/*", Status: 503, Times: 2})

	if _, err := c.Flows.Create(ctx, "id: f\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"); err != nil {
		t.Fatal(err)
	}
	flow, err := c.Flows.Get(ctx, "company.team", "f", nil) // two 503s, then the flow
	if err != nil {
		t.Fatal(err)
	}
	if flow.ID != "f" {
		t.Fatalf("got flow %q", flow.ID)
	}
	gets := 0
	for _, r := range srv.Requests() {
		if r.Method == "GET" && r.Path == "/api/v1/main/flows/company.team/f" {
			gets++
		}
	}
	if gets != 3 {
		t.Fatalf("server saw %d GETs of the flow, want 3 (two 503s, then success)", gets)
	}
}

// TestReadmeHandleTask is the HandleTask snippet of the README: a plugin
// task's outputs come from the test.
func TestReadmeHandleTask(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := kestratest.Start(t)
	c := srv.Client()

	srv.HandleTask("io.kestra.plugin.scripts.shell.Commands", func(t kestratest.Task) kestratest.TaskResult {
		return kestratest.TaskResult{Outputs: map[string]any{"exitCode": 0}, Logs: []kestratest.TaskLog{{Message: "done"}}}
	})

	if _, err := c.Flows.Create(ctx, "id: sh\nnamespace: company.team\ntasks:\n  - id: run\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: [\"true\"]\n"); err != nil {
		t.Fatal(err)
	}
	ex, err := c.Executions.Create(ctx, "company.team", "sh", &kestra.ExecuteOptions{Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ ExitCode *int }
	if err := ex.TaskOutputs("run", &out); err != nil || out.ExitCode == nil || *out.ExitCode != 0 {
		t.Fatalf("outputs: %+v, %v", out, err)
	}
}
