package kestra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
)

// Follow streams the execution id as it runs: each change, then its final
// state, after which the iteration ends. A change is a snapshot whose state,
// or the state of one of its task runs, differs from the last one yielded;
// the first snapshot is always yielded. The final state is yielded exactly
// once, even when it is also the first. opts may be nil.
//
// A lost connection is reopened with a capped backoff (see
// [StreamOptions]); Kestra replays the current state then, which is not
// yielded again. When the reconnects are spent, the execution is read once
// more: its final state is yielded if it has ended, else an error.
//
// A frame is checked before it is trusted: it must carry the execution id,
// and an end frame a final state. Otherwise the execution is read (GET)
// and its answer is taken instead; a server that keeps sending such
// frames ends the stream with an error naming the frame. A stream that
// stays silent for [StreamOptions.CheckInterval] is checked the same way,
// so that an execution deleted while it runs ends the stream with
// [ErrNotFound] (Kestra does not end it).
//
// Errors are yielded once, after which the iteration stops: an *APIError
// ([ErrNotFound] for an unknown id, detected when the server drops the
// stream of an execution it cannot find), [ErrFrameTooLarge], a frame that
// does not decode, the connection's error when the server cannot be
// reached, or the context's error. Leaving the loop early, or cancelling
// ctx, closes the connection.
//
// Kestra API: GET /api/v1/{tenant}/executions/{executionId}/follow
func (s *ExecutionsService) Follow(ctx context.Context, id string, opts *StreamOptions) iter.Seq2[*Execution, error] {
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

// maxUntrusted is how many frames in a row may fail their check before
// the stream ends with an error.
const maxUntrusted = 3

// follow is the loop behind Follow and Wait. emit receives each snapshot
// worth showing: dup is true for a final snapshot that does not differ from
// the last one emitted (Wait wants it, Follow does not); final is true for
// the last call. It returns nil once the final snapshot is emitted or when
// emit returns false.
func (s *ExecutionsService) follow(ctx context.Context, id string, sc *streamConfig, emit func(e *Execution, final, dup bool) bool) error {
	var (
		lastSig   string
		emitted   bool
		ended     bool // a terminal snapshot was emitted
		stopped   bool
		progress  bool // the current connection delivered an execution
		untrusted int  // frames in a row that failed their check
	)
	// send emits e unless it is stale, and reports whether it was new.
	send := func(e *Execution, final bool) bool {
		sig := e.stateSignature()
		dup := emitted && sig == lastSig
		// An execution does not leave a terminal state while it is
		// followed: a snapshot that says otherwise is stale.
		if !final && (dup || ended && !e.IsTerminal()) {
			return false
		}
		lastSig, emitted = sig, true
		ended = ended || e.IsTerminal()
		if !emit(e, final, dup) {
			stopped = true
		}
		return !dup
	}
	// confirm asks the execution itself what a frame that failed its
	// check could not tell.
	confirm := func(tag, why string) (frameAction, error) {
		untrusted++
		e, err := s.Get(ctx, id)
		switch {
		case err != nil && ctx.Err() != nil:
			return frameStop, context.Cause(ctx)
		case errors.Is(err, ErrNotFound):
			return frameStop, err
		case err != nil:
			return frameStop, fmt.Errorf("kestra: follow execution %s: %s frame %s, then: %w", id, tag, why, err)
		case e.ID != id:
			return frameStop, fmt.Errorf("kestra: follow execution %s: %s frame %s, and GET answered execution %q", id, tag, why, e.ID)
		case e.IsTerminal():
			send(e, true)
			return frameStop, nil
		case untrusted >= maxUntrusted:
			return frameStop, fmt.Errorf("kestra: follow execution %s: %d untrusted frames in a row, the last: %s frame %s (GET says %s)",
				id, untrusted, tag, why, e.State.Current)
		}
		progress = true
		return frameActionOf(send(e, false), stopped), nil
	}
	open := func(ctx context.Context) (*http.Response, error) {
		return s.c.openEvents(ctx, &call{path: "executions/{executionId}/follow", args: []string{id}})
	}
	// get reads the execution after a lost connection: done when it has
	// ended (its final state emitted), or an error that ends the stream.
	get := func(ctx context.Context) (e *Execution, done bool, err error) {
		e, err = s.Get(ctx, id)
		switch {
		case err == nil && e.IsTerminal():
			send(e, true)
			return e, true, nil
		case errors.Is(err, ErrNotFound):
			return nil, false, err
		case ctx.Err() != nil:
			return nil, false, context.Cause(ctx)
		}
		return e, false, err
	}
	var (
		lostGet    *Execution // what the GET after the last loss said
		lostGetErr error
	)
	loop := streamLoop{
		sc:   sc,
		name: "follow execution " + id,
		open: open,
		attempt: func(int) {
			progress, lostGet, lostGetErr = false, nil, nil
		},
		frame: func(tag string, data []byte) (frameAction, error) {
			if tag != tagProgress && tag != tagEnd {
				return frameOld, nil // start, and tags this client does not know
			}
			if isNull(data) {
				return confirm(tag, "without data")
			}
			e := new(Execution)
			if err := json.Unmarshal(data, e); err != nil {
				return frameStop, fmt.Errorf("kestra: follow execution %s: decode %s frame: %w", id, tag, err)
			}
			switch {
			case e.ID != id:
				return confirm(tag, fmt.Sprintf("for execution %q", e.ID))
			case tag == tagEnd && !e.IsTerminal():
				return confirm(tag, fmt.Sprintf("in state %s", e.State.Current))
			}
			untrusted = 0
			progress = true
			isEnd := tag == tagEnd
			fresh := send(e, isEnd)
			if isEnd {
				return frameStop, nil
			}
			return frameActionOf(fresh, stopped), nil
		},
		check: func(ctx context.Context) error {
			if _, err := s.Get(ctx, id); errors.Is(err, ErrNotFound) {
				return err
			}
			return nil
		},
		lost: func(ctx context.Context) (bool, error) {
			if stopped {
				return true, nil
			}
			if progress && !ended {
				return false, nil
			}
			// Kestra drops the stream of an execution it cannot find; the
			// execution itself tells whether it exists, or has ended (and
			// one seen ended needs no new stream to say so again).
			e, done, err := get(ctx)
			if done || errors.Is(err, ErrNotFound) || ctx.Err() != nil {
				return done, err
			}
			lostGet, lostGetErr = e, err
			return false, nil
		},
		spent: func(ctx context.Context, lostErr error) error {
			e, err := lostGet, lostGetErr
			if e == nil && err == nil {
				var done bool
				if e, done, err = get(ctx); done {
					return nil
				}
			}
			switch {
			case err != nil:
				return fmt.Errorf("%w, then: %w", lostErr, err)
			case e.IsTerminal():
				send(e, true)
				return nil
			}
			return lostErr
		},
	}
	err := loop.run(ctx)
	if stopped {
		return nil
	}
	return err
}

// frameActionOf is frameNew for a frame that brought something new,
// frameStop once the consumer stopped.
func frameActionOf(fresh, stopped bool) frameAction {
	switch {
	case stopped:
		return frameStop
	case fresh:
		return frameNew
	}
	return frameOld
}

// isNull reports whether the data of a frame is JSON null (or nothing).
func isNull(data []byte) bool {
	data = bytes.TrimSpace(data)
	return len(data) == 0 || string(data) == "null"
}
