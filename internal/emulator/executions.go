package emulator

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parseLabels reads the repeated labels=key:value query parameter.
func parseLabels(values []string) ([]Label, error) {
	var out []Label
	seen := map[string]bool{}
	for _, raw := range values {
		k, v, ok := strings.Cut(raw, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "" || v == "":
			return nil, errIllegalArgument("Invalid label '" + raw + "': labels must be 'key:value'")
		case strings.ContainsAny(k, " \t"):
			return nil, errIllegalArgument("Invalid label '" + raw + "': the key must not contain whitespace")
		case seen[k]:
			return nil, errIllegalArgument("Duplicate label key '" + k + "'")
		case strings.HasPrefix(k, "system.") && k != "system.correlationId" && k != "system.from":
			return nil, errIllegalArgument("System labels can only be set by Kestra itself, offending label: " + k + "=" + v)
		}
		seen[k] = true
		out = append(out, Label{Key: k, Value: v})
	}
	return out, nil
}

func hasLabel(ls []Label, key string) bool {
	return slices.ContainsFunc(ls, func(l Label) bool { return l.Key == key })
}

// executionURL is the UI link Kestra puts in the url field.
func (en *engine) executionURL(e *executionJSON) string {
	return en.publicURL() + "/ui/" + e.TenantID + "/executions/" + e.Namespace + "/" + e.FlowID + "/" + e.ID
}

// newExecutionLocked registers an execution of a flow revision and starts
// its runner.
func (en *engine) newExecutionLocked(key flowKey, rev *flowRev, id string, inputs map[string]any, labels []Label, from string, files map[string][]byte) *execution {
	t := now()
	all := []Label{}
	for _, l := range rev.pf.labels {
		if !strings.HasPrefix(l.Key, "system.") {
			all = append(all, l)
		}
	}
	for _, l := range labels {
		all = slices.DeleteFunc(all, func(x Label) bool { return x.Key == l.Key })
		all = append(all, l)
	}
	if !hasLabel(all, "system.from") && from != "" {
		all = append(all, Label{Key: "system.from", Value: from})
	}
	if !hasLabel(all, "system.correlationId") {
		all = append(all, Label{Key: "system.correlationId", Value: id})
	}
	e := &executionJSON{
		TenantID: key.tenant, ID: id, Namespace: key.namespace, FlowID: key.id, FlowRevision: rev.revision,
		Labels: all, State: newState(t), OriginalID: id, Kind: "",
		Metadata: &metadataJSON{AttemptNumber: 1, OriginalCreatedDate: t},
	}
	if len(inputs) > 0 {
		e.Inputs = inputs
	}
	if files == nil {
		files = map[string][]byte{}
	}
	ex := &execution{e: e, key: key, rev: rev, subs: map[*execSub]struct{}{}, files: files, wake: make(chan struct{})}
	en.execs[id] = ex
	en.execSeq++
	en.logs[id] = &logBucket{}
	close(en.newExec)
	en.newExec = make(chan struct{})
	return ex
}

// parseBreakpoints reads the breakpoints query parameter: comma-separated
// taskId or taskId.value (core/.../debug/Breakpoint.java).
func parseBreakpoints(v string) []breakpointJSON {
	var bps []breakpointJSON
	if v == "" {
		return nil
	}
	for _, b := range splitList(v) {
		id, val, _ := strings.Cut(b, ".")
		bps = append(bps, breakpointJSON{ID: id, Value: val})
	}
	return bps
}

