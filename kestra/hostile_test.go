package kestra_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
)

// Tests of answers and arguments an attacker controls: each failed on the
// client before the request pipeline checked it.

// hostileRetry retries fast, so that a test sees every re-send.
var hostileRetry = kestra.WithRetry(kestra.RetryPolicy{MaxAttempts: 3, MinDelay: time.Millisecond, MaxDelay: time.Millisecond})

// dropConn closes the connection of r without an answer: the request may
// have reached the server, the answer is lost.
func dropConn(t *testing.T, w http.ResponseWriter) {
	t.Helper()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	conn.Close()
}

type argCase struct {
	name  string
	arg   string   // the argument the error must name
	words []string // route words the call must refuse besides "." and ".."
	call  func(ctx context.Context, c *kestra.Client, v string) error
}

func errOnly[T any](_ T, err error) error { return err }

func firstErr[T any](seq func(func(T, error) bool)) error {
	var err error
	seq(func(_ T, e error) bool { err = e; return false })
	return err
}

var execWords = []string{"distinct-field-values", "namespaces", "search"}

func pathArgCases() []argCase {
	return []argCase{
		{"Executions.Get", "executionId", execWords, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Get(ctx, v))
		}},
		{"Executions.Delete", "executionId", []string{"by-ids", "by-query"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return c.Executions.Delete(ctx, v, nil)
		}},
		{"Executions.DownloadFile", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.DownloadFile(ctx, v, "kestra:///a/b/c.txt"))
		}},
		{"Executions.Create namespace", "namespace", []string{"restart", "resume", "labels", "force-run"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Create(ctx, v, "flow", nil))
		}},
		{"Executions.Create flow", "id", []string{"by-ids", "by-query"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Create(ctx, "company.team", v, nil))
		}},
		{"Executions.Kill", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error { return errOnly(c.Executions.Kill(ctx, v)) }},
		{"Executions.Restart", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Restart(ctx, v, nil))
		}},
		{"Executions.Resume", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Resume(ctx, v, nil))
		}},
		{"Executions.ResumeFromBreakpoint", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.ResumeFromBreakpoint(ctx, v))
		}},
		{"Executions.ChangeStatus", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.ChangeStatus(ctx, v, kestra.StateSuccess))
		}},
		{"Executions.ForceRun", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.ForceRun(ctx, v))
		}},
		{"Executions.Unqueue", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Unqueue(ctx, v, ""))
		}},
		{"Executions.Replay", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Replay(ctx, v, nil))
		}},
		{"Executions.Pause", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Pause(ctx, v))
		}},
		{"Executions.SetLabels", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.SetLabels(ctx, v, map[string]string{"team": "data"}))
		}},
		{"Executions.Eval", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Eval(ctx, v, "", "{{ 1 }}"))
		}},
		{"Executions.Eval in a task run", "executionId", []string{"webhook"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Eval(ctx, v, "tr1", "{{ 1 }}"))
		}},
		{"Executions.Eval task run", "taskRunId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Eval(ctx, "e1", v, "{{ 1 }}"))
		}},
		{"Executions.Follow", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return firstErr(c.Executions.Follow(ctx, v, nil))
		}},
		{"Executions.Wait", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Executions.Wait(ctx, v, nil))
		}},
		{"Flows.Get namespace", "namespace", []string{"export"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Flows.Get(ctx, v, "flow", nil))
		}},
		{"Flows.Get id", "id", []string{"by-query"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Flows.Get(ctx, "company.team", v, nil))
		}},
		{"Flows.Delete namespace", "namespace", []string{"delete"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return c.Flows.Delete(ctx, v, "flow")
		}},
		{"Flows.Delete id", "id", []string{"by-query", "by-ids"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return c.Flows.Delete(ctx, "company.team", v)
		}},
		{"Flows.Revisions", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Flows.Revisions(ctx, v, "flow"))
		}},
		{"Flows.ListNamespace", "namespace", []string{"search", "distinct-namespaces", "source", "deprecated"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Flows.ListNamespace(ctx, v))
		}},
		{"Flows.Sync", "namespace", []string{"validate", "import", "bulk"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Flows.Sync(ctx, v, nil, nil))
		}},
		{"Logs.List", "executionId", []string{"search"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Logs.List(ctx, v, nil))
		}},
		{"Logs.Delete", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error { return c.Logs.Delete(ctx, v, nil) }},
		{"Logs.Download", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error { return errOnly(c.Logs.Download(ctx, v)) }},
		{"Logs.Follow", "executionId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return firstErr(c.Logs.Follow(ctx, v, nil))
		}},
		{"KV.Get namespace", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.KV.Get(ctx, v, "key"))
		}},
		{"KV.Get key", "key", []string{"inheritance"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.KV.Get(ctx, "company.team", v))
		}},
		{"KV.Set", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return c.KV.Set(ctx, v, "key", "value", nil)
		}},
		{"KV.Set key", "key", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return c.KV.Set(ctx, "company.team", v, "value", nil)
		}},
		{"KV.Delete", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.KV.Delete(ctx, v, "key"))
		}},
		{"KV.Inherited", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.KV.Inherited(ctx, v))
		}},
		{"Files.Upload", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return c.Files.Upload(ctx, v, "a.txt", strings.NewReader("x"))
		}},
		{"Files.Download", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Files.Download(ctx, v, "a.txt"))
		}},
		{"Files.List", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error { return errOnly(c.Files.List(ctx, v, "/")) }},
		{"Files.Stat", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Files.Stat(ctx, v, "a.txt"))
		}},
		{"Files.Mkdir", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error { return c.Files.Mkdir(ctx, v, "d") }},
		{"Files.Move", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return c.Files.Move(ctx, v, "a.txt", "b.txt")
		}},
		{"Files.Delete", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error { return c.Files.Delete(ctx, v, "a.txt") }},
		{"Files.Export", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error { return errOnly(c.Files.Export(ctx, v)) }},
		{"Triggers.Unlock", "namespace", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Triggers.Unlock(ctx, v, "flow", "schedule"))
		}},
		{"Triggers.Restart trigger", "triggerId", nil, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.Triggers.Restart(ctx, "company.team", "flow", v))
		}},
		{"TriggerWebhook namespace", "namespace", []string{"actions"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.TriggerWebhook(ctx, v, "flow", "key", nil, nil))
		}},
		{"TriggerWebhook key", "key", []string{"validate"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.TriggerWebhook(ctx, "company.team", "flow", v, nil, nil))
		}},
		{"WithTenant", "tenant", []string{"plugins", "users", "tenants", "service-accounts"}, func(ctx context.Context, c *kestra.Client, v string) error {
			return errOnly(c.WithTenant(v).Executions.Get(ctx, "e1"))
		}},
	}
}

