package emulator

import (
	"context"
	"strings"
	"sync"
	"time"
)

// engine is the emulated Kestra: flows, executions and their runners,
// logs, KV pairs, namespace files and trigger state. It owns its lock:
// methods named ...Locked expect en.mu held, the others take it and
// return values that stay valid without it (rendered copies, immutable
// revisions and log lines, state snapshots). It knows nothing of HTTP
// requests; its errors are *apiError values carrying Kestra's status,
// message and violations, which the HTTP layer renders.
//
// The engine lives in engine*.go (its operations by area) and in the
// files of its machinery: runner.go, flowable.go, subflow.go,
// concurrency.go, tasks.go, template.go, inputs.go,
// flowparse.go, model.go and duration.go. The other files are the HTTP
// layer: handlers that decode a request, call one engine operation and
// render Kestra's answer (status, JSON shape, headers), and the
// middleware (auth, faults, request log, spec routes).
type engine struct {
	cfg config

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	pluginsMu sync.RWMutex // guards cfg.plugins, which HandleTask extends

	mu       sync.Mutex
	flows    map[flowKey]*flowEntry
	execs    map[string]*execution
	execSeq  int64
	logs     map[string]*logBucket
	kv       map[kvKey]*kvEntry
	nsFiles  map[nsKey]*nsTree
	triggers map[triggerKey]*triggerRecord
	newExec  chan struct{} // closed and replaced whenever an execution is created
	closed   bool

	taskHandlers map[string]TaskHandler
}

func newEngine(cfg config) *engine {
	ctx, cancel := context.WithCancel(context.Background())
	return &engine{
		cfg:      cfg,
		ctx:      ctx,
		cancel:   cancel,
		flows:    map[flowKey]*flowEntry{},
		execs:    map[string]*execution{},
		logs:     map[string]*logBucket{},
		kv:       map[kvKey]*kvEntry{},
		nsFiles:  map[nsKey]*nsTree{},
		triggers: map[triggerKey]*triggerRecord{},
		newExec:  make(chan struct{}),
	}
}

func (en *engine) setURL(url string) {
	en.mu.Lock()
	en.cfg.url = strings.TrimSuffix(url, "/")
	en.mu.Unlock()
}

func (en *engine) publicURL() string {
	en.mu.Lock()
	defer en.mu.Unlock()
	return en.cfg.url
}

// close stops every runner and stream and waits for their goroutines.
func (en *engine) close() {
	en.mu.Lock()
	en.closed = true
	en.mu.Unlock()
	en.cancel()
	en.wg.Wait()
}

func (en *engine) isClosed() bool {
	en.mu.Lock()
	defer en.mu.Unlock()
	return en.closed
}

// scaled converts a simulated duration to wall time.
func (en *engine) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / en.cfg.speed)
}

// sleep waits for the scaled duration d; false when ctx ended first.
func (en *engine) sleep(ctx context.Context, d time.Duration) bool {
	d = en.scaled(d)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// engineCounts are the sizes of the engine's state.
type engineCounts struct {
	executions int // existing executions
	created    int // executions ever created
	flows      int // flows not deleted
}

func (en *engine) counts() engineCounts {
	en.mu.Lock()
	defer en.mu.Unlock()
	c := engineCounts{executions: len(en.execs), created: int(en.execSeq)}
	for _, fe := range en.flows {
		if !fe.current().deleted {
			c.flows++
		}
	}
	return c
}

// logCount is how many log lines are stored for an execution.
func (en *engine) logCount(executionID string) int {
	en.mu.Lock()
	defer en.mu.Unlock()
	if b := en.logs[executionID]; b != nil {
		return len(b.entries)
	}
	return 0
}

// done is closed when the engine closes: streams end then.
func (en *engine) done() <-chan struct{} { return en.ctx.Done() }
