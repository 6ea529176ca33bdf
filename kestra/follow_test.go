package kestra_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// streamEnv is a client talking to an in-process emulator.
type streamEnv struct{ *emuEnv }

func newStreamEnv(t testing.TB, opts ...kestratest.Option) *streamEnv {
	t.Helper()
	return &streamEnv{newEmuEnv(t, emuSetup{server: opts, client: []kestra.Option{
		kestra.WithRetry(kestra.RetryPolicy{MaxAttempts: 2, MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}),
	}})}
}

// run deploys src and starts an execution of it.
func (e *streamEnv) run(t testing.TB, src string) *kestra.Execution {
	t.Helper()
	deploy(t, e.c, src)
	ns, id := flowRef(src)
	ex, err := e.c.Executions.Create(t.Context(), ns, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// followRequests counts the follow requests made for execution id.
func (e *streamEnv) followRequests(path string) int {
	return len(e.requestsWhere(func(r kestratest.Request) bool {
		return r.Method == http.MethodGet && r.Path == path
	}))
}

func flowRef(src string) (ns, id string) {
	for line := range strings.Lines(src) {
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			id = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "namespace: "); ok {
			ns = strings.TrimSpace(v)
		}
	}
	return ns, id
}

// signature is what Follow promises not to repeat: the execution state and
// each task run's state.
func signature(e *kestra.Execution) string {
	var b strings.Builder
	b.WriteString(string(e.State.Current))
	for _, tr := range e.TaskRunList {
		fmt.Fprintf(&b, "|%s:%s", tr.ID, tr.State.Current)
	}
	return b.String()
}

const (
	flowSuccess = `id: hello
namespace: demo.follow
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: hello
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "42"
`
	flowFailed = `id: broken
namespace: demo.follow
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: before
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: no luck
`
	flowPause = `id: approval
namespace: demo.follow
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: resumed
`
)

// collect follows id to its end and checks the promises of Follow: the
// last snapshot is terminal, it is the only terminal one, and no state
// signature repeats.
func collect(t *testing.T, seq func(func(*kestra.Execution, error) bool)) []*kestra.Execution {
	t.Helper()
	var got []*kestra.Execution
	seen := map[string]int{}
	for e, err := range seq {
		if err != nil {
			t.Fatalf("after %d snapshots: %v", len(got), err)
		}
		sig := signature(e)
		if i, dup := seen[sig]; dup {
			t.Errorf("snapshot %d repeats snapshot %d: %s", len(got), i, sig)
		}
		seen[sig] = len(got)
		got = append(got, e)
	}
	if len(got) == 0 {
		t.Fatal("no snapshot")
	}
	for i, e := range got[:len(got)-1] {
		if e.IsTerminal() {
			t.Errorf("snapshot %d of %d is terminal (%s): the final state must come once, last", i, len(got), e.State.Current)
		}
	}
	return got
}

func TestFollowLifecycle(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	ex := env.run(t, flowSuccess)
	got := collect(t, env.c.Executions.Follow(testCtx(t), ex.ID, nil))
	last := got[len(got)-1]
	if last.State.Current != kestra.StateSuccess {
		t.Fatalf("final state %s, want SUCCESS", last.State.Current)
	}
	if tr, ok := last.TaskRun("answer"); !ok || tr.State.Current != kestra.StateSuccess {
		t.Fatalf("task answer: %+v", tr)
	}
	// The start frame is skipped: every snapshot is a real execution.
	for i, e := range got {
		if e.FlowID != "hello" || e.State.Current == "" {
			t.Errorf("snapshot %d is not an execution: %+v", i, e)
		}
	}
	// Task progress inside RUNNING is yielded.
	running := 0
	for _, e := range got {
		if e.State.Current == kestra.StateRunning {
			running++
		}
	}
	if running < 2 {
		t.Errorf("%d RUNNING snapshots, want the task progress inside RUNNING", running)
	}
	if n := env.followRequests("/api/v1/main/executions/" + ex.ID + "/follow"); n != 1 {
		t.Errorf("%d follow requests, want 1", n)
	}
}

func TestFollowEndedExecution(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(50))
	ex := env.run(t, flowSuccess)
	if _, err := env.c.Executions.Wait(testCtx(t), ex.ID, nil); err != nil {
		t.Fatal(err)
	}
	got := collect(t, env.c.Executions.Follow(testCtx(t), ex.ID, nil))
	if len(got) != 1 || got[0].State.Current != kestra.StateSuccess {
		t.Fatalf("got %d snapshots, want only the final one", len(got))
	}
}

