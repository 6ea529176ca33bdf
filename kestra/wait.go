package kestra

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
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

// WaitOption tunes [ExecutionsService.Wait].
type WaitOption func(*waitConfig)

type waitConfig struct {
	stream             streamConfig
	minDelay, maxDelay time.Duration
}

// Polling delays of Wait when the server does not stream.
const (
	defaultPollMinDelay = 500 * time.Millisecond
	defaultPollMaxDelay = 5 * time.Second
)

// WaitMinDelay sets the first delay between two reads of the execution
// when Wait has to poll, because the server (or a proxy in front of it)
// does not stream. It doubles up to [WaitMaxDelay]. The default is 500ms.
func WaitMinDelay(d time.Duration) WaitOption {
	return func(wc *waitConfig) { wc.minDelay = d }
}

// WaitMaxDelay caps the delay between two reads of the execution when Wait
// polls. The default is 5s.
func WaitMaxDelay(d time.Duration) WaitOption {
	return func(wc *waitConfig) { wc.maxDelay = d }
}

// WaitFollowOptions tunes the stream Wait follows the execution with.
func WaitFollowOptions(opts ...FollowOption) WaitOption {
	return func(wc *waitConfig) {
		for _, o := range opts {
			o(&wc.stream)
		}
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
// [WaitMinDelay] and [WaitMaxDelay].
//
// Kestra API: GET /api/v1/{tenant}/executions/{executionId}/follow
func (s *ExecutionsService) Wait(ctx context.Context, id string, opts ...WaitOption) (*Execution, error) {
	return s.WaitFunc(ctx, id, nil, opts...)
}

// WaitFunc is [ExecutionsService.Wait] that calls fn with each change of
// the execution as [ExecutionsService.Follow] would yield it, the final
// state included. fn runs on the caller's goroutine and should return
// quickly: the stream is not read meanwhile.
//
// Kestra API: GET /api/v1/{tenant}/executions/{executionId}/follow
func (s *ExecutionsService) WaitFunc(ctx context.Context, id string, fn func(*Execution), opts ...WaitOption) (*Execution, error) {
	if id == "" {
		return nil, errEmptyID
	}
	wc := waitConfig{stream: defaultStreamConfig(), minDelay: defaultPollMinDelay, maxDelay: defaultPollMaxDelay}
	for _, o := range opts {
		o(&wc)
	}
	var final *Execution
	err := s.follow(ctx, id, &wc.stream, func(e *Execution, isFinal, dup bool) bool {
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
		final, err = s.poll(ctx, id, &wc, fn)
	}
	if err != nil {
		return nil, err
	}
	return final, newExecutionError(final)
}

// poll reads the execution until it ends, with a capped backoff.
func (s *ExecutionsService) poll(ctx context.Context, id string, wc *waitConfig, fn func(*Execution)) (*Execution, error) {
	p := RetryPolicy{MinDelay: wc.minDelay, MaxDelay: wc.maxDelay}.withDefaults()
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
// on the event stream, not on a request the server holds open.
//
// Kestra API: POST /api/v1/{tenant}/executions/{namespace}/{id}, then GET
// /api/v1/{tenant}/executions/{executionId}/follow
func (s *ExecutionsService) Run(ctx context.Context, namespace, flowID string, opts *ExecuteOptions, waitOpts ...WaitOption) (*Execution, error) {
	var o ExecuteOptions
	if opts != nil {
		o = *opts
	}
	o.Wait = false
	created, err := s.Create(ctx, namespace, flowID, &o)
	if err != nil {
		return nil, err
	}
	final, err := s.Wait(ctx, created.ID, waitOpts...)
	if final == nil && err != nil {
		return created, err
	}
	return final, err
}
