package emulator

import (
	"strings"
	"testing"
	"time"
)

func TestKV(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	put := func(key, body string, h header) response {
		if h == nil {
			h = header{}
		}
		h["Content-Type"] = "text/plain"
		return ts.do("PUT", "/api/v1/main/namespaces/company.team/kv/"+key, strings.NewReader(body), h)
	}
	tests := []struct {
		key, body, typ string
		value          any
	}{
		{"str", `"hello"`, "STRING", "hello"},
		{"raw", `hello world`, "STRING", "hello world"},
		{"num", `42`, "NUMBER", 42.0},
		{"float", `1.5`, "NUMBER", 1.5},
		{"bool", `true`, "BOOLEAN", true},
		{"obj", `{"a":1}`, "JSON", map[string]any{"a": 1.0}},
		{"date", `2024-01-02`, "DATE", "2024-01-02"},
		{"datetime", `2024-01-02T03:04:05Z`, "DATETIME", "2024-01-02T03:04:05Z"},
		{"duration", `PT5M`, "DURATION", "PT5M"},
		{"fraction", `PT1.5S`, "STRING", "PT1.5S"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if r := put(tt.key, tt.body, nil); r.status != 200 || len(r.body) != 0 {
				t.Fatalf("put: %d %s", r.status, r.body)
			}
			m := ts.get("/api/v1/main/namespaces/company.team/kv/" + tt.key).json(t)
			if m["type"] != tt.typ || m["revision"] != 1.0 {
				t.Errorf("got %v", m)
			}
			if mv, ok := tt.value.(map[string]any); ok {
				if m["value"].(map[string]any)["a"] != mv["a"] {
					t.Errorf("value = %v", m["value"])
				}
			} else if m["value"] != tt.value {
				t.Errorf("value = %v (%T), want %v", m["value"], m["value"], tt.value)
			}
			if _, ok := m["updated"].(string); !ok {
				t.Error("no updated")
			}
		})
	}
	put("str", `"again"`, header{"description": "d"})
	if m := ts.get("/api/v1/main/namespaces/company.team/kv/str").json(t); m["revision"] != 2.0 {
		t.Errorf("revision = %v", m["revision"])
	}
	assertJSONError(t, ts.get("/api/v1/main/namespaces/company.team/kv/missing"), 404,
		"Not Found: No value found for key 'missing' in namespace 'company.team'")
	assertJSONError(t, put("-bad", "1", nil), 422, "Illegal argument: ")
	assertJSONError(t, put("ttl", "1", header{"ttl": "forever"}), 500, "Internal server error: ")

	put("short", "1", header{"ttl": "PT0.01S"})
	time.Sleep(20 * time.Millisecond)
	assertJSONError(t, ts.get("/api/v1/main/namespaces/company.team/kv/short"), 410, "Resource has expired: ")
	// The 410 deleted it (InternalKVStore#getRawValue, Kestra 1.3.19 and
	// 2.0.0-SNAPSHOT): the next read finds nothing.
	assertJSONError(t, ts.get("/api/v1/main/namespaces/company.team/kv/short"), 404,
		"Not Found: No value found for key 'short' in namespace 'company.team'")

	list := ts.get("/api/v1/main/kv?filters[namespace][EQUALS]=company.team").json(t)
	if list["total"] != float64(len(tests)) {
		t.Errorf("list total = %v", list["total"])
	}
	first := list["results"].([]any)[0].(map[string]any)
	for _, k := range []string{"namespace", "key", "revision", "creationDate", "updateDate"} {
		if _, ok := first[k]; !ok {
			t.Errorf("KVEntry without %s: %v", k, first)
		}
	}

	r := ts.do("DELETE", "/api/v1/main/namespaces/company.team/kv/num", nil, nil)
	if r.status != 200 || string(r.body) != "true" {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	r = ts.do("DELETE", "/api/v1/main/namespaces/company.team/kv/num", nil, nil)
	if string(r.body) != "false" {
		t.Errorf("delete again: %s", r.body)
	}
	r = ts.do("DELETE", "/api/v1/main/namespaces/company.team/kv", strings.NewReader(`{"keys":["bool","nope"]}`), header{"Content-Type": "application/json"})
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"keys":["bool"]}` {
		t.Errorf("bulk delete: %d %s", r.status, r.body)
	}

	ts.do("PUT", "/api/v1/main/namespaces/company/kv/parent", strings.NewReader("1"), header{"Content-Type": "text/plain"})
	inh := ts.get("/api/v1/main/namespaces/company.team/kv/inheritance").jsonArray(t)
	if len(inh) != 1 || inh[0].(map[string]any)["key"] != "parent" {
		t.Errorf("inheritance = %v", inh)
	}
	// The 2.0 API has no per-namespace list; 1.3 does.
	if r := ts.get("/api/v1/main/namespaces/company/kv"); r.status == 200 {
		t.Errorf("2.0 namespace list exists")
	}
	v13 := newTestServer(t, WithVersion(Version13))
	v13.do("PUT", "/api/v1/main/namespaces/ns/kv/k", strings.NewReader("1"), header{"Content-Type": "text/plain"})
	if l := v13.get("/api/v1/main/namespaces/ns/kv").jsonArray(t); len(l) != 1 {
		t.Errorf("1.3 namespace list = %v", l)
	}
}

// Kestra decides a DURATION when it reads a value, not when it stores it:
// a stored string matching InternalKVStore's DURATION_PATTERN (Kestra
// 1.3.19 and 2.0.0-SNAPSHOT: upper case, no sign, no fraction) is parsed
// with Duration.parse and written back as Duration#toString; anything
// else stays a STRING.
func TestKVDurationTypedAtRead(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tests := []struct {
		body, typ, value string
	}{
		{`"P1D"`, "DURATION", "PT24H"},
		{`P1D`, "DURATION", "PT24H"},
		{`"PT1H30M"`, "DURATION", "PT1H30M"},
		{`PT0S`, "DURATION", "PT0S"},
		{`"P1DT2H"`, "DURATION", "PT26H"},
		{`"PT1.5S"`, "STRING", "PT1.5S"},
		{`PT1.5S`, "STRING", "PT1.5S"},
		{`"-PT5M"`, "STRING", "-PT5M"},
		{`"PT-5M"`, "STRING", "PT-5M"},
		{`"pt5m"`, "STRING", "pt5m"},
		{`"P"`, "STRING", "P"},
		{`"PT"`, "STRING", "PT"},
		{`"P1DT"`, "STRING", "P1DT"},
	}
	for i, tt := range tests {
		key := "d" + string(rune('a'+i))
		r := ts.do("PUT", "/api/v1/main/namespaces/company.team/kv/"+key, strings.NewReader(tt.body), header{"Content-Type": "text/plain"})
		if r.status != 200 {
			t.Fatalf("put %s: %d %s", tt.body, r.status, r.body)
		}
		m := ts.get("/api/v1/main/namespaces/company.team/kv/" + key).json(t)
		if m["type"] != tt.typ || m["value"] != tt.value {
			t.Errorf("%s reads back as %v %v, want %s %s", tt.body, m["type"], m["value"], tt.typ, tt.value)
		}
	}
	// Matches the pattern, fails Duration.parse: the read fails.
	ts.do("PUT", "/api/v1/main/namespaces/company.team/kv/bad", strings.NewReader(`"PD"`), header{"Content-Type": "text/plain"})
	assertJSONError(t, ts.get("/api/v1/main/namespaces/company.team/kv/bad"), 500, "Internal server error: ")
}
