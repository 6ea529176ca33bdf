package kestra_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// The reliability suite runs the client against kestratest with injected
// faults: retry storms, reset connections, slow servers and broken follow
// streams. Each subtest name says the fault.

const relFlow = `id: steady
namespace: demo.reliability
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: one
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: two
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "42"
`

const (
	relFlowPath   = "/api/v1/main/flows/demo.reliability/steady"
	relCreatePath = "/api/v1/main/executions/demo.reliability/steady"
)

// relPolicy retries quickly, so that storms cost milliseconds.
var relPolicy = kestra.RetryPolicy{MaxAttempts: 4, MinDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, MaxRetryAfter: 2 * time.Second}

// relServer starts a server with relFlow deployed and returns it with a
// client that uses relPolicy unless opts say otherwise.
func relServer(t *testing.T, opts ...kestra.Option) (*kestratest.Server, *kestra.Client) {
	t.Helper()
	env := newEmuEnv(t, emuSetup{
		server: []kestratest.Option{kestratest.WithSpeed(kestratest.DefaultSpeed)},
		client: append([]kestra.Option{kestra.WithRetry(relPolicy)}, opts...),
		flows:  []string{relFlow},
	})
	return env.emu, env.c
}

// relCount is how many requests the server saw with this method and path.
func relCount(srv *kestratest.Server, method, path string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func TestReliabilityRetryStorms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		status     int
		times      int    // failed answers before the server recovers
		retryAfter string // "" sends none
		policy     *kestra.RetryPolicy
		wantErr    int // 0: success
		wantSent   int // requests the server sees
	}{
		{name: "503 storm within budget, no Retry-After", status: 503, times: 3, wantSent: 4},
		{name: "503 storm within budget, Retry-After 0", status: 503, times: 3, retryAfter: "0", wantSent: 4},
		{name: "429 storm within budget, no Retry-After", status: 429, times: 3, wantSent: 4},
		{name: "429 storm within budget, Retry-After 0", status: 429, times: 3, retryAfter: "0", wantSent: 4},
		{name: "502 then success", status: 502, times: 1, wantSent: 2},
		{name: "504 then success", status: 504, times: 1, wantSent: 2},
		{name: "503 once with Retry-After 1 second, default backoff", status: 503, times: 1, retryAfter: "1",
			policy: &kestra.RetryPolicy{MaxAttempts: 2}, wantSent: 2},
		{name: "429 once with Retry-After as an HTTP date", status: 429, times: 1,
			retryAfter: time.Now().Add(-time.Second).UTC().Format(http.TimeFormat), wantSent: 2},
		{name: "503 storm beyond budget, no Retry-After", status: 503, times: 10, wantErr: 503, wantSent: 4},
		{name: "503 storm beyond budget, Retry-After 0", status: 503, times: 10, retryAfter: "0", wantErr: 503, wantSent: 4},
		{name: "429 storm beyond budget, no Retry-After", status: 429, times: 10, wantErr: 429, wantSent: 4},
		{name: "429 storm beyond budget, Retry-After 0", status: 429, times: 10, retryAfter: "0", wantErr: 429, wantSent: 4},
		{name: "503 with Retry-After beyond MaxRetryAfter is returned at once", status: 503, times: 1, retryAfter: "3600", wantErr: 503, wantSent: 1},
		{name: "429 with Retry-After 1 beyond the 1ms MaxRetryAfter is returned at once", status: 429, times: 1, retryAfter: "1",
			policy: &kestra.RetryPolicy{MaxAttempts: 3, MinDelay: time.Millisecond, MaxRetryAfter: time.Millisecond}, wantErr: 429, wantSent: 1},
		{name: "503 with retries off", status: 503, times: 1, policy: &kestra.NoRetry, wantErr: 503, wantSent: 1},
		{name: "500 is not retried", status: 500, times: 1, wantErr: 500, wantSent: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []kestra.Option
			if tc.policy != nil {
				opts = append(opts, kestra.WithRetry(*tc.policy))
			}
			srv, c := relServer(t, opts...)
			srv.InjectFault(kestratest.Fault{Method: "GET", Path: relFlowPath, Times: tc.times,
				Status: tc.status, RetryAfter: tc.retryAfter, Message: "Service busy: try again"})
			f, err := c.Flows.Get(t.Context(), "demo.reliability", "steady", nil)
			if tc.wantErr == 0 {
				if err != nil {
					t.Fatalf("Get after %d × %d: %v", tc.times, tc.status, err)
				}
				if f.ID != "steady" {
					t.Fatalf("flow %+v", f)
				}
			} else {
				var apiErr *kestra.APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.wantErr {
					t.Fatalf("error %v (%T), want an *APIError %d", err, err, tc.wantErr)
				}
				if apiErr.Message != "Service busy: try again" {
					t.Errorf("message %q, want the server's", apiErr.Message)
				}
			}
			if n := relCount(srv, "GET", relFlowPath); n != tc.wantSent {
				t.Errorf("server saw %d GETs, want %d", n, tc.wantSent)
			}
		})
	}
}

