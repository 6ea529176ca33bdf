package kestra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"time"
)

// FollowOption tunes how [ExecutionsService.Follow] (and the waits built on
// it) keeps its stream open.
type FollowOption func(*streamConfig)

// FollowMaxReconnects sets how many times in a row a lost connection is
// reopened before the stream gives up and asks for the execution once
// more; the default is 5, and 0 never reconnects. A connection that
// delivered a change, stayed open 30s, or was closed by
// [FollowIdleTimeout] resets the count.
func FollowMaxReconnects(n int) FollowOption {
	return func(sc *streamConfig) { sc.maxReconnects = max(n, 0) }
}

// FollowReconnectDelay sets the wait before the first reconnect, doubled
// for each further one up to maxDelay (with jitter). The defaults are 250ms
// and 5s.
func FollowReconnectDelay(minDelay, maxDelay time.Duration) FollowOption {
	return func(sc *streamConfig) { sc.minDelay, sc.maxDelay = minDelay, maxDelay }
}

// FollowIdleTimeout treats a connection that receives no byte for d as lost,
// and reconnects. Kestra sends nothing while an execution does not change,
// so set d only behind proxies that silently drop idle connections, and
// long enough not to reconnect needlessly: a reconnect costs one request
// and a replay of the current state, which is not yielded again. Zero, the
// default, waits forever.
func FollowIdleTimeout(d time.Duration) FollowOption {
	return func(sc *streamConfig) { sc.idleTimeout = max(d, 0) }
}

func newStreamConfig(opts []FollowOption) streamConfig {
	sc := defaultStreamConfig()
	for _, o := range opts {
		o(&sc)
	}
	return sc
}

// Follow streams the execution id as it runs: each change, then its final
// state, after which the iteration ends. A change is a snapshot whose state,
// or the state of one of its task runs, differs from the last one yielded;
// the first snapshot is always yielded. The final state is yielded exactly
// once, even when it is also the first.
//
// A lost connection is reopened with a capped backoff (see
// [FollowMaxReconnects]); Kestra replays the current state then, which is
// not yielded again. When the reconnects are spent, the execution is read
// once more: its final state is yielded if it has ended, else an error.
//
// Errors are yielded once, after which the iteration stops: an *APIError
// ([ErrNotFound] for an unknown id, detected when the server drops the
// stream of an execution it cannot find), [ErrFrameTooLarge], a frame that
// does not decode, or the context's error. Leaving the loop early, or
// cancelling ctx, closes the connection.
//
// Kestra API: GET /api/v1/{tenant}/executions/{executionId}/follow
func (s *ExecutionsService) Follow(ctx context.Context, id string, opts ...FollowOption) iter.Seq2[*Execution, error] {
	sc := newStreamConfig(opts)
	return func(yield func(*Execution, error) bool) {
		if id == "" {
			yield(nil, errEmptyID)
			return
		}
		err := s.follow(ctx, id, &sc, func(e *Execution, final, dup bool) bool {
			return dup || yield(e, nil)
		})
		if err != nil {
			yield(nil, err)
		}
	}
}

// follow is the loop behind Follow and Wait. emit receives each snapshot
// worth showing: dup is true for a final snapshot that does not differ from
// the last one emitted (Wait wants it, Follow does not); final is true for
// the last call. It returns nil once the final snapshot is emitted or when
// emit returns false.
func (s *ExecutionsService) follow(ctx context.Context, id string, sc *streamConfig, emit func(e *Execution, final, dup bool) bool) error {
	var (
		lastSig string
		emitted bool
		ended   bool // a terminal snapshot was emitted
		stopped bool
	)
	changed := false // since the last connection was opened
	send := func(e *Execution, final bool) {
		sig := e.stateSignature()
		dup := emitted && sig == lastSig
		// An execution does not leave a terminal state while it is
		// followed: a snapshot that says otherwise is stale.
		if !final && (dup || ended && !e.IsTerminal()) {
			return
		}
		changed = changed || !dup
		lastSig, emitted = sig, true
		ended = ended || e.IsTerminal()
		if !emit(e, final, dup) {
			stopped = true
		}
	}
	open := func(ctx context.Context) (*http.Response, error) {
		return s.c.openEvents(ctx, &call{path: "executions/{executionId}/follow", args: []string{id}})
	}

	failures := 0
	for {
		var (
			progress  bool
			end       bool
			decodeErr error
		)
		changed = false
		opened := time.Now()
		res, err := runConn(ctx, sc, open, func(tag string, data []byte) bool {
			if tag != tagProgress && tag != tagEnd {
				return true // start, and tags this client does not know
			}
			e := new(Execution)
			if err := json.Unmarshal(data, e); err != nil {
				decodeErr = fmt.Errorf("kestra: follow execution %s: decode %s frame: %w", id, tag, err)
				return false
			}
			progress = true
			end = tag == tagEnd
			send(e, end)
			return !end && !stopped
		})
		switch {
		case stopped || end:
			return nil
		case decodeErr != nil:
			return decodeErr
		case res == connFatal:
			return err
		}

		// The connection was lost before the end.
		var (
			e    *Execution
			gerr error
		)
		if !progress || ended {
			// Kestra drops the stream of an execution it cannot find; the
			// execution itself tells whether it exists, or has ended (and
			// one seen ended needs no new stream to say so again).
			e, gerr = s.Get(ctx, id)
			switch {
			case gerr == nil && e.IsTerminal():
				send(e, true)
				return nil
			case errors.Is(gerr, ErrNotFound):
				return gerr
			case ctx.Err() != nil:
				return context.Cause(ctx)
			}
		}
		if healthyConn(changed, opened, err) {
			failures = 0
		}
		failures++
		if failures > sc.maxReconnects {
			if e == nil && gerr == nil {
				e, gerr = s.Get(ctx, id)
			}
			switch {
			case gerr != nil:
				return fmt.Errorf("kestra: follow execution %s: connection lost %d times in a row (%v), then: %w", id, failures, err, gerr)
			case e.IsTerminal():
				send(e, true)
				return nil
			}
			return fmt.Errorf("kestra: follow execution %s: connection lost %d times in a row: %w", id, failures, err)
		}
		if err := sleepCtx(ctx, sc.backoff(failures)); err != nil {
			return err
		}
	}
}
