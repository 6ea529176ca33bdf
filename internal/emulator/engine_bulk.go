package emulator

import (
	"slices"
	"strconv"
)

// bulkViolation is one entry of BulkErrorResponse.invalids, a Kestra
// ManualConstraintViolation of which only the message and the invalid
// value (the id) are reproduced.
type bulkViolation struct {
	Message      string `json:"message"`
	InvalidValue string `json:"invalidValue"`
}

type bulkError struct {
	Message  string          `json:"message"`
	Invalids []bulkViolation `json:"invalids"`
}

// bulkAction describes one action.
type bulkAction struct {
	verb    string // path segment of the action on one execution
	message string // BulkErrorResponse.message
	// invalid returns why an execution cannot take the action, or "".
	invalid func(en *engine, ex *execution) string
}

var bulkActions = map[string]bulkAction{
	"restart": {"restart", "invalid bulk restart", func(en *engine, ex *execution) string {
		if en.restartableLocked(ex) {
			return ""
		}
		return "Execution '" + ex.e.ID + "' must be terminated or paused to be restarted, current state is '" + ex.e.State.Current + "' !"
	}},
	"resume": {"resume", "invalid bulk resume", func(_ *engine, ex *execution) string {
		if ex.e.State.Current == statePaused {
			return ""
		}
		return "execution not in state PAUSED"
	}},
	"pause": {"pause", "invalid bulk pause", func(_ *engine, ex *execution) string {
		if c := ex.e.State.Current; c == stateRunning || c == stateKilling {
			return ""
		}
		return "execution not in state RUNNING"
	}},
	"replay": {"replay", "invalid bulk replay", func(*engine, *execution) string { return "" }},
	"unqueue": {"unqueue", "invalid bulk unqueue", func(_ *engine, ex *execution) string {
		if ex.e.State.Current == stateQueued {
			return ""
		}
		return "execution not in state QUEUED"
	}},
	"force-run": {"force-run", "invalid bulk force run", func(_ *engine, ex *execution) string {
		if isTerminal(ex.e.State.Current) {
			return "execution in a terminated state"
		}
		return ""
	}},
	"change-status": {"change-status", "invalid bulk change executions state", func(_ *engine, ex *execution) string {
		if c := ex.e.State.Current; isTerminal(c) && c != stateKilled {
			return ""
		}
		return "execution not in a terminated state or is killed"
	}},
	"labels": {"labels", "invalid bulk set labels", func(_ *engine, ex *execution) string {
		if isTerminal(ex.e.State.Current) {
			return ""
		}
		return "execution is not terminated"
	}},
}

// restartableLocked reports whether restartExecution would restart ex.
func (en *engine) restartableLocked(ex *execution) bool {
	st := ex.e.State.Current
	if en.cfg.version == Version13 {
		return (isTerminal(st) || st == statePaused) && st != stateKilled
	}
	return st == stateFailed || st == statePaused
}

// mergeLabels is Kestra's Label.deduplicate of the existing labels followed
// by the new ones (a later value wins for a key), without the system
// labels, which the action on one execution keeps by itself.
func mergeLabels(old, add []Label) []Label {
	var out []Label
	for _, l := range append(slices.Clone(old), add...) {
		if len(l.Key) >= 7 && l.Key[:7] == "system." {
			continue
		}
		if i := slices.IndexFunc(out, func(o Label) bool { return o.Key == l.Key }); i >= 0 {
			out[i] = l
			continue
		}
		out = append(out, l)
	}
	return out
}