// TestPathArgumentsRefusedBeforeAnyRequest walks every method that puts a
// caller's value in a path segment: ".", ".." and the words of the spec's
// routes that would land on another endpoint are refused before any
// request, with an error naming the argument and the value.
func TestPathArgumentsRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		w.WriteHeader(http.StatusTeapot)
	})
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(kestra.NoRetry))
	for _, tc := range pathArgCases() {
		for _, bad := range append([]string{".", ".."}, tc.words...) {
			err := tc.call(t.Context(), c, bad)
			if err == nil {
				t.Errorf("%s(%q): no error", tc.name, bad)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, strconv.Quote(bad)) || !strings.Contains(msg, tc.arg) {
				t.Errorf("%s(%q): error %q does not name the argument %s and its value", tc.name, bad, msg, tc.arg)
			}
		}
	}
	if n := rec.count(); n != 0 {
		t.Errorf("%d requests reached the server, the first %s %s", n, rec.get(0).Method, rec.get(0).URL)
	}
}

// TestPathArgumentsEscaped checks that a value with a slash or a percent
// stays in its own segment.
func TestPathArgumentsEscaped(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		w.WriteHeader(http.StatusNotFound)
	})
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(kestra.NoRetry))
	_ = c.Executions.Delete(t.Context(), "../by-query?x=%2e", nil)
	_ = c.Flows.Delete(t.Context(), "a/b", "c/../d")
	equal(t, "requests", rec.count(), 2)
	equal(t, "escaped id", rec.get(0).URL.RawPath, "/api/v1/main/executions/..%2Fby-query%3Fx=%252e")
	equal(t, "escaped flow", rec.get(1).URL.RawPath, "/api/v1/main/flows/a%2Fb/c%2F..%2Fd")
}

