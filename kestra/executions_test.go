package kestra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

const execNS = "company.team"

// Flows the execution tests run.
const (
	flowHello = `id: hello
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.name }}"
  - id: greet
    type: io.kestra.plugin.core.debug.Return
    format: "hello {{ inputs.name }}"
`
	flowInputs = `id: inputs
namespace: company.team
inputs:
  - id: name
    type: STRING
  - id: count
    type: INT
  - id: enabled
    type: BOOL
  - id: config
    type: JSON
  - id: doc
    type: FILE
  - id: when
    type: DATETIME
    required: false
  - id: period
    type: DURATION
    required: false
  - id: ratio
    type: FLOAT
    required: false
tasks:
  - id: echo
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.name }}-{{ inputs.count }}"
`
	flowPausing = `id: pausing
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOL
      - id: reason
        type: STRING
        required: false
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "done"
`
	flowFailing = `id: failing
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "one"
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "boom"
`
	flowSleepy = `id: sleepy
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1H
`
)

// execEnv is an emulator, an HTTP server for it, and a client.
type execEnv struct{ *emuEnv }

// newExecEnv starts an emulator with the given flows deployed, and a
// client of it that does not retry, with the client options copts.
func newExecEnv(t *testing.T, copts []kestra.Option, opts []kestratest.Option, flows ...string) *execEnv {
	t.Helper()
	return &execEnv{newEmuEnv(t, emuSetup{
		server: append([]kestratest.Option{kestratest.WithSpeed(200)}, opts...),
		client: append([]kestra.Option{kestra.WithRetry(kestra.NoRetry)}, copts...),
		flows:  flows,
	})}
}

// requests returns the recorded requests whose path contains part,
// ignoring GET /api/v1/configs.
func (env *execEnv) requests(part string) []kestratest.Request {
	return env.requestsWhere(func(r kestratest.Request) bool {
		return r.Path != "/api/v1/configs" && strings.Contains(r.Path, part)
	})
}

// waitFor polls the execution until cond holds.
func (env *execEnv) waitFor(t *testing.T, id string, cond func(*kestra.Execution) bool) *kestra.Execution {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, err := env.c.Executions.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(e) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s: condition not met, state %s", id, e.CurrentState())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func inState(states ...kestra.StateType) func(*kestra.Execution) bool {
	return func(e *kestra.Execution) bool { return slices.Contains(states, e.CurrentState()) }
}

// formPart is one multipart part a server received.
type formPart struct {
	name, filename, value string
}

// partRecorder is a client transport that records the multipart parts of
// each execution creation or resume it sends (the bodies are small).
type partRecorder struct {
	mu    sync.Mutex
	parts [][]formPart
	ctype []string
}

// client returns the client option that sends requests through p.
func (p *partRecorder) client() []kestra.Option {
	return []kestra.Option{kestra.WithHTTPClient(&http.Client{Transport: p})}
}

func (p *partRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	{
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/executions/") && !strings.Contains(r.URL.Path, "/flows") {
			body, _ := io.ReadAll(r.Body)
			r.Body.Close()
			r = r.Clone(r.Context())
			r.Body = io.NopCloser(bytes.NewReader(body))
			var parts []formPart
			mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt == "multipart/form-data" {
				mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
				for {
					part, err := mr.NextPart()
					if err != nil {
						break
					}
					b, _ := io.ReadAll(part)
					parts = append(parts, formPart{part.FormName(), part.FileName(), string(b)})
				}
			}
			p.mu.Lock()
			p.parts = append(p.parts, parts)
			p.ctype = append(p.ctype, mt)
			p.mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(r)
	}
}

func (p *partRecorder) last(t *testing.T) ([]formPart, string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.parts) == 0 {
		t.Fatal("no multipart request recorded")
	}
	return p.parts[len(p.parts)-1], p.ctype[len(p.ctype)-1]
}

