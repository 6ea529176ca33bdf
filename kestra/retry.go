package kestra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
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
//   - only when the request can be sent again: its body can be replayed,
//     and the call is idempotent, or it provably never reached the server
//     (the connection was refused). A call that may start or move
//     something is never sent twice once it may have reached the server:
//     every POST, webhooks of any method, [FilesService.Move], the
//     execution actions other than Kill, and the bulk operations;
//   - waiting what Retry-After says, else a capped exponential backoff with
//     jitter, and never past the context's deadline. A Retry-After longer
//     than MaxRetryAfter (however large) ends the call with the answer's
//     error.
//
// A delete retried after a lost answer that finds nothing reports success
// (the first attempt did it); a kill refused as already done after a retry
// returns the execution as it is.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt: 1 disables retries. Zero means 3.
	MaxAttempts int
	// MinDelay is the first backoff; it doubles up to MaxDelay. Zero means
	// 250ms and 5s.
	MinDelay, MaxDelay time.Duration
	// MaxRetryAfter caps how long a Retry-After header may make a retry wait;
	// beyond it the response is returned as it is (an *APIError). Zero
	// means 1 minute.
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

// idempotentMethod reports whether a request's method says that sending it
// twice does what sending it once does.
func idempotentMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
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

// retryAfter parses a Retry-After header: seconds or an HTTP date. A wait
// longer than maxWait is reported as maxWait+1s, without overflow.
func retryAfter(h string, now time.Time, maxWait time.Duration) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(strings.TrimSpace(h), 10, 64); err == nil && s >= 0 {
		if s > int64(maxWait/time.Second) {
			return maxWait + time.Second, true
		}
		return time.Duration(s) * time.Second, true
	} else if err != nil && strings.TrimLeft(strings.TrimSpace(h), "0123456789") == "" && strings.TrimSpace(h) != "" {
		// Digits only, too many for an int64.
		return maxWait + time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(t.Sub(now), 0), maxWait+time.Second), true
	}
	return 0, false
}

// transport is the client's RoundTripper: it retries and logs. Requests of
// [Client.run] come through a [callTransport] that carries their call's
// [sendPolicy]; requests of the generated client ([Client.API]) come
// straight, and are re-sent or not by their method, bounded by
// Config.Timeout.
type transport struct {
	base        http.RoundTripper
	policy      RetryPolicy
	timeout     time.Duration
	logger      *slog.Logger
	maxResponse int64
}

// sendPolicy is how the transport may send one call.
type sendPolicy struct {
	// once: never re-sent once the request may have reached the server
	// (only a refused connection is retried).
	once bool
	// buffer: a 2xx answer is read in full (up to the response cap) inside
	// the retry loop, so that a connection lost in its middle is retried
	// like one lost before the status.
	buffer bool
	// timeout: Config.Timeout is applied here (calls of the generated
	// client; run applies it to the whole of its calls).
	timeout bool
}

// callTransport sends the requests of one call of [Client.run] with that
// call's policy, and records whether one was re-sent after an attempt that
// may have reached the server.
type callTransport struct {
	t      *transport
	policy sendPolicy
	logURL string // the URL logs print, when the real one holds a secret
	resent bool
	answer []byte // the 2xx answer read in full (policy.buffer)
}

func (ct *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return ct.t.roundTrip(req, ct.policy, ct)
}

// RoundTrip sends a request of the generated client ([Client.API]). Such
// a request comes without a call description, so its policy comes from its
// operation in openapi.yaml: re-sent or not by its method, and bounded by
// Config.Timeout unless its answer is a stream or a download.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	stream := streamRoute(req.Method, req.URL.EscapedPath())
	return t.roundTrip(req, sendPolicy{once: !idempotentMethod(req.Method), timeout: !stream}, nil)
}

func (t *transport) roundTrip(req *http.Request, p sendPolicy, ct *callTransport) (*http.Response, error) {
	if !p.timeout || t.timeout <= 0 {
		return t.retry(req, p, ct)
	}
	if d, ok := req.Context().Deadline(); ok && time.Until(d) <= t.timeout {
		// The caller's deadline comes first: a timer of our own would
		// bound nothing more.
		return t.retry(req, p, ct)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.retry(req.WithContext(ctx), p, ct)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// errTooLarge is a bufferBody failure that a retry would not fix.
type errTooLarge struct{ error }

// bufferBody reads resp's body in full, up to limit, so that a connection
// lost in its middle can be retried like one lost before the status; the
// body left in resp is empty. On an error resp is unusable.
func bufferBody(resp *http.Response, limit int64) ([]byte, error) {
	buf, err := readCapped(resp.Body, resp.ContentLength, limit)
	resp.Body.Close()
	resp.Body = http.NoBody
	if errors.Is(err, ErrResponseTooLarge) {
		return nil, errTooLarge{err}
	}
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return buf, nil
}

// cancelBody releases a deadline when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// errNilResponse replaces the (nil, nil) of a faulty RoundTripper.
var errNilResponse = errors.New("the HTTP transport returned neither a response nor an error")

func (t *transport) retry(req *http.Request, p sendPolicy, ct *callTransport) (*http.Response, error) {
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
		if err == nil && resp == nil {
			err = errNilResponse
		}
		if err == nil && resp.Body == nil {
			resp.Body = http.NoBody
		}
		if err == nil && p.buffer && ct != nil && resp.StatusCode >= 200 && resp.StatusCode <= 299 && req.Method != http.MethodHead {
			if buf, rerr := bufferBody(resp, t.maxResponse); rerr != nil {
				// Lost mid-body: as retryable as lost before the status.
				resp, err = nil, rerr
			} else {
				ct.answer = buf
			}
		}
		t.log(req, resp, err, attempt, time.Since(start), ct)
		var tooLarge errTooLarge
		if errors.As(err, &tooLarge) {
			return nil, tooLarge.error
		}

		// A context that ended is not tested here: an answer that would be
		// retried then ends the call with the context's error below, as
		// it does when the context ends during the backoff.
		last := attempt >= t.policy.MaxAttempts || !replayable
		var wait time.Duration
		switch {
		case last:
			return resp, err
		case err != nil:
			if p.once && !neverSent(err) {
				return nil, err
			}
			wait = t.policy.backoff(attempt)
		case retryableStatus(resp.StatusCode) && !p.once:
			if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now(), t.policy.MaxRetryAfter); ok {
				if d > t.policy.MaxRetryAfter {
					// Given up: the answer is the error.
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
		if ct != nil && !(err != nil && neverSent(err)) {
			ct.resent = true
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
		if ctx.Err() != nil {
			if err != nil {
				// The context ended the call: callers test for it.
				return nil, fmt.Errorf("%w; last attempt: %w", ctx.Err(), err)
			}
			return nil, ctx.Err()
		}
	}
}

func (t *transport) log(req *http.Request, resp *http.Response, err error, attempt int, d time.Duration, ct *callTransport) {
	if t.logger == nil || !t.logger.Enabled(req.Context(), slog.LevelDebug) {
		return
	}
	u := sanitizeURL(req.URL)
	if ct != nil && ct.logURL != "" {
		u = ct.logURL
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("url", u),
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
