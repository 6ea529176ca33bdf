package emulator

import "sync"

type logBucket struct {
	entries []*logEntry
	subs    map[*logSub]struct{}
}

type logSub struct {
	mu     sync.Mutex
	queue  []*logEntry
	notify chan struct{}
}

func (ls *logSub) push(e *logEntry) {
	ls.mu.Lock()
	ls.queue = append(ls.queue, e)
	ls.mu.Unlock()
	select {
	case ls.notify <- struct{}{}:
	default:
	}
}

func (ls *logSub) take() []*logEntry {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	q := ls.queue
	ls.queue = nil
	return q
}

// appendLogLocked stores a log line of an execution and sends it to its
// followers.
func (en *engine) appendLogLocked(ex *execution, tr *taskRunJSON, level, msg string) {
	e := &logEntry{
		TenantID: ex.e.TenantID, Namespace: ex.e.Namespace, FlowID: ex.e.FlowID, ExecutionID: ex.e.ID,
		Timestamp: now(), Level: level, Message: msg, Thread: "emulator-worker",
		ExecutionKind: ex.e.Kind, // LogEntry#of(TaskRun, ExecutionKind)
	}
	if tr != nil {
		e.TaskID, e.TaskRunID = tr.TaskID, tr.ID
		n := max(len(tr.Attempts)-1, 0)
		e.AttemptNumber.n = &n
	}
	b := en.logs[ex.e.ID]
	if b == nil {
		b = &logBucket{}
		en.logs[ex.e.ID] = b
	}
	b.entries = append(b.entries, e)
	for sub := range b.subs {
		sub.push(e)
	}
}

// executionLogs returns the log lines of an execution of tenant that lf
// selects. Log lines never change once stored.
func (en *engine) executionLogs(tenant, id string, lf logFilter) []*logEntry {
	en.mu.Lock()
	defer en.mu.Unlock()
	var out []*logEntry
	if b := en.logs[id]; b != nil {
		for _, e := range b.entries {
			if e.TenantID == tenant && lf.match(e) {
				out = append(out, e)
			}
		}
	}
	return out
}

// logsToDownload returns the log lines of an execution that lf selects,
// and whether it still runs; 404 when it does not exist.
func (en *engine) logsToDownload(tenant, id string, lf logFilter) (lines []*logEntry, running bool, err error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	ex := en.execs[id]
	if ex == nil || ex.e.TenantID != tenant {
		return nil, false, errNotFound("")
	}
	if b := en.logs[id]; b != nil {
		for _, e := range b.entries {
			if lf.match(e) {
				lines = append(lines, e)
			}
		}
	}
	return lines, !isTerminal(ex.e.State.Current), nil
}

// deleteLogsOf deletes the log lines of an execution that lf selects.
func (en *engine) deleteLogsOf(id string, lf logFilter) {
	en.mu.Lock()
	defer en.mu.Unlock()
	if b := en.logs[id]; b != nil {
		b.drop(lf.match)
	}
}

// deleteFlowLogs deletes the log lines of a flow, of one trigger if given.
func (en *engine) deleteFlowLogs(ns, flowID, triggerID string) {
	en.mu.Lock()
	defer en.mu.Unlock()
	for _, b := range en.logs {
		b.drop(func(e *logEntry) bool {
			return e.Namespace == ns && e.FlowID == flowID && (triggerID == "" || e.TriggerID == triggerID)
		})
	}
}

// drop removes the entries del selects.
func (b *logBucket) drop(del func(*logEntry) bool) {
	kept := b.entries[:0]
	for _, e := range b.entries {
		if !del(e) {
			kept = append(kept, e)
		}
	}
	clear(b.entries[len(kept):])
	b.entries = kept
}

// tenantLogs returns the log lines of every execution of tenant that lf
// selects.
func (en *engine) tenantLogs(tenant string, lf logFilter) []*logEntry {
	en.mu.Lock()
	defer en.mu.Unlock()
	var items []*logEntry
	for _, b := range en.logs {
		for _, e := range b.entries {
			if e.TenantID == tenant && lf.match(e) {
				items = append(items, e)
			}
		}
	}
	return items
}

// followLogs subscribes to the log lines of execution id: it returns the
// lines so far and a subscription to the next ones, which stop ends.
func (en *engine) followLogs(id string) (history []*logEntry, sub *logSub, stop func()) {
	sub = &logSub{notify: make(chan struct{}, 1)}
	en.mu.Lock()
	defer en.mu.Unlock()
	b := en.logs[id]
	if b == nil {
		b = &logBucket{}
		if en.execs[id] != nil {
			en.logs[id] = b
		}
	}
	history = append([]*logEntry(nil), b.entries...)
	if b.subs == nil {
		b.subs = map[*logSub]struct{}{}
	}
	b.subs[sub] = struct{}{}
	return history, sub, func() {
		en.mu.Lock()
		delete(b.subs, sub)
		en.mu.Unlock()
	}
}
