package kestra

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"
	"time"
	"unsafe"

	sse "github.com/tmaxmax/go-sse"
)

// Server-Sent Events plumbing shared by the execution and log streams.
//
// Kestra tags each frame by its SSE id: "start" (a placeholder sent first),
// "progress", and for executions "end". Frames are read with go-sse's
// sse.Read. One reconnect loop, [streamLoop], runs both followers; what a
// frame means, and what a lost connection must check, is theirs.

// StreamOptions tune the event streams of [ExecutionsService.Follow],
// [ExecutionsService.Wait], [ExecutionsService.WaitFunc],
// [ExecutionsService.Run] and [LogsService.Follow]. A nil *StreamOptions,
// and each zero field, mean the default.
type StreamOptions struct {
	// MaxReconnects is how many times in a row a lost connection is
	// reopened before the stream gives up: zero means 5, a negative value
	// never reconnects. A connection that delivered something new, stayed
	// open 30s, or was closed by IdleTimeout resets the count. When the
	// reconnects of an execution's stream are spent, the execution is read
	// once more: its final state ends the stream if it has ended, else an
	// error does. A stream that never connected (the server is down) is not
	// reconnected: it fails as a plain call does, after the client's
	// [RetryPolicy], with the connection's error.
	MaxReconnects int
	// ReconnectDelay is the wait before the first reconnect, doubled for
	// each further one up to MaxReconnectDelay, with jitter. Zero means
	// 250ms and 5s.
	ReconnectDelay, MaxReconnectDelay time.Duration
	// IdleTimeout treats a connection that receives no byte for this long
	// as lost, and reconnects. Kestra sends nothing while an execution
	// does not change, so set it only behind proxies that silently drop
	// idle connections, and long enough not to reconnect needlessly: a
	// reconnect costs one request and a replay of the current state, which
	// is not yielded again. Zero waits forever.
	IdleTimeout time.Duration
	// CheckInterval is how long the stream of an execution may stay
	// silent before the execution is read (one GET) to learn whether it
	// still exists: Kestra does not end the stream of an execution deleted
	// while it runs. A deleted execution ends the stream with
	// [ErrNotFound]. Zero means 30s; a negative value never checks.
	// [LogsService.Follow] checks only with UntilDone, on the execution it
	// follows alongside.
	CheckInterval time.Duration
	// PollDelay is the first delay between two reads of the execution
	// when Wait (or Run) has to poll, because the server (or a proxy in
	// front of it) does not stream; it doubles up to MaxPollDelay. Zero
	// means 500ms and 5s.
	PollDelay, MaxPollDelay time.Duration
}

// Defaults of [StreamOptions].
const (
	defaultMaxReconnects  = 5
	defaultReconnectDelay = 250 * time.Millisecond
	defaultMaxReconnect   = 5 * time.Second
	defaultCheckInterval  = 30 * time.Second
	defaultPollMinDelay   = 500 * time.Millisecond
	defaultPollMaxDelay   = 5 * time.Second
)

// streamConfig is a [StreamOptions] with its defaults applied.
type streamConfig struct {
	maxReconnects      int           // consecutive lost connections tolerated
	minDelay, maxDelay time.Duration // reconnect delays
	idleTimeout        time.Duration // 0: none
	checkInterval      time.Duration // 0: none
	pollMin, pollMax   time.Duration
}

func newStreamConfig(o *StreamOptions) streamConfig {
	if o == nil {
		o = &StreamOptions{}
	}
	return streamConfig{
		maxReconnects: orNone(o.MaxReconnects, defaultMaxReconnects),
		minDelay:      orDefault(o.ReconnectDelay, defaultReconnectDelay),
		maxDelay:      orDefault(o.MaxReconnectDelay, defaultMaxReconnect),
		idleTimeout:   max(o.IdleTimeout, 0),
		checkInterval: orNone(o.CheckInterval, defaultCheckInterval),
		pollMin:       orDefault(o.PollDelay, defaultPollMinDelay),
		pollMax:       orDefault(o.MaxPollDelay, defaultPollMaxDelay),
	}
}

// orNone is v when positive, def when zero, and zero (none) when negative.
func orNone[T int | time.Duration](v, def T) T {
	if v < 0 {
		return 0
	}
	return orDefault(v, def)
}

// orDefault is v when positive, def otherwise.
func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// backoff is the wait before reconnect n (n ≥ 1).
func (sc *streamConfig) backoff(n int) time.Duration {
	return RetryPolicy{MinDelay: sc.minDelay, MaxDelay: sc.maxDelay}.withDefaults().backoff(n)
}

// maxFrameSize bounds the data of one SSE frame. An execution with
// hundreds of task runs is several hundred KB per frame; a frame beyond
// this is an error, never a reason to reconnect. go-sse's buffer starts
// small and grows only as large frames arrive.
const maxFrameSize = 16 << 20

// readConfig lets an event carry maxFrameSize bytes of data plus its
// field names; sse.Read does not change it.
var readConfig = sse.ReadConfig{MaxEventSize: maxFrameSize + 64<<10}

