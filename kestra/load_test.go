package kestra_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// loadN is how many executions the load test starts at once, each followed
// by its own stream while the others run: loadN concurrent creates, loadN
// concurrent executions and loadN open follow streams on one server.
const loadN = 1000

const loadFlow = `id: load
namespace: demo.load
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: one
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "42"
`

// TestLoadConcurrentFollows runs loadN executions at once against one
// kestratest server, each followed to its end by its own goroutine, all
// sharing one client. Every follow must end in SUCCESS without error, and
// once the server is closed every goroutine the calls started must end.
func TestLoadConcurrentFollows(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: runs without -short")
	}
	// Not parallel: the goroutine count is only meaningful while the
	// package's parallel tests wait.
	baseline := runtime.NumGoroutine()

	srv := kestratest.NewServer(kestratest.WithSpeed(1000), kestratest.WithRequestLogSize(1))
	closed := false
	defer func() {
		if !closed {
			srv.Close()
		}
	}()
	c := srv.Client(kestra.WithRetry(kestra.RetryPolicy{MaxAttempts: 3, MinDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond}))
	deploy(t, c, loadFlow)

	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		failures atomic.Int64
		errMu    sync.Mutex
		firstErr error
		peak     atomic.Int64
	)
	fail := func(err error) {
		if failures.Add(1) == 1 {
			errMu.Lock()
			firstErr = err
			errMu.Unlock()
		}
	}
	for i := range loadN {
		wg.Go(func() {
			<-start
			ex, err := c.Executions.Create(t.Context(), "demo.load", "load", &kestra.ExecuteOptions{Labels: map[string]string{"n": fmt.Sprint(i)}})
			if err != nil {
				fail(fmt.Errorf("create %d: %w", i, err))
				return
			}
			var last *kestra.Execution
			for e, err := range c.Executions.Follow(t.Context(), ex.ID, nil) {
				if err != nil {
					fail(fmt.Errorf("follow %d: %w", i, err))
					return
				}
				last = e
				if g := int64(runtime.NumGoroutine()); g > peak.Load() {
					peak.Store(g)
				}
			}
			if last == nil || last.State.Current != kestra.StateSuccess {
				fail(fmt.Errorf("follow %d ended in %v, want SUCCESS", i, last))
			}
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d creates + follows in %v, peak %d goroutines", loadN, time.Since(began).Round(time.Millisecond), peak.Load())
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d failed; first: %v", n, loadN, firstErr)
	}
	if n := srv.ExecutionsCreated(); n != loadN {
		t.Fatalf("%d executions created, want %d", n, loadN)
	}

	srv.Close()
	closed = true
	// The client's idle connections end when the server closes them; poll
	// until the goroutine count is back near where it started.
	const slack = 10
	var now int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if now = runtime.NumGoroutine(); now <= baseline+slack {
			return
		}
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	t.Fatal(errors.New("goroutines did not return to the baseline"), fmt.Sprintf("baseline %d, now %d:\n%s", baseline, now, buf))
}