func TestExecutionsCreateInputsRoundTrip(t *testing.T) {
	t.Parallel()
	rec := &partRecorder{}
	env := newExecEnv(t, rec.client(), nil, flowInputs)
	ctx := t.Context()

	when := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("CEST", 2*3600))
	doc := []byte("line one\nline two\n\x00\xff binary tail")
	e, err := env.c.Executions.Create(ctx, execNS, "inputs", &kestra.ExecuteOptions{
		Inputs: map[string]any{
			"name":    "alice",
			"count":   42,
			"enabled": true,
			"config":  map[string]any{"retries": 3, "tags": []string{"a", "b"}},
			"doc":     kestra.File{Name: "report.bin", Reader: bytes.NewReader(doc)},
			"when":    when,
			"period":  90 * time.Second,
			"ratio":   float32(0.25),
			"unknown": nil, // not sent
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID == "" || e.Namespace != execNS || e.FlowID != "inputs" {
		t.Fatalf("execution = %s %s/%s", e.ID, e.Namespace, e.FlowID)
	}

	// What the server received: one part per input, in key order, the file
	// with its name.
	parts, ctype := rec.last(t)
	if ctype != "multipart/form-data" {
		t.Errorf("Content-Type = %q", ctype)
	}
	want := []formPart{
		{"config", "", `{"retries":3,"tags":["a","b"]}`},
		{"count", "", "42"},
		{"doc", "report.bin", string(doc)},
		{"enabled", "", "true"},
		{"name", "", "alice"},
		{"period", "", "PT1M30S"},
		{"ratio", "", "0.25"},
		{"when", "", "2026-03-04T05:06:07.00000089+02:00"},
	}
	if !slices.Equal(parts, want) {
		t.Errorf("parts =\n%q\nwant\n%q", parts, want)
	}

	// What Kestra made of them.
	got := env.waitFor(t, e.ID, func(e *kestra.Execution) bool { return e.IsTerminal() })
	if got.CurrentState() != kestra.StateSuccess {
		t.Fatalf("state = %s", got.CurrentState())
	}
	in := got.Inputs
	if in["name"] != "alice" || in["count"] != json.Number("42") || in["enabled"] != true {
		t.Errorf("inputs = %v", in)
	}
	if cfg, _ := in["config"].(map[string]any); cfg["retries"] != json.Number("3") {
		t.Errorf("config = %v", in["config"])
	}
	if d, _ := in["when"].(string); d == "" {
		t.Errorf("when = %v", in["when"])
	} else if tm, err := time.Parse(time.RFC3339Nano, d); err != nil || !tm.Equal(when) {
		t.Errorf("when = %v, want the instant %v", d, when)
	}
	uri, _ := in["doc"].(string)
	if !strings.HasPrefix(uri, "kestra:///company/team/inputs/executions/"+e.ID+"/inputs/doc/report.bin") {
		t.Errorf("doc = %q", uri)
	}
}

func TestExecutionsCreateInputEncoding(t *testing.T) {
	t.Parallel()
	rec := &partRecorder{}
	env := newExecEnv(t, rec.client(), nil, flowHello)

	type point struct {
		X int `json:"x"`
		Y int `json:"y"`
	}
	type level string
	s := "pointed"
	var nilPtr *string
	tests := []struct {
		name  string
		value any
		want  string // "" with skip
		skip  bool
	}{
		{"string", "x y", "x y", false},
		{"named string", level("debug"), "debug", false},
		{"pointer", &s, "pointed", false},
		{"nil pointer", nilPtr, "", true},
		{"nil", nil, "", true},
		{"int8", int8(-8), "-8", false},
		{"int64", int64(math.MaxInt64), "9223372036854775807", false},
		{"uint", uint(7), "7", false},
		{"uint64", uint64(math.MaxUint64), "18446744073709551615", false},
		{"float64", 1.5, "1.5", false},
		{"float64 big", 1e22, "1e+22", false},
		{"float64 integral", 1234567.0, "1234567", false},
		{"float32", float32(0.1), "0.1", false},
		{"bool", false, "false", false},
		{"time UTC", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05Z", false},
		{"time zone", time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", -5*3600)), "2026-01-02T03:04:05.000000006-05:00", false},
		{"duration", 36*time.Hour + 500*time.Millisecond, "PT36H0.5S", false},
		{"bytes", []byte("raw text"), "raw text", false},
		{"raw JSON", json.RawMessage(`{"a": [1, 2]}`), `{"a": [1, 2]}`, false},
		{"slice", []int{1, 2, 3}, "[1,2,3]", false},
		{"array", [2]string{"a", "b"}, `["a","b"]`, false},
		{"map", map[string]int{"b": 2, "a": 1}, `{"a":1,"b":2}`, false},
		{"struct", point{1, 2}, `{"x":1,"y":2}`, false},
		{"text marshaler", netip.MustParseAddr("192.0.2.1"), "192.0.2.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := env.c.Executions.Create(t.Context(), execNS, "hello", &kestra.ExecuteOptions{
				Inputs: map[string]any{"v": tt.value},
			}); err != nil {
				t.Fatal(err)
			}
			parts, _ := rec.last(t)
			if tt.skip {
				if len(parts) != 0 {
					t.Fatalf("parts = %q, want none", parts)
				}
				return
			}
			if len(parts) != 1 || parts[0].name != "v" || parts[0].filename != "" || parts[0].value != tt.want {
				t.Fatalf("parts = %q, want v=%q", parts, tt.want)
			}
		})
	}
}

func TestExecutionsCreateWithoutInputsIsMultipart(t *testing.T) {
	t.Parallel()
	rec := &partRecorder{}
	env := newExecEnv(t, rec.client(), nil, flowHello)
	if _, err := env.c.Executions.Create(t.Context(), execNS, "hello", nil); err != nil {
		t.Fatal(err)
	}
	parts, ctype := rec.last(t)
	if ctype != "multipart/form-data" || len(parts) != 0 {
		t.Fatalf("Content-Type %q with %d parts, want multipart/form-data with none", ctype, len(parts))
	}
	reqs := env.requests("/executions/")
	if len(reqs) != 1 || reqs[0].RawQuery != "" {
		t.Fatalf("requests = %+v, want one without query", reqs)
	}
}

func TestExecutionsCreateLabelsAndOptions(t *testing.T) {
	t.Parallel()
	rec := &partRecorder{}
	env := newExecEnv(t, rec.client(), nil, flowHello)
	schedule := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("", 5*3600+1800))
	e, err := env.c.Executions.Create(t.Context(), execNS, "hello", &kestra.ExecuteOptions{
		Labels:       map[string]string{"team": "data", "env": "prod", "url": "http://x:1/a b", "system.correlationId": "c-1"},
		Inputs:       map[string]any{"name": "bob"},
		ScheduleDate: schedule,
		Revision:     1,
		Breakpoints:  []string{"log", "greet.x"},
		Kind:         "TEST",
	})
	if err != nil {
		t.Fatal(err)
	}
	labels := e.LabelMap()
	for k, v := range map[string]string{"team": "data", "env": "prod", "url": "http://x:1/a b", "system.correlationId": "c-1"} {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
		}
	}

	reqs := env.requests("/executions/company.team/hello")
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	q, err := url.ParseQuery(reqs[0].RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	wantQuery := url.Values{
		"labels":       {"env:prod", "system.correlationId:c-1", "team:data", "url:http://x:1/a b"},
		"scheduleDate": {"2030-01-02T03:04:05+05:30"},
		"revision":     {"1"},
		"breakpoints":  {"log,greet.x"},
		"kind":         {"TEST"},
	}
	for k, want := range wantQuery {
		if !slices.Equal(q[k], want) {
			t.Errorf("query %s = %q, want %q", k, q[k], want)
		}
	}
	if _, ok := q["wait"]; ok {
		t.Errorf("wait sent without Wait: %s", reqs[0].RawQuery)
	}
	parts, _ := rec.last(t)
	if len(parts) != 1 || parts[0].name != "name" {
		t.Errorf("parts = %q, want only the input (labels go in the query)", parts)
	}
	if !e.ScheduleDate.Equal(schedule) {
		t.Errorf("scheduleDate = %v, want %v", e.ScheduleDate, schedule)
	}
	if string(e.Kind) != "TEST" {
		t.Errorf("kind = %q", e.Kind)
	}
}

