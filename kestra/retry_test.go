package kestra_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
)

// scripted answers the n-th request (from 0) with statuses[n], the last
// status repeating, and records the requests and their bodies.
func scripted(t *testing.T, rec *requests, statuses ...int) *httptest.Server {
	t.Helper()
	return startServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.add(r, string(body))
		status := statuses[min(rec.count(), len(statuses))-1]
		if status != http.StatusOK {
			w.WriteHeader(status)
			return
		}
		okExecution(w, r)
	})
}

func TestRetryStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		statuses []int
		policy   kestra.RetryPolicy
		requests int
		status   int // 0: success
	}{
		{"503 503 200", []int{503, 503, 200}, fastRetry, 3, 0},
		{"502 then 200", []int{502, 200}, fastRetry, 2, 0},
		{"504 then 200", []int{504, 200}, fastRetry, 2, 0},
		{"429 then 200", []int{429, 200}, fastRetry, 2, 0},
		{"503 forever", []int{503}, fastRetry, 3, 503},
		{"500 is not retried", []int{500, 200}, fastRetry, 1, 500},
		{"404 is not retried", []int{404, 200}, fastRetry, 1, 404},
		{"NoRetry", []int{503, 200}, kestra.NoRetry, 1, 503},
		{"five attempts", []int{503}, kestra.RetryPolicy{MaxAttempts: 5, MinDelay: time.Millisecond}, 5, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec requests
			srv := scripted(t, &rec, tc.statuses...)
			c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(tc.policy))
			exec, err := c.Executions.Get(t.Context(), "abc")
			equal(t, "requests", rec.count(), tc.requests)
			if tc.status == 0 {
				if err != nil || exec.ID != "abc" {
					t.Fatalf("Get = %v, %v", exec, err)
				}
				return
			}
			var apiErr *kestra.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want an *APIError", err)
			}
			equal(t, "StatusCode", apiErr.StatusCode, tc.status)
		})
	}
}

// The default policy makes 3 attempts; its backoff (250ms, 500ms) makes this
// test take about 0.6s.
func TestDefaultRetryPolicy(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := scripted(t, &rec, 503)
	c := newClient(t, kestra.Config{URL: srv.URL})
	_, err := c.Executions.Get(t.Context(), "abc")
	if !isStatus(err, http.StatusServiceUnavailable) {
		t.Fatalf("error = %v, want a 503 *APIError", err)
	}
	equal(t, "requests", rec.count(), 3)
}

func isStatus(err error, status int) bool {
	var apiErr *kestra.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == status
}

func TestPostIsNotRetriedOnStatus(t *testing.T) {
	t.Parallel()
	for _, status := range []int{429, 502, 503, 504} {
		var rec requests
		srv := scripted(t, &rec, status, 200)
		c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(fastRetry))
		resp, err := c.API().CreateFlowWithBody(t.Context(), "main", nil, "application/x-yaml", strings.NewReader("id: hello\nnamespace: company.team"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		equal(t, "status", resp.StatusCode, status)
		equal(t, "requests", rec.count(), 1)
	}
}

// countingDialer counts the connections a client opens.
func countingDialer(dials *atomic.Int32) *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// A POST whose connection was refused never reached Kestra: it is retried.
func TestPostRetriedWhenConnectionRefused(t *testing.T) {
	t.Parallel()
	var dials atomic.Int32
	c := newClient(t, kestra.Config{URL: "http://" + closedAddr(t)},
		kestra.WithRetry(fastRetry), kestra.WithHTTPClient(countingDialer(&dials)))
	_, err := c.API().CreateFlowWithBody(t.Context(), "main", nil, "application/x-yaml", strings.NewReader("id: hello"))
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("error = %v, want a *net.OpError", err)
	}
	equal(t, "dials", dials.Load(), int32(3))
}