func (s *Server) createExecution(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	key := flowKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("id")}
	labels, err := parseLabels(q["labels"])
	if err != nil {
		return err
	}
	wait, err := boolParam(q, "wait", false)
	if err != nil {
		return err
	}
	var schedule *time.Time
	if v := q.Get("scheduleDate"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return conversionErrorDueTo("scheduleDate", v, dateTimeParseCause(v))
		}
		t = t.UTC()
		schedule = &t
	}
	kind := q.Get("kind")
	if kind != "" && !slices.Contains([]string{"NORMAL", "TEST", "PLAYGROUND", "LOOP"}, strings.ToUpper(kind)) {
		return conversionError("kind", kind)
	}
	bps := parseBreakpoints(q.Get("breakpoints"))

	s.mu.Lock()
	fe := s.flows[key]
	var rev *flowRev
	if fe != nil {
		rev = fe.current()
		if v := q.Get("revision"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				s.mu.Unlock()
				return conversionError("revision", v)
			}
			rev = fe.revision(n)
		}
	}
	s.mu.Unlock()
	if rev == nil || rev.deleted {
		return errNotFound("Requested Flow is not found.")
	}
	if rev.pf.disabled {
		return errIllegalState("Requested Flow is disabled.")
	}

	raw, err := readInputParts(r)
	if err != nil {
		return err
	}
	id := newID()
	files := map[string][]byte{}
	vars := map[string]any{"flow": map[string]any{"id": key.id, "namespace": key.namespace}, "execution": map[string]any{"id": id}}
	inputs, err := convertInputs(rev.pf, raw, storagePrefix(key.namespace, key.id, id), vars, files)
	if err != nil {
		return err
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return &apiError{status: http.StatusServiceUnavailable, message: "Service Unavailable: server closed"}
	}
	ex := s.newExecutionLocked(key, rev, id, inputs, labels, "api", files)
	ex.e.ScheduleDate = schedule
	ex.e.Breakpoints = bps
	if kind != "" {
		ex.e.Kind = strings.ToUpper(kind)
	}
	s.publishLocked(ex)
	s.startRunnerLocked(ex, 0, false)
	var sub *execSub
	if wait {
		sub = s.subscribeLocked(ex, true)
	}
	snap := ex.e.render(viewFull)
	s.mu.Unlock()

	if wait {
		final, ok := s.waitFinal(r.Context(), ex, sub)
		if !ok {
			return nil
		}
		snap = final
	}
	snap.URL = s.executionURL(snap)
	writeJSON(w, http.StatusOK, snap)
	return nil
}

// subscribeLocked registers a follower; its queue starts with the current
// snapshot.
func (en *engine) subscribeLocked(ex *execution, finalOnly bool) *execSub {
	sub := &execSub{notify: make(chan struct{}, 1), finalOnly: finalOnly}
	ex.subs[sub] = struct{}{}
	if !finalOnly || ex.final {
		sub.push(snapshot{data: en.snapshotLocked(ex), final: ex.final})
	}
	return sub
}

func (en *engine) unsubscribe(ex *execution, sub *execSub) {
	en.mu.Lock()
	delete(ex.subs, sub)
	en.mu.Unlock()
}

// waitFinal blocks until the execution ends (as wait=true does) and returns
// its final state; false when ctx is done or the server closes. A deleted
// execution never ends, so its waiters hold until then.
func (en *engine) waitFinal(ctx context.Context, ex *execution, sub *execSub) (*executionJSON, bool) {
	defer en.unsubscribe(ex, sub)
	for {
		for _, sn := range sub.take() {
			if sn.final {
				var e executionJSON
				if json.Unmarshal(sn.data, &e) == nil {
					return &e, true
				}
			}
		}
		select {
		case <-sub.notify:
		case <-ctx.Done():
			return nil, false
		case <-en.ctx.Done():
			return nil, false
		}
	}
}

// execView is the view GET uses: ApiExecution in 2.0, Execution in 1.3.
func (en *engine) execView() view {
	if en.cfg.version == Version13 {
		return viewFull
	}
	return viewAPI
}

func (s *Server) lookupExecution(r *http.Request) (*execution, error) {
	ex := s.execs[r.PathValue("executionId")]
	if ex == nil || ex.e.TenantID != tenantOf(r) {
		return nil, errNotFound("")
	}
	return ex, nil
}