func TestExecutionsCreateWait(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, nil, flowHello)
	// A client whose Config.Timeout is shorter than the execution: Wait is
	// bounded by ctx only.
	slow := newExecEnv(t, nil, []kestratest.Option{kestratest.WithSpeed(1), kestratest.WithTaskDuration(150 * time.Millisecond)}, flowHello)
	short := slow.client(t, kestra.Config{Timeout: 100 * time.Millisecond}, kestra.WithRetry(kestra.NoRetry))
	for _, tc := range []struct {
		name string
		c    *kestra.Client
	}{{"fast", env.c}, {"longer than Config.Timeout", short}} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tc.c.Executions.Create(t.Context(), execNS, "hello", &kestra.ExecuteOptions{
				Wait:   true,
				Inputs: map[string]any{"name": "carol"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !e.IsTerminal() || e.CurrentState() != kestra.StateSuccess {
				t.Fatalf("state = %s, want SUCCESS", e.CurrentState())
			}
			var out struct{ Value string }
			if err := e.TaskOutputs("greet", &out); err != nil {
				t.Fatal(err)
			}
			if out.Value != "hello carol" {
				t.Errorf("output = %q", out.Value)
			}
		})
	}
	reqs := env.requests("/executions/company.team/hello")
	if len(reqs) != 1 || !strings.Contains(reqs[0].RawQuery, "wait=true") {
		t.Errorf("requests = %+v, want wait=true", reqs)
	}
}

func TestExecutionsCreateServerErrors(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, nil, flowInputs)
	ctx := t.Context()

	_, err := env.c.Executions.Create(ctx, execNS, "nope", nil)
	if !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("unknown flow: err = %v, want ErrNotFound", err)
	}

	_, err = env.c.Executions.Create(ctx, execNS, "inputs", &kestra.ExecuteOptions{Inputs: map[string]any{
		"name": "x", "count": "many", "enabled": true, "config": "{}",
		"doc": kestra.File{Reader: strings.NewReader("d")},
	}})
	var apiErr *kestra.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnprocessableEntity || !errors.Is(err, kestra.ErrInvalid) {
		t.Fatalf("invalid input: err = %v, want a 422 *APIError", err)
	}
	if !strings.Contains(apiErr.Message, "count") {
		t.Errorf("message %q does not name the input", apiErr.Message)
	}
}

