package kestra_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

func TestWaitSuccess(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	ex := env.run(t, flowSuccess)
	got, err := env.c.Executions.Wait(testCtx(t), ex.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Current != kestra.StateSuccess || got.ID != ex.ID {
		t.Fatalf("got %s %s", got.ID, got.State.Current)
	}
	// The final execution is the full one of the stream: outputs included.
	var out struct{ Value string }
	if err := got.TaskOutputs("answer", &out); err != nil || out.Value != "42" {
		t.Fatalf("outputs %+v, %v", out, err)
	}
}

func TestWaitFailed(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	ex := env.run(t, flowFailed)
	got, err := env.c.Executions.Wait(testCtx(t), ex.ID, nil)
	if got == nil || got.State.Current != kestra.StateFailed {
		t.Fatalf("want the FAILED execution with the error, got %+v", got)
	}
	var execErr *kestra.ExecutionError
	if !errors.As(err, &execErr) {
		t.Fatalf("err = %v, want *ExecutionError", err)
	}
	want := kestra.ExecutionError{ID: ex.ID, Namespace: "demo.follow", FlowID: "broken", State: kestra.StateFailed, FailedTasks: []string{"boom"}}
	if execErr.ID != want.ID || execErr.Namespace != want.Namespace || execErr.FlowID != want.FlowID ||
		execErr.State != want.State || !slices.Equal(execErr.FailedTasks, want.FailedTasks) {
		t.Fatalf("error %+v, want %+v", *execErr, want)
	}
	if msg := err.Error(); !strings.Contains(msg, ex.ID) || !strings.Contains(msg, "FAILED") || !strings.Contains(msg, "boom") {
		t.Errorf("message %q names neither the execution, the state nor the failed task", msg)
	}
	var apiErr *kestra.APIError
	if errors.As(err, &apiErr) {
		t.Error("a failed execution is not an API error")
	}
}

func TestWaitPausedThenResumed(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	ex := env.run(t, flowPause)
	var states []kestra.StateType
	got, err := env.c.Executions.WaitFunc(testCtx(t), ex.ID, func(e *kestra.Execution) {
		if len(states) == 0 || states[len(states)-1] != e.State.Current {
			states = append(states, e.State.Current)
		}
		if e.State.Current == kestra.StatePaused {
			// Wait does not stop at PAUSED: it sees the resume through.
			if _, err := env.c.Executions.Resume(t.Context(), e.ID, nil); err != nil {
				t.Error(err)
			}
		}
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Current != kestra.StateSuccess {
		t.Fatalf("final %s", got.State.Current)
	}
	if !slices.Contains(states, kestra.StatePaused) || states[len(states)-1] != kestra.StateSuccess {
		t.Fatalf("states seen %v", states)
	}
	if tr, ok := got.TaskRun("after"); !ok || tr.State.Current != kestra.StateSuccess {
		t.Fatal("the task after the pause did not run")
	}
}

func TestWaitPollsWhenFollowIsMissing(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	env.emu.InjectFault(kestratest.Fault{Path: "/api/v1/main/executions/*/follow", Status: http.StatusNotFound, Message: "Not Found"})
	ex := env.run(t, flowSuccess)
	calls := 0
	got, err := env.c.Executions.WaitFunc(testCtx(t), ex.ID, func(*kestra.Execution) { calls++ },
		&kestra.StreamOptions{PollDelay: 5 * time.Millisecond, MaxPollDelay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Current != kestra.StateSuccess {
		t.Fatalf("final %s", got.State.Current)
	}
	gets := env.followRequests("/api/v1/main/executions/" + ex.ID)
	if gets < 2 {
		t.Errorf("%d GETs of the execution, want polling", gets)
	}
	if calls < 2 || calls > gets {
		t.Errorf("progress called %d times for %d polls", calls, gets)
	}
}

func TestWaitPollingUnknownExecution(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t)
	env.emu.InjectFault(kestratest.Fault{Path: "/api/v1/main/executions/*/follow", Status: http.StatusNotFound, Message: "Not Found"})
	_, err := env.c.Executions.Wait(testCtx(t), "nope", nil)
	if !errors.Is(err, kestra.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestWaitPollsWithoutEventStream(t *testing.T) {
	t.Parallel()
	exec := []byte(`{"id":"x","namespace":"n","flowId":"f","state":{"current":"WARNING"}}`)
	srv := newPlainServer(t, exec)
	c := newClient(t, kestra.Config{URL: srv})
	got, err := c.Executions.Wait(testCtx(t), "x", nil)
	if err != nil || got.State.Current != kestra.StateWarning {
		t.Fatalf("got %+v, %v", got, err)
	}
}

// newPlainServer answers every request with exec as JSON, follow
// included, as a proxy that does not pass event streams might.
func newPlainServer(t *testing.T, exec []byte) string {
	t.Helper()
	return startServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(exec)
	}).URL
}

func TestWaitUnknownExecution(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(20))
	got, err := env.c.Executions.Wait(testCtx(t), "nope", nil)
	if got != nil || !errors.Is(err, kestra.ErrNotFound) {
		t.Fatalf("got %v, %v; want ErrNotFound", got, err)
	}
}

func TestWaitContextDeadline(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	ex := env.run(t, flowPause)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := env.c.Executions.Wait(ctx, ex.ID, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's error", err)
	}
}

func TestExecutionErrorMessage(t *testing.T) {
	t.Parallel()
	err := &kestra.ExecutionError{ID: "abc", Namespace: "ns", FlowID: "f", State: kestra.StateKilled}
	if got, want := err.Error(), "kestra: execution abc of ns.f ended KILLED"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	err.FailedTasks = []string{"a", "b"}
	if got, want := err.Error(), "kestra: execution abc of ns.f ended KILLED (failed tasks: a, b)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	deploy(t, env.c, flowSuccess)
	deploy(t, env.c, flowFailed)
	got, err := env.c.Executions.Run(testCtx(t), "demo.follow", "hello", &kestra.ExecuteOptions{Wait: true}, nil)
	if err != nil || got.State.Current != kestra.StateSuccess {
		t.Fatalf("Run: %v, %v", got, err)
	}
	for _, r := range env.emu.Requests() {
		if r.Method == http.MethodPost && strings.Contains(r.RawQuery, "wait") {
			t.Errorf("Run asked the server to hold the request: %s", r.RawQuery)
		}
	}
	got, err = env.c.Executions.Run(testCtx(t), "demo.follow", "broken", nil, nil)
	var execErr *kestra.ExecutionError
	if !errors.As(err, &execErr) || got == nil || got.State.Current != kestra.StateFailed {
		t.Fatalf("Run of a failing flow: %v, %v", got, err)
	}
	if _, err := env.c.Executions.Run(testCtx(t), "demo.follow", "missing", nil, nil); !errors.Is(err, kestra.ErrNotFound) {
		t.Fatalf("Run of a missing flow: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	deploy(t, env.c, flowPause)
	got, err = env.c.Executions.Run(ctx, "demo.follow", "approval", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) || got == nil || got.ID == "" {
		t.Fatalf("Run cut short: %v, %v; want the created execution and the context's error", got, err)
	}
}
