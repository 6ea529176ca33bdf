package kestra

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ExecutionError is the error [ExecutionsService.Wait] returns, together
// with the final execution, when the execution ended FAILED, KILLED or
// CANCELLED. It is a result of the flow, not of the API call.
//
//	exec, err := c.Executions.Wait(ctx, id)
//	var execErr *kestra.ExecutionError
//	if errors.As(err, &execErr) {
//		log.Printf("tasks %v failed", execErr.FailedTasks)
//	}
type ExecutionError struct {
	// ID, Namespace and FlowID identify the execution and its flow.
	ID, Namespace, FlowID string
	// State is the final state: FAILED, KILLED or CANCELLED.
	State StateType
	// FailedTasks are the ids of the tasks whose last run failed.
	FailedTasks []string
}

// Error returns "kestra: execution ID of NAMESPACE.FLOW ended STATE", with
// the failed tasks when there are some.
func (e *ExecutionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kestra: execution %s of %s.%s ended %s", e.ID, e.Namespace, e.FlowID, e.State)
	if len(e.FailedTasks) > 0 {
		fmt.Fprintf(&b, " (failed tasks: %s)", strings.Join(e.FailedTasks, ", "))
	}
	return b.String()
}

// newExecutionError returns an *ExecutionError for a failed execution, and
// nil for any other.
func newExecutionError(e *Execution) error {
	if e == nil || !e.IsFailed() {
		return nil
	}
	return &ExecutionError{
		ID: e.ID, Namespace: e.Namespace, FlowID: e.FlowID,
		State: e.State.Current, FailedTasks: e.FailedTasks(),
	}
}

// Wait blocks until the execution id ends, and returns its final state. An
// execution that ended FAILED, KILLED or CANCELLED is returned together with
// an [*ExecutionError]; any other error comes with a nil execution. PAUSED
// and BREAKPOINT are not an end: Wait goes on until the execution is
// resumed (or resumed from its breakpoint) and ends, or ctx is done; use
// [ExecutionsService.WaitFunc] to see them. Wait is bounded by ctx only,
// not by [Config.Timeout].
//
// Wait follows the execution's event stream (see
// [ExecutionsService.Follow]). When the server cannot stream (its follow
// route answers 404 for an execution that exists, or answers something that
// is not an event stream) it polls the execution instead, with the delays of
// [StreamOptions.PollDelay] and [StreamOptions.MaxPollDelay]. opts may be
// nil.
//
// Kestra API: GET /api/v1/{tenant}/executions/{executionId}/follow
func (s *ExecutionsService) Wait(ctx context.Context, id string, opts *StreamOptions) (*Execution, error) {
	return s.WaitFunc(ctx, id, nil, opts)
}

// WaitFunc is [ExecutionsService.Wait] that calls fn with each change of
// the execution as [ExecutionsService.Follow] would yield it, the final
// state included. fn runs on the caller's goroutine and should return
// quickly: the stream is not read meanwhile.
//
// Kestra API: GET /api/v1/{tenant}/executions/{executionId}/follow
func (s *ExecutionsService) WaitFunc(ctx context.Context, id string, fn func(*Execution), opts *StreamOptions) (*Execution, error) {
	if id == "" {
		return nil, errEmptyID
	}
	sc := newStreamConfig(opts)
	var final *Execution
	err := s.follow(ctx, id, &sc, func(e *Execution, isFinal, dup bool) bool {
		if fn != nil && !dup {
			fn(e)
		}
		if isFinal {
			final = e
		}
		return true
	})
	var unavailable *streamUnavailableError
	if errors.As(err, &unavailable) {
		final, err = s.poll(ctx, id, &sc, fn)
	}
	if err != nil {
		return nil, err
	}
	return final, newExecutionError(final)
}

// poll reads the execution until it ends, with a capped backoff.
func (s *ExecutionsService) poll(ctx context.Context, id string, sc *streamConfig, fn func(*Execution)) (*Execution, error) {
	p := RetryPolicy{MinDelay: sc.pollMin, MaxDelay: sc.pollMax}.withDefaults()
	var lastSig string
	for n := 0; ; n++ {
		if n > 0 {
			if err := sleepCtx(ctx, p.backoff(n)); err != nil {
				return nil, err
			}
		}
		e, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if sig := e.stateSignature(); fn != nil && (n == 0 || sig != lastSig) {
			lastSig = sig
			fn(e)
		}
		if e.IsTerminal() {
			return e, nil
		}
	}
}

// Run starts an execution of the flow namespace/flowID, as
// [ExecutionsService.Create] does, and waits for its end, as
// [ExecutionsService.Wait] does. It returns the final execution, with an
// [*ExecutionError] when it failed. When the wait itself fails (ctx done,
// connection lost), Run returns the execution as it was created, so that
// its ID is known, together with the error. opts.Wait is ignored: Run waits
// on the event stream, not on a request the server holds open. stream
// tunes the wait and may be nil.
//
// Kestra API: POST /api/v1/{tenant}/executions/{namespace}/{id}, then GET
// /api/v1/{tenant}/executions/{executionId}/follow
func (s *ExecutionsService) Run(ctx context.Context, namespace, flowID string, opts *ExecuteOptions, stream *StreamOptions) (*Execution, error) {
	var o ExecuteOptions
	if opts != nil {
		o = *opts
	}
	o.Wait = false
	created, err := s.Create(ctx, namespace, flowID, &o)
	if err != nil {
		return nil, err
	}
	final, err := s.Wait(ctx, created.ID, stream)
	if final == nil && err != nil {
		return created, err
	}
	return final, err
}