func TestExecutionsBadInputMakesNoRequest(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, nil, flowHello)
	missing := filepath.Join(t.TempDir(), "missing.csv")
	tests := []struct {
		name      string
		ns, flow  string
		opts      *kestra.ExecuteOptions
		errNaming string
	}{
		{"empty namespace", "", "hello", nil, "namespace"},
		{"empty flow id", execNS, "", nil, "flow id"},
		{"chan input", execNS, "hello", &kestra.ExecuteOptions{Inputs: map[string]any{"queue": make(chan int)}}, `"queue"`},
		{"func input", execNS, "hello", &kestra.ExecuteOptions{Inputs: map[string]any{"cb": func() {}}}, `"cb"`},
		{"complex input", execNS, "hello", &kestra.ExecuteOptions{Inputs: map[string]any{"z": 1 + 2i}}, `"z"`},
		{"chan inside a map", execNS, "hello", &kestra.ExecuteOptions{Inputs: map[string]any{"m": map[string]any{"c": make(chan int)}}}, `"m"`},
		{"NaN", execNS, "hello", &kestra.ExecuteOptions{Inputs: map[string]any{"ratio": math.NaN()}}, `"ratio"`},
		{"invalid raw JSON", execNS, "hello", &kestra.ExecuteOptions{Inputs: map[string]any{"cfg": json.RawMessage("{")}}, `"cfg"`},
		{"bare reader", execNS, "hello", &kestra.ExecuteOptions{Inputs: map[string]any{"doc": strings.NewReader("x")}}, `"doc"`},
		{"file without reader", execNS, "hello", &kestra.ExecuteOptions{Inputs: map[string]any{"doc": kestra.File{Name: "a"}}}, `"doc"`},
		{"missing file", execNS, "hello", &kestra.ExecuteOptions{Inputs: map[string]any{"doc": kestra.FilePath(missing)}}, `"doc"`},
		{"empty input name", execNS, "hello", &kestra.ExecuteOptions{Inputs: map[string]any{"": 1}}, "empty name"},
		{"label key with colon", execNS, "hello", &kestra.ExecuteOptions{Labels: map[string]string{"a:b": "c"}}, `"a:b"`},
		{"label key with space", execNS, "hello", &kestra.ExecuteOptions{Labels: map[string]string{"my key": "c"}}, `"my key"`},
		{"label empty key", execNS, "hello", &kestra.ExecuteOptions{Labels: map[string]string{"": "c"}}, "empty key"},
		{"label empty value", execNS, "hello", &kestra.ExecuteOptions{Labels: map[string]string{"team": " "}}, `"team"`},
		{"system label", execNS, "hello", &kestra.ExecuteOptions{Labels: map[string]string{"system.readOnly": "true"}}, `"system.readOnly"`},
		{"breakpoint with a comma", execNS, "hello", &kestra.ExecuteOptions{Breakpoints: []string{"log,greet"}}, `"log,greet"`},
		{"empty breakpoint", execNS, "hello", &kestra.ExecuteOptions{Breakpoints: []string{"log", ""}}, `breakpoint ""`},
		{"breakpoint without task id", execNS, "hello", &kestra.ExecuteOptions{Breakpoints: []string{".1"}}, `".1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.c.Executions.Create(t.Context(), tt.ns, tt.flow, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.errNaming) {
				t.Fatalf("err = %v, want one naming %s", err, tt.errNaming)
			}
			var apiErr *kestra.APIError
			if errors.As(err, &apiErr) {
				t.Fatalf("err = %v is a server error", err)
			}
		})
	}
	if reqs := env.emu.Requests(); len(reqs) != 0 {
		t.Errorf("bad input sent %d requests: %+v", len(reqs), reqs)
	}
	if n := env.emu.ExecutionsCreated(); n != 0 {
		t.Errorf("%d executions created", n)
	}
	// The other methods check their arguments too.
	ex := env.c.Executions
	ctx := t.Context()
	for name, err := range map[string]error{
		"Get":          func() error { _, err := ex.Get(ctx, ""); return err }(),
		"Delete":       ex.Delete(ctx, "", nil),
		"Kill":         func() error { _, err := ex.Kill(ctx, ""); return err }(),
		"Restart":      func() error { _, err := ex.Restart(ctx, "", nil); return err }(),
		"Resume":       func() error { _, err := ex.Resume(ctx, "", nil); return err }(),
		"Resume input": func() error { _, err := ex.Resume(ctx, "x", map[string]any{"f": func() {}}); return err }(),
		"Replay":       func() error { _, err := ex.Replay(ctx, "", nil); return err }(),
		"Replay breakpoint": func() error {
			_, err := ex.Replay(ctx, "x", &kestra.ReplayOptions{Breakpoints: []string{" "}})
			return err
		}(),
		"ResumeFromBreakpoint":            func() error { _, err := ex.ResumeFromBreakpoint(ctx, ""); return err }(),
		"ResumeFromBreakpoint breakpoint": func() error { _, err := ex.ResumeFromBreakpoint(ctx, "x", "a,b"); return err }(),
		"Pause":                           func() error { _, err := ex.Pause(ctx, ""); return err }(),
		"SetLabels":                       func() error { _, err := ex.SetLabels(ctx, "x", map[string]string{"a b": "c"}); return err }(),
		"DownloadFile":                    func() error { _, err := ex.DownloadFile(ctx, "x", ""); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if reqs := env.requests("/executions"); len(reqs) != 0 {
		t.Errorf("bad arguments sent %d requests: %+v", len(reqs), reqs)
	}
}

func TestExecutionsDelete(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, nil, flowHello)
	ctx := t.Context()
	tests := []struct {
		name      string
		opts      *kestra.DeleteExecutionOptions
		wantQuery url.Values
		logsKept  bool
	}{
		{"nil: server defaults", nil, url.Values{}, false},
		{"explicit", &kestra.DeleteExecutionOptions{KeepLogs: true, KeepStorage: true},
			url.Values{"deleteLogs": {"false"}, "deleteMetrics": {"true"}, "deleteStorage": {"false"}}, true},
		{"all true", &kestra.DeleteExecutionOptions{},
			url.Values{"deleteLogs": {"true"}, "deleteMetrics": {"true"}, "deleteStorage": {"true"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := env.c.Executions.Create(ctx, execNS, "hello", &kestra.ExecuteOptions{Wait: true})
			if err != nil {
				t.Fatal(err)
			}
			if env.emu.LogCount(e.ID) == 0 {
				t.Fatal("the execution logged nothing")
			}
			if err := env.c.Executions.Delete(ctx, e.ID, tt.opts); err != nil {
				t.Fatal(err)
			}
			reqs := env.requests("/executions/" + e.ID)
			last := reqs[len(reqs)-1]
			q, _ := url.ParseQuery(last.RawQuery)
			if last.Method != http.MethodDelete || !equalValues(q, tt.wantQuery) {
				t.Errorf("request %s ?%s, want DELETE ?%s", last.Method, last.RawQuery, tt.wantQuery.Encode())
			}
			if kept := env.emu.LogCount(e.ID) > 0; kept != tt.logsKept {
				t.Errorf("logs kept = %v, want %v", kept, tt.logsKept)
			}
			if _, err := env.c.Executions.Get(ctx, e.ID); !errors.Is(err, kestra.ErrNotFound) {
				t.Errorf("Get after Delete: %v, want ErrNotFound", err)
			}
		})
	}
	if err := env.c.Executions.Delete(ctx, "unknown", nil); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("Delete unknown: %v, want ErrNotFound", err)
	}
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestExecutionsActions runs kill, resume, restart and replay against both
// API generations, and with a server whose version is unknown.
func TestExecutionsActions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		version       kestratest.Version
		hideVersion   bool
		actionsPrefix string
	}{
		{"2.0", kestratest.Version20, false, "/actions/"},
		{"1.3", kestratest.Version13, false, "/"},
		{"1.3 unknown version", kestratest.Version13, true, "/"},
		{"2.0 unknown version", kestratest.Version20, true, "/actions/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newExecEnv(t, nil, []kestratest.Option{kestratest.WithVersion(tc.version)}, flowPausing, flowFailing, flowSleepy, flowHello)
			if tc.hideVersion {
				env.emu.InjectFault(kestratest.Fault{Path: "/api/v1/configs", Status: http.StatusInternalServerError, Message: "unavailable"})
			}
			ctx := t.Context()
			ex := env.c.Executions
			// sawAction checks that the last request for the action used
			// this generation's path.
			sawAction := func(t *testing.T, id, verb, method string) {
				t.Helper()
				reqs := env.requests("/executions/" + id + "/")
				want := "/api/v1/main/executions/" + id + tc.actionsPrefix + verb
				for _, r := range slices.Backward(reqs) {
					if r.Method == method && r.Path == want {
						return
					}
				}
				t.Errorf("no %s %s among %+v", method, want, reqs)
			}

			t.Run("kill paused", func(t *testing.T) {
				e, err := ex.Create(ctx, execNS, "pausing", nil)
				if err != nil {
					t.Fatal(err)
				}
				env.waitFor(t, e.ID, inState(kestra.StatePaused))
				k, err := ex.Kill(ctx, e.ID)
				if err != nil {
					t.Fatal(err)
				}
				if k.ID != e.ID || (k.CurrentState() != kestra.StateKilled && k.CurrentState() != kestra.StateKilling) {
					t.Fatalf("Kill returned %s in %s", k.ID, k.CurrentState())
				}
				env.waitFor(t, e.ID, inState(kestra.StateKilled))
				sawAction(t, e.ID, "kill", http.MethodDelete)
			})

			t.Run("kill running", func(t *testing.T) {
				e, err := ex.Create(ctx, execNS, "sleepy", nil)
				if err != nil {
					t.Fatal(err)
				}
				env.waitFor(t, e.ID, inState(kestra.StateRunning))
				if _, err := ex.Kill(ctx, e.ID); err != nil {
					t.Fatal(err)
				}
				env.waitFor(t, e.ID, inState(kestra.StateKilled))
			})

			t.Run("resume with inputs", func(t *testing.T) {
				e, err := ex.Create(ctx, execNS, "pausing", nil)
				if err != nil {
					t.Fatal(err)
				}
				env.waitFor(t, e.ID, inState(kestra.StatePaused))
				r, err := ex.Resume(ctx, e.ID, map[string]any{"approved": true, "reason": "looks good"})
				if err != nil {
					t.Fatal(err)
				}
				if r.ID != e.ID || r.CurrentState() == kestra.StatePaused {
					t.Fatalf("Resume returned %s in %s", r.ID, r.CurrentState())
				}
				done := env.waitFor(t, e.ID, inState(kestra.StateSuccess))
				sawAction(t, e.ID, "resume", http.MethodPost)
				if tc.version == kestratest.Version13 {
					// 1.3 GET carries task outputs: the onResume inputs.
					var out struct {
						OnResume struct {
							Approved bool
							Reason   string
						}
					}
					if err := done.TaskOutputs("wait", &out); err != nil {
						t.Fatal(err)
					}
					if !out.OnResume.Approved || out.OnResume.Reason != "looks good" {
						t.Errorf("onResume outputs = %+v", out.OnResume)
					}
				}
				// Not paused any more.
				if _, err := ex.Resume(ctx, e.ID, nil); !errors.Is(err, kestra.ErrConflict) {
					t.Errorf("second Resume: %v, want ErrConflict", err)
				}
			})

			t.Run("restart failed", func(t *testing.T) {
				e, err := ex.Create(ctx, execNS, "failing", &kestra.ExecuteOptions{Wait: true})
				if err != nil {
					t.Fatal(err)
				}
				if e.CurrentState() != kestra.StateFailed {
					t.Fatalf("state = %s", e.CurrentState())
				}
				r, err := ex.Restart(ctx, e.ID, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.ID != e.ID || r.CurrentState() != kestra.StateRestarted {
					t.Fatalf("Restart returned %s in %s, want RESTARTED", r.ID, r.CurrentState())
				}
				sawAction(t, e.ID, "restart", http.MethodPost)
				env.waitFor(t, e.ID, inState(kestra.StateFailed))
			})

			t.Run("replay", func(t *testing.T) {
				e, err := ex.Create(ctx, execNS, "failing", &kestra.ExecuteOptions{Wait: true})
				if err != nil {
					t.Fatal(err)
				}
				boom, ok := e.TaskRun("boom")
				if !ok {
					t.Fatal("no boom task run")
				}
				r, err := ex.Replay(ctx, e.ID, &kestra.ReplayOptions{TaskRunID: boom.ID, Revision: 1})
				if err != nil {
					t.Fatal(err)
				}
				if r.ID == "" || r.ID == e.ID || r.FlowID != "failing" {
					t.Fatalf("Replay returned %s of %s", r.ID, r.FlowID)
				}
				sawAction(t, e.ID, "replay", http.MethodPost)
				reqs := env.requests("/executions/" + e.ID + tc.actionsPrefix + "replay")
				q, _ := url.ParseQuery(reqs[len(reqs)-1].RawQuery)
				if q.Get("taskRunId") != boom.ID || q.Get("revision") != "1" {
					t.Errorf("replay query = %s", reqs[len(reqs)-1].RawQuery)
				}
				env.waitFor(t, r.ID, func(e *kestra.Execution) bool { return e.IsTerminal() })
			})

			t.Run("breakpoints", func(t *testing.T) {
				e, err := ex.Create(ctx, execNS, "hello", &kestra.ExecuteOptions{Breakpoints: []string{"log", "greet"}})
				if err != nil {
					t.Fatal(err)
				}
				stoppedAt := func(taskID string) func(*kestra.Execution) bool {
					return func(e *kestra.Execution) bool {
						tr, ok := e.TaskRun(taskID)
						return e.CurrentState() == kestra.StateBreakpoint && ok && tr.State.Current == kestra.StateBreakpoint
					}
				}
				env.waitFor(t, e.ID, stoppedAt("log"))
				if _, err := ex.Resume(ctx, e.ID, nil); !errors.Is(err, kestra.ErrConflict) {
					t.Errorf("Resume at a breakpoint: %v, want ErrConflict (it is for paused executions)", err)
				}

				// Keep the breakpoint on greet: it stops there next.
				r, err := ex.ResumeFromBreakpoint(ctx, e.ID, "greet")
				if err != nil {
					t.Fatal(err)
				}
				if r.ID != e.ID || stoppedAt("log")(r) {
					t.Fatalf("ResumeFromBreakpoint returned %s in %s", r.ID, r.CurrentState())
				}
				sawAction(t, e.ID, "resume-from-breakpoint", http.MethodPost)
				reqs := env.requests("/executions/" + e.ID + tc.actionsPrefix + "resume-from-breakpoint")
				if q, _ := url.ParseQuery(reqs[len(reqs)-1].RawQuery); q.Get("breakpoints") != "greet" {
					t.Errorf("resume-from-breakpoint query = %q, want breakpoints=greet", reqs[len(reqs)-1].RawQuery)
				}
				at := env.waitFor(t, e.ID, stoppedAt("greet"))
				if tr, _ := at.TaskRun("log"); tr.State.Current != kestra.StateSuccess {
					t.Errorf("log task run is %s at the second breakpoint, want SUCCESS", tr.State.Current)
				}

				// No breakpoints: it runs to its end, and Wait sees it.
				if _, err := ex.ResumeFromBreakpoint(ctx, e.ID); err != nil {
					t.Fatal(err)
				}
				reqs = env.requests("/executions/" + e.ID + tc.actionsPrefix + "resume-from-breakpoint")
				if q := reqs[len(reqs)-1].RawQuery; q != "" {
					t.Errorf("resume without breakpoints sent query %q", q)
				}
				done, err := ex.Wait(ctx, e.ID, nil)
				if err != nil || done.CurrentState() != kestra.StateSuccess {
					t.Fatalf("Wait after the last breakpoint: %v in %v", err, done)
				}
				if _, err := ex.ResumeFromBreakpoint(ctx, e.ID); !errors.Is(err, kestra.ErrConflict) {
					t.Errorf("ResumeFromBreakpoint of an ended execution: %v, want ErrConflict", err)
				}
			})

			t.Run("change status, force run, eval", func(t *testing.T) {
				e, err := ex.Create(ctx, execNS, "failing", &kestra.ExecuteOptions{Wait: true})
				if err != nil {
					t.Fatal(err)
				}
				first, _ := e.TaskRun("first")
				c, err := ex.ChangeStatus(ctx, e.ID, kestra.StateSuccess)
				if err != nil || c.CurrentState() != kestra.StateSuccess {
					t.Fatalf("ChangeStatus = %v, %v", c, err)
				}
				sawAction(t, e.ID, "change-status", http.MethodPost)
				if _, err := ex.ChangeStatus(ctx, e.ID, kestra.StateRunning); err == nil {
					t.Error("ChangeStatus to RUNNING: no error")
				}

				r, err := ex.Eval(ctx, e.ID, first.ID, "{{ outputs.first.value }}!")
				if err != nil || r.Result != "one!" || r.Error != "" {
					t.Errorf("Eval in a task run = %+v, %v", r, err)
				}
				r, err = ex.Eval(ctx, e.ID, first.ID, "{{ nowhere.to.be.found }}")
				if err != nil || r.Error == "" || r.Result != "" {
					t.Errorf("Eval that does not render = %+v, %v; want its error in the result", r, err)
				}
				if tc.version == kestratest.Version20 {
					if r, err := ex.Eval(ctx, e.ID, "", "{{ flow.id }}"); err != nil || r.Result != "failing" {
						t.Errorf("Eval = %+v, %v", r, err)
					}
				}

				p, err := ex.Create(ctx, execNS, "sleepy", nil)
				if err != nil {
					t.Fatal(err)
				}
				env.waitFor(t, p.ID, inState(kestra.StateRunning))
				if _, err := ex.ChangeStatus(ctx, p.ID, kestra.StateSuccess); !errors.Is(err, kestra.ErrConflict) && !errors.Is(err, kestra.ErrInvalid) {
					t.Errorf("ChangeStatus of a running execution: %v, want a refusal", err)
				}
				if f, err := ex.ForceRun(ctx, p.ID); err != nil || f.ID != p.ID {
					t.Errorf("ForceRun of a running execution = %v, %v", f, err)
				}
				sawAction(t, p.ID, "force-run", http.MethodPost)
				if _, err := ex.Kill(ctx, p.ID); err != nil {
					t.Fatal(err)
				}
				env.waitFor(t, p.ID, inState(kestra.StateKilled))
				if _, err := ex.ForceRun(ctx, p.ID); !errors.Is(err, kestra.ErrConflict) && !errors.Is(err, kestra.ErrInvalid) {
					t.Errorf("ForceRun of an ended execution: %v, want a refusal", err)
				}
			})

			t.Run("unknown execution", func(t *testing.T) {
				for name, call := range map[string]func() error{
					"Kill":                 func() error { _, err := ex.Kill(ctx, "nope"); return err },
					"Restart":              func() error { _, err := ex.Restart(ctx, "nope", nil); return err },
					"Resume":               func() error { _, err := ex.Resume(ctx, "nope", nil); return err },
					"ResumeFromBreakpoint": func() error { _, err := ex.ResumeFromBreakpoint(ctx, "nope"); return err },
					"ChangeStatus":         func() error { _, err := ex.ChangeStatus(ctx, "nope", kestra.StateSuccess); return err },
					"ForceRun":             func() error { _, err := ex.ForceRun(ctx, "nope"); return err },
				} {
					if err := call(); !errors.Is(err, kestra.ErrNotFound) {
						t.Errorf("%s: %v, want ErrNotFound", name, err)
					}
				}
			})
		})
	}
}

func TestExecutionsPauseAndSetLabels(t *testing.T) {
	t.Parallel()
	for _, v := range []kestratest.Version{kestratest.Version20, kestratest.Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			env := newExecEnv(t, nil, []kestratest.Option{kestratest.WithVersion(v)}, flowSleepy, flowHello)
			ctx := t.Context()
			ex := env.c.Executions

			e, err := ex.Create(ctx, execNS, "sleepy", nil)
			if err != nil {
				t.Fatal(err)
			}
			env.waitFor(t, e.ID, inState(kestra.StateRunning))
			p, err := ex.Pause(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != e.ID {
				t.Fatalf("Pause returned %q", p.ID)
			}
			if _, err := ex.Kill(ctx, e.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := ex.Pause(ctx, "nope"); !errors.Is(err, kestra.ErrNotFound) {
				t.Errorf("Pause unknown: %v", err)
			}

			done, err := ex.Create(ctx, execNS, "hello", &kestra.ExecuteOptions{Wait: true, Labels: map[string]string{"old": "1"}})
			if err != nil {
				t.Fatal(err)
			}
			l, err := ex.SetLabels(ctx, done.ID, map[string]string{"team": "data", "env": "prod"})
			if err != nil {
				t.Fatal(err)
			}
			got := l.LabelMap()
			if got["team"] != "data" || got["env"] != "prod" || got["old"] != "" {
				t.Errorf("labels = %v", got)
			}
			if got := env.waitFor(t, done.ID, func(*kestra.Execution) bool { return true }).LabelMap(); got["team"] != "data" {
				t.Errorf("labels read back = %v", got)
			}
		})
	}
}

func TestExecutionsAll(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, nil, flowHello, flowFailing, flowPausing)
	ctx := t.Context()
	want := map[string]bool{}
	for i := range 7 {
		e, err := env.c.Executions.Create(ctx, execNS, "hello", &kestra.ExecuteOptions{Wait: true, Labels: map[string]string{"batch": "b" + string(rune('0'+i%2))}})
		if err != nil {
			t.Fatal(err)
		}
		want[e.ID] = true
	}
	for range 3 {
		e, err := env.c.Executions.Create(ctx, execNS, "failing", &kestra.ExecuteOptions{Wait: true})
		if err != nil {
			t.Fatal(err)
		}
		want[e.ID] = true
	}
	paused, err := env.c.Executions.Create(ctx, execNS, "pausing", nil)
	if err != nil {
		t.Fatal(err)
	}
	env.waitFor(t, paused.ID, inState(kestra.StatePaused))

	for _, pg := range []struct{ size, requests int }{{3, 4}, {5, 2}, {10, 1}, {100, 1}} {
		t.Run(fmt.Sprintf("several states, pages of %d", pg.size), func(t *testing.T) {
			env.emu.ClearRequests()
			opts := &kestra.ExecutionSearchOptions{States: []kestra.StateType{kestra.StateSuccess, kestra.StateFailed}, ListOptions: kestra.ListOptions{Size: pg.size}}
			got := map[string]bool{}
			for e, err := range env.c.Executions.All(ctx, opts) {
				if err != nil {
					t.Fatal(err)
				}
				if got[e.ID] {
					t.Errorf("%s seen twice", e.ID)
				}
				got[e.ID] = true
				opts.Size = 1 // All copied opts
			}
			if len(got) != len(want) {
				t.Errorf("got %d executions, want %d", len(got), len(want))
			}
			for id := range want {
				if !got[id] {
					t.Errorf("missing %s", id)
				}
			}
			reqs := env.requests("/executions/search")
			if len(reqs) != pg.requests {
				t.Errorf("%d search requests, want %d", len(reqs), pg.requests)
			}
			for i, r := range reqs {
				q, _ := url.ParseQuery(r.RawQuery)
				if q.Get("filters[state][IN]") != "SUCCESS,FAILED" || q.Get("size") != strconv.Itoa(pg.size) || q.Get("page") != strconv.Itoa(i+1) {
					t.Errorf("page %d query = %s", i+1, r.RawQuery)
				}
			}
		})
	}

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			name  string
			opts  kestra.ExecutionSearchOptions
			count int
			query map[string]string
		}{
			{"one state", kestra.ExecutionSearchOptions{States: []kestra.StateType{kestra.StatePaused}}, 1,
				map[string]string{"filters[state][EQUALS]": "PAUSED"}},
			{"flow", kestra.ExecutionSearchOptions{Namespace: execNS, FlowID: "failing"}, 3,
				map[string]string{"filters[namespace][EQUALS]": execNS, "filters[flowId][EQUALS]": "failing"}},
			{"labels", kestra.ExecutionSearchOptions{Labels: map[string]string{"batch": "b1"}}, 3,
				map[string]string{"filters[labels][EQUALS][batch]": "b1"}},
			{"other namespace", kestra.ExecutionSearchOptions{Namespace: "other"}, 0, nil},
			{"time range", kestra.ExecutionSearchOptions{TimeRange: time.Hour}, 11,
				map[string]string{"filters[timeRange][EQUALS]": "PT1H"}},
			{"start date", kestra.ExecutionSearchOptions{StartDate: time.Now().Add(time.Hour)}, 0, nil},
			{"end date", kestra.ExecutionSearchOptions{EndDate: time.Now().Add(time.Hour), States: []kestra.StateType{kestra.StateSuccess}}, 7, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				env.emu.ClearRequests()
				n := 0
				for _, err := range env.c.Executions.All(ctx, &tt.opts) {
					if err != nil {
						t.Fatal(err)
					}
					n++
				}
				if n != tt.count {
					t.Errorf("%d executions, want %d", n, tt.count)
				}
				reqs := env.requests("/executions/search")
				q, _ := url.ParseQuery(reqs[0].RawQuery)
				for k, v := range tt.query {
					if q.Get(k) != v {
						t.Errorf("%s = %q, want %q (query %s)", k, q.Get(k), v, reqs[0].RawQuery)
					}
				}
			})
		}
	})

	t.Run("List", func(t *testing.T) {
		page, err := env.c.Executions.List(ctx, &kestra.ExecutionSearchOptions{FlowID: "hello", ListOptions: kestra.ListOptions{Size: 5, Page: 2}, Sort: []string{"id:asc"}})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 7 || len(page.Items) != 2 {
			t.Errorf("page: total %d, %d results; want 7, 2", page.Total, len(page.Items))
		}
		if !slices.IsSortedFunc(page.Items, func(a, b *kestra.Execution) int { return strings.Compare(a.ID, b.ID) }) {
			t.Error("not sorted by id")
		}
	})

	t.Run("break stops paging", func(t *testing.T) {
		env.emu.ClearRequests()
		for range env.c.Executions.All(ctx, &kestra.ExecutionSearchOptions{ListOptions: kestra.ListOptions{Size: 2}}) {
			break
		}
		if n := len(env.requests("/executions/search")); n != 1 {
			t.Errorf("%d search requests after break, want 1", n)
		}
	})

	t.Run("error yielded once", func(t *testing.T) {
		var errs, items int
		for e, err := range env.c.Executions.All(ctx, &kestra.ExecutionSearchOptions{Sort: []string{"nope:asc"}}) {
			if err != nil {
				errs++
				if e != nil || !errors.Is(err, kestra.ErrInvalid) {
					t.Errorf("yielded (%v, %v)", e, err)
				}
				continue
			}
			items++
		}
		if errs != 1 || items != 0 {
			t.Errorf("%d errors, %d items; want 1, 0", errs, items)
		}
	})
}

func TestExecutionsDownloadFile(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, nil, flowInputs)
	ctx := t.Context()
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(i*7 + i>>9)
	}
	path := filepath.Join(t.TempDir(), "data file.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		file     kestra.File
		filename string
	}{
		{"reader", kestra.File{Name: "upload.bin", Reader: bytes.NewReader(data)}, "upload.bin"},
		{"reader without name", kestra.File{Reader: io.MultiReader(bytes.NewReader(data))}, "doc"},
		{"path", kestra.FilePath(path), "data file.bin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := env.c.Executions.Create(ctx, execNS, "inputs", &kestra.ExecuteOptions{Inputs: map[string]any{
				"name": "n", "count": 1, "enabled": false, "config": "{}", "doc": tc.file,
			}})
			if err != nil {
				t.Fatal(err)
			}
			uri, _ := e.Inputs["doc"].(string)
			if !strings.HasSuffix(uri, "/inputs/doc/"+tc.filename) {
				t.Fatalf("doc = %q, want file name %q", uri, tc.filename)
			}
			rc, err := env.c.Executions.DownloadFile(ctx, e.ID, uri)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes, not the %d uploaded", len(got), len(data))
			}
		})
	}

	e, err := env.c.Executions.Create(ctx, execNS, "inputs", &kestra.ExecuteOptions{Inputs: map[string]any{
		"name": "n", "count": 1, "enabled": false, "config": "{}", "doc": kestra.File{Reader: strings.NewReader("x")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	uri, _ := e.Inputs["doc"].(string)
	if _, err := env.c.Executions.DownloadFile(ctx, e.ID, uri+".missing"); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
	if _, err := env.c.Executions.DownloadFile(ctx, "unknown", uri); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("unknown execution: %v, want ErrNotFound", err)
	}
	if _, err := env.c.Executions.DownloadFile(ctx, e.ID, "kestra:///elsewhere/file.txt"); !errors.Is(err, kestra.ErrInvalid) {
		t.Errorf("foreign path: %v, want ErrInvalid", err)
	}
}

// TestExecutionsCreateStreamsFiles shows that a FILE input is sent while it
// is read: the reader only produces its second half once the server has
// received the first.
func TestExecutionsCreateStreamsFiles(t *testing.T) {
	t.Parallel()
	const half = 1 << 20
	received := make(chan struct{})
	var once sync.Once
	var total atomic.Int64
	_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) {
		var n int64
		buf := make([]byte, 32<<10)
		for {
			m, err := r.Body.Read(buf)
			n += int64(m)
			if n > half {
				once.Do(func() { close(received) })
			}
			if err != nil {
				break
			}
		}
		total.Store(n)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"e1","namespace":"ns","flowId":"f","state":{"current":"CREATED"}}`)
	})
	r := &gatedReader{first: half + 1, gate: received, rest: half}
	e, err := c.Executions.Create(t.Context(), "ns", "f", &kestra.ExecuteOptions{Inputs: map[string]any{"doc": kestra.File{Name: "big", Reader: r}}})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "e1" || r.err != nil {
		t.Fatalf("id %q, reader: %v", e.ID, r.err)
	}
	if n := total.Load(); n < 2*half+1 {
		t.Errorf("server received %d bytes", n)
	}
}