// TestFollowSurvivesDrops cuts the stream once after each frame position;
// the caller must still see every state at most once and the final one
// exactly once. The healthy stream of flowSuccess has 10 frames: start, 8
// progress, end.
func TestFollowSurvivesDrops(t *testing.T) {
	t.Parallel()
	positions := []struct {
		name   string
		frames int
	}{
		{"drop after start", 1},
		{"drop after first progress", 2},
		{"drop after progress 2", 3},
		{"drop after progress 3", 4},
		{"drop after progress 4", 5},
		{"drop after progress 5", 6},
		{"drop after progress 6", 7},
		{"drop after progress 7", 8},
		{"drop before end", 9},
	}
	for _, p := range positions {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			env := newStreamEnv(t, kestratest.WithSpeed(1))
			deploy(t, env.c, flowSuccess)
			env.emu.InjectFault(kestratest.Fault{Path: "/api/v1/main/executions/*/follow", Times: 1, DropAfterFrames: p.frames})
			ex, err := env.c.Executions.Create(t.Context(), "demo.follow", "hello", nil)
			if err != nil {
				t.Fatal(err)
			}
			got := collect(t, env.c.Executions.Follow(testCtx(t), ex.ID,
				&kestra.StreamOptions{ReconnectDelay: time.Millisecond, MaxReconnectDelay: 5 * time.Millisecond}))
			if last := got[len(got)-1]; last.State.Current != kestra.StateSuccess {
				t.Fatalf("final state %s, want SUCCESS", last.State.Current)
			}
			if n := env.followRequests("/api/v1/main/executions/" + ex.ID + "/follow"); n != 2 {
				t.Errorf("%d follow requests, want 2 (one drop, one reconnect)", n)
			}
		})
	}
}

func TestFollowReconnectBudget(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	ex := env.run(t, flowPause)
	path := "/api/v1/main/executions/" + ex.ID + "/follow"
	// Every connection breaks right after start: the budget runs out, and a
	// paused execution has not ended, so the stream ends with an error.
	env.emu.InjectFault(kestratest.Fault{Path: path, DropAfterFrames: 1})
	var err error
	for _, err = range env.c.Executions.Follow(testCtx(t), ex.ID,
		&kestra.StreamOptions{MaxReconnects: 2, ReconnectDelay: time.Millisecond, MaxReconnectDelay: time.Millisecond}) {
		if err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "connection lost 3 times") {
		t.Fatalf("err = %v, want connection lost", err)
	}
	if n := env.followRequests(path); n != 3 {
		t.Errorf("%d follow requests, want 3 (1 + 2 reconnects)", n)
	}
}

func TestFollowBudgetSpentOnEndedExecution(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(50))
	ex := env.run(t, flowSuccess)
	if _, err := env.c.Executions.Wait(testCtx(t), ex.ID, nil); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/main/executions/" + ex.ID + "/follow"
	env.emu.InjectFault(kestratest.Fault{Path: path, DropAfterFrames: 1})
	got := collect(t, env.c.Executions.Follow(testCtx(t), ex.ID, &kestra.StreamOptions{MaxReconnects: -1}))
	if len(got) != 1 || got[0].State.Current != kestra.StateSuccess {
		t.Fatalf("got %d snapshots, want the final one read with GET", len(got))
	}
}

