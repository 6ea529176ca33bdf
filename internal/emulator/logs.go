package emulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// logEntry is Kestra's LogEntry (FollowLogEvent in 2.0 streams).
type logEntry struct {
	TenantID      string        `json:"tenantId,omitempty"`
	Namespace     string        `json:"namespace"`
	FlowID        string        `json:"flowId"`
	TaskID        string        `json:"taskId,omitempty"`
	ExecutionID   string        `json:"executionId"`
	TaskRunID     string        `json:"taskRunId,omitempty"`
	AttemptNumber attemptNumber `json:"attemptNumber,omitzero"`
	TriggerID     string        `json:"triggerId,omitempty"`
	Timestamp     time.Time     `json:"timestamp"`
	Level         string        `json:"level"`
	Thread        string        `json:"thread,omitempty"`
	Message       string        `json:"message"`
	ExecutionKind string        `json:"executionKind,omitempty"`
}

// attemptNumber is the attempt number of a log entry, absent when unknown
// (a log line of the execution, not of a task run) unless null is set:
// the 1.3 LogEntry writes it always, as null when unknown.
type attemptNumber struct {
	n    *int
	null bool
}

func (a attemptNumber) IsZero() bool { return a.n == nil && !a.null }

func (a attemptNumber) MarshalJSON() ([]byte, error) {
	if a.n == nil {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, int64(*a.n), 10), nil
}

// logView renders e as the server's generation writes it.
func (s *Server) logView(e *logEntry) any {
	if s.cfg.version == Version13 {
		v := *e
		v.AttemptNumber.null = true
		return &v
	}
	return e
}

var logLevels = map[string]int{"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "ERROR": 4}

// logFilter selects log lines: filters[...] in 2.0, legacy parameters in
// 1.3 (and for delete in both).
type logFilter struct {
	fs     filterSet
	minLvl int
	taskID string
	trID   string
	att    *int
	// normalOnly keeps the lines of NORMAL executions: a search without a
	// kind filter (AbstractJdbcLogRepository#find, NORMAL_KIND_CONDITION,
	// 1.3.19 and 2.0.0-SNAPSHOT).
	normalOnly bool
}

// logFilterFields are the filter fields of a log search per version
// (QueryFilter.Resource.LOG, 1.3.19 and 2.0.0-SNAPSHOT).
var logFilterFields = map[Version]map[string]bool{
	Version13: {
		"q": true, "scope": true, "namespace": true, "startDate": true, "endDate": true, "flowId": true,
		"triggerId": true, "minLevel": true, "executionId": true,
	},
	Version20: {
		"q": true, "scope": true, "namespace": true, "startDate": true, "endDate": true, "flowId": true,
		"triggerId": true, "level": true, "executionId": true, "taskId": true, "taskRunId": true,
		"attemptNumber": true, "kind": true,
	},
}

func (s *Server) parseLogFilter(q url.Values, legacy bool) (logFilter, error) {
	var lf logFilter
	if !legacy {
		fs, err := parseFilters(q, logFilterFields[s.cfg.version])
		if err != nil {
			return lf, err
		}
		lf.fs = fs
		return lf, nil
	}
	if v := q.Get("minLevel"); v != "" {
		n, ok := logLevels[strings.ToUpper(v)]
		if !ok {
			return lf, conversionError("minLevel", v)
		}
		lf.minLvl = n
	}
	lf.taskID, lf.trID = q.Get("taskId"), q.Get("taskRunId")
	if v := q.Get("attempt"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return lf, conversionError("attempt", v)
		}
		lf.att = &n
	}
	return lf, nil
}

func (lf logFilter) match(e *logEntry) bool {
	if lf.normalOnly && e.ExecutionKind != "" && e.ExecutionKind != "NORMAL" {
		return false
	}
	if logLevels[e.Level] < lf.minLvl ||
		(lf.taskID != "" && e.TaskID != lf.taskID) ||
		(lf.trID != "" && e.TaskRunID != lf.trID) ||
		(lf.att != nil && (e.AttemptNumber.n == nil || *e.AttemptNumber.n != *lf.att)) {
		return false
	}
	return lf.fs.match(func(f queryFilter) bool {
		switch f.field {
		case "level":
			want, ok := logLevels[strings.ToUpper(f.value)]
			if !ok {
				return false
			}
			got := logLevels[e.Level]
			switch f.op {
			case "EQUALS":
				return got == want
			case "NOT_EQUALS":
				return got != want
			case "GREATER_THAN":
				return got > want
			case "GREATER_THAN_OR_EQUAL_TO":
				return got >= want
			case "LESS_THAN":
				return got < want
			case "LESS_THAN_OR_EQUAL_TO":
				return got <= want
			}
			return matchString(f.op, e.Level, strings.ToUpper(f.value))
		case "taskId":
			return matchString(f.op, e.TaskID, f.value)
		case "taskRunId":
			return matchString(f.op, e.TaskRunID, f.value)
		case "executionId":
			return matchString(f.op, e.ExecutionID, f.value)
		case "namespace":
			return matchString(f.op, e.Namespace, f.value)
		case "flowId":
			return matchString(f.op, e.FlowID, f.value)
		case "triggerId":
			return matchString(f.op, e.TriggerID, f.value)
		case "attemptNumber":
			return e.AttemptNumber.n != nil && matchString(f.op, strconv.Itoa(*e.AttemptNumber.n), f.value)
		case "q":
			return matchString("CONTAINS", e.Message, f.value)
		case "startDate":
			return matchTime(f.op, &e.Timestamp, f.value)
		case "endDate":
			return matchTime(f.op, &e.Timestamp, f.value)
		case "minLevel":
			// 1.3: the levels from this one up (LogEntry#findLevelsByMin).
			want, ok := logLevels[strings.ToUpper(f.value)]
			return ok && logLevels[e.Level] >= want
		case "kind":
			kind := e.ExecutionKind
			if kind == "" {
				kind = "NORMAL"
			}
			return matchString(f.op, kind, f.value)
		case "scope":
			return true
		}
		return false
	})
}