// TestNeverResentOnceSent checks the calls that may start or move
// something: a connection lost after the request was written, or a 504
// from a proxy, ends the call instead of sending it again.
func TestNeverResentOnceSent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		call func(ctx context.Context, c *kestra.Client) error
	}{
		{"webhook GET", func(ctx context.Context, c *kestra.Client) error {
			return errOnly(c.TriggerWebhook(ctx, "company.team", "flow", "key", nil, &kestra.WebhookOptions{Method: "GET"}))
		}},
		{"webhook PUT", func(ctx context.Context, c *kestra.Client) error {
			return errOnly(c.TriggerWebhook(ctx, "company.team", "flow", "key", strings.NewReader(`{}`), &kestra.WebhookOptions{Method: "PUT"}))
		}},
		{"webhook POST", func(ctx context.Context, c *kestra.Client) error {
			return errOnly(c.TriggerWebhook(ctx, "company.team", "flow", "key", strings.NewReader(`{}`), nil))
		}},
		{"Files.Move", func(ctx context.Context, c *kestra.Client) error {
			return c.Files.Move(ctx, "company.team", "a.txt", "b.txt")
		}},
		{"Executions.Restart", func(ctx context.Context, c *kestra.Client) error {
			return errOnly(c.Executions.Restart(ctx, "e1", nil))
		}},
	}
	for _, how := range []string{"drop", "504"} {
		for _, tc := range cases {
			t.Run(how+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				var sent atomic.Int32
				srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/api/v1/configs" {
						_, _ = io.WriteString(w, `{"version":"2.0.0"}`)
						return
					}
					sent.Add(1)
					_, _ = io.Copy(io.Discard, r.Body)
					if how == "drop" {
						dropConn(t, w)
						return
					}
					w.WriteHeader(http.StatusGatewayTimeout)
				})
				c := newClient(t, kestra.Config{URL: srv.URL}, hostileRetry)
				if err := tc.call(t.Context(), c); err == nil {
					t.Error("no error")
				}
				equal(t, "requests", sent.Load(), int32(1))
			})
		}
	}
}

// TestRetriedDeleteThatFindsNothingSucceeds: the first attempt deletes and
// its answer is lost; the retry finds nothing, which is the success the
// caller asked for.
func TestRetriedDeleteThatFindsNothingSucceeds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		notFound string // the answer of the retry
		call     func(ctx context.Context, c *kestra.Client) error
	}{
		{"Executions.Delete", "", func(ctx context.Context, c *kestra.Client) error { return c.Executions.Delete(ctx, "e1", nil) }},
		{"Flows.Delete", "", func(ctx context.Context, c *kestra.Client) error { return c.Flows.Delete(ctx, "company.team", "flow") }},
		{"Files.Delete", "", func(ctx context.Context, c *kestra.Client) error { return c.Files.Delete(ctx, "company.team", "a.txt") }},
		{"KV.Delete", "false", func(ctx context.Context, c *kestra.Client) error {
			deleted, err := c.KV.Delete(ctx, "company.team", "key")
			if err == nil && !deleted {
				return errors.New("KV.Delete reports the key did not exist")
			}
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var sent atomic.Int32
			srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
				if sent.Add(1) == 1 {
					dropConn(t, w)
					return
				}
				if tc.notFound != "" {
					w.Header().Set("Content-Type", "application/json")
					_, _ = io.WriteString(w, tc.notFound)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				_, _ = io.WriteString(w, `{"message":"Not Found: gone"}`)
			})
			c := newClient(t, kestra.Config{URL: srv.URL}, hostileRetry)
			if err := tc.call(t.Context(), c); err != nil {
				t.Errorf("after a lost answer: %v", err)
			}
			equal(t, "requests", sent.Load(), int32(2))
		})
	}
	t.Run("not retried: 404 is an error", func(t *testing.T) {
		t.Parallel()
		_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) }, hostileRetry)
		if err := c.Executions.Delete(t.Context(), "e1", nil); !errors.Is(err, kestra.ErrNotFound) {
			t.Errorf("Delete of an unknown execution: %v, want ErrNotFound", err)
		}
	})
}