func TestFollowUnknownExecution(t *testing.T) {
	t.Parallel()
	// The emulator, as Kestra, cuts the stream of an unknown execution
	// after 10 s (here 10 s / 20).
	env := newStreamEnv(t, kestratest.WithSpeed(20))
	start := time.Now()
	n := 0
	var err error
	for _, err = range env.c.Executions.Follow(testCtx(t), "nope", nil) {
		n++
	}
	if !errors.Is(err, kestra.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if n != 1 {
		t.Errorf("%d yields, want the error once", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if n := env.followRequests("/api/v1/main/executions/nope/follow"); n != 1 {
		t.Errorf("%d follow requests, want 1: no reconnect for an unknown execution", n)
	}
}

func TestFollowEmptyID(t *testing.T) {
	t.Parallel()
	c := newClient(t, kestra.Config{URL: "http://127.0.0.1:1"})
	for _, err := range c.Executions.Follow(testCtx(t), "", nil) {
		if err == nil {
			t.Fatal("want an error")
		}
	}
}

func TestFollowStatusErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			env := newStreamEnv(t)
			env.emu.InjectFault(kestratest.Fault{Path: "/api/v1/main/executions/x/follow", Status: status, Message: "nope"})
			var err error
			n := 0
			for _, err = range env.c.Executions.Follow(testCtx(t), "x", nil) {
				n++
			}
			var apiErr *kestra.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
				t.Fatalf("err = %v, want an *APIError %d", err, status)
			}
			if n != 1 {
				t.Errorf("%d yields, want 1", n)
			}
		})
	}
}

// newLeakEnv is newStreamEnv with a client that keeps no idle
// connection, so that the goroutines of a test can be counted.
func newLeakEnv(t *testing.T) *streamEnv {
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	env.c = env.client(t, kestra.Config{}, kestra.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
	return env
}

func TestFollowContextCancel(t *testing.T) {
	env := newLeakEnv(t)
	ex := env.run(t, flowPause)
	before := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var err error
	n := 0
	for e, err2 := range env.c.Executions.Follow(ctx, ex.ID, nil) {
		err = err2
		if err != nil {
			break
		}
		n++
		if e.State.Current == kestra.StatePaused {
			cancel() // the stream is now idle: only the cancel can end it
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v after %d snapshots, want context.Canceled", err, n)
	}
	goleak.VerifyNone(t, before)
}

func TestFollowBreak(t *testing.T) {
	env := newLeakEnv(t)
	ex := env.run(t, flowPause)
	before := goleak.IgnoreCurrent()
	for e, err := range env.c.Executions.Follow(testCtx(t), ex.ID, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if e.State.Current == kestra.StatePaused {
			break
		}
	}
	// The connection is closed: its goroutines, the client's and the
	// server's, are gone although the server still had more to send.
	goleak.VerifyNone(t, before)
}

// sseServer serves body as an event stream on every follow route, and
// answers GET of an execution with exec (404 when nil).
func sseServer(t testing.TB, body []byte, exec []byte) (*kestra.Client, *int) {
	t.Helper()
	follows := new(int)
	_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/follow"):
			*follows++
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write(body)
		case exec != nil:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(exec)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Not Found"}`))
		}
	})
	return c, follows
}

func TestFollowTranscript(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/follow_success.sse")
	if err != nil {
		t.Fatal(err)
	}
	// Kestra ends lines with LF; the standard also allows CRLF and CR, and
	// a byte-order mark before the first line.
	for name, body := range map[string][]byte{
		"LF":   body,
		"CRLF": bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n")),
		"CR":   bytes.ReplaceAll(body, []byte("\n"), []byte("\r")),
		"BOM":  append([]byte("\xEF\xBB\xBF"), body...),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, _ := sseServer(t, body, nil)
			got := collect(t, c.Executions.Follow(testCtx(t), "4kyHz9dbBEyc1ouelYE3gn", nil))
			var states []string
			for _, e := range got {
				states = append(states, string(e.State.Current))
			}
			// The transcript repeats the RUNNING snapshot (as Kestra may);
			// the repeat is not yielded.
			if want := "CREATED RUNNING RUNNING RUNNING SUCCESS"; strings.Join(states, " ") != want {
				t.Fatalf("states %q, want %q", strings.Join(states, " "), want)
			}
		})
	}
}

