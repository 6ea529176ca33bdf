package kestra_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kestra-go/sdk/kestra"
)

// streamServer is an httptest server with a handler per route: the
// execution's follow stream, the log stream, and GET of the execution.
// Handlers that hold a connection open return when the client leaves or
// the test ends (quit).
type streamServer struct {
	srv                     *httptest.Server
	quit                    chan struct{}
	execFollow, logFollow   http.HandlerFunc
	get                     http.HandlerFunc
	gets, follows, logConns atomic.Int32
}

func newStreamServer(t *testing.T) *streamServer {
	t.Helper()
	s := &streamServer{quit: make(chan struct{})}
	s.srv = startServer(t, func(w http.ResponseWriter, r *http.Request) {
		var h http.HandlerFunc
		switch {
		case strings.Contains(r.URL.Path, "/logs/") && strings.HasSuffix(r.URL.Path, "/follow"):
			s.logConns.Add(1)
			h = s.logFollow
		case strings.HasSuffix(r.URL.Path, "/follow"):
			s.follows.Add(1)
			h = s.execFollow
		default:
			s.gets.Add(1)
			h = s.get
		}
		if h == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		h(w, r)
	})
	t.Cleanup(func() { close(s.quit) })
	return s
}

// client is a client of the server that keeps no idle connection, so that
// goleak sees every goroutine end.
func (s *streamServer) client(t *testing.T) *kestra.Client {
	t.Helper()
	return newClient(t, kestra.Config{URL: s.srv.URL}, kestra.WithRetry(kestra.NoRetry),
		kestra.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
}

// serveSSE writes body as an event stream; with hold it then keeps the
// connection open, silent, until the client leaves or the test ends.
func (s *streamServer) serveSSE(body func(n int) string, hold bool) http.HandlerFunc {
	var conns atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		n := int(conns.Add(1)) - 1
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = fmt.Fprint(w, body(n))
		w.(http.Flusher).Flush()
		if hold {
			select {
			case <-r.Context().Done():
			case <-s.quit:
			}
		}
	}
}

// serveJSON answers with status and body.
func serveJSON(status func() (int, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		code, body := status()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = fmt.Fprint(w, body)
	}
}

func execJSON(id, state string) string {
	return fmt.Sprintf(`{"id":%q,"namespace":"n","flowId":"f","state":{"current":%q}}`, id, state)
}

func frame(tag, data string) string { return "id: " + tag + "\ndata: " + data + "\n\n" }

const startFrame = "id: start\ndata: {\"id\":\"e1\",\"labels\":[],\"deleted\":false}\n\n"

// TestStreamNeverConnected: a stream whose server is down fails as a plain
// call does, once the client's retry policy is spent, with the dial error;
// it is not reconnected.
func TestStreamNeverConnected(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, a)
	}}
	policy := kestra.RetryPolicy{MaxAttempts: 3, MinDelay: time.Millisecond, MaxDelay: time.Millisecond}
	c := newClient(t, kestra.Config{URL: "http://" + addr}, kestra.WithRetry(policy), kestra.WithHTTPClient(&http.Client{Transport: tr}))
	opts := &kestra.StreamOptions{ReconnectDelay: time.Millisecond, MaxReconnectDelay: time.Millisecond}
	check := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s: err = %v, want the dial error (connection refused)", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "connection lost") {
			t.Errorf("%s: %q speaks of a lost connection; none was ever made", name, err)
		}
		if n := dials.Swap(0); n != int32(policy.MaxAttempts) {
			t.Errorf("%s: %d dials, want %d (the retry policy, no reconnects)", name, n, policy.MaxAttempts)
		}
	}
	var last error
	for _, err := range c.Executions.Follow(testCtx(t), "e1", opts) {
		last = err
	}
	check("Follow", last)
	_, err = c.Executions.Wait(testCtx(t), "e1", opts)
	check("Wait", err)
	last = nil
	for _, err := range c.Logs.Follow(testCtx(t), "e1", &kestra.LogFollowOptions{StreamOptions: *opts}) {
		last = err
	}
	check("Logs.Follow", last)
}

// TestFollowChecksFrames: a frame is trusted only when it carries the
// execution followed, and an end frame a final state; otherwise GET decides.
func TestFollowChecksFrames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		body  string
		get   string // the execution as GET answers it
		state kestra.StateType
	}{
		{"end without data", startFrame + frame("end", "null"), execJSON("e1", "SUCCESS"), kestra.StateSuccess},
		{"end in a running state", startFrame + frame("end", execJSON("e1", "RUNNING")), execJSON("e1", "SUCCESS"), kestra.StateSuccess},
		{"end of another execution", startFrame + frame("end", execJSON("e2", "FAILED")), execJSON("e1", "SUCCESS"), kestra.StateSuccess},
		{"end without an id", startFrame + frame("end", `{"state":{"current":"FAILED"}}`), execJSON("e1", "WARNING"), kestra.StateWarning},
		{"null progress, then the end", startFrame + frame("progress", "null") + frame("end", execJSON("e1", "SUCCESS")), execJSON("e1", "RUNNING"), kestra.StateSuccess},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStreamServer(t)
			s.execFollow = s.serveSSE(func(int) string { return tc.body }, false)
			s.get = serveJSON(func() (int, string) { return 200, tc.get })
			c := s.client(t)
			for e, err := range c.Executions.Follow(testCtx(t), "e1", nil) {
				if err != nil {
					t.Fatal(err)
				}
				if e.ID != "e1" || e.State.Current == "" {
					t.Errorf("yielded %+v, want only execution e1", e)
				}
			}
			got, err := c.Executions.Wait(testCtx(t), "e1", nil)
			if err != nil || got.ID != "e1" || got.State.Current != tc.state {
				t.Fatalf("Wait: %+v, %v; want e1 %s", got, err, tc.state)
			}
		})
	}
}

