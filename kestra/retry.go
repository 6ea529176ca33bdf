package kestra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryPolicy says which failed requests are sent again and how long to wait
// between attempts. Retries happen in the client's transport, for every
// call, streams included:
//
//   - connection errors, and the statuses 429, 502, 503 and 504;
//   - only when the request can be sent again: its body can be replayed, and
//     it is idempotent (GET, HEAD, OPTIONS, PUT, DELETE, except the bulk
//     operations on executions), or it provably never reached the server
//     (the connection was refused). A POST that may have created an
//     execution is never sent twice;
//   - waiting what Retry-After says, else a capped exponential backoff with
//     jitter, and never past the context's deadline.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt: 1 disables retries. Zero means 3.
	MaxAttempts int
	// MinDelay is the first backoff; it doubles up to MaxDelay. Zero means
	// 250ms and 5s.
	MinDelay, MaxDelay time.Duration
	// MaxRetryAfter caps how long a Retry-After header may make a retry wait;
	// beyond it the response is returned as it is. Zero means 1 minute.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy is the policy of a client created without [WithRetry].
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 3, MinDelay: 250 * time.Millisecond, MaxDelay: 5 * time.Second, MaxRetryAfter: time.Minute}

// NoRetry is a policy that sends every request once.
var NoRetry = RetryPolicy{MaxAttempts: 1}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetryPolicy.MaxAttempts
	}
	if p.MinDelay <= 0 {
		p.MinDelay = DefaultRetryPolicy.MinDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultRetryPolicy.MaxDelay
	}
	if p.MaxDelay < p.MinDelay {
		p.MaxDelay = p.MinDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultRetryPolicy.MaxRetryAfter
	}
	return p
}

// backoff returns the wait before attempt n+1 (n ≥ 1): MinDelay·2^(n-1),
// capped, with up to 25 % jitter taken off.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.MinDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// idempotent reports whether sending req twice does what sending it once
// does: its method says so, and it was not marked with [notIdempotent].
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return req.Context().Value(notIdempotentKey) == nil
	}
	return false
}

// neverSent reports whether err proves that the request did not reach the
// server: the connection could not be opened.
func neverSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// transport is the client's RoundTripper: a per-call deadline for calls that
// do not stream, retries, and debug logging of each attempt.
type transport struct {
	base    http.RoundTripper
	policy  RetryPolicy
	timeout time.Duration
	logger  *slog.Logger
}

type ctxKey int

const (
	noTimeoutKey ctxKey = iota
	notIdempotentKey
)

// notIdempotent marks a context whose calls must not be sent twice although
// their method allows it, such as a bulk deletion: sent again after a lost
// answer, it would be refused for ids the first one deleted. They are
// retried only when they provably never reached the server, as POSTs are.
func notIdempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, notIdempotentKey, true)
}

// withoutTimeout marks a context whose calls stream or wait on the server:
// only the context bounds them, not Config.Timeout.
func withoutTimeout(ctx context.Context) context.Context {
	return context.WithValue(ctx, noTimeoutKey, true)
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.timeout <= 0 || req.Context().Value(noTimeoutKey) != nil || req.Header.Get("Accept") == "text/event-stream" {
		return t.retry(req)
	}
	if d, ok := req.Context().Deadline(); ok && time.Until(d) <= t.timeout {
		// The caller's deadline comes first: a timer of our own would
		// bound nothing more.
		return t.retry(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.retry(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	if _, ok := resp.Body.(*bufferedBody); ok {
		// Read in full already: the deadline has nothing left to bound.
		cancel()
		return resp, nil
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// bufferedBody is a response body the transport read in full, so that a
// connection lost in the middle of it could be retried like one lost before
// the status. decode uses buf without copying it.
type bufferedBody struct {
	bytes.Reader
	buf []byte
}

func (*bufferedBody) Close() error { return nil }

// shouldBuffer reports whether the transport reads resp's body itself: the
// JSON answer of an idempotent call that neither streams nor waits on the
// server. Event streams, downloads and other bodies are handed over as they
// arrive.
func shouldBuffer(req *http.Request, resp *http.Response) bool {
	if !idempotent(req) || req.Method == http.MethodHead || resp.Body == nil || resp.Body == http.NoBody ||
		resp.ContentLength == 0 || resp.ContentLength > maxResponse ||
		req.Context().Value(noTimeoutKey) != nil || req.Header.Get("Accept") == "text/event-stream" {
		return false
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// bufferBody replaces resp.Body with its content, read in full. A body
// longer than maxResponse is handed over as it is: what was read, then the
// rest from the connection. On a read error the body is closed and resp is
// unusable.
func bufferBody(resp *http.Response) error {
	size := 512
	if resp.ContentLength > 0 {
		// One more byte, so that the read that reports EOF needs no growth.
		size = int(resp.ContentLength) + 1
	}
	buf := make([]byte, 0, size)
	r := io.LimitReader(resp.Body, maxResponse)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			resp.Body.Close()
			return fmt.Errorf("read response: %w", err)
		}
	}
	if len(buf) >= maxResponse {
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(buf), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	bb := &bufferedBody{buf: buf}
	bb.Reset(buf)
	resp.Body = bb
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// cancelBody releases the per-call deadline when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (t *transport) retry(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 1; ; attempt++ {
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(ctx)
			req.Body = body
		}
		start := time.Now()
		resp, err := t.base.RoundTrip(req)
		if err == nil && !retryableStatus(resp.StatusCode) && shouldBuffer(req, resp) {
			if rerr := bufferBody(resp); rerr != nil {
				// Lost mid-body: as retryable as lost before the status.
				resp, err = nil, rerr
			}
		}
		t.log(req, resp, err, attempt, time.Since(start))

		last := attempt >= t.policy.MaxAttempts || !replayable || ctx.Err() != nil
		var wait time.Duration
		switch {
		case last:
			return resp, err
		case err != nil:
			if !idempotent(req) && !neverSent(err) {
				return nil, err
			}
			wait = t.policy.backoff(attempt)
		case retryableStatus(resp.StatusCode) && idempotent(req):
			if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				if d > t.policy.MaxRetryAfter {
					return resp, nil
				}
				wait = d
			} else {
				wait = t.policy.backoff(attempt)
			}
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
				return resp, nil
			}
			// Drain a little so the connection can be reused.
			_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
			resp.Body.Close()
		default:
			return resp, nil
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			if err != nil {
				// The context ended the call: callers test for it.
				return nil, fmt.Errorf("%w; last attempt: %w", ctx.Err(), err)
			}
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

func (t *transport) log(req *http.Request, resp *http.Response, err error, attempt int, d time.Duration) {
	if t.logger == nil || !t.logger.Enabled(req.Context(), slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("url", sanitizeURL(req.URL)),
		slog.Int("attempt", attempt),
		slog.Duration("duration", d),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	} else {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	t.logger.LogAttrs(req.Context(), slog.LevelDebug, "kestra request", attrs...)
}
