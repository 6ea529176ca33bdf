package emulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parseLabels reads the repeated labels=key:value query parameter as Kestra
// 1.3.19 and 2.0 do (webserver/.../utils/RequestUtils.java#toMap, then
// ExecutionController#parseLabels): each value is split on its first ':'
// and both parts trimmed; the refusals are HttpStatusExceptions (422, the
// reason "Unprocessable Entity" before the text), checked value by value;
// system labels are checked once every value has parsed.
func parseLabels(values []string) ([]Label, error) {
	out, err := labelPairs(values)
	if err != nil {
		return nil, err
	}
	for _, l := range out {
		if strings.HasPrefix(l.Key, "system.") && l.Key != "system.correlationId" && l.Key != "system.from" {
			return nil, errIllegalArgument("System labels can only be set by Kestra itself, offending label: " + l.Key + "=" + l.Value)
		}
	}
	return out, nil
}

// labelPairs is RequestUtils#toMap: the key:value pairs of values, or the
// refusal of the first that is malformed or repeats a key.
func labelPairs(values []string) ([]Label, error) {
	out := make([]Label, 0, len(values))
	seen := map[string]string{}
	for _, raw := range values {
		k, v, ok := strings.Cut(raw, ":")
		if !ok || k == "" {
			return nil, errUnprocessable("Can't split the queryString parameter by ':'")
		}
		k, v = javaTrim(k), javaTrim(v)
		if k == "" || v == "" {
			return nil, errUnprocessable("Can't have an empty part of queryString")
		}
		if strings.ContainsAny(k, " \t\n\v\f\r") {
			return nil, errUnprocessable("Key of queryString can't contain a whitespace character")
		}
		if old, dup := seen[k]; dup {
			// Collectors.toMap's IllegalStateException text (Java 9+).
			return nil, errUnprocessable("The queryString parameter keys contains duplicities: Duplicate key " + k + " (attempted merging values " + old + " and " + v + ")")
		}
		seen[k] = v
		out = append(out, Label{Key: k, Value: v})
	}
	return out, nil
}

// legacyLabelFilters turns the 1.3 search parameter labels=key:value into
// filters, refusing what RequestUtils#toMap refuses.
func legacyLabelFilters(q map[string][]string, fs filterSet) (filterSet, error) {
	pairs, err := labelPairs(q["labels"])
	if err != nil {
		return fs, err
	}
	for _, l := range pairs {
		fs.and = append(fs.and, queryFilter{field: "labels", op: "EQUALS", key: l.Key, value: l.Value})
	}
	return fs, nil
}

// javaTrim is Java's String#trim: it drops the characters up to U+0020
// from both ends, and no other whitespace.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