// TestKillConflictAfterRetryReadsTheExecution: the kill's answer is lost,
// its retry is refused as the execution is no longer running; Kill returns
// the execution.
func TestKillConflictAfterRetryReadsTheExecution(t *testing.T) {
	t.Parallel()
	var kills atomic.Int32
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v1/configs":
			_, _ = io.WriteString(w, `{"version":"2.0.0"}`)
		case r.Method == http.MethodDelete:
			if kills.Add(1) == 1 {
				dropConn(t, w)
				return
			}
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"message":"Conflict: execution already killed"}`)
		default:
			_, _ = io.WriteString(w, `{"id":"e1","namespace":"company.team","flowId":"flow","state":{"current":"KILLED"}}`)
		}
	})
	c := newClient(t, kestra.Config{URL: srv.URL}, hostileRetry)
	e, err := c.Executions.Kill(t.Context(), "e1")
	if err != nil {
		t.Fatalf("Kill after a lost answer: %v", err)
	}
	equal(t, "state", e.State.Current, kestra.StateKilled)
	equal(t, "kills", kills.Load(), int32(2))
}

// TestResponseCapBoundsMemory measures what one call allocates against a
// server that sends far more than the cap, in every way it can.
func TestResponseCapBoundsMemory(t *testing.T) {
	// Not parallel: the measure is of the whole process.
	const limit = 1 << 20
	const sent = 16 << 20
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write([]byte(`{"id":"`))
	_, _ = zw.Write(make([]byte, sent))
	_ = zw.Close()
	chunk := bytes.Repeat([]byte(" "), 64<<10)
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    func(error) bool
	}{
		{"chunked body past the cap", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"`))
			for range sent / len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, func(err error) bool { return errors.Is(err, kestra.ErrResponseTooLarge) }},
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb.Bytes())
		}, func(err error) bool { return errors.Is(err, kestra.ErrResponseTooLarge) }},
		{"gzip bomb with a 500", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write(bomb.Bytes())
		}, func(err error) bool {
			var apiErr *kestra.APIError
			return errors.As(err, &apiErr) && apiErr.StatusCode == 500
		}},
		{"Content-Length of 256 MiB", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(256<<20))
			_, _ = w.Write([]byte(`{"id":"x"}`))
		}, func(err error) bool { return errors.Is(err, kestra.ErrResponseTooLarge) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newRawEnv(t, tc.handler, kestra.WithMaxResponseSize(limit))
			// A first call opens the connection, whose buffers are not the
			// call's.
			_, _ = c.Executions.Get(t.Context(), "warm")
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := c.Executions.Get(t.Context(), "e1")
			runtime.ReadMemStats(&after)
			if !tc.want(err) {
				t.Errorf("error %v", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > limit+1<<20 {
				t.Errorf("one call allocated %d KiB, want at most the cap + 1 MiB (%d KiB)", got>>10, (limit+1<<20)>>10)
			}
		})
	}
}

// TestServerProbeSharedAndRemembered: the version probe of calls whose
// path depends on it is made once for concurrent callers, each waiting on
// its own ctx, and a failure is not asked again by every call.
func TestServerProbeSharedAndRemembered(t *testing.T) {
	t.Parallel()
	t.Run("failure remembered", func(t *testing.T) {
		t.Parallel()
		var probes atomic.Int32
		srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/configs" {
				probes.Add(1)
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"e1","state":{"current":"KILLING"}}`)
		})
		c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(kestra.NoRetry))
		for range 3 {
			if _, err := c.Executions.Kill(t.Context(), "e1"); err != nil {
				t.Fatal(err)
			}
		}
		equal(t, "probes", probes.Load(), int32(1))
	})
	t.Run("one probe, each caller on its own ctx", func(t *testing.T) {
		t.Parallel()
		probing := make(chan struct{})
		release := make(chan struct{})
		var once sync.Once
		var probeDone atomic.Bool
		srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/configs" {
				once.Do(func() { close(probing) })
				select {
				case <-release:
				case <-r.Context().Done():
				}
				probeDone.Store(true)
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"e1","state":{"current":"KILLING"}}`)
		})
		defer close(release)
		c := newClient(t, kestra.Config{URL: srv.URL, Timeout: 4 * time.Second}, kestra.WithRetry(kestra.NoRetry))
		first := make(chan error, 1)
		go func() { first <- errOnly(c.Executions.Kill(context.Background(), "e1")) }()
		<-probing
		ctx, cancel := context.WithCancel(t.Context())
		second := make(chan error, 1)
		go func() { second <- errOnly(c.Executions.Kill(ctx, "e1")) }()
		cancel()
		if err := <-second; !errors.Is(err, context.Canceled) {
			t.Errorf("second caller: %v, want context.Canceled", err)
		}
		if probeDone.Load() {
			t.Error("the second caller returned only once the probe ended")
		}
		// The first caller's probe gives up within its share of
		// Config.Timeout, and the call goes on without the version.
		if err := <-first; err != nil {
			t.Errorf("first caller: %v", err)
		}
	})
}