// executionIDs returns the ids of the tenant's executions that keep
// accepts, sorted.
func (en *engine) executionIDs(tenant string, keep func(*execution) bool) []string {
	en.mu.Lock()
	defer en.mu.Unlock()
	var ids []string
	for id, ex := range en.execs {
		if ex.e.TenantID == tenant && keep(ex) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// checkBulkLocked returns the executions of ids, or the 400 to answer
// when invalid says one of them is invalid (a non-empty reason).
func (en *engine) checkBulkLocked(tenant string, ids []string, verb string, invalid func(*execution) string) ([]*execution, *bulkError) {
	var (
		exs []*execution
		be  bulkError
	)
	for _, id := range ids {
		ex := en.execs[id]
		reason := "execution not found"
		if ex != nil && ex.e.TenantID == tenant {
			reason = invalid(ex)
		}
		if reason != "" {
			be.Invalids = append(be.Invalids, bulkViolation{Message: reason, InvalidValue: id})
			continue
		}
		exs = append(exs, ex)
	}
	if len(be.Invalids) > 0 {
		be.Message = "invalid bulk " + verb
		return nil, &be
	}
	return exs, nil
}

// deleteExecutions deletes the executions ids, all or none: a running one
// is reported as not found unless includeRunning, as Kestra does.
func (en *engine) deleteExecutions(tenant string, ids []string, includeRunning, delLogs, delStorage bool) (int, *bulkError) {
	en.mu.Lock()
	defer en.mu.Unlock()
	exs, be := en.checkBulkLocked(tenant, ids, "delete", func(ex *execution) string {
		if !includeRunning && !isTerminal(ex.e.State.Current) {
			return "execution not found"
		}
		return ""
	})
	if be != nil {
		return 0, be
	}
	for _, ex := range exs {
		en.deleteExecutionLocked(ex, delLogs, delStorage)
	}
	return len(exs), nil
}

// killExecutions queues the kill of the executions ids, all or none (a
// finished one refuses the lot), as Kestra does; they are killed a task
// duration later.
func (en *engine) killExecutions(tenant string, ids []string) (int, *bulkError) {
	en.mu.Lock()
	defer en.mu.Unlock()
	exs, be := en.checkBulkLocked(tenant, ids, "kill", func(ex *execution) string {
		if isTerminal(ex.e.State.Current) {
			return "execution already finished"
		}
		return ""
	})
	if be != nil {
		return 0, be
	}
	if !en.closed {
		en.wg.Add(1)
		go func() {
			defer en.wg.Done()
			if !en.sleep(en.ctx, en.cfg.taskTime) {
				return
			}
			en.mu.Lock()
			defer en.mu.Unlock()
			for _, ex := range exs {
				if en.execs[ex.e.ID] == ex && !isTerminal(ex.e.State.Current) {
					en.killLocked(ex)
				}
			}
		}()
	}
	return len(exs), nil
}

// bulkParams are the parameters of a bulk action that its action on one
// execution takes.
type bulkParams struct {
	status string  // change-status: the new state
	state  string  // unqueue: the target state ("": RUNNING)
	latest bool    // replay: on the flow's current revision
	labels []Label // labels: added to each execution's
}

// startBulkAction checks the executions ids for the action name, all or
// none, and queues the action on each: a restart of an unknown id is a
// 404 (Kestra reads each id with Optional.get(), so an unknown one is a
// NoSuchElementException), another invalid id a 400 (bulkError).
func (en *engine) startBulkAction(tenant, name string, ids []string, p bulkParams) (int, *bulkError, error) {
	a := bulkActions[name]
	en.mu.Lock()
	defer en.mu.Unlock()
	if name == "restart" {
		for _, id := range ids {
			if ex := en.execs[id]; ex == nil || ex.e.TenantID != tenant {
				return 0, nil, errNotFound("No value present")
			}
		}
	}
	exs, be := en.checkBulkLocked(tenant, ids, name, func(ex *execution) string { return a.invalid(en, ex) })
	if be != nil {
		be.Message = a.message
		return 0, be, nil
	}
	if !en.closed {
		en.wg.Add(1)
		go en.runBulkAction(tenant, a.verb, p, exs)
	}
	return len(exs), nil, nil
}

// runBulkAction applies an action to each execution in turn, as the
// action on one execution does, a task duration later (once the answer
// is sent). What an execution refuses is skipped.
func (en *engine) runBulkAction(tenant, verb string, p bulkParams, exs []*execution) {
	defer en.wg.Done()
	if !en.sleep(en.ctx, en.cfg.taskTime) {
		return
	}
	for _, ex := range exs {
		id := ex.e.ID
		switch verb {
		case "restart":
			_, _ = en.restartExecution(tenant, id, "")
		case "resume":
			_, _ = en.resumeExecution(tenant, id, rawInputs{}, true) // a bulk resume sends no inputs
		case "pause":
			_, _ = en.pauseExecution(tenant, id)
		case "replay":
			revision := ""
			if p.latest {
				en.mu.Lock()
				if fe := en.flows[ex.key]; fe != nil {
					revision = strconv.Itoa(fe.current().revision)
				}
				en.mu.Unlock()
			}
			_, _ = en.replayExecution(tenant, id, revision, "", nil)
		case "unqueue":
			target := p.state
			if target == "" {
				target = stateRunning
			}
			if validUnqueueTarget(target) {
				_, _ = en.unqueueExecution(tenant, id, target)
			}
		case "force-run":
			_, _ = en.forceRunExecution(tenant, id)
		case "change-status":
			_, _ = en.changeExecutionStatus(tenant, id, p.status)
		case "labels":
			en.mu.Lock()
			merged := mergeLabels(ex.e.Labels, p.labels)
			en.mu.Unlock()
			_, _ = en.setExecutionLabels(tenant, id, merged)
		}
	}
}