// Frame tags Kestra puts in the SSE id field.
const (
	tagStart    = "start"
	tagProgress = "progress"
	tagEnd      = "end"
)

// ErrFrameTooLarge is returned by a stream when one frame is larger than
// 16 MiB. The stream is not reopened: the same frame would come again.
var ErrFrameTooLarge = errors.New("kestra: stream frame larger than 16 MiB")

// errNotEventStream marks a follow route that answers with something other
// than an event stream (a proxy's page, an old server).
var errNotEventStream = errors.New("response is not an event stream")

// errIdle is the cause of a connection closed by the idle-read timeout.
var errIdle = errors.New("no data within the idle timeout")

// streamUnavailableError wraps the answer of a follow route that cannot
// stream: a 404 of the route itself, or a response that is not SSE. Wait
// falls back to polling on it. It unwraps to the *APIError, so
// errors.Is(err, ErrNotFound) holds for a 404.
type streamUnavailableError struct{ err error }

func (e *streamUnavailableError) Error() string { return e.err.Error() }
func (e *streamUnavailableError) Unwrap() error { return e.err }

// checkError is the cause of a connection closed because the silence
// check found the execution gone.
type checkError struct{ err error }

func (e *checkError) Error() string { return e.err.Error() }
func (e *checkError) Unwrap() error { return e.err }

// connResult says how one connection of a stream ended.
type connResult int

const (
	// connDropped: lost before the stream's end; reconnecting may help.
	connDropped connResult = iota
	// connFailed: the request failed before any stream opened (a
	// transport error, or a retryable status after the client's retries).
	connFailed
	// connDone: the frame handler stopped the stream.
	connDone
	// connFatal: an error a reconnect would not fix, or ctx is done.
	connFatal
)

// openFunc sends the request of a stream ([Client.openEvents]) with the
// given context.
type openFunc func(ctx context.Context) (*http.Response, error)

// frameAction is what a stream's frame handler made of a frame.
type frameAction int

const (
	frameOld  frameAction = iota // nothing new: skipped, or replayed
	frameNew                     // something new was delivered
	frameStop                    // the stream is over (its end, or the consumer stopped)
)

// streamLoop is the reconnect loop behind [ExecutionsService.Follow] and
// [LogsService.Follow]: it opens connections, hands their frames over, and
// reopens a lost one with a capped backoff within a budget.
type streamLoop struct {
	sc   *streamConfig
	name string // "follow execution ID": how errors start, after "kestra: "
	open openFunc
	// frame handles one frame (data is valid only during the call). An
	// error ends the stream.
	frame func(tag string, data []byte) (frameAction, error)
	// attempt, optional, is called before each connection is opened (n
	// counts from 0).
	attempt func(n int)
	// check, optional, runs when a connection stayed silent for
	// sc.checkInterval; an error ends the stream with it.
	check func(ctx context.Context) error
	// lost, optional, is called when a connection was lost before the
	// end; it may end the stream: done with a nil error, or an error.
	lost func(ctx context.Context) (done bool, err error)
	// spent, optional, is called when the reconnects are spent with the
	// error the stream would end with; it returns what the stream ends
	// with instead (nil: done).
	spent func(ctx context.Context, lostErr error) error
}

// run runs the stream until its end, an error, or ctx is done.
func (l *streamLoop) run(ctx context.Context) error {
	connected := false
	failures := 0
	for n := 0; ; n++ {
		if l.attempt != nil {
			l.attempt(n)
		}
		var (
			fresh, stop bool
			frameErr    error
		)
		opened := time.Now()
		res, err := l.conn(ctx, func(tag string, data []byte) bool {
			a, err := l.frame(tag, data)
			switch {
			case err != nil:
				frameErr = err
				return false
			case a == frameStop:
				stop = true
				return false
			}
			fresh = fresh || a == frameNew
			return true
		})
		switch {
		case frameErr != nil:
			return frameErr
		case stop || res == connDone:
			return nil
		case res == connFatal:
			return err
		case res == connFailed && !connected:
			// Never connected: the server is down or refuses the stream.
			// The client's retry policy was spent on this first request,
			// as on any call.
			return err
		}
		connected = connected || res != connFailed
		if l.lost != nil {
			if done, err := l.lost(ctx); done || err != nil {
				return err
			}
		}
		if fresh || time.Since(opened) >= healthyAfter || errors.Is(err, errIdle) {
			// The connection worked: only the loss of connections that
			// did not counts against the budget, so that a stream cut by a
			// proxy now and then lives on, while a server that drops every
			// connection at once does not keep it reconnecting forever.
			failures = 0
		}
		failures++
		if failures > l.sc.maxReconnects {
			lostErr := fmt.Errorf("kestra: %s: connection lost %d times in a row: %w", l.name, failures, err)
			if l.spent != nil {
				return l.spent(ctx, lostErr)
			}
			return lostErr
		}
		if err := sleepCtx(ctx, l.sc.backoff(failures)); err != nil {
			return err
		}
	}
}

// healthyAfter is how long a connection must have stayed open for its loss
// not to count against the reconnect budget.
const healthyAfter = 30 * time.Second