// A POST whose connection broke after it was sent may have created
// something: it is not sent again.
func TestPostNotRetriedAfterSending(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(fastRetry))
	_, err := c.API().CreateFlowWithBody(t.Context(), "main", nil, "application/x-yaml", strings.NewReader("id: hello"))
	if err == nil {
		t.Fatal("no error from a dropped connection")
	}
	equal(t, "requests", hits.Load(), int32(1))

	// The same failure on a GET is retried.
	hits.Store(0)
	_, err = c.Executions.Get(t.Context(), "abc")
	if err == nil {
		t.Fatal("no error from a dropped connection")
	}
	equal(t, "GET requests", hits.Load(), int32(3))
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	var times [2]time.Time
	var n atomic.Int32
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if i <= 2 {
			times[i-1] = time.Now()
		}
		if i == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		okExecution(w, r)
	})
	// MinDelay is tiny: only Retry-After can make the client wait.
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(fastRetry))
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	equal(t, "requests", n.Load(), int32(2))
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, want Retry-After's 1s", gap)
	}
}

func TestRetryAfterBeyondMax(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	policy := fastRetry
	policy.MaxRetryAfter = time.Second
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(policy))
	start := time.Now()
	_, err := c.Executions.Get(t.Context(), "abc")
	if !isStatus(err, http.StatusServiceUnavailable) {
		t.Fatalf("error = %v, want the 503", err)
	}
	equal(t, "requests", rec.count(), 1)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("returned after %v, want at once", d)
	}
}

// A Retry-After past the context's deadline is not waited for.
func TestRetryAfterBeyondDeadline(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := newClient(t, kestra.Config{URL: srv.URL, Timeout: 2 * time.Second}, kestra.WithRetry(fastRetry))
	start := time.Now()
	_, err := c.Executions.Get(t.Context(), "abc")
	if !isStatus(err, http.StatusServiceUnavailable) {
		t.Fatalf("error = %v, want the 503", err)
	}
	equal(t, "requests", rec.count(), 1)
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v, want at once", d)
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	t.Parallel()
	// A backoff of 10s, shorter than the call's 30s deadline.
	slow := kestra.RetryPolicy{MaxAttempts: 3, MinDelay: 10 * time.Second, MaxDelay: 10 * time.Second}
	for _, tc := range []struct {
		name string
		url  func(t *testing.T, first chan<- struct{}) string
	}{
		{"after a 503", func(t *testing.T, first chan<- struct{}) string {
			var n atomic.Int32
			return startServer(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					close(first)
				}
				w.WriteHeader(http.StatusServiceUnavailable)
			}).URL
		}},
		{"after a connection error", func(t *testing.T, first chan<- struct{}) string {
			close(first)
			return "http://" + closedAddr(t)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			first := make(chan struct{})
			c := newClient(t, kestra.Config{URL: tc.url(t, first)}, kestra.WithRetry(slow))
			ctx, cancel := context.WithCancel(t.Context())
			go func() {
				<-first
				time.Sleep(50 * time.Millisecond) // into the backoff
				cancel()
			}()
			start := time.Now()
			_, err := c.Executions.Get(ctx, "abc")
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("returned after %v", d)
			}
		})
	}
}

// cancelOn503 answers 503 and ends the call's context before its answer is
// back: the context is done when the client sees the 503.
type cancelOn503 struct {
	cancel context.CancelFunc
	calls  atomic.Int32
}