// TestFollowServerKeepsLying: a server whose end frames keep saying
// RUNNING, while GET says RUNNING too, ends the stream with an error that
// names the frame, not with a RUNNING "final" state.
func TestFollowServerKeepsLying(t *testing.T) {
	t.Parallel()
	s := newStreamServer(t)
	s.execFollow = s.serveSSE(func(int) string { return startFrame + frame("end", execJSON("e1", "RUNNING")) }, false)
	s.get = serveJSON(func() (int, string) { return 200, execJSON("e1", "RUNNING") })
	c := s.client(t)
	got, err := c.Executions.Wait(testCtx(t), "e1", &kestra.StreamOptions{ReconnectDelay: time.Millisecond, MaxReconnectDelay: time.Millisecond})
	if got != nil || err == nil {
		t.Fatalf("Wait: %+v, %v; want an error", got, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "end frame") || !strings.Contains(msg, "RUNNING") {
		t.Errorf("error %q does not name the frame", msg)
	}
	if n := s.follows.Load(); n > 5 {
		t.Errorf("%d follow requests for a server that keeps lying", n)
	}
}

// TestFollowDeletedWhileSilent: Kestra keeps the stream of an execution
// deleted while it runs open and silent. The stream checks the execution
// when silent, and ends with ErrNotFound once it is gone, for Follow, Wait
// and Logs.Follow with UntilDone; nothing outlives the stream.
func TestFollowDeletedWhileSilent(t *testing.T) {
	s := newStreamServer(t)
	var deleted atomic.Bool
	s.execFollow = s.serveSSE(func(int) string { return startFrame + frame("progress", execJSON("e1", "RUNNING")) }, true)
	s.logFollow = s.serveSSE(func(int) string {
		return frame("start", "{}") + frame("progress", `{"timestamp":"2025-01-01T00:00:00Z","level":"INFO","message":"hi"}`)
	}, true)
	s.get = serveJSON(func() (int, string) {
		if deleted.Load() {
			return 404, `{"message":"Not Found"}`
		}
		return 200, execJSON("e1", "RUNNING")
	})
	c := s.client(t)
	opts := &kestra.StreamOptions{CheckInterval: 5 * time.Millisecond}
	before := goleak.IgnoreCurrent()

	t.Run("Follow", func(t *testing.T) {
		deleted.Store(false)
		s.gets.Store(0)
		var last error
		n := 0
		for e, err := range c.Executions.Follow(testCtx(t), "e1", opts) {
			if err != nil {
				last = err
				break
			}
			n++
			if e.State.Current != kestra.StateRunning {
				t.Fatalf("snapshot %s", e.State.Current)
			}
			// Checks of a live execution do not end the stream.
			for s.gets.Load() < 3 {
				time.Sleep(time.Millisecond)
			}
			deleted.Store(true)
		}
		if n != 1 || !errors.Is(last, kestra.ErrNotFound) {
			t.Fatalf("after %d snapshots: %v, want ErrNotFound", n, last)
		}
	})
	t.Run("Wait", func(t *testing.T) {
		deleted.Store(false)
		s.gets.Store(0)
		go func() {
			for s.gets.Load() < 2 {
				time.Sleep(time.Millisecond)
			}
			deleted.Store(true)
		}()
		if _, err := c.Executions.Wait(testCtx(t), "e1", opts); !errors.Is(err, kestra.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("Logs.Follow", func(t *testing.T) {
		deleted.Store(false)
		s.gets.Store(0)
		var last error
		n := 0
		for _, err := range c.Logs.Follow(testCtx(t), "e1", &kestra.LogFollowOptions{UntilDone: true, StreamOptions: *opts}) {
			if err != nil {
				last = err
				break
			}
			n++
			deleted.Store(true)
		}
		if n != 1 || !errors.Is(last, kestra.ErrNotFound) {
			t.Fatalf("after %d lines: %v, want ErrNotFound", n, last)
		}
	})
	goleak.VerifyNone(t, before)
}

// logLine is a log frame's data.
func logLine(ts, level, msg string) string {
	return fmt.Sprintf(`{"executionId":"e1","taskRunId":"tr1","timestamp":%q,"level":%q,"message":%q}`, ts, level, msg)
}

// collectLogs follows the logs of e1 and returns the messages and the error
// the stream ended with.
func collectLogs(t *testing.T, c *kestra.Client, opts *kestra.LogFollowOptions) ([]string, error) {
	t.Helper()
	var msgs []string
	for l, err := range c.Logs.Follow(testCtx(t), "e1", opts) {
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, string(l.Level)+" "+l.Message)
	}
	return msgs, nil
}

// TestLogsFollowKeepsAlikeLines: on a connection that was not lost, every
// line is yielded, however alike (same millisecond, message and task run;
// or differing only in level), and null frames are skipped.
func TestLogsFollowKeepsAlikeLines(t *testing.T) {
	t.Parallel()
	s := newStreamServer(t)
	ts := "2025-01-01T00:00:00.001Z"
	s.logFollow = s.serveSSE(func(int) string {
		return frame("start", `{"attemptNumber":null}`) +
			frame("progress", logLine(ts, "INFO", "retrying")) +
			frame("progress", logLine(ts, "INFO", "retrying")) +
			frame("progress", "null") +
			frame("progress", logLine(ts, "ERROR", "retrying")) +
			frame("progress", logLine("2025-01-01T00:00:00.002Z", "INFO", "done"))
	}, false)
	msgs, err := collectLogs(t, s.client(t), &kestra.LogFollowOptions{StreamOptions: kestra.StreamOptions{MaxReconnects: -1}})
	if err == nil || !strings.Contains(err.Error(), "connection lost") {
		t.Errorf("err = %v, want the lost connection", err)
	}
	if want := "INFO retrying|INFO retrying|ERROR retrying|INFO done"; strings.Join(msgs, "|") != want {
		t.Fatalf("lines %q, want %q", strings.Join(msgs, "|"), want)
	}
}

// TestLogsFollowSkipsReplays: a reconnect replays every stored line; the
// lines already yielded are skipped, each as many times as it was yielded,
// and the new ones are yielded, also past the window of remembered lines.
func TestLogsFollowSkipsReplays(t *testing.T) {
	t.Parallel()
	for _, n := range []int{3, 3000} {
		t.Run(fmt.Sprint(n, " lines"), func(t *testing.T) {
			t.Parallel()
			lines := func(k int) string {
				var b strings.Builder
				b.WriteString(frame("start", "{}"))
				for i := range k {
					ts := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i/2) * time.Millisecond).Format(time.RFC3339Nano)
					// Pairs of identical lines.
					b.WriteString(frame("progress", logLine(ts, "INFO", fmt.Sprint("line ", i/2))))
				}
				return b.String()
			}
			s := newStreamServer(t)
			// The second connection replays the first one's lines, then two
			// new identical lines; the next ones replay it all.
			s.logFollow = s.serveSSE(func(conn int) string { return lines(2*n + 2*min(conn, 1)) }, false)
			msgs, err := collectLogs(t, s.client(t), &kestra.LogFollowOptions{StreamOptions: kestra.StreamOptions{
				MaxReconnects: 2, ReconnectDelay: time.Millisecond, MaxReconnectDelay: time.Millisecond}})
			if err == nil {
				t.Fatal("want the lost connection")
			}
			if len(msgs) != 2*n+2 {
				t.Fatalf("%d lines, want %d: each once, the repeated ones twice", len(msgs), 2*n+2)
			}
			for i, m := range msgs {
				if want := fmt.Sprint("INFO line ", i/2); m != want {
					t.Fatalf("line %d is %q, want %q", i, m, want)
				}
			}
		})
	}
}

// TestLogsFollowGraceIgnoresOtherFrames: once the execution has ended,
// frames that yield nothing (filtered out lines, start frames) do not
// restart the grace period, so UntilDone ends.
func TestLogsFollowGraceIgnoresOtherFrames(t *testing.T) {
	t.Parallel()
	s := newStreamServer(t)
	s.execFollow = s.serveSSE(func(int) string { return startFrame + frame("end", execJSON("e1", "SUCCESS")) }, false)
	s.logFollow = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = fmt.Fprint(w, frame("start", "{}")+frame("progress", logLine("2025-01-01T00:00:00Z", "WARN", "kept")))
		for {
			_, _ = fmt.Fprint(w, frame("progress", logLine("2025-01-01T00:00:01Z", "DEBUG", "filtered out"))+frame("start", "{}"))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-s.quit:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
	msgs, err := collectLogs(t, s.client(t), &kestra.LogFollowOptions{UntilDone: true, MinLevel: kestra.LevelWarn, Grace: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if want := "WARN kept"; strings.Join(msgs, "|") != want {
		t.Fatalf("lines %q, want %q", msgs, want)
	}
}

// TestFollowFrameAtCap: frames up to 16 MiB are read.
func TestFollowFrameAtCap(t *testing.T) {
	t.Parallel()
	head := `{"id":"x","state":{"current":"SUCCESS"},"flowId":"`
	big := strings.Repeat("c", 16<<20-len(head)-2)
	body := "id: start\ndata: {\"id\":\"x\"}\n\nid: end\ndata: " + head + big + "\"}\n\n"
	c, _ := sseServer(t, []byte(body), nil)
	got := collect(t, c.Executions.Follow(testCtx(t), "x", nil))
	if len(got[0].FlowID) != len(big) {
		t.Fatal("frame truncated")
	}
}