// TestReliabilityCreateExecution checks that a POST that creates an
// execution is never sent twice, whatever goes wrong.
func TestReliabilityCreateExecution(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		fault       kestratest.Fault
		wantStatus  int // 0: a transport error, not an *APIError
		wantCreated int // executions the server made
	}{
		// The fault answers 503 in place of the server: nothing is created,
		// and a retry would create the execution the caller thinks failed.
		{name: "503", fault: kestratest.Fault{Status: 503}, wantStatus: 503},
		{name: "503 with Retry-After 0", fault: kestratest.Fault{Status: 503, RetryAfter: "0"}, wantStatus: 503},
		{name: "429", fault: kestratest.Fault{Status: 429}, wantStatus: 429},
		// The connection is reset before any response: the execution may
		// or may not exist, so the POST is not sent again.
		{name: "connection reset before the response", fault: kestratest.Fault{Reset: true}},
		// The server created the execution and the connection broke while
		// it answered: exactly one execution, and an error.
		{name: "connection reset mid-response", fault: kestratest.Fault{Reset: true, ResetAfterBytes: 40}, wantCreated: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := relServer(t)
			f := tc.fault
			f.Method, f.Path, f.Times = "POST", relCreatePath, 1
			srv.InjectFault(f)
			ex, err := c.Executions.Create(t.Context(), "demo.reliability", "steady", nil)
			if err == nil {
				t.Fatalf("Create succeeded (%s): the POST was sent again", ex.ID)
			}
			var apiErr *kestra.APIError
			isAPI := errors.As(err, &apiErr)
			switch {
			case tc.wantStatus != 0 && (!isAPI || apiErr.StatusCode != tc.wantStatus):
				t.Errorf("error %v, want an *APIError %d", err, tc.wantStatus)
			case tc.wantStatus == 0 && isAPI:
				t.Errorf("error %v, want a transport error", err)
			}
			if n := relCount(srv, "POST", relCreatePath); n != 1 {
				t.Errorf("server saw %d POSTs, want exactly 1", n)
			}
			if n := srv.ExecutionsCreated(); n != tc.wantCreated {
				t.Errorf("%d executions created, want %d", n, tc.wantCreated)
			}
		})
	}
}

// TestReliabilityResetGet resets the connection while the server answers a
// GET: the request is idempotent, so the client sends it again.
func TestReliabilityResetGet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		after int
	}{
		{"reset before the response", 0},
		{"reset after 1 body byte", 1},
		{"reset after 40 body bytes", 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := relServer(t)
			srv.InjectFault(kestratest.Fault{Method: "GET", Path: relFlowPath, Times: 1, Reset: true, ResetAfterBytes: tc.after})
			f, err := c.Flows.Get(t.Context(), "demo.reliability", "steady", nil)
			if err != nil {
				t.Fatalf("Get after one reset: %v", err)
			}
			if f.ID != "steady" {
				t.Fatalf("flow %+v", f)
			}
			if n := relCount(srv, "GET", relFlowPath); n != 2 {
				t.Errorf("server saw %d GETs, want 2", n)
			}
		})
	}
}

