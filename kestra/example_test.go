package kestra_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

const exampleFlow = `id: hello
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: Hello, {{ inputs.name }}!
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.name }} is 42"
`

// exampleClient returns a client of a fresh emulator, with exampleFlow
// deployed, and a function that stops the emulator.
func exampleClient() (*kestra.Client, func()) {
	srv := kestratest.NewServer()
	c := srv.Client()
	if _, err := c.Flows.Apply(context.Background(), exampleFlow); err != nil {
		log.Fatal(err)
	}
	return c, srv.Close
}

func ExampleNew() {
	srv := kestratest.NewServer(kestratest.WithBasicAuth("admin@example.com", "Secret1234"))
	defer srv.Close()

	c, err := kestra.New(kestra.Config{
		URL:      srv.URL, // e.g. http://localhost:8080
		Username: "admin@example.com",
		Password: "Secret1234",
	})
	if err != nil {
		log.Fatal(err)
	}
	info, err := c.Server(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Tenant(), info.Edition)
	// Output:
	// main OSS
}

func ExampleFlowsService_Apply() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	source := `id: nightly
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello from Go
`
	flow, err := c.Flows.Apply(ctx, source)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(flow.Namespace, flow.ID, flow.Revision)

	// Applying the same source again makes no new revision.
	flow, result, err := c.Flows.ApplyWithResult(ctx, source)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(flow.Revision, result)
	// Output:
	// company.team nightly 1
	// 1 unchanged
}

func ExampleFlowsService_Create_invalid() {
	c, stop := exampleClient()
	defer stop()

	_, err := c.Flows.Create(context.Background(), exampleFlow) // it exists already
	var apiErr *kestra.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, errors.Is(err, kestra.ErrInvalid))
		for _, v := range apiErr.Violations {
			fmt.Printf("%s: %s\n", v.Path, v.Message)
		}
	}
	// Output:
	// 422 true
	// flow.id: Flow id already exists
}

func ExampleExecutionsService_Create() {
	c, stop := exampleClient()
	defer stop()

	exec, err := c.Executions.Create(context.Background(), "company.team", "hello", &kestra.ExecuteOptions{
		Wait:   true, // Kestra answers once the execution has ended
		Inputs: map[string]any{"name": "Go"},
		Labels: map[string]string{"team": "platform"},
	})
	if err != nil {
		log.Fatal(err)
	}
	var out struct{ Value string }
	if err := exec.TaskOutputs("answer", &out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(exec.State.Current, exec.LabelMap()["team"], out.Value)
	// Output:
	// SUCCESS platform Go is 42
}

func ExampleExecutionsService_DeleteByQuery() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()
	for range 3 {
		opts := &kestra.ExecuteOptions{Wait: true, Labels: map[string]string{"ci-run": "1234"}}
		if _, err := c.Executions.Create(ctx, "company.team", "hello", opts); err != nil {
			log.Fatal(err)
		}
	}

	// Clean up after a CI run: its ended executions, with their logs and files.
	n, err := c.Executions.DeleteByQuery(ctx, &kestra.ExecutionSearchOptions{
		Namespace: "company.team",
		Labels:    map[string]string{"ci-run": "1234"},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted", n)
	// Output:
	// deleted 3
}

func ExampleExecutionsService_ResumeFromBreakpoint() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	exec, err := c.Executions.Create(ctx, "company.team", "hello", &kestra.ExecuteOptions{
		Breakpoints: []string{"answer"}, // stop before the task "answer"
	})
	if err != nil {
		log.Fatal(err)
	}
	for e, err := range c.Executions.Follow(ctx, exec.ID, nil) {
		if err != nil {
			log.Fatal(err)
		}
		if e.CurrentState() == kestra.StateBreakpoint {
			break
		}
	}
	// Continue without breakpoints: it runs to its end.
	if _, err := c.Executions.ResumeFromBreakpoint(ctx, exec.ID); err != nil {
		log.Fatal(err)
	}
	done, err := c.Executions.Wait(ctx, exec.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.CurrentState())
	// Output:
	// SUCCESS
}

func ExampleTriggersService_SetDisabled() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()
	_, err := c.Flows.Apply(ctx, `id: nightly_report
namespace: company.team
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
tasks:
  - id: report
    type: io.kestra.plugin.core.log.Log
    message: reporting
`)
	if err != nil {
		log.Fatal(err)
	}

	// Pause a schedule during maintenance, then resume it.
	st, err := c.Triggers.SetDisabled(ctx, "company.team", "nightly_report", "nightly", true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.TriggerID, "disabled:", st.Disabled)
	st, err = c.Triggers.SetDisabled(ctx, "company.team", "nightly_report", "nightly", false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.TriggerID, "disabled:", st.Disabled)
	// Output:
	// nightly disabled: true
	// nightly disabled: false
}