// fakeRT answers every request from a function, as a custom RoundTripper.
type fakeRT func(*http.Request) (*http.Response, error)

func (f fakeRT) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func fakeClient(t testing.TB, rt http.RoundTripper) *kestra.Client {
	t.Helper()
	c := newClient(t, kestra.Config{URL: "http://kestra.invalid"}, kestra.WithHTTPClient(&http.Client{Transport: rt}), kestra.WithRetry(kestra.NoRetry))
	return c
}

// TestFaultyRoundTripperNoPanic: a RoundTripper that returns (nil, nil),
// or a response without its request, is an error, not a panic.
func TestFaultyRoundTripperNoPanic(t *testing.T) {
	t.Parallel()
	c := fakeClient(t, fakeRT(func(*http.Request) (*http.Response, error) { return nil, nil }))
	if _, err := c.Executions.Get(t.Context(), "e1"); err == nil {
		t.Error("(nil, nil) from the transport: no error")
	}
	c = fakeClient(t, fakeRT(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("<html>"))}, nil
	}))
	if _, err := c.Executions.Get(t.Context(), "e1"); err == nil {
		t.Error("HTML answer without a request: no error")
	}
}

// TestNullAnswersAreErrors: a null answer, or a null element of a list, is
// an error, never a nil item with a nil error.
func TestNullAnswersAreErrors(t *testing.T) {
	t.Parallel()
	answer := func(body string) *kestra.Client {
		return fakeClient(t, fakeRT(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		}))
	}
	if e, err := answer("null").Executions.Get(t.Context(), "e1"); err == nil {
		t.Errorf("Get of null = %+v, nil", e)
	}
	if _, err := answer(`{"results":[null],"total":1}`).Flows.List(t.Context(), nil); err == nil {
		t.Error("Flows.List with a null flow: no error")
	}
	for e, err := range answer(`{"results":[null],"total":1}`).Executions.All(t.Context(), nil) {
		if err == nil && e == nil {
			t.Error("Executions.All yielded (nil, nil)")
		}
		break
	}
	if _, err := answer(`[null]`).Flows.Revisions(t.Context(), "company.team", "flow"); err == nil {
		t.Error("Flows.Revisions with a null flow: no error")
	}
}

