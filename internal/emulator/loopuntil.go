package emulator

import (
	"fmt"
	"time"
)

// The LoopUntil task, alias WaitFor (core/.../plugin/core/flow/
// LoopUntil.java, FlowableUtils#resolveWaitForNext,
// ExecutorService#handleFlowableTasks, ExecutionService#retryWaitFor and
// #pauseFlowable, 1.3.19 and 2.0.0-SNAPSHOT). Its tasks run one after the
// other; once they all succeeded:
//   - when the iterations reached checkFrequency.maxIterations (the
//     iterationCount output is above it) or the loop ran longer than
//     checkFrequency.maxDuration, it ends with a WARN log ("Max iterations
//     reached" / "Max duration reached"): FAILED with failOnMaxReached,
//     else as its tasks ended;
//   - else when condition renders truthy it ends as its tasks ended;
//   - else iterationCount (1 on the first iteration) grows by one, the
//     task run and the execution are PAUSED for checkFrequency.interval
//     (default PT1M), then the task runs of the iteration are removed (its
//     children on 1.3, all its descendants on 2.0), the task run's
//     iteration grows by one (none on the first iteration, then 1, 2, ...)
//     and its state goes back to CREATED (no history added), and the tasks
//     run again. Its children carry the iteration (0 on the first).
// A failed task fails it, after its errors branch.

const typeLoopUntil = "io.kestra.plugin.core.flow.LoopUntil"

// runLoopUntil runs the LoopUntil task of tr; the lock is held on entry
// and released.
func (rn *runner) runLoopUntil(task map[string]any, tr *taskRunJSON) outcome {
	ex := rn.ex
	if tr.State.Current != stateRestarted || tr.Outputs == nil {
		// A restart goes on with the iteration that failed.
		tr.Outputs = map[string]any{"iterationCount": 1}
	}
	rn.startFlowableLocked(tr)
	rn.en.publishLocked(ex)
	rn.en.mu.Unlock()
	tasks := mapList(task["tasks"])
	freq, _ := task["checkFrequency"].(map[string]any)
	for {
		iteration := 0
		if tr.Iteration != nil {
			iteration = *tr.Iteration
		}
		out := outSuccess
		for _, t := range tasks {
			if out = rn.runTask(t, scope{parent: tr, iteration: &iteration}, false); out != outSuccess {
				break
			}
		}
		switch out {
		case outStopped:
			return outStopped
		case outFailed:
			if rn.runGroups([]group{{tasks: mapList(task["errors"])}}, 1, tr) == outStopped {
				return outStopped
			}
			if !rn.lock() {
				return outStopped
			}
			rn.finishLocked(tr, stateFailed)
			rn.en.mu.Unlock()
			return outFailed
		}

		if !rn.lock() {
			return outStopped
		}
		vars := rn.en.varsLocked(ex, tr)
		count := intProp(tr.Outputs, "iterationCount", 1)
		reached, err := loopUntilReached(freq, vars, count, tr)
		var cond string
		if err == nil && reached == "" {
			cond, err = render(stringify(task["condition"]), vars)
		}
		if err != nil {
			rn.logLocked(tr, "ERROR", fmt.Sprintf("Failed to process flowable task %s: %s", tr.ID, err.Error()))
			rn.finishLocked(tr, stateFailed)
			rn.en.mu.Unlock()
			return outFailed
		}
		if reached != "" || truthy(cond) {
			state := guessState(rn.childrenLocked(tr, tasks))
			if reached != "" {
				rn.logLocked(tr, "WARN", reached)
				if fail, _ := render(stringify(task["failOnMaxReached"]), vars); fail == "true" {
					state = stateFailed
				}
			}
			rn.finishLocked(tr, state)
			rn.en.mu.Unlock()
			if state == stateFailed {
				return outFailed
			}
			return outSuccess
		}

		interval := time.Minute
		if v, ok := freq["interval"]; ok {
			s, err := render(stringify(v), vars)
			if err == nil {
				interval, err = parseISODuration(s)
			}
			if err != nil {
				rn.logLocked(tr, "ERROR", fmt.Sprintf("Failed to process flowable task %s: invalid interval %s", tr.ID, stringify(v)))
				rn.finishLocked(tr, stateFailed)
				rn.en.mu.Unlock()
				return outFailed
			}
		}
		tr.Outputs = map[string]any{"iterationCount": count + 1}
		t := now()
		tr.State.set(statePaused, t)
		ex.e.State.set(statePaused, t)
		rn.en.publishLocked(ex)
		rn.en.mu.Unlock()
		if !rn.en.sleep(rn.ctx, interval) || !rn.lock() {
			return outStopped
		}
		rn.retryWaitForLocked(tr)
		rn.en.mu.Unlock()
	}
}

// loopUntilReached says which maximum of checkFrequency the loop of tr
// reached after count iterations, "" if none.
func loopUntilReached(freq map[string]any, vars map[string]any, count int, tr *taskRunJSON) (string, error) {
	if v, ok := freq["maxIterations"]; ok && v != nil {
		s, err := render(stringify(v), vars)
		if err != nil {
			return "", err
		}
		if limit := intProp(map[string]any{"n": s}, "n", -1); limit >= 0 && count > limit {
			return "Max iterations reached", nil
		}
	}
	if v, ok := freq["maxDuration"]; ok && v != nil {
		s, err := render(stringify(v), vars)
		if err != nil {
			return "", err
		}
		d, err := parseISODuration(s)
		if err != nil {
			return "", fmt.Errorf("invalid maxDuration %s", s)
		}
		// From the task run's last CREATED (the loop's start: a new
		// iteration adds no history).
		var created time.Time
		for _, h := range tr.State.Histories {
			if h.State == stateCreated {
				created = h.Date
			}
		}
		if created.Add(d).Before(now()) {
			return "Max duration reached", nil
		}
	}
	return "", nil
}

// childrenLocked returns the task runs of tasks under tr.
func (rn *runner) childrenLocked(tr *taskRunJSON, tasks []map[string]any) []*taskRunJSON {
	ids := map[string]bool{}
	for _, t := range tasks {
		id, _ := t["id"].(string)
		ids[id] = true
	}
	var out []*taskRunJSON
	for _, c := range rn.ex.e.TaskRunList {
		if c.ParentTaskRunID == tr.ID && ids[c.TaskID] {
			out = append(out, c)
		}
	}
	return out
}

// retryWaitForLocked starts the next iteration of the LoopUntil task run
// tr (ExecutionService#retryWaitFor).
func (rn *runner) retryWaitForLocked(tr *taskRunJSON) {
	ex := rn.ex
	drop := map[string]bool{tr.ID: true}
	var kept []*taskRunJSON
	for _, c := range ex.e.TaskRunList {
		switch {
		case c.ParentTaskRunID == tr.ID:
		case rn.en.cfg.version != Version13 && drop[c.ParentTaskRunID]:
			// 2.0 removes all descendants (task runs come after their
			// parent in the list).
		default:
			kept = append(kept, c)
			continue
		}
		drop[c.ID] = true
	}
	ex.e.TaskRunList = kept
	next := 1
	if tr.Iteration != nil {
		next = *tr.Iteration + 1
	}
	tr.Iteration = &next
	tr.Attempts = nil
	tr.State.Current = stateCreated
	tr.State.EndDate, tr.State.Duration = nil, ""
	ex.e.State.set(stateRunning, now())
	rn.startFlowableLocked(tr)
	rn.en.publishLocked(ex)
}
