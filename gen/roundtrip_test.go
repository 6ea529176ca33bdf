package gen_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kestra-go/sdk/gen"
)

// The payloads in testdata/ are what a Kestra server sends, written from
// the documented server behaviour (JSON with non_null inclusion, ISO-8601
// instants as Java prints them, ISO durations). Each must decode into its
// generated type and encode back without losing anything.
//
// What counts as the same document, original against re-encoded:
//
//   - An empty value (null, false, 0, "", [] or {}, and a map whose values
//     are all empty) is the same as an absent key. The generated models
//     hold optional fields as plain values tagged omitempty/omitzero
//     (oapi-codegen.yaml: prefer-skip-optional-pointer), so Go cannot tell
//     "absent" from "zero": a zero optional field is dropped on encoding,
//     and a required field the payload lacked (the follow start frame has
//     only an id) is written as its zero value, which for a required
//     date-time is Go's zero instant, 0001-01-01T00:00:00Z: empty too.
//     Kestra omits nulls, so null and absent are already the same on the
//     wire. Payloads therefore carry non-zero values for the fields they
//     mean to prove.
//   - Two strings that are both RFC 3339 date-times are the same when they
//     name the same instant: Java writes milliseconds in groups of three
//     digits (".120Z") where Go writes ".12Z".
//   - Numbers are compared as written (json.Number), so a value that lost
//     precision on the way through float64 would show.
//
// Everything else must be equal: a field the model lacks, or a value it
// cannot hold, fails the test.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		into func() any
	}{
		{"flow_with_source.json", func() any { return new(gen.FlowWithSource) }},
		{"flow.json", func() any { return new(gen.FlowWithSource) }}, // GET without ?source=true
		{"flow.json", func() any { return new(gen.Flow) }},
		{"paged_flows.json", func() any { return new(gen.PagedResultsFlow) }},
		{"execution.json", func() any { return new(gen.Execution) }},
		{"execution_running.json", func() any { return new(gen.Execution) }},
		{"follow_start.json", func() any { return new(gen.Execution) }},
		{"api_execution.json", func() any { return new(gen.APIExecution) }},
		{"paged_executions.json", func() any { return new(gen.PagedResultsAPILightExecution) }},
		{"log_entries.json", func() any { return new([]gen.LogEntry) }},
		{"kv_details.json", func() any { return new([]gen.KVControllerKvDetail) }},
		{"json_error.json", func() any { return new(gen.JSONError) }},
	} {
		v := tc.into()
		t.Run(tc.file+"/"+reflect.TypeOf(v).Elem().String(), func(t *testing.T) {
			t.Parallel()
			orig := readPayload(t, tc.file)
			if err := json.Unmarshal(orig, v); err != nil {
				t.Fatalf("decode into %T: %v", v, err)
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("encode %T: %v", v, err)
			}
			if diff := cmp.Diff(canonical(t, orig), canonical(t, again)); diff != "" {
				t.Errorf("%s does not survive %T (-sent by Kestra +re-encoded):\n%s", tc.file, v, diff)
			}
		})
	}
}

func readPayload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// canonical decodes JSON generically and applies the equivalences of
// TestRoundTrip: empty values dropped from objects, instants in UTC.
func canonical(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return canon(v)
}

func canon(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e = canon(e); !isEmpty(e) {
				out[k] = e
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canon(e)
		}
		return out
	case string:
		if ts, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return ts.UTC().Format(time.RFC3339Nano)
		}
	}
	return v
}

// goZeroTime is time.Time{} as canon writes it.
var goZeroTime = time.Time{}.Format(time.RFC3339Nano)

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == "" || x == goZeroTime
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// The equivalences are no blanket: a lost value, a changed number, another
// instant or a dropped array element still differ.
func TestCanonicalKeepsDifferences(t *testing.T) {
	t.Parallel()
	same := [][2]string{
		{`{"a":1,"b":null,"c":[],"d":{},"e":false,"f":"","g":0,"h":{"x":null}}`, `{"a":1}`},
		{`{"t":"2026-07-01T09:30:12.120Z"}`, `{"t":"2026-07-01T09:30:12.12Z"}`},
		{`{"t":"2026-07-01T11:30:12+02:00"}`, `{"t":"2026-07-01T09:30:12Z"}`},
		{`{"m":{"t":"0001-01-01T00:00:00Z"}}`, `{}`},
	}
	for _, p := range same {
		if diff := cmp.Diff(canonical(t, []byte(p[0])), canonical(t, []byte(p[1]))); diff != "" {
			t.Errorf("%s and %s differ:\n%s", p[0], p[1], diff)
		}
	}
	different := [][2]string{
		{`{"a":1}`, `{}`},
		{`{"a":"x"}`, `{"a":"y"}`},
		{`{"a":true}`, `{}`},
		{`{"a":9007199254740993}`, `{"a":9007199254740992}`},
		{`{"a":1}`, `{"a":"1"}`},
		{`{"a":[0,1]}`, `{"a":[1]}`},
		{`{"a":[null]}`, `{"a":[]}`},
		{`{"t":"2026-07-01T09:30:12.120Z"}`, `{"t":"2026-07-01T09:30:12.121Z"}`},
		{`{"a":{"b":"x"}}`, `{"a":{}}`},
	}
	for _, p := range different {
		if cmp.Equal(canonical(t, []byte(p[0])), canonical(t, []byte(p[1]))) {
			t.Errorf("%s and %s compare equal", p[0], p[1])
		}
	}
}