// conn opens one connection and hands each frame to onFrame (tag, data;
// data is valid only during the call) until onFrame returns false, the
// stream ends or breaks, or ctx is done. The body is closed before it
// returns, and nothing it started outlives it. When ctx is done the error
// is context.Cause(ctx).
func (l *streamLoop) conn(ctx context.Context, onFrame func(tag string, data []byte) bool) (connResult, error) {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	resp, err := l.open(cctx)
	if err != nil {
		var bad *argError
		switch {
		case ctx.Err() != nil:
			return connFatal, context.Cause(ctx)
		case errors.As(err, &bad):
			return connFatal, err
		}
		return connFailed, err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && retryableStatus(apiErr.StatusCode) {
			return connFailed, err
		}
		if apiErr != nil && apiErr.StatusCode == http.StatusNotFound {
			return connFatal, &streamUnavailableError{err}
		}
		return connFatal, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return connFatal, &streamUnavailableError{fmt.Errorf("kestra: %s: %w (Content-Type %q)",
			describeRequest(resp.Request), errNotEventStream, resp.Header.Get("Content-Type"))}
	}
	var body io.Reader = resp.Body
	if l.sc.idleTimeout > 0 {
		ir := &idleReader{r: resp.Body, d: l.sc.idleTimeout}
		ir.t = time.AfterFunc(l.sc.idleTimeout, func() { cancel(errIdle) })
		ir.t.Stop() // armed by each Read
		defer ir.t.Stop()
		body = ir
	}
	var quiet *silenceWatch
	if l.check != nil && l.sc.checkInterval > 0 {
		quiet = watchSilence(l.sc.checkInterval, func() {
			if err := l.check(cctx); err != nil && cctx.Err() == nil {
				cancel(&checkError{err})
			}
		})
		defer func() {
			cancel(nil) // a check under way ends with the connection
			quiet.stop()
		}()
	}

	done := false
	err = nil
	for ev, rerr := range sse.Read(body, &readConfig) {
		if rerr != nil {
			err = rerr
			break
		}
		if len(ev.Data) > maxFrameSize {
			return connFatal, ErrFrameTooLarge
		}
		quiet.heard()
		tag := ev.Type
		if tag == "" {
			tag = ev.LastEventID
		}
		if !onFrame(tag, bytesOf(ev.Data)) {
			done = true
			break
		}
	}
	var gone *checkError
	switch {
	case done:
		return connDone, nil
	case errors.Is(err, bufio.ErrTooLong):
		return connFatal, ErrFrameTooLarge
	case ctx.Err() != nil:
		return connFatal, context.Cause(ctx)
	case errors.As(context.Cause(cctx), &gone):
		return connFatal, gone.err
	case errors.Is(context.Cause(cctx), errIdle):
		return connDropped, fmt.Errorf("kestra: stream: %w", errIdle)
	case err == nil:
		err = io.ErrUnexpectedEOF // the server ended the stream
	}
	return connDropped, fmt.Errorf("kestra: stream: %w", err)
}

// bytesOf returns the data of a frame as bytes for json.Unmarshal, without
// a copy: the frame handlers only read them (json.Unmarshal never writes to
// its input, and what it keeps of it, it copies).
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// idleReader arms a timer for each Read, so that a Read blocked longer than
// d cancels the connection. Time spent outside Read does not count.
type idleReader struct {
	r io.Reader
	d time.Duration
	t *time.Timer
}

func (ir *idleReader) Read(p []byte) (int, error) {
	ir.t.Reset(ir.d)
	n, err := ir.r.Read(p)
	ir.t.Stop()
	return n, err
}

// silenceWatch calls fn each time a connection stayed d without a frame.
// fn runs on a timer's goroutine; stop waits for it to return.
type silenceWatch struct {
	d       time.Duration
	t       *time.Timer
	mu      sync.Mutex
	stopped bool
	running sync.WaitGroup
}

func watchSilence(d time.Duration, fn func()) *silenceWatch {
	w := &silenceWatch{d: d}
	w.t = time.AfterFunc(d, func() {
		w.mu.Lock()
		if w.stopped {
			w.mu.Unlock()
			return
		}
		w.running.Add(1)
		w.mu.Unlock()
		defer w.running.Done()
		fn()
		w.mu.Lock()
		if !w.stopped {
			w.t.Reset(w.d)
		}
		w.mu.Unlock()
	})
	return w
}

// heard restarts the silence period: a frame arrived. A nil watch does
// nothing.
func (w *silenceWatch) heard() {
	if w != nil {
		w.t.Reset(w.d)
	}
}

func (w *silenceWatch) stop() {
	w.mu.Lock()
	w.stopped = true
	w.t.Stop()
	w.mu.Unlock()
	w.running.Wait()
}

// describeRequest is "METHOD /path" of req, without credentials.
func describeRequest(req *http.Request) string {
	if req == nil || req.URL == nil {
		return "stream"
	}
	return req.Method + " " + sanitizeURL(req.URL)
}

// sleepCtx waits d or until ctx is done, returning context.Cause then.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