// TestWebhookKeyRedacted: the webhook key is a secret, kept out of errors
// and debug logs.
func TestWebhookKeyRedacted(t *testing.T) {
	t.Parallel()
	const key = "k3y-5ecret-value"
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"Not Found: no webhook"}`)
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithLogger(logger))
	_, err := c.TriggerWebhook(t.Context(), "company.team", "flow", key, nil, nil)
	var apiErr *kestra.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v, want an *APIError", err)
	}
	noSecret(t, "Error()", err.Error(), key)
	noSecret(t, "APIError.URL", apiErr.URL, key)
	noSecret(t, "debug log", logs.String(), key)
	if !strings.Contains(logs.String(), "REDACTED") {
		t.Errorf("log %q does not show where the key was", logs.String())
	}
	// A connection error carries the URL too.
	closed := startServer(t, func(w http.ResponseWriter, r *http.Request) { dropConn(t, w) })
	c = newClient(t, kestra.Config{URL: closed.URL}, kestra.WithRetry(kestra.NoRetry))
	_, err = c.TriggerWebhook(t.Context(), "company.team", "flow", key, nil, nil)
	if err == nil {
		t.Fatal("no error")
	}
	noSecret(t, "transport error", err.Error(), key)
}

// TestCrossHostRedirectKeepsSafeHeadersOnly: headers a request editor adds
// stay with the configured server.
func TestCrossHostRedirectKeepsSafeHeadersOnly(t *testing.T) {
	t.Parallel()
	var got http.Header
	var mu sync.Mutex
	other := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"e1"}`)
	})
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	c := newClient(t, kestra.Config{URL: srv.URL, Token: "tok"}, kestra.WithRequestEditor(func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-Api-Key", "editor-secret")
		r.Header.Set("Accept-Language", "fr")
		return nil
	}))
	if _, err := c.Executions.Get(t.Context(), "e1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	equal(t, "X-Api-Key on the other host", got.Get("X-Api-Key"), "")
	equal(t, "Authorization on the other host", got.Get("Authorization"), "")
	equal(t, "Accept-Language on the other host", got.Get("Accept-Language"), "fr")
	if got.Get("User-Agent") == "" {
		t.Error("User-Agent dropped")
	}
}

// TestBulkRefusalPastErrorBodyKeepsEveryViolation: a refusal of 2,000 ids
// is longer than the 64 KiB APIError.Body keeps; every violation is read.
func TestBulkRefusalPastErrorBodyKeepsEveryViolation(t *testing.T) {
	t.Parallel()
	const n = 2000
	ids := make([]string, n)
	type invalid struct {
		Message      string `json:"message"`
		InvalidValue string `json:"invalidValue"`
	}
	invalids := make([]invalid, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("unknown-execution-%05d", i)
		invalids[i] = invalid{"execution not found", ids[i]}
	}
	body, err := json.Marshal(map[string]any{"message": "invalid bulk delete", "invalids": invalids})
	if err != nil {
		t.Fatal(err)
	}
	if len(body) <= 64<<10 {
		t.Fatalf("body of %d bytes: not past 64 KiB", len(body))
	}
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(body)
	})
	c := newClient(t, kestra.Config{URL: srv.URL})
	_, err = c.Executions.DeleteByIDs(t.Context(), ids, nil)
	var apiErr *kestra.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v", err)
	}
	equal(t, "violations", len(apiErr.Violations), n)
	if len(apiErr.Violations) == n {
		equal(t, "last violation", apiErr.Violations[n-1].Path, ids[n-1])
	}
	if len(apiErr.Body) > 64<<10 {
		t.Errorf("Body keeps %d bytes", len(apiErr.Body))
	}
}

// TestHugeRetryAfterGivesUp: a Retry-After too large for a Duration is past
// MaxRetryAfter, not a negative wait.
func TestHugeRetryAfterGivesUp(t *testing.T) {
	t.Parallel()
	var sent atomic.Int32
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		if sent.Add(1) == 1 {
			w.Header().Set("Retry-After", "9999999999")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"e1"}`)
	})
	c := newClient(t, kestra.Config{URL: srv.URL}, hostileRetry)
	_, err := c.Executions.Get(t.Context(), "e1")
	if !errors.Is(err, &kestra.APIError{StatusCode: 503}) {
		var apiErr *kestra.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
			t.Errorf("error %v, want the 503", err)
		}
	}
	equal(t, "requests", sent.Load(), int32(1))
}

// TestServerMessageControlCharsEscaped: a message cannot forge log lines
// or drive a terminal through Error().
func TestServerMessageControlCharsEscaped(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"message":"bad\r\nlevel=ERROR msg=forged\u001b[31m\u0085"}`)
	})
	c := newClient(t, kestra.Config{URL: srv.URL})
	_, err := c.Executions.Get(t.Context(), "e1")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n\x1b\u0085") {
		t.Errorf("Error() = %q carries control characters", msg)
	}
	if !strings.Contains(msg, `bad\r\nlevel=ERROR`) {
		t.Errorf("Error() = %q, want the message escaped", msg)
	}
}