func TestFollowOversizeFrame(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("id: start\ndata: {\"id\":\"x\"}\n\nid: progress\ndata: {\"id\":\"x\",\"flowId\":\"")
	b.WriteString(strings.Repeat("a", 17<<20))
	b.WriteString("\"}\n\n")
	c, follows := sseServer(t, []byte(b.String()), nil)
	var err error
	for _, err = range c.Executions.Follow(testCtx(t), "x", &kestra.StreamOptions{ReconnectDelay: time.Millisecond, MaxReconnectDelay: time.Millisecond}) {
	}
	if !errors.Is(err, kestra.ErrFrameTooLarge) {
		t.Fatalf("err = %v, want ErrFrameTooLarge", err)
	}
	if *follows != 1 {
		t.Errorf("%d follow requests: an oversize frame must not reconnect", *follows)
	}
}

func TestFollowLargeFrame(t *testing.T) {
	t.Parallel()
	// 1 MiB frames are far above go-sse's default 64 KiB limit.
	big := strings.Repeat("b", 1<<20)
	body := "id: start\ndata: {\"id\":\"x\"}\n\n" +
		"id: end\ndata: {\"id\":\"x\",\"flowId\":\"" + big + "\",\"state\":{\"current\":\"SUCCESS\"}}\n\n"
	c, _ := sseServer(t, []byte(body), nil)
	got := collect(t, c.Executions.Follow(testCtx(t), "x", nil))
	if len(got[0].FlowID) != len(big) {
		t.Fatal("frame truncated")
	}
}

func TestFollowDecodeError(t *testing.T) {
	t.Parallel()
	body := "id: start\ndata: {\"id\":\"x\"}\n\nid: progress\ndata: {\"id\": 12}\n\n"
	c, _ := sseServer(t, []byte(body), nil)
	var err error
	n := 0
	for _, err = range c.Executions.Follow(testCtx(t), "x", nil) {
		n++
	}
	if err == nil || !strings.Contains(err.Error(), "decode progress frame") || n != 1 {
		t.Fatalf("err = %v after %d yields, want one decode error", err, n)
	}
}

func TestFollowNotEventStream(t *testing.T) {
	t.Parallel()
	_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>proxy</html>"))
	}, kestra.WithRetry(kestra.DefaultRetryPolicy))
	var err error
	for _, err = range c.Executions.Follow(testCtx(t), "x", nil) {
	}
	if err == nil || !strings.Contains(err.Error(), "not an event stream") {
		t.Fatalf("err = %v", err)
	}
}

func TestFollowIdleTimeout(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	ex := env.run(t, flowPause)
	path := "/api/v1/main/executions/" + ex.ID + "/follow"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	paused := 0
	var resumed sync.WaitGroup
	defer func() {
		cancel()
		resumed.Wait()
	}()
	for e, err := range env.c.Executions.Follow(ctx, ex.ID,
		&kestra.StreamOptions{IdleTimeout: 20 * time.Millisecond, ReconnectDelay: time.Millisecond, MaxReconnectDelay: time.Millisecond}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.State.Current == kestra.StatePaused {
			paused++
			// Once the idle stream was reopened twice, resume.
			resumed.Go(func() {
				for env.followRequests(path) < 3 && ctx.Err() == nil {
					time.Sleep(5 * time.Millisecond)
				}
				if _, err := env.c.Executions.Resume(ctx, ex.ID, nil); err != nil {
					t.Error(err)
				}
			})
		}
	}
	resumed.Wait()
	if paused != 1 {
		t.Errorf("PAUSED yielded %d times: the replays after idle reconnects must not be", paused)
	}
}

// testCtx bounds a stream of a test, so that a stream that never ends
// fails the test instead of hanging it.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