func (c *cancelOn503) RoundTrip(r *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	c.cancel()
	return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
		Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// An answer that would be retried, arriving when the context has ended,
// ends the call with the context's error, as a cancel during the backoff
// does: not with the answer, and without another attempt.
func TestRetryableAnswerAfterCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	rt := &cancelOn503{cancel: cancel}
	c := newClient(t, kestra.Config{URL: "http://kestra.test"}, kestra.WithHTTPClient(&http.Client{Transport: rt}), kestra.WithRetry(fastRetry))
	_, err := c.Executions.Get(ctx, "abc")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if n := rt.calls.Load(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestPutBodyIsReplayed(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := scripted(t, &rec, 503, 502, 200)
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(fastRetry))
	source := "id: hello\nnamespace: company.team\ntasks: []\n"
	resp, err := c.API().UpdateFlowWithBody(t.Context(), "main", "company.team", "hello", nil, "application/x-yaml", bytes.NewReader([]byte(source)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	equal(t, "status", resp.StatusCode, http.StatusOK)
	equal(t, "requests", rec.count(), 3)
	for i := range rec.count() {
		equal(t, "method", rec.get(i).Method, http.MethodPut)
		equal(t, "body", rec.body[i], source)
		equal(t, "Content-Type", rec.get(i).Header.Get("Content-Type"), "application/x-yaml")
	}
}

func TestNonReplayableBodyIsNotRetried(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := scripted(t, &rec, 503, 200)
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(fastRetry))
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("id: hello\n"))
		pw.Close()
	}()
	resp, err := c.API().UpdateFlowWithBody(t.Context(), "main", "company.team", "hello", nil, "application/x-yaml", pr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	equal(t, "status", resp.StatusCode, http.StatusServiceUnavailable)
	equal(t, "requests", rec.count(), 1)
	equal(t, "body", rec.body[0], "id: hello\n")
}

func TestTimeoutCutsSlowCalls(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
			return
		}
		okExecution(w, r)
	})
	c := newClient(t, kestra.Config{URL: srv.URL, Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := c.Executions.Get(t.Context(), "abc")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v, want about 100ms", d)
	}
}

// The deadline bounds the whole call, body included, and is released when
// the body is closed.
func TestTimeoutCoversTheBody(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"id":`))
		w.(http.Flusher).Flush()
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	c := newClient(t, kestra.Config{URL: srv.URL, Timeout: 200 * time.Millisecond})
	_, err := c.Executions.Get(t.Context(), "abc")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
}

func TestTimeoutSparesStreams(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for i := range 3 {
			select {
			case <-time.After(150 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			_, _ = w.Write([]byte("id: progress\ndata: {\"n\":" + string(rune('0'+i)) + "}\n\n"))
			w.(http.Flusher).Flush()
		}
	})
	// The operation makes it a stream, with no header to set, behind a
	// reverse-proxy prefix too.
	for _, base := range []string{srv.URL, srv.URL + "/kestra"} {
		c := newClient(t, kestra.Config{URL: base, Timeout: 100 * time.Millisecond})
		resp, err := c.API().FollowExecution(t.Context(), "main", "abc")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: reading the stream after %d bytes: %v", base, len(body), err)
		}
		equal(t, "frames", strings.Count(string(body), "id: progress"), 3)
	}
	// Another operation of the generated client keeps the timeout.
	c := newClient(t, kestra.Config{URL: srv.URL, Timeout: 100 * time.Millisecond})
	resp, err := c.API().GetExecution(t.Context(), "main", "abc")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetExecution through API(): %v, want the client's timeout", err)
	}
}

func TestNegativeTimeoutMeansNone(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		okExecution(w, r)
	})
	c := newClient(t, kestra.Config{URL: srv.URL, Timeout: -1})
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Error(err)
	}
}

// Each attempt is logged at debug level, without secrets.
func TestRetryLogging(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := scripted(t, &rec, 503, 200)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, kestra.Config{URL: srv.URL, Username: "alice", Password: "pass-s3cret"},
		kestra.WithRetry(fastRetry), kestra.WithLogger(logger))
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	tok := newClient(t, kestra.Config{URL: "http://" + closedAddr(t), Token: "tok-s3cret"},
		kestra.WithRetry(fastRetry), kestra.WithLogger(logger))
	if _, err := tok.Executions.Get(t.Context(), "abc"); err == nil {
		t.Fatal("no error from a closed port")
	}
	logger.Info("clients", "client", c, "token client", tok, "config", c.Config(), "token config", tok.Config())

	out := logs.String()
	noSecret(t, "logs", out, "s3cret", "YWxpY2U6cGFzcy1zM2NyZXQ=" /* base64 alice:pass-s3cret */, "Authorization")
	for _, want := range []string{"attempt=1", "attempt=2", "status=503", "status=200", "method=GET", "/api/v1/main/executions/abc", "error="} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
}
