package kestra_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// runHello runs the hello flow to its end with labels.
func runHello(t *testing.T, ex *kestra.ExecutionsService, labels map[string]string) string {
	t.Helper()
	e, err := ex.Create(t.Context(), execNS, "hello", &kestra.ExecuteOptions{Wait: true, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// exists reports whether the execution id is still there.
func exists(t *testing.T, ex *kestra.ExecutionsService, id string) bool {
	t.Helper()
	_, err := ex.Get(t.Context(), id)
	if err != nil && !errors.Is(err, kestra.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestExecutionsBulkDelete(t *testing.T) {
	t.Parallel()
	for _, v := range []kestratest.Version{kestratest.Version20, kestratest.Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			env := newExecEnv(t, nil, []kestratest.Option{kestratest.WithVersion(v)}, flowHello, flowPausing)
			ctx := t.Context()
			ex := env.c.Executions
			a := runHello(t, ex, map[string]string{"ci": "run1"})
			b := runHello(t, ex, map[string]string{"ci": "run1"})
			c := runHello(t, ex, map[string]string{"ci": "run2"})
			d := runHello(t, ex, map[string]string{"ci": "run2"})

			// One unknown id refuses all, and says which.
			_, err := ex.DeleteByIDs(ctx, []string{a, "nope"}, nil)
			var apiErr *kestra.APIError
			if !errors.Is(err, kestra.ErrBadRequest) || !errors.As(err, &apiErr) {
				t.Fatalf("DeleteByIDs with an unknown id: %v, want ErrBadRequest", err)
			}
			if diff := cmp.Diff([]kestra.Violation{{Path: "nope", Message: "execution not found"}}, apiErr.Violations); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
			if !exists(t, ex, a) {
				t.Fatal("a refused bulk deletion deleted an execution")
			}

			n, err := ex.DeleteByIDs(ctx, []string{a, c}, nil)
			if err != nil || n != 2 {
				t.Fatalf("DeleteByIDs = %d, %v; want 2", n, err)
			}
			if exists(t, ex, a) || exists(t, ex, c) || !exists(t, ex, b) {
				t.Error("DeleteByIDs deleted other executions than the ones asked")
			}

			// By query, keeping the logs.
			n, err = ex.DeleteByQuery(ctx, &kestra.ExecutionSearchOptions{Labels: map[string]string{"ci": "run2"}}, &kestra.BulkDeleteOptions{KeepLogs: true})
			if err != nil || n != 1 {
				t.Fatalf("DeleteByQuery = %d, %v; want 1", n, err)
			}
			if exists(t, ex, d) || !exists(t, ex, b) {
				t.Error("DeleteByQuery deleted other executions than the ones matching")
			}
			reqs := env.requests("/executions/by-query")
			q, _ := url.ParseQuery(reqs[len(reqs)-1].RawQuery)
			if q.Get("deleteLogs") != "false" || q.Get("deleteStorage") != "true" || q.Get("includeNonTerminated") != "false" {
				t.Errorf("by-query parameters: %s", reqs[len(reqs)-1].RawQuery)
			}
			if logs, err := env.c.Logs.List(ctx, d, nil); err != nil || len(logs) == 0 {
				t.Errorf("logs of %s after KeepLogs: %d, %v", d, len(logs), err)
			}

			// A running execution refuses a deletion unless included.
			p, err := ex.Create(ctx, execNS, "pausing", nil)
			if err != nil {
				t.Fatal(err)
			}
			env.waitFor(t, p.ID, inState(kestra.StatePaused))
			query := &kestra.ExecutionSearchOptions{Namespace: execNS}
			if _, err := ex.DeleteByQuery(ctx, query, nil); !errors.Is(err, kestra.ErrBadRequest) {
				t.Fatalf("DeleteByQuery over a paused execution: %v, want ErrBadRequest", err)
			}
			n, err = ex.DeleteByQuery(ctx, query, &kestra.BulkDeleteOptions{IncludeRunning: true})
			if err != nil || n != 2 {
				t.Fatalf("DeleteByQuery with IncludeRunning = %d, %v; want 2 (b and the paused one)", n, err)
			}
			if exists(t, ex, b) || exists(t, ex, p.ID) {
				t.Error("executions left after deleting the namespace's")
			}
		})
	}
}

func TestExecutionsBulkKill(t *testing.T) {
	t.Parallel()
	for _, v := range []kestratest.Version{kestratest.Version20, kestratest.Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			env := newExecEnv(t, nil, []kestratest.Option{kestratest.WithVersion(v)}, flowHello, flowPausing)
			ctx := t.Context()
			ex := env.c.Executions
			var paused []string
			for range 3 {
				p, err := ex.Create(ctx, execNS, "pausing", nil)
				if err != nil {
					t.Fatal(err)
				}
				env.waitFor(t, p.ID, inState(kestra.StatePaused))
				paused = append(paused, p.ID)
			}
			done := runHello(t, ex, nil)

			_, err := ex.KillByIDs(ctx, []string{paused[0], done})
			var apiErr *kestra.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest ||
				!slices.Equal(apiErr.Violations, []kestra.Violation{{Path: done, Message: "execution already finished"}}) {
				t.Fatalf("KillByIDs with an ended execution: %v (violations %+v)", err, apiErr)
			}

			n, err := ex.KillByIDs(ctx, paused[:1])
			if err != nil || n != 1 {
				t.Fatalf("KillByIDs = %d, %v; want 1", n, err)
			}
			var execErr *kestra.ExecutionError
			if e, err := ex.Wait(ctx, paused[0], nil); !errors.As(err, &execErr) || e.CurrentState() != kestra.StateKilled {
				t.Fatalf("Wait after KillByIDs: %v, %v; want KILLED", e, err)
			}

			n, err = ex.KillByQuery(ctx, &kestra.ExecutionSearchOptions{FlowID: "pausing", States: []kestra.StateType{kestra.StatePaused}})
			if err != nil || n != 2 {
				t.Fatalf("KillByQuery = %d, %v; want 2", n, err)
			}
			for _, id := range paused[1:] {
				env.waitFor(t, id, inState(kestra.StateKilled))
			}
		})
	}
}

func TestExecutionsBulkArguments(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, nil, flowHello)
	ctx := t.Context()
	ex := env.c.Executions
	for name, call := range map[string]func() (int, error){
		"DeleteByIDs nil":      func() (int, error) { return ex.DeleteByIDs(ctx, nil, nil) },
		"KillByIDs nil":        func() (int, error) { return ex.KillByIDs(ctx, []string{}) },
		"DeleteByIDs empty id": func() (int, error) { return ex.DeleteByIDs(ctx, []string{"a", ""}, nil) },
		"KillByIDs empty id":   func() (int, error) { return ex.KillByIDs(ctx, []string{""}) },
		"DeleteByQuery nil":    func() (int, error) { return ex.DeleteByQuery(ctx, nil, nil) },
		"DeleteByQuery no field": func() (int, error) {
			return ex.DeleteByQuery(ctx, &kestra.ExecutionSearchOptions{ListOptions: kestra.ListOptions{Size: 10}}, nil)
		},
		"KillByQuery nil": func() (int, error) { return ex.KillByQuery(ctx, nil) },
	} {
		n, err := call()
		wantErr := name != "DeleteByIDs nil" && name != "KillByIDs nil"
		if n != 0 || (err != nil) != wantErr {
			t.Errorf("%s = %d, %v; want 0 and an error: %v", name, n, err, wantErr)
		}
	}
	if reqs := env.requests("/executions"); len(reqs) != 0 {
		t.Errorf("bad arguments sent %d requests: %+v", len(reqs), reqs)
	}
}

