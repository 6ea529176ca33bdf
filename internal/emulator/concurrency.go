package emulator

import (
	"fmt"
	"slices"
	"time"
)

// Flow concurrency limits (core/.../models/flows/Concurrency.java,
// ExecutorService#processExecutionRunning, ConcurrencyLimitService). A
// created execution is admitted when fewer than limit executions of its
// flow were admitted and have not ended; else, by the flow's behavior, it
// is QUEUED (first in, first out), CANCELLED or FAILED, with no task run.
// When an admitted execution ends, the oldest QUEUED one of its flow goes
// straight to RUNNING. Unqueue and force-run admit a QUEUED execution
// regardless of the limit. Restarted executions are not counted here.

const (
	stateQueued    = "QUEUED"
	stateCancelled = "CANCELLED"
)

// admissionLocked decides what happens to the created execution ex: ""
// (admitted), or QUEUED, CANCELLED or FAILED.
func (en *engine) admissionLocked(ex *execution) string {
	c := ex.rev.pf.concurrency
	if ex.forced || c.limit <= 0 || en.admittedLocked(ex.key) < c.limit {
		ex.admitted = true
		return ""
	}
	switch c.behavior {
	case "CANCEL":
		return stateCancelled
	case "FAIL":
		return stateFailed
	}
	return stateQueued
}

// admittedLocked counts the executions of a flow that hold a slot.
func (en *engine) admittedLocked(key flowKey) int {
	n := 0
	for _, ex := range en.execs {
		if ex.key == key && ex.admitted && !ex.released {
			n++
		}
	}
	return n
}

// releaseLocked frees the slot of an admitted execution that ended (or
// was deleted), and admits the oldest execution its flow queued.
func (en *engine) releaseLocked(ex *execution) {
	if !ex.admitted || ex.released {
		return
	}
	ex.released = true
	if c := ex.rev.pf.concurrency; c.behavior != "QUEUE" || en.admittedLocked(ex.key) >= c.limit {
		return
	}
	var next *execution
	for _, q := range en.execs {
		if q.key == ex.key && q.e.State.Current == stateQueued && (next == nil || q.queuedAt.Before(next.queuedAt)) {
			next = q
		}
	}
	if next != nil {
		en.admitLocked(next)
	}
}

// admitLocked moves a QUEUED execution to RUNNING and wakes its runner.
func (en *engine) admitLocked(ex *execution) {
	ex.admitted = true
	en.wakeRunnerLocked(ex, now())
}

// queueLocked puts the created execution ex in the state admission gave
// it: QUEUED (its runner then waits to be admitted), CANCELLED or FAILED.
func (rn *runner) queueLocked(state string) {
	ex := rn.ex
	ex.e.State.set(state, now())
	switch state {
	case stateQueued:
		ex.queuedAt = time.Now()
		rn.logLocked(nil, "INFO", fmt.Sprintf("Execution is queued due to concurrency limit exceeded, %d running(s)", rn.en.admittedLocked(ex.key)))
	case stateFailed:
		rn.logLocked(nil, "ERROR", "Execution is FAILED due to concurrency limit exceeded")
	}
	rn.en.publishLocked(ex)
}

// unqueueTargets are the states a QUEUED execution can be moved to.
var unqueueTargets = []string{stateRunning, stateCancelled, stateFailed}

func validUnqueueTarget(state string) bool { return slices.Contains(unqueueTargets, state) }