// TestReliabilitySlowServer checks that a deadline (the context's or
// Config.Timeout) ends a call to a server that does not answer, retries
// included. The server would hold each request for an hour: a client that
// ignored the deadline would never return.
func TestReliabilitySlowServer(t *testing.T) {
	t.Parallel()
	const deadline = 50 * time.Millisecond
	cases := []struct {
		name string
		call func(t *testing.T, srv *kestratest.Server) error
	}{
		{"latency vs context deadline", func(t *testing.T, srv *kestratest.Server) error {
			c := srv.Client(kestra.WithRetry(relPolicy))
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			_, err := c.Flows.Get(ctx, "demo.reliability", "steady", nil)
			return err
		}},
		{"latency vs Config.Timeout", func(t *testing.T, srv *kestratest.Server) error {
			cfg := srv.Config()
			cfg.Timeout = deadline
			c := newClient(t, cfg, kestra.WithRetry(relPolicy))
			_, err := c.Flows.Get(t.Context(), "demo.reliability", "steady", nil)
			return err
		}},
		{"latency vs Config.Timeout across 503 retries", func(t *testing.T, srv *kestratest.Server) error {
			// Each attempt gets a quick 503, then the server stalls: the
			// timeout bounds the call, retries included.
			srv.InjectFault(kestratest.Fault{Method: "GET", Path: relFlowPath, Times: 2, Status: 503})
			cfg := srv.Config()
			cfg.Timeout = deadline
			c := newClient(t, cfg, kestra.WithRetry(relPolicy))
			_, err := c.Flows.Get(t.Context(), "demo.reliability", "steady", nil)
			return err
		}},
		{"latency vs context deadline on a POST", func(t *testing.T, srv *kestratest.Server) error {
			c := srv.Client(kestra.WithRetry(relPolicy))
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			_, err := c.Executions.Create(ctx, "demo.reliability", "steady", nil)
			return err
		}},
		{"latency vs context deadline on a follow", func(t *testing.T, srv *kestratest.Server) error {
			c := srv.Client(kestra.WithRetry(relPolicy))
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			var err error
			for _, err = range c.Executions.Follow(ctx, "0000000000000000000000", nil) {
				if err != nil {
					break
				}
			}
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := kestratest.Start(t)
			deploy(t, srv.Client(), relFlow)
			srv.InjectFault(kestratest.Fault{Latency: time.Hour})
			done := make(chan error, 1)
			go func() { done <- tc.call(t, srv) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				// Not a timing check: a liveness guard, 600× the deadline.
				t.Fatal("call still blocked 30s after a 50ms deadline")
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v, want one that wraps context.DeadlineExceeded", err)
			}
			// The server's goroutines and the client's connections are
			// checked by goleak when the package's tests end.
		})
	}
}