// TestExecutionsBulkNotRetried checks that a bulk operation whose answer
// is lost is not sent again (it would be refused for what the first did),
// while a plain DELETE of the same client is.
func TestExecutionsBulkNotRetried(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, nil, flowHello)
	ctx := t.Context()
	c := env.client(t, kestra.Config{},
		kestra.WithRetry(kestra.RetryPolicy{MaxAttempts: 3, MinDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	ex := c.Executions
	id := runHello(t, ex, nil)
	env.emu.InjectFault(kestratest.Fault{Method: http.MethodDelete, Path: "/api/v1/main/executions/by-ids", Status: http.StatusServiceUnavailable, Times: 1})
	var apiErr *kestra.APIError
	if _, err := ex.DeleteByIDs(ctx, []string{id}, nil); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("DeleteByIDs through a 503: %v, want the 503", err)
	}
	if n := len(env.requests("/executions/by-ids")); n != 1 {
		t.Errorf("bulk deletion sent %d times, want once", n)
	}
	env.emu.InjectFault(kestratest.Fault{Method: http.MethodDelete, Path: "/api/v1/main/executions/" + id, Status: http.StatusServiceUnavailable, Times: 1})
	if err := ex.Delete(ctx, id, nil); err != nil {
		t.Fatalf("Delete through one 503: %v (a plain DELETE is retried)", err)
	}
}