// gatedReader produces first bytes, then waits for gate (the proof that
// they were sent), then rest bytes.
type gatedReader struct {
	first, rest int
	gate        <-chan struct{}
	err         error
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.first > 0 {
		n := min(len(p), g.first)
		clear(p[:n])
		g.first -= n
		return n, nil
	}
	if g.gate != nil {
		select {
		case <-g.gate:
			g.gate = nil
		case <-time.After(5 * time.Second):
			g.err = errors.New("the first half was not sent before the reader finished: the body is buffered")
			return 0, g.err
		}
	}
	if g.rest == 0 {
		return 0, io.EOF
	}
	n := min(len(p), g.rest)
	clear(p[:n])
	g.rest -= n
	return n, nil
}

// BenchmarkCreateFileInput256MiB uploads a 256 MiB FILE input, generated
// by a reader, to a server that discards it, and reports the peak heap of
// the process during the upload (goal: well under 16 MiB).
func BenchmarkCreateFileInput256MiB(b *testing.B) {
	const size = 256 << 20
	_, c := newRawEnv(b, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"e1","namespace":"ns","flowId":"f","state":{"current":"CREATED"}}`)
	})
	b.SetBytes(size)
	var peak uint64
	for b.Loop() {
		base, stop := heapSampler()
		_, err := c.Executions.Create(context.Background(), "ns", "f", &kestra.ExecuteOptions{Inputs: map[string]any{
			"doc": kestra.File{Name: "big.bin", Reader: &patternReader{left: size}},
			"id":  "x",
		}})
		p := stop()
		if err != nil {
			b.Fatal(err)
		}
		if p > base {
			peak = max(peak, p-base)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// heapSampler samples the live heap every millisecond until stop, which
// returns the highest sample; base is the heap when sampling started.
func heapSampler() (base uint64, stop func() uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base = ms.HeapAlloc
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return base, func() uint64 { close(done); return <-result }
}

// patternReader produces left bytes of a repeating pattern.
type patternReader struct{ left int }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	for i := range p[:n] {
		p[i] = byte(i)
	}
	r.left -= n
	return n, nil
}

const flowOneAtATime = `id: one_at_a_time
namespace: company.team
concurrency:
  limit: 1
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
`

func TestExecutionsUnqueue(t *testing.T) {
	t.Parallel()
	for _, v := range []kestratest.Version{kestratest.Version20, kestratest.Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			env := newExecEnv(t, nil, []kestratest.Option{kestratest.WithVersion(v)}, flowOneAtATime)
			ctx := t.Context()
			ex := env.c.Executions
			start := func(want kestra.StateType) string {
				t.Helper()
				e, err := ex.Create(ctx, execNS, "one_at_a_time", nil)
				if err != nil {
					t.Fatal(err)
				}
				env.waitFor(t, e.ID, inState(want))
				return e.ID
			}
			start(kestra.StatePaused)
			b := start(kestra.StateQueued)
			c := start(kestra.StateQueued)

			u, err := ex.Unqueue(ctx, b, "")
			if err != nil || u.ID != b {
				t.Fatalf("Unqueue = %v, %v", u, err)
			}
			env.waitFor(t, b, inState(kestra.StatePaused)) // running past the limit
			if u, err := ex.Unqueue(ctx, c, kestra.StateCancelled); err != nil || u.CurrentState() != kestra.StateCancelled {
				t.Fatalf("Unqueue to CANCELLED = %v, %v", u, err)
			}
			if _, err := ex.Unqueue(ctx, c, ""); !errors.Is(err, kestra.ErrConflict) && !errors.Is(err, kestra.ErrInvalid) {
				t.Errorf("Unqueue of an execution that is not queued: %v, want a refusal", err)
			}
			env.emu.ClearRequests()
			if _, err := ex.Unqueue(ctx, c, kestra.StateSuccess); err == nil {
				t.Error("Unqueue to SUCCESS: no error")
			}
			if _, err := ex.Unqueue(ctx, "", ""); err == nil {
				t.Error("Unqueue of an empty id: no error")
			}
			if reqs := env.requests("/executions"); len(reqs) != 0 {
				t.Errorf("bad arguments sent %d requests", len(reqs))
			}
		})
	}
}

// On Kestra 2.0 a Loop runs each iteration as an execution of kind LOOP
// whose parent is the looping execution: Kind and ParentID list them, and
// a search without Kind leaves them out. Kestra 1.3 has no parentId filter.
func TestExecutionsLoopIterations(t *testing.T) {
	t.Parallel()
	const loop = `id: looping
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.Loop
    values: ["a", "b", "c"]
    tasks:
      - id: say
        type: io.kestra.plugin.core.log.Log
        message: "{{ item.value }}"
`
	env := newExecEnv(t, nil, nil, loop)
	ctx := t.Context()
	e, err := env.c.Executions.Run(ctx, "company.team", "looping", nil, nil)
	if err != nil || e.CurrentState() != kestra.StateSuccess {
		t.Fatalf("Run = %v, %v", e, err)
	}
	page, err := env.c.Executions.List(ctx, &kestra.ExecutionSearchOptions{Kind: "LOOP", ParentID: e.ID})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]bool{}
	for _, it := range page.Items {
		full, err := env.c.Executions.Get(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.ParentID != e.ID || full.Kind != "LOOP" {
			t.Errorf("iteration %s: parent %q, kind %q", it.ID, full.ParentID, full.Kind)
		}
		values[full.LoopRun.Value] = true
	}
	if page.Total != 3 || len(values) != 3 || !values["a"] || !values["b"] || !values["c"] {
		t.Errorf("iterations: total %d, values %v; want a, b and c", page.Total, values)
	}
	all, err := env.c.Executions.List(ctx, &kestra.ExecutionSearchOptions{Namespace: "company.team"})
	if err != nil || all.Total != 1 || all.Items[0].ID != e.ID {
		t.Errorf("search without Kind = %v, %v; want the looping execution alone", all, err)
	}

	old := newExecEnv(t, nil, []kestratest.Option{kestratest.WithVersion(kestratest.Version13)})
	_, err = old.c.Executions.List(ctx, &kestra.ExecutionSearchOptions{ParentID: e.ID})
	var ae *kestra.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest {
		t.Errorf("ParentID on 1.3 = %v, want a 400", err)
	}
}