func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) error {
	lf, err := s.parseLogFilter(r.URL.Query(), s.cfg.version == Version13)
	if err != nil {
		return err
	}
	out := []any{}
	for _, e := range s.executionLogs(tenantOf(r), r.PathValue("executionId"), lf) {
		out = append(out, s.logView(e))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) downloadLogs(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("executionId")
	lf, err := s.parseLogFilter(r.URL.Query(), s.cfg.version == Version13)
	if err != nil {
		return err
	}
	lines, running, err := s.logsToDownload(tenantOf(r), id, lf)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, e := range lines {
		buf.WriteString(e.Timestamp.Format(time.RFC3339Nano))
		buf.WriteByte(' ')
		buf.WriteString(e.Level)
		buf.WriteByte(' ')
		buf.WriteString(e.Message)
		buf.WriteByte('\n')
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.log"`)
	if running {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(buf.Bytes())
	return nil
}

func (s *Server) deleteLogs(w http.ResponseWriter, r *http.Request) error {
	lf, err := s.parseLogFilter(r.URL.Query(), true)
	if err != nil {
		return err
	}
	s.deleteLogsOf(r.PathValue("executionId"), lf)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteFlowLogs(w http.ResponseWriter, r *http.Request) error {
	ns, flowID, trig := r.PathValue("namespace"), r.PathValue("flowId"), r.URL.Query().Get("triggerId")
	s.engine.deleteFlowLogs(ns, flowID, trig)
	w.WriteHeader(http.StatusOK)
	return nil
}

var logSorts = map[string]func(a, b *logEntry) int{
	"timestamp": func(a, b *logEntry) int { return a.Timestamp.Compare(b.Timestamp) },
	"level":     func(a, b *logEntry) int { return cmp.Compare(logLevels[a.Level], logLevels[b.Level]) },
	"namespace": func(a, b *logEntry) int { return cmp.Compare(a.Namespace, b.Namespace) },
	"flowId":    func(a, b *logEntry) int { return cmp.Compare(a.FlowID, b.FlowID) },
}

func (s *Server) searchLogs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pp, err := parsePage(q, sortKeys(logSorts))
	if err != nil {
		return err
	}
	lf, err := s.parseLogFilter(q, false)
	if err != nil {
		return err
	}
	lf.normalOnly = !lf.fs.names("kind")
	if s.cfg.version == Version13 {
		if v := q.Get("minLevel"); v != "" {
			lf.minLvl = logLevels[strings.ToUpper(v)]
		}
	}
	items := s.tenantLogs(tenantOf(r), lf)
	if len(pp.sort) == 0 {
		pp.sort = []sortKey{{field: "timestamp"}}
	}
	page := paginate(items, pp, logSorts)
	results := make([]any, len(page.Results))
	for i, e := range page.Results {
		results[i] = s.logView(e)
	}
	if s.cfg.version == Version13 {
		writeJSON(w, http.StatusOK, pagedResults[any]{Results: results, Total: page.Total})
		return nil
	}
	// 2.0 answers CursorOrOffsetPagedResults; a page request is OFFSET.
	writeJSON(w, http.StatusOK, struct {
		Results []any  `json:"results"`
		Total   int    `json:"total"`
		Type    string `json:"type"`
	}{results, page.Total, "OFFSET"})
	return nil
}

// followLogs serves GET /logs/{executionId}/follow: start, the history,
// then live lines, until the client or the server goes away.
func (s *Server) followLogs(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("executionId")
	lf, err := s.parseLogFilter(r.URL.Query(), s.cfg.version == Version13)
	if err != nil {
		return err
	}
	sw := newSSEWriter(w, r)
	start := []byte("{}")
	if s.cfg.version == Version13 {
		start = []byte(`{"attemptNumber":null}`)
	}
	if !sw.frame("start", start) {
		return nil
	}
	history, sub, stop := s.engine.followLogs(id)
	defer stop()
	idle := time.NewTimer(s.scaled(streamTimeout))
	defer idle.Stop()
	send := func(es []*logEntry) bool {
		for _, e := range es {
			if e.TenantID != tenantOf(r) || !lf.match(e) {
				continue
			}
			data, _ := json.Marshal(s.logView(e))
			if !sw.frame("progress", data) {
				return false
			}
			idle.Reset(s.scaled(streamTimeout))
		}
		return true
	}
	if !send(history) {
		return nil
	}
	for {
		select {
		case <-sub.notify:
			if !send(sub.take()) {
				return nil
			}
		case <-idle.C:
			dropConn(w) // Kestra's between-item timeout cuts the stream
			return nil
		case <-r.Context().Done():
			return nil
		case <-s.done():
			return nil
		}
	}
}