func hasLabel(ls []Label, key string) bool {
	return slices.ContainsFunc(ls, func(l Label) bool { return l.Key == key })
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
	req := runRequest{key: flowKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("id")}, revision: q.Get("revision")}
	var err error
	if req.labels, err = parseLabels(q["labels"]); err != nil {
		return err
	}
	if req.wait, err = boolParam(q, "wait", false); err != nil {
		return err
	}
	if v := q.Get("scheduleDate"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return conversionErrorDueTo("scheduleDate", v, dateTimeParseCause(v))
		}
		t = t.UTC()
		req.schedule = &t
	}
	kind := q.Get("kind")
	if kind != "" && !slices.Contains([]string{"NORMAL", "TEST", "PLAYGROUND", "LOOP"}, strings.ToUpper(kind)) {
		return conversionError("kind", kind)
	}
	req.kind = strings.ToUpper(kind)
	req.breakpoints = parseBreakpoints(q.Get("breakpoints"))

	rev, err := s.flowToRun(req.key, req.revision)
	if err != nil {
		return err
	}
	raw, err := readInputParts(r)
	if err != nil {
		return err
	}
	out, err := s.startExecution(r.Context(), rev, req, raw)
	if errors.Is(err, errStopped) {
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// execView is the view GET uses: ApiExecution in 2.0, Execution in 1.3.
func (en *engine) execView() view {
	if en.cfg.version == Version13 {
		return viewFull
	}
	return viewAPI
}

func (s *Server) getExecution(w http.ResponseWriter, r *http.Request) error {
	out, err := s.execution(tenantOf(r), r.PathValue("executionId"), s.execView())
	if err != nil {
		return err
	}
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
	if err := s.engine.deleteExecution(tenantOf(r), r.PathValue("executionId"), delLogs, delStorage); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// execFilterFields are the filter fields of an execution search per
// version (QueryFilter.Resource.EXECUTION, 1.3.19 and 2.0.0-SNAPSHOT:
// parentId is new in 2.0).
var execFilterFields = map[Version]map[string]bool{
	Version13: setOf(execFilterFields13),
	Version20: setOf(execFilterFields13, []string{"parentId"}),
}

var execFilterFields13 = []string{
	"q", "scope", "flowId", "startDate", "endDate", "state", "labels", "triggerExecutionId",
	"childFilter", "namespace", "kind", "timeRange",
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
func legacyExecFilters(q url.Values, fs filterSet) (filterSet, error) {
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
	return legacyLabelFilters(q, fs)
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
	fs, err := parseFilters(q, execFilterFields[s.cfg.version])
	if err != nil {
		return nil, err
	}
	if s.cfg.version == Version13 {
		if fs, err = legacyExecFilters(q, fs); err != nil {
			return nil, err
		}
	}
	// Executions of another kind than NORMAL (TEST, PLAYGROUND, a Loop's
	// LOOP iterations) are found only by a kind filter
	// (AbstractJdbcExecutionRepository#computeFindCondition:
	// NORMAL_KIND_CONDITION unless the filters name the kind, 1.3.19 and
	// 2.0.0-SNAPSHOT).
	hasKind := fs.names("kind")
	return func(ex *execution) bool {
		return (hasKind || ex.e.Kind == "" || ex.e.Kind == "NORMAL") && fs.match(execLeaf(ex))
	}, nil
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
	writeJSON(w, http.StatusOK, s.executionPage(tenantOf(r), pp, keep, v))
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
	out, err := s.engine.killExecution(tenantOf(r), r.PathValue("executionId"), cascade)
	if err != nil {
		return err
	}
	s.writeActionResult(w, out, http.StatusAccepted, "text/json")
	return nil
}

func (s *Server) restartExecution(w http.ResponseWriter, r *http.Request) error {
	out, err := s.engine.restartExecution(tenantOf(r), r.PathValue("executionId"), r.URL.Query().Get("revision"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out) // both generations answer the execution
	return nil
}

func (s *Server) replayExecution(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	out, err := s.engine.replayExecution(tenantOf(r), r.PathValue("executionId"), q.Get("revision"), q.Get("taskRunId"), parseBreakpoints(q.Get("breakpoints")))
	if err != nil {
		return err
	}
	b, _ := json.Marshal(out)
	writeRawJSON(w, http.StatusOK, "application/json", b)
	return nil
}

func (s *Server) resumeExecution(w http.ResponseWriter, r *http.Request) error {
	tenant, id := tenantOf(r), r.PathValue("executionId")
	if err := s.checkExecution(tenant, id); err != nil {
		return err
	}
	raw, err := readInputParts(r)
	if err != nil {
		return err
	}
	out, err := s.engine.resumeExecution(tenant, id, raw, false)
	if err != nil {
		return err
	}
	s.writeActionResult(w, out, http.StatusNoContent, "application/json")
	return nil
}

func (s *Server) resumeFromBreakpoint(w http.ResponseWriter, r *http.Request) error {
	out, err := s.engine.resumeFromBreakpoint(tenantOf(r), r.PathValue("executionId"), parseBreakpoints(r.URL.Query().Get("breakpoints")))
	if err != nil {
		return err
	}
	s.writeActionResult(w, out, http.StatusNoContent, "application/json")
	return nil
}

func (s *Server) pauseExecution(w http.ResponseWriter, r *http.Request) error {
	out, err := s.engine.pauseExecution(tenantOf(r), r.PathValue("executionId"))
	if err != nil {
		return err
	}
	s.writeActionResult(w, out, http.StatusNoContent, "application/json")
	return nil
}

func (s *Server) setExecutionLabels(w http.ResponseWriter, r *http.Request) error {
	var labels []Label
	if err := json.NewDecoder(r.Body).Decode(&labels); err != nil {
		return &apiError{status: http.StatusUnprocessableEntity, message: "Invalid json: " + err.Error()}
	}
	out, err := s.engine.setExecutionLabels(tenantOf(r), r.PathValue("executionId"), labels)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
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
	tenant := tenantOf(r)
	data, otherID, err := s.executionFileData(tenant, r.PathValue("executionId"), uri)
	if err != nil {
		return nil, "", err
	}
	if otherID != "" {
		loc := "/api/v1/" + tenant + "/executions/" + otherID + "/file?path=" + url.QueryEscape(uri)
		http.Redirect(w, r, loc, http.StatusMovedPermanently)
		return nil, "", nil
	}
	return data, uri, nil
}

// readInputParts streams the multipart body; file parts are read once,
// straight into their storage buffer.
func readInputParts(r *http.Request) (rawInputs, error) {
	in := rawInputs{values: map[string]string{}, files: map[string]storedFile{}}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if r.ContentLength > 0 || mt != "" {
			return in, &apiError{status: http.StatusUnsupportedMediaType, message: "Unsupported Media Type: Content Type [" + mt + "] not allowed. Allowed types: [multipart/form-data]"}
		}
		return in, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return in, errBadRequest(err.Error())
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return in, nil
		}
		if err != nil {
			return in, errBadRequest(err.Error())
		}
		name, filename := part.FormName(), part.FileName()
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(part, maxBody)); err != nil {
			return in, errBadRequest(err.Error())
		}
		switch {
		case name == "files" && filename != "":
			// Legacy form: the file name is the input id.
			in.files[filename] = storedFile{name: filename, data: buf.Bytes()}
		case filename != "":
			in.files[name] = storedFile{name: filename, data: buf.Bytes()}
		default:
			in.values[name] = buf.String()
		}
	}
}