// Decoded values land in the typed fields that callers read.
func TestDecodedFields(t *testing.T) {
	t.Parallel()
	decode := func(t *testing.T, name string, v any) {
		t.Helper()
		if err := json.Unmarshal(readPayload(t, name), v); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("running execution", func(t *testing.T) {
		t.Parallel()
		var e gen.Execution
		decode(t, "execution_running.json", &e)
		if e.State.Current != gen.StateTypeRUNNING || !e.State.EndDate.IsZero() || e.State.Duration != "" {
			t.Errorf("state = %+v, want RUNNING without endDate and duration", e.State)
		}
		if got := e.State.StartDate; !got.Equal(time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("startDate = %v", got)
		}
		if len(e.TaskRunList) != 1 || e.TaskRunList[0].Attempts[0].State.Current != gen.StateTypeRUNNING {
			t.Errorf("task runs = %+v", e.TaskRunList)
		}
	})

	t.Run("execution", func(t *testing.T) {
		t.Parallel()
		var e gen.Execution
		decode(t, "execution.json", &e)
		if e.TenantID != "main" || e.Metadata.AttemptNumber != 1 || e.Kind != gen.ExecutionKindNORMAL {
			t.Errorf("tenantId %q, attempt %d, kind %q", e.TenantID, e.Metadata.AttemptNumber, e.Kind)
		}
		if got := e.State.EndDate.Sub(e.State.StartDate); got != 1270*time.Millisecond {
			t.Errorf("endDate - startDate = %v, want 1.27s", got)
		}
		out := e.TaskRunList[1].Outputs
		for k, want := range map[string]any{"value": "42", "count": json.Number("42"), "ratio": json.Number("0.75"), "ok": true, "empty": ""} {
			if out[k] != want {
				t.Errorf("outputs[%q] = %#v, want %#v", k, out[k], want)
			}
		}
		in := e.Inputs
		if in["user"] != "Ada" || in["count"] != json.Number("3") || in["dryRun"] != false ||
			!strings.HasPrefix(in["report"].(string), "kestra:///company/team/hello-world/executions/") {
			t.Errorf("inputs = %v", in)
		}
		if opts, ok := in["options"].(map[string]any); !ok || opts["mode"] != "fast" {
			t.Errorf("inputs.options = %#v, want a JSON object", in["options"])
		}
		if len(e.Labels) != 3 || e.Labels[1] != (gen.Label{Key: "team", Value: "data"}) {
			t.Errorf("labels = %v", e.Labels)
		}
	})

	t.Run("follow start", func(t *testing.T) {
		t.Parallel()
		var e gen.Execution
		decode(t, "follow_start.json", &e)
		if e.ID != "5xkxyK0wQExWe5K5fU1tSc" || e.Deleted || e.State.Current != "" || len(e.Labels) != 0 {
			t.Errorf("start frame = %+v", e)
		}
	})

	t.Run("flow", func(t *testing.T) {
		t.Parallel()
		var f gen.FlowWithSource
		decode(t, "flow_with_source.json", &f)
		if f.TenantID != "main" || f.Revision != 3 || f.Draft || !strings.HasPrefix(f.Source, "id: hello-world\n") {
			t.Errorf("flow = tenantId %q, revision %d, draft %v, source %q", f.TenantID, f.Revision, f.Draft, f.Source)
		}
		if len(f.Labels) != 2 || f.Labels[0] != (gen.Label{Key: "team", Value: "data"}) {
			t.Errorf("labels = %v", f.Labels)
		}
		if len(f.Tasks) != 2 || f.Tasks[0].Type != "io.kestra.plugin.core.log.Log" {
			t.Fatalf("tasks = %+v", f.Tasks)
		}
		// Plugin properties: the task's own, and Property values as written.
		if got := f.Tasks[0].AdditionalProperties["message"]; got != "{{ vars.greeting }} {{ inputs.user }}" {
			t.Errorf("tasks[0].message = %#v", got)
		}
		if got := f.Tasks[0].Timeout; got != "PT10S" {
			t.Errorf("tasks[0].timeout = %#v, want PT10S", got)
		}
		if got := f.Triggers[0].AdditionalProperties["cron"]; got != "0 9 * * *" {
			t.Errorf("triggers[0].cron = %#v", got)
		}
		if f.Inputs[0].Defaults != "world" || f.Inputs[1].Defaults != 3.0 || f.Inputs[2].Defaults != nil {
			t.Errorf("input defaults = %#v, %#v, %#v", f.Inputs[0].Defaults, f.Inputs[1].Defaults, f.Inputs[2].Defaults)
		}
		if f.Variables["retries"] != 2.0 {
			t.Errorf("variables = %v", f.Variables)
		}
		var g gen.FlowWithSource
		decode(t, "flow.json", &g)
		if g.Source != "" || g.ID != "hello-world" {
			t.Errorf("flow without source: id %q, source %q", g.ID, g.Source)
		}
	})

	t.Run("kv", func(t *testing.T) {
		t.Parallel()
		var kv []gen.KVControllerKvDetail
		decode(t, "kv_details.json", &kv)
		want := []any{"hello", 42.5, true}
		for i, w := range want {
			if kv[i].Value != w {
				t.Errorf("kv[%d].value = %#v, want %#v", i, kv[i].Value, w)
			}
		}
		if obj, ok := kv[3].Value.(map[string]any); !ok || obj["host"] != "db.internal" {
			t.Errorf("kv[3].value = %#v, want an object", kv[3].Value)
		}
	})

	t.Run("error", func(t *testing.T) {
		t.Parallel()
		var e gen.JSONError
		decode(t, "json_error.json", &e)
		errs := e.UnderscoreEmbedded.Errors
		if !strings.HasPrefix(e.Message, "Invalid entity: ") || len(errs) != 2 || errs[0].Path != "flow.id" ||
			e.UnderscoreLinks.Self.Href != "/api/v1/main/flows" {
			t.Errorf("error = %+v", e)
		}
	})
}