func ExampleExecutionsService_Follow() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	exec, err := c.Executions.Create(ctx, "company.team", "hello", nil)
	if err != nil {
		log.Fatal(err)
	}
	for e, err := range c.Executions.Follow(ctx, exec.ID, nil) {
		if err != nil {
			log.Fatal(err)
		}
		// Each change of the execution or of a task run; the last is terminal.
		if e.IsTerminal() {
			fmt.Println(e.State.Current, len(e.TaskRunList))
		}
	}
	// Output:
	// SUCCESS 2
}

func ExampleExecutionsService_Wait() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	_, err := c.Flows.Create(ctx, `id: broken
namespace: company.team
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
`)
	if err != nil {
		log.Fatal(err)
	}
	exec, err := c.Executions.Create(ctx, "company.team", "broken", nil)
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	final, err := c.Executions.Wait(ctx, exec.ID, nil)
	var execErr *kestra.ExecutionError
	if errors.As(err, &execErr) {
		fmt.Println(final.State.Current, execErr.FailedTasks)
	}
	// Output:
	// FAILED [boom]
}

func ExampleLogsService_Follow() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	exec, err := c.Executions.Create(ctx, "company.team", "hello", &kestra.ExecuteOptions{
		Inputs: map[string]any{"name": "logs"},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Kestra's log stream never ends by itself; UntilDone ends it with the
	// execution.
	for l, err := range c.Logs.Follow(ctx, exec.ID, &kestra.LogFollowOptions{UntilDone: true}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(l.Level, l.TaskID, l.Message)
	}
	// Output:
	// INFO greet Hello, logs!
}

func ExampleKVService_Set() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	// A Go string is stored as a STRING, even when it looks like a number.
	if err := c.KV.Set(ctx, "company.team", "zip", "01234", &kestra.KVSetOptions{TTL: time.Hour}); err != nil {
		log.Fatal(err)
	}
	v, err := c.KV.Get(ctx, "company.team", "zip")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Type, v.Value)

	_, err = c.KV.Get(ctx, "company.team", "missing")
	fmt.Println(errors.Is(err, kestra.ErrNotFound))
	// Output:
	// STRING 01234
	// true
}

func ExampleFilesService_Upload() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	err := c.Files.Upload(ctx, "company.team", "/scripts/hello.sh", strings.NewReader("echo hello\n"))
	if err != nil {
		log.Fatal(err)
	}
	files, err := c.Files.List(ctx, "company.team", "/scripts")
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		fmt.Println(f.FileName, f.Size)
	}
	// Output:
	// hello.sh 11
}

func ExampleStreamOptions() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()
	exec, err := c.Executions.Create(ctx, "company.team", "hello", nil)
	if err != nil {
		log.Fatal(err)
	}

	// Behind a proxy that drops idle connections: reconnect after 5 minutes
	// of silence, up to 10 times in a row, and check every 20 seconds of
	// silence that the execution still exists.
	opts := &kestra.StreamOptions{
		IdleTimeout:   5 * time.Minute,
		MaxReconnects: 10,
		CheckInterval: 20 * time.Second,
	}
	final, err := c.Executions.Wait(ctx, exec.ID, opts)
	switch {
	case errors.Is(err, kestra.ErrNotFound):
		fmt.Println("the execution was deleted")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(final.CurrentState())
	}
	// Output:
	// SUCCESS
}