func (s *Server) getExecution(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	ex, err := s.lookupExecution(r)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	out := ex.e.render(s.execView())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteFlags reads what a deletion removes besides the execution (all by
// default): its logs and its files (metrics are not kept here).
func deleteFlags(q url.Values) (delLogs, delStorage bool, err error) {
	if delLogs, err = boolParam(q, "deleteLogs", true); err != nil {
		return
	}
	if _, err = boolParam(q, "deleteMetrics", true); err != nil {
		return
	}
	delStorage, err = boolParam(q, "deleteStorage", true)
	return
}

func (s *Server) deleteExecution(w http.ResponseWriter, r *http.Request) error {
	delLogs, delStorage, err := deleteFlags(r.URL.Query())
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, err := s.lookupExecution(r)
	if err != nil {
		return err
	}
	s.deleteExecutionLocked(ex, delLogs, delStorage)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteExecutionLocked removes ex, and its logs and files if asked.
// Kestra only purges the rows (ExecutionService#delete, 1.3.19 and
// 2.0.0-SNAPSHOT): nothing is killed, but the executor, which finds no row
// when the next result comes (AbstractJdbcExecutionRepository#lock), moves
// it no further. So the runner stops without a state change, and its
// followers keep an open, silent stream: no end frame, and wait=true holds
// until its own timeout.
func (en *engine) deleteExecutionLocked(ex *execution, delLogs, delStorage bool) {
	en.stopRunnerLocked(ex)
	delete(en.execs, ex.e.ID)
	en.releaseLocked(ex)
	if delLogs {
		delete(en.logs, ex.e.ID)
	}
	if delStorage {
		ex.files = nil
	}
}

var execFilterFields = map[string]bool{
	"q": true, "scope": true, "flowId": true, "startDate": true, "endDate": true, "state": true,
	"labels": true, "triggerExecutionId": true, "childFilter": true, "namespace": true, "kind": true,
	"parentId": true, "timeRange": true,
}

var execSorts = map[string]func(a, b *execution) int{
	"id":              func(a, b *execution) int { return cmp.Compare(a.e.ID, b.e.ID) },
	"namespace":       func(a, b *execution) int { return cmp.Compare(a.e.Namespace, b.e.Namespace) },
	"flowId":          func(a, b *execution) int { return cmp.Compare(a.e.FlowID, b.e.FlowID) },
	"flowRevision":    func(a, b *execution) int { return cmp.Compare(a.e.FlowRevision, b.e.FlowRevision) },
	"state.current":   func(a, b *execution) int { return cmp.Compare(a.e.State.Current, b.e.State.Current) },
	"state.startDate": func(a, b *execution) int { return a.e.State.StartDate.Compare(b.e.State.StartDate) },
	"state.endDate":   func(a, b *execution) int { return compareTime(a.e.State.EndDate, b.e.State.EndDate) },
	"state.duration":  func(a, b *execution) int { return cmp.Compare(execDuration(a), execDuration(b)) },
}

func execDuration(ex *execution) time.Duration {
	if ex.e.State.EndDate == nil {
		return time.Since(ex.e.State.StartDate)
	}
	return ex.e.State.EndDate.Sub(ex.e.State.StartDate)
}

func execLeaf(ex *execution) func(queryFilter) bool {
	e := ex.e
	return func(f queryFilter) bool {
		switch f.field {
		case "namespace":
			return matchString(f.op, e.Namespace, f.value)
		case "flowId":
			return matchString(f.op, e.FlowID, f.value)
		case "state":
			return matchString(f.op, e.State.Current, f.value)
		case "labels":
			return matchLabels(f.op, e.Labels, f.key, f.value)
		case "startDate":
			sd := e.State.StartDate
			return matchTime(f.op, &sd, f.value)
		case "endDate":
			return matchTime(f.op, e.State.EndDate, f.value)
		case "timeRange":
			d, err := parseISODuration(f.value)
			return err == nil && e.State.StartDate.After(now().Add(-d))
		case "kind":
			k := e.Kind
			if k == "" {
				k = "NORMAL"
			}
			return matchString(f.op, k, f.value)
		case "parentId":
			return matchString(f.op, e.ParentID, f.value)
		case "q":
			return matchString("CONTAINS", e.ID, f.value) || matchString("CONTAINS", e.FlowID, f.value) || matchString("CONTAINS", e.Namespace, f.value)
		case "triggerExecutionId":
			return e.Trigger != nil && matchString(f.op, stringify(e.Trigger.Variables["executionId"]), f.value)
		case "scope", "childFilter":
			return true
		}
		return false
	}
}

// legacyExecFilters adds the 1.3 q/namespace/flowId/state/labels/... params.
func legacyExecFilters(q url.Values, fs filterSet) filterSet {
	add := func(field, op, v string) {
		if v != "" {
			fs.and = append(fs.and, queryFilter{field: field, op: op, value: v})
		}
	}
	add("q", "CONTAINS", q.Get("q"))
	add("namespace", "PREFIX", q.Get("namespace"))
	add("flowId", "EQUALS", q.Get("flowId"))
	add("startDate", "GREATER_THAN_OR_EQUAL_TO", q.Get("startDate"))
	add("endDate", "LESS_THAN_OR_EQUAL_TO", q.Get("endDate"))
	add("timeRange", "EQUALS", q.Get("timeRange"))
	if st := q["state"]; len(st) > 0 {
		add("state", "IN", strings.Join(st, ","))
	}
	for _, l := range q["labels"] {
		k, v, _ := strings.Cut(l, ":")
		fs.and = append(fs.and, queryFilter{field: "labels", op: "EQUALS", key: k, value: v})
	}
	return fs
}

func (s *Server) searchExecutions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pp, err := parsePage(q, sortKeys(execSorts))
	if err != nil {
		return err
	}
	keep, err := s.execQuery(q)
	if err != nil {
		return err
	}
	v := viewLight
	if s.cfg.version == Version13 {
		v = viewFull
	}
	s.writeExecPage(w, r, pp, keep, v)
	return nil
}

// execQuery reads the filters of an execution search (and, on 1.3, the
// legacy parameters) as a predicate.
func (s *Server) execQuery(q url.Values) (func(*execution) bool, error) {
	fs, err := parseFilters(q, execFilterFields)
	if err != nil {
		return nil, err
	}
	if s.cfg.version == Version13 {
		fs = legacyExecFilters(q, fs)
	}
	return func(ex *execution) bool { return fs.match(execLeaf(ex)) }, nil
}

func (s *Server) executionsByFlow(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ns, flowID := q.Get("namespace"), q.Get("flowId")
	if ns == "" {
		return errBadRequest("Required QueryValue [namespace] not specified")
	}
	if flowID == "" {
		return errBadRequest("Required QueryValue [flowId] not specified")
	}
	pp, err := parsePage(q, sortKeys(execSorts))
	if err != nil {
		return err
	}
	s.writeExecPage(w, r, pp, func(ex *execution) bool {
		return ex.e.Namespace == ns && ex.e.FlowID == flowID
	}, s.execView())
	return nil
}

func (s *Server) writeExecPage(w http.ResponseWriter, r *http.Request, pp pageParams, keep func(*execution) bool, v view) {
	tenant := tenantOf(r)
	s.mu.Lock()
	var items []*execution
	for _, ex := range s.execs {
		if ex.e.TenantID == tenant && keep(ex) {
			items = append(items, ex)
		}
	}
	// Newest first unless sorted otherwise.
	slices.SortFunc(items, func(a, b *execution) int {
		return cmp.Or(b.e.State.StartDate.Compare(a.e.State.StartDate), cmp.Compare(a.e.ID, b.e.ID))
	})
	page := paginate(items, pp, execSorts)
	out := pagedResults[*executionJSON]{Results: make([]*executionJSON, len(page.Results)), Total: page.Total}
	for i, ex := range page.Results {
		out.Results[i] = ex.e.render(v)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// writeActionResult answers an action: 2.0 sends the execution, 1.3 the
// given status with no body.
func (s *Server) writeActionResult(w http.ResponseWriter, e *executionJSON, v13Status int, contentType string) {
	if s.cfg.version == Version13 {
		w.WriteHeader(v13Status)
		return
	}
	b, _ := json.Marshal(e)
	writeRawJSON(w, http.StatusOK, contentType, b)
}

func (s *Server) killExecution(w http.ResponseWriter, r *http.Request) error {
	cascade, err := boolParam(r.URL.Query(), "isOnKillCascade", true)
	if err != nil {
		return err
	}
	s.mu.Lock()
	ex, err := s.lookupExecution(r)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if isTerminal(ex.e.State.Current) {
		if !cascade {
			s.mu.Unlock()
			return errIllegalState("Execution is already finished, can't kill it")
		}
	} else {
		s.killLocked(ex)
		if cascade {
			s.killSubflowsLocked(ex.e.ID)
		}
	}
	out := ex.e.render(viewFull)
	s.mu.Unlock()
	s.writeActionResult(w, out, http.StatusAccepted, "text/json")
	return nil
}

// killLocked kills the running execution ex: KILLING, then KILLED with
// each task run that had not ended.
func (en *engine) killLocked(ex *execution) {
	en.stopRunnerLocked(ex)
	t := now()
	ex.e.State.set(stateKilling, t)
	en.publishLocked(ex)
	for _, tr := range ex.e.TaskRunList {
		if !isTerminal(tr.State.Current) {
			if n := len(tr.Attempts); n > 0 && !isTerminal(tr.Attempts[n-1].State.Current) {
				tr.Attempts[n-1].State.set(stateKilled, t)
			}
			tr.State.set(stateKilled, t)
		}
	}
	ex.e.State.set(stateKilled, now())
	en.publishLocked(ex)
}

// killSubflowsLocked kills the running executions that the execution id
// started as subflows, and theirs.
func (en *engine) killSubflowsLocked(id string) {
	for _, ex := range en.execs {
		if t := ex.e.Trigger; t != nil && t.Type == typeSubflow && t.Variables["executionId"] == id && !isTerminal(ex.e.State.Current) {
			en.killLocked(ex)
			en.killSubflowsLocked(ex.e.ID)
		}
	}
}

func (s *Server) restartExecution(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	ex, err := s.lookupExecution(r)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	st := ex.e.State.Current
	restartable := st == stateFailed || st == statePaused
	if s.cfg.version == Version13 {
		restartable = (isTerminal(st) || st == statePaused) && st != stateKilled
	}
	if !restartable {
		s.mu.Unlock()
		return errIllegalState("Execution '" + ex.e.ID + "' is not in a restartable state (" + st + ")")
	}
	if v := r.URL.Query().Get("revision"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.mu.Unlock()
			return conversionError("revision", v)
		}
		rev := s.flows[ex.key].revision(n)
		if rev == nil || rev.deleted {
			s.mu.Unlock()
			return errNotFound("Requested Flow is not found.")
		}
		ex.rev = rev
		ex.e.FlowRevision = n
	}
	from := s.restartIndexLocked(ex)
	s.stopRunnerLocked(ex)
	t := now()
	for _, tr := range ex.e.TaskRunList {
		if tr.State.Current == stateFailed || tr.State.Current == stateKilled || tr.State.Current == statePaused {
			tr.State.set(stateRestarted, t)
		}
	}
	ex.e.State.set(stateRestarted, t)
	ex.e.Metadata.AttemptNumber++
	ex.e.Outputs = nil
	s.publishLocked(ex)
	s.startRunnerLocked(ex, from, true)
	out := ex.e.render(viewFull)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out) // both generations answer the execution
	return nil
}

// restartIndexLocked returns the index of the first task whose run failed,
// was killed or is paused; len(tasks) when none.
func (en *engine) restartIndexLocked(ex *execution) int {
	for i, t := range ex.rev.pf.tasks {
		id, _ := t["id"].(string)
		for _, tr := range ex.e.TaskRunList {
			if tr.TaskID == id {
				switch tr.State.Current {
				case stateFailed, stateKilled, statePaused, stateRunning, stateCreated:
					return i
				}
			}
		}
	}
	for i, t := range ex.rev.pf.tasks {
		id, _ := t["id"].(string)
		found := false
		for _, tr := range ex.e.TaskRunList {
			if tr.TaskID == id {
				found = true
			}
		}
		if !found {
			return i
		}
	}
	return len(ex.rev.pf.tasks)
}

func (s *Server) replayExecution(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	src, err := s.lookupExecution(r)
	if err != nil {
		return err
	}
	rev := src.rev
	if v := q.Get("revision"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return conversionError("revision", v)
		}
		if rev = s.flows[src.key].revision(n); rev == nil || rev.deleted {
			return errNotFound("Requested Flow is not found.")
		}
	}
	from := 0
	if trID := q.Get("taskRunId"); trID != "" {
		var taskID string
		for _, tr := range src.e.TaskRunList {
			if tr.ID == trID {
				taskID = tr.TaskID
			}
		}
		if taskID == "" {
			return errIllegalArgument("No task found for taskRunId '" + trID + "'")
		}
		for i, t := range rev.pf.tasks {
			if id, _ := t["id"].(string); id == taskID {
				from = i
			}
		}
	}
	var labels []Label
	for _, l := range src.e.Labels {
		if l.Key != "system.correlationId" {
			labels = append(labels, l)
		}
	}
	id := newID()
	files := map[string][]byte{}
	oldPrefix := storagePrefix(src.e.Namespace, src.e.FlowID, src.e.ID)
	newPrefix := storagePrefix(src.e.Namespace, src.e.FlowID, id)
	inputs := map[string]any{}
	for k, v := range src.e.Inputs {
		if sv, ok := v.(string); ok && strings.HasPrefix(sv, oldPrefix) {
			nv := newPrefix + strings.TrimPrefix(sv, oldPrefix)
			files[nv] = src.files[sv]
			v = nv
		}
		inputs[k] = v
	}
	ex := s.newExecutionLocked(src.key, rev, id, inputs, labels, "", files)
	ex.e.OriginalID = src.e.OriginalID
	ex.e.Trigger = src.e.Trigger
	ex.e.Kind = src.e.Kind
	ex.e.Breakpoints = parseBreakpoints(q.Get("breakpoints"))
	// Task runs before the replayed task are kept as they were.
	for i := 0; i < from; i++ {
		tid, _ := rev.pf.tasks[i]["id"].(string)
		for _, tr := range src.e.TaskRunList {
			if tr.TaskID == tid {
				c := cloneTaskRuns([]*taskRunJSON{tr}, true)[0]
				c.ID, c.ExecutionID = newID(), id
				ex.e.TaskRunList = append(ex.e.TaskRunList, c)
			}
		}
	}
	s.publishLocked(ex)
	s.startRunnerLocked(ex, from, from > 0)
	out := ex.e.render(viewFull)
	b, _ := json.Marshal(out)
	writeRawJSON(w, http.StatusOK, "application/json", b)
	return nil
}

func (s *Server) resumeExecution(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	ex, err := s.lookupExecution(r)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	raw, err := readInputParts(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if ex.e.State.Current != statePaused {
		s.mu.Unlock()
		return errIllegalState("Execution '" + ex.e.ID + "' is not paused, can't resume it")
	}
	var pauseTask map[string]any
	var pausedRuns []*taskRunJSON
	for _, tr := range ex.e.TaskRunList {
		if tr.State.Current == statePaused {
			pausedRuns = append(pausedRuns, tr)
			// The onResume inputs are those of the paused task that
			// declares some.
			if def := findTaskDef(ex.rev.pf.tasks, tr.TaskID); pauseTask == nil || pauseTask["onResume"] == nil {
				pauseTask = def
			}
		}
	}
	if pauseTask != nil && r.Context().Value(ctxBulkAction) == nil { // a bulk resume sends no inputs
		decl := &parsedFlow{inputs: mapList(pauseTask["onResume"])}
		inputs, err := convertInputs(decl, raw, storagePrefix(ex.e.Namespace, ex.e.FlowID, ex.e.ID), map[string]any{}, ex.files)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		if len(inputs) > 0 {
			ex.resumeInputs = inputs
		}
	}
	t := now()
	for _, tr := range pausedRuns {
		tr.State.set(stateRunning, t)
	}
	s.wakeRunnerLocked(ex, t)
	out := ex.e.render(viewFull)
	s.mu.Unlock()
	s.writeActionResult(w, out, http.StatusNoContent, "application/json")
	return nil
}

// resumeFromBreakpoint continues an execution stopped at a breakpoint:
// its breakpoints become those of the query (none when absent), the task
// runs stopped go back to CREATED and the execution to RUNNING.
func (s *Server) resumeFromBreakpoint(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	ex, err := s.lookupExecution(r)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	v13 := s.cfg.version == Version13
	switch {
	case ex.e.State.Current != stateBreakpoint && v13:
		err = errIllegalState("Execution is not suspended")
	case ex.e.State.Current != stateBreakpoint:
		err = errConflict("Cannot resume execution: execution is not suspended.")
	case len(ex.e.Breakpoints) == 0 && v13:
		err = errIllegalState("Execution has no breakpoint")
	case len(ex.e.Breakpoints) == 0:
		err = errConflict("Cannot resume execution: no breakpoint defined.")
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	ex.e.Breakpoints = parseBreakpoints(r.URL.Query().Get("breakpoints"))
	t := now()
	for _, tr := range ex.e.TaskRunList {
		if tr.State.Current == stateBreakpoint {
			tr.State.set(stateCreated, t)
		}
	}
	s.wakeRunnerLocked(ex, t)
	out := ex.e.render(viewFull)
	s.mu.Unlock()
	s.writeActionResult(w, out, http.StatusNoContent, "application/json")
	return nil
}

// wakeRunnerLocked puts a paused or stopped execution back to RUNNING and
// wakes whatever of its runner waits: every paused task of a Parallel, for
// one.
func (en *engine) wakeRunnerLocked(ex *execution, t time.Time) {
	ex.pauseRequested = false // a runner that did not reach its hold yet goes on
	ex.e.State.set(stateRunning, t)
	en.publishLocked(ex)
	close(ex.wake)
	ex.wake = make(chan struct{})
}

// findTaskDef returns the definition of the task id among tasks and the
// tasks they hold (flowable branches), or nil.
func findTaskDef(tasks []map[string]any, id string) map[string]any {
	for _, t := range tasks {
		if t["id"] == id {
			return t
		}
		var nested []map[string]any
		for _, k := range []string{"tasks", "then", "else", "errors", "defaults"} {
			nested = append(nested, mapList(t[k])...)
		}
		if cases, ok := t["cases"].(map[string]any); ok {
			for _, c := range cases {
				nested = append(nested, mapList(c)...)
			}
		}
		if d := findTaskDef(nested, id); d != nil {
			return d
		}
	}
	return nil
}

// pauseExecution pauses a running (RUNNING or KILLING: State#isRunning)
// execution at once: its state becomes PAUSED while the task at work ends
// as it would, and no further task starts until a resume
// (ExecutionService#pause, 1.3.19 and 2.0.0-SNAPSHOT). Another state is
// refused: 1.3 with 422 (IllegalArgumentException), 2.0 with 409
// (ExecutionController#pauseExecution throws a ConflictException).
func (s *Server) pauseExecution(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	ex, err := s.lookupExecution(r)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if st := ex.e.State.Current; st != stateRunning && st != stateKilling {
		s.mu.Unlock()
		if s.cfg.version == Version13 {
			return errIllegalArgument("The execution is not running")
		}
		return errConflict("Cannot pause execution: execution is not running.")
	}
	ex.pauseRequested = true
	ex.e.State.set(statePaused, now())
	s.publishLocked(ex)
	out := ex.e.render(viewFull)
	s.mu.Unlock()
	s.writeActionResult(w, out, http.StatusNoContent, "application/json")
	return nil
}

func (s *Server) setExecutionLabels(w http.ResponseWriter, r *http.Request) error {
	var labels []Label
	if err := json.NewDecoder(r.Body).Decode(&labels); err != nil {
		return &apiError{status: http.StatusUnprocessableEntity, message: "Invalid json: " + err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, err := s.lookupExecution(r)
	if err != nil {
		return err
	}
	for _, l := range labels {
		if strings.HasPrefix(l.Key, "system.") {
			return errIllegalArgument("System labels can only be set by Kestra itself, offending label: " + l.Key + "=" + l.Value)
		}
	}
	var kept []Label
	for _, l := range ex.e.Labels {
		if strings.HasPrefix(l.Key, "system.") {
			kept = append(kept, l)
		}
	}
	ex.e.Labels = append(labels, kept...)
	s.publishLocked(ex)
	writeJSON(w, http.StatusOK, ex.e.render(viewFull))
	return nil
}

// executionFile serves GET /executions/{id}/file?path=kestra:///...
func (s *Server) executionFile(w http.ResponseWriter, r *http.Request) error {
	data, uri, err := s.lookupExecutionFile(w, r)
	if err != nil || data == nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+path.Base(uri)+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
	return nil
}

func (s *Server) executionFileMetas(w http.ResponseWriter, r *http.Request) error {
	data, _, err := s.lookupExecutionFile(w, r)
	if err != nil || data == nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"size": len(data)})
	return nil
}

// lookupExecutionFile checks the path of an execution file request; it
// answers the redirect itself (and returns nil data) for another
// execution's file.
func (s *Server) lookupExecutionFile(w http.ResponseWriter, r *http.Request) ([]byte, string, error) {
	uri := r.URL.Query().Get("path")
	if uri == "" {
		return nil, "", errBadRequest("Required QueryValue [path] not specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, err := s.lookupExecution(r)
	if err != nil {
		return nil, "", err
	}
	prefix := storagePrefix(ex.e.Namespace, ex.e.FlowID, ex.e.ID)
	if !strings.HasPrefix(uri, prefix) {
		other := storagePrefix(ex.e.Namespace, ex.e.FlowID, "")
		if rest, ok := strings.CutPrefix(uri, other); ok {
			otherID, _, _ := strings.Cut(rest, "/")
			if s.execs[otherID] != nil {
				loc := "/api/v1/" + ex.e.TenantID + "/executions/" + otherID + "/file?path=" + url.QueryEscape(uri)
				http.Redirect(w, r, loc, http.StatusMovedPermanently)
				return nil, "", nil
			}
		}
		return nil, "", errIllegalArgument("Invalid prefix path")
	}
	data, ok := ex.files[uri]
	if !ok {
		return nil, "", errNotFound("Unable to find file at '" + uri + "'")
	}
	if data == nil {
		data = []byte{}
	}
	return data, uri, nil
}
