package kestra

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"
)

// Server-Sent Events plumbing shared by the execution and log streams.
//
// Kestra tags each frame by its SSE id: "start" (a placeholder sent first),
// "progress", and for executions "end". One connection is read with
// [runConn]; the callers own the reconnect loop, because what a reconnect
// must skip differs between executions and logs.

// maxFrameSize bounds one SSE frame. An execution with hundreds of task
// runs is several hundred KB per frame; a frame beyond this is an error,
// never a reason to reconnect. The read buffer starts small and grows only
// as large frames arrive.
const maxFrameSize = 16 << 20

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

// streamConfig is how a stream reconnects.
type streamConfig struct {
	maxReconnects int           // consecutive lost connections tolerated
	minDelay      time.Duration // first reconnect delay, doubled up to maxDelay
	maxDelay      time.Duration
	idleTimeout   time.Duration // 0: none
}

// Reconnect defaults of streams.
const (
	defaultMaxReconnects  = 5
	defaultReconnectDelay = 250 * time.Millisecond
	defaultMaxReconnect   = 5 * time.Second
)

func defaultStreamConfig() streamConfig {
	return streamConfig{maxReconnects: defaultMaxReconnects, minDelay: defaultReconnectDelay, maxDelay: defaultMaxReconnect}
}

// backoff is the wait before reconnect n (n ≥ 1).
func (sc *streamConfig) backoff(n int) time.Duration {
	return RetryPolicy{MinDelay: sc.minDelay, MaxDelay: sc.maxDelay}.withDefaults().backoff(n)
}

// connResult says how one connection of a stream ended.
type connResult int

const (
	// connDropped: lost before the stream's end; reconnecting may help.
	connDropped connResult = iota
	// connDone: onFrame returned false (an end frame, the consumer
	// stopped, a frame that does not decode).
	connDone
	// connFatal: an error a reconnect would not fix, or ctx is done.
	connFatal
)

// openFunc sends the request of a stream ([Client.openEvents]) with the
// given context.
type openFunc func(ctx context.Context) (*http.Response, error)

// runConn opens one connection of a stream and hands each frame to onFrame
// (tag, data; data is valid only during the call) until onFrame returns
// false, the stream ends or breaks, or ctx is done. The body is closed
// before it returns, and nothing it started outlives it. When ctx is done
// the error is context.Cause(ctx).
func runConn(ctx context.Context, sc *streamConfig, open openFunc, onFrame func(tag string, data []byte) bool) (connResult, error) {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	resp, err := open(cctx)
	if err != nil {
		var bad *argError
		switch {
		case ctx.Err() != nil:
			return connFatal, context.Cause(ctx)
		case errors.As(err, &bad):
			return connFatal, err
		}
		return connDropped, err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && retryableStatus(apiErr.StatusCode) {
			return connDropped, err
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
	if sc.idleTimeout > 0 {
		ir := &idleReader{r: resp.Body, d: sc.idleTimeout}
		ir.t = time.AfterFunc(sc.idleTimeout, func() { cancel(errIdle) })
		ir.t.Stop() // armed by each Read
		defer ir.t.Stop()
		body = ir
	}
	done := false
	err = readEvents(body, maxFrameSize, func(ev *sseEvent) bool {
		tag := ev.Type
		if tag == "" {
			tag = ev.ID
		}
		done = !onFrame(tag, ev.Data)
		return !done
	})
	switch {
	case done:
		return connDone, nil
	case errors.Is(err, bufio.ErrTooLong):
		return connFatal, ErrFrameTooLarge
	case ctx.Err() != nil:
		return connFatal, context.Cause(ctx)
	case errors.Is(context.Cause(cctx), errIdle):
		return connDropped, fmt.Errorf("kestra: stream: %w", errIdle)
	case err == nil:
		err = io.ErrUnexpectedEOF // the server ended the stream
	}
	return connDropped, fmt.Errorf("kestra: stream: %w", err)
}

// healthyAfter is how long a connection must have stayed open for its loss
// not to count against the reconnect budget.
const healthyAfter = 30 * time.Second

// healthyConn reports whether a lost connection worked: it delivered
// something new, stayed open a while, or was closed by the idle timeout
// (on purpose). Only the loss of a connection that did not work counts
// against the reconnect budget, so that a stream cut by a proxy now and
// then lives on, while a server that drops every connection at once does
// not keep the stream reconnecting forever.
func healthyConn(changed bool, opened time.Time, err error) bool {
	return changed || time.Since(opened) >= healthyAfter || errors.Is(err, errIdle)
}

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