// TestInt32ArgumentsOutOfRangeRefused: Kestra reads revisions, pages and
// sizes as 32-bit integers; a larger value would wrap.
func TestInt32ArgumentsOutOfRangeRefused(t *testing.T) {
	t.Parallel()
	if strconv.IntSize < 64 {
		t.Skip("int is 32 bits")
	}
	var rec requests
	_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) { rec.add(r, ""); w.WriteHeader(http.StatusTeapot) })
	big := 1<<32 + 1
	calls := map[string]func() error{
		"ExecuteOptions.Revision": func() error {
			return errOnly(c.Executions.Create(t.Context(), "company.team", "flow", &kestra.ExecuteOptions{Revision: big}))
		},
		"FlowGetOptions.Revision": func() error {
			return errOnly(c.Flows.Get(t.Context(), "company.team", "flow", &kestra.FlowGetOptions{Revision: big}))
		},
		"RestartOptions.Revision": func() error {
			return errOnly(c.Executions.Restart(t.Context(), "e1", &kestra.RestartOptions{Revision: big}))
		},
		"FlowSearchOptions.Size": func() error {
			return errOnly(c.Flows.List(t.Context(), &kestra.FlowSearchOptions{ListOptions: kestra.ListOptions{Size: 1 << 32}}))
		},
		"ExecutionSearchOptions.Page": func() error {
			return errOnly(c.Executions.List(t.Context(), &kestra.ExecutionSearchOptions{ListOptions: kestra.ListOptions{Page: big}}))
		},
	}
	for name, call := range calls {
		if err := call(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s out of range: %v", name, err)
		}
	}
	equal(t, "requests", rec.count(), 0)
}

// TestTimeoutBoundsTheWholeCall: Config.Timeout bounds a call as a whole,
// so every request it makes (version probe, action, the read that
// completes an answer without a body) shares one deadline, instead of a
// fresh Timeout each.
func TestTimeoutBoundsTheWholeCall(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	deadlines := map[string]time.Time{}
	rt := fakeRT(func(r *http.Request) (*http.Response, error) {
		d, ok := r.Context().Deadline()
		if !ok {
			t.Errorf("%s %s without a deadline", r.Method, r.URL.Path)
		}
		mu.Lock()
		deadlines[r.Method+" "+r.URL.Path] = d
		mu.Unlock()
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
			Body: io.NopCloser(strings.NewReader(`{"id":"e1","state":{"current":"KILLING"}}`))}
		switch r.Method + " " + r.URL.Path {
		case "GET /api/v1/configs":
			resp.StatusCode, resp.Body = 503, io.NopCloser(strings.NewReader(""))
		case "DELETE /api/v1/main/executions/e1/actions/kill":
			resp.StatusCode, resp.Body = 202, io.NopCloser(strings.NewReader(""))
		}
		return resp, nil
	})
	c := newClient(t, kestra.Config{URL: "http://kestra.invalid", Timeout: time.Minute},
		kestra.WithHTTPClient(&http.Client{Transport: rt}), kestra.WithRetry(kestra.NoRetry))
	if _, err := c.Executions.Kill(t.Context(), "e1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	kill, get := deadlines["DELETE /api/v1/main/executions/e1/actions/kill"], deadlines["GET /api/v1/main/executions/e1"]
	probe := deadlines["GET /api/v1/configs"]
	if kill.IsZero() || get.IsZero() || probe.IsZero() {
		t.Fatalf("requests %v", deadlines)
	}
	if get.After(kill) || probe.After(kill) {
		t.Errorf("deadlines: probe %v, kill %v, read %v: want one for the whole call", probe, kill, get)
	}
}

// TestRouteWordsOnlyWhereTheyCollide: a word of the routes is refused only
// in the place where it would reach another route.
func TestRouteWordsOnlyWhereTheyCollide(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		w.WriteHeader(http.StatusNotFound)
	})
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(kestra.NoRetry))
	_, _ = c.Flows.Get(t.Context(), "company.team", "export", nil)          // "export" collides as a namespace only
	_, _ = c.KV.Get(t.Context(), "inheritance", "key")                      // and "inheritance" as a key only
	_, _ = c.Executions.Create(t.Context(), "company.team", "restart", nil) // "restart" as a namespace only
	equal(t, "requests", rec.count(), 3)
}