// TestReliabilityFollowDropThen503 drops the follow stream after a frame and
// answers the reconnects with 503s: the follow still yields each change at
// most once and the final state exactly once. (Drops alone, at each frame
// position, are in follow_test.go.)
func TestReliabilityFollowDropThen503(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		dropAfter  int // frames before the drop (1 is the start frame)
		status     int
		storm      int // failed answers after the drop
		retryAfter string
	}{
		{"drop after start, then one 503", 1, 503, 1, ""},
		{"drop after start, then 503 storm beyond the transport's retries", 1, 503, 6, ""},
		{"drop after first progress, then 503 with Retry-After 0", 2, 503, 2, "0"},
		{"drop after progress 3, then 503 storm", 4, 503, 6, ""},
		{"drop after progress 3, then 429 storm with Retry-After 0", 4, 429, 6, "0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := kestratest.Start(t, kestratest.WithSpeed(5))
			c := srv.Client(kestra.WithRetry(kestra.RetryPolicy{MaxAttempts: 2, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
			// A last task of 1s (at speed 5) keeps the execution running
			// through the storm on a loaded machine too: had it ended, the
			// GET after the lost connection would give the final state and
			// no good stream would be opened.
			deploy(t, c, relFlow+"  - id: linger\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT5S\n")
			follow := "/api/v1/main/executions/*/follow"
			srv.InjectFault(kestratest.Fault{Method: "GET", Path: follow, Times: 1, DropAfterFrames: tc.dropAfter})
			srv.InjectFault(kestratest.Fault{Method: "GET", Path: follow, Times: tc.storm, Status: tc.status, RetryAfter: tc.retryAfter})
			ex, err := c.Executions.Create(t.Context(), "demo.reliability", "steady", nil)
			if err != nil {
				t.Fatal(err)
			}
			got := collect(t, c.Executions.Follow(t.Context(), ex.ID,
				&kestra.StreamOptions{ReconnectDelay: time.Millisecond, MaxReconnectDelay: 2 * time.Millisecond, MaxReconnects: 10}))
			if last := got[len(got)-1]; last.State.Current != kestra.StateSuccess {
				t.Fatalf("final state %s, want SUCCESS", last.State.Current)
			}
			// One dropped stream, the 503s, one good stream.
			if n := relCount(srv, "GET", "/api/v1/main/executions/"+ex.ID+"/follow"); n != tc.storm+2 {
				t.Errorf("server saw %d follow requests, want %d", n, tc.storm+2)
			}
		})
	}

	t.Run("ended execution, every reconnect gets 503: the budget runs out and GET gives the final state", func(t *testing.T) {
		t.Parallel()
		srv := kestratest.Start(t)
		c := srv.Client(kestra.WithRetry(kestra.RetryPolicy{MaxAttempts: 2, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
		deploy(t, c, relFlow)
		ex, err := c.Executions.Create(t.Context(), "demo.reliability", "steady", &kestra.ExecuteOptions{Wait: true})
		if err != nil {
			t.Fatal(err)
		}
		follow := "/api/v1/main/executions/" + ex.ID + "/follow"
		srv.InjectFault(kestratest.Fault{Method: "GET", Path: follow, Times: 1, DropAfterFrames: 1})
		srv.InjectFault(kestratest.Fault{Method: "GET", Path: follow, Status: 503})
		got := collect(t, c.Executions.Follow(t.Context(), ex.ID,
			&kestra.StreamOptions{ReconnectDelay: time.Millisecond, MaxReconnectDelay: 2 * time.Millisecond, MaxReconnects: 3}))
		if len(got) != 1 || got[0].State.Current != kestra.StateSuccess {
			t.Fatalf("got %d snapshots, want only the final SUCCESS", len(got))
		}
	})

	t.Run("running execution, every reconnect gets 503: an error, not a loop", func(t *testing.T) {
		t.Parallel()
		srv := kestratest.Start(t)
		c := srv.Client(kestra.WithRetry(kestra.RetryPolicy{MaxAttempts: 2, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
		deploy(t, c, relPauseFlow)
		ex, err := c.Executions.Create(t.Context(), "demo.reliability", "held", nil)
		if err != nil {
			t.Fatal(err)
		}
		follow := "/api/v1/main/executions/" + ex.ID + "/follow"
		srv.InjectFault(kestratest.Fault{Method: "GET", Path: follow, Times: 1, DropAfterFrames: 2})
		srv.InjectFault(kestratest.Fault{Method: "GET", Path: follow, Status: 503})
		var last error
		n := 0
		for e, err := range c.Executions.Follow(t.Context(), ex.ID,
			&kestra.StreamOptions{ReconnectDelay: time.Millisecond, MaxReconnectDelay: 2 * time.Millisecond, MaxReconnects: 3}) {
			if err != nil {
				last = err
				break
			}
			if e.IsTerminal() {
				t.Fatalf("paused execution yielded terminal state %s", e.State.Current)
			}
			n++
		}
		var apiErr *kestra.APIError
		if last == nil || !errors.As(last, &apiErr) || apiErr.StatusCode != 503 {
			t.Fatalf("after %d snapshots: error %v, want one carrying the 503", n, last)
		}
		// The dropped stream, then 3 reconnects (the budget), each sent
		// twice by the transport.
		if got := relCount(srv, "GET", follow); got != 1+3*2 {
			t.Errorf("server saw %d follow requests, want 7", got)
		}
	})
}

const relPauseFlow = `id: held
namespace: demo.reliability
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
`
