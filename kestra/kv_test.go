package kestra_test

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// storeEnv is an emulator on a loopback port and a client of it.
type storeEnv struct{ *emuEnv }

// newStoreEnv starts an emulator with opts for the test's duration and a
// client of it with cfg (URL filled in).
func newStoreEnv(t *testing.T, cfg kestra.Config, opts ...kestratest.Option) *storeEnv {
	t.Helper()
	return &storeEnv{newEmuEnv(t, emuSetup{server: opts, cfg: cfg, client: []kestra.Option{kestra.WithRetry(kestra.NoRetry)}})}
}

// requestsTo returns the requests the emulator saw whose path contains
// part.
func (e *storeEnv) requestsTo(part string) []kestratest.Request {
	return e.requestsWhere(func(r kestratest.Request) bool { return strings.Contains(r.Path, part) })
}

type kvPoint struct {
	X int    `json:"x"`
	Y string `json:"y"`
}

func TestKVSetGetTypes(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	when := time.Date(2024, 3, 1, 12, 30, 45, 123000000, time.UTC)
	str := "pointed"
	tests := []struct {
		name     string
		value    any
		wantType kestra.KVType
		want     any // KVValue.Value
	}{
		{"string", "hello", kestra.KVString, "hello"},
		{"numeric-string", "123", kestra.KVString, "123"},
		{"bool-string", "true", kestra.KVString, "true"},
		{"json-string", `{"a":1}`, kestra.KVString, `{"a":1}`},
		{"date-string", "2024-03-01", kestra.KVString, "2024-03-01"},
		// Kestra reads a stored string that matches its duration pattern
		// as a DURATION (InternalKVStore#getValue, 1.3.19 and 2.0.0-SNAPSHOT).
		{"duration-string", "PT1H", kestra.KVDuration, time.Hour},
		{"day-string", "P1D", kestra.KVDuration, 24 * time.Hour},
		{"fraction-string", "PT1.5S", kestra.KVString, "PT1.5S"},
		{"empty-string", "", kestra.KVString, ""},
		{"html-string", "<a & b>", kestra.KVString, "<a & b>"},
		{"string-pointer", &str, kestra.KVString, "pointed"},
		{"int", 42, kestra.KVNumber, json.Number("42")},
		{"negative", int64(-7), kestra.KVNumber, json.Number("-7")},
		{"float", 3.5, kestra.KVNumber, json.Number("3.5")},
		{"json-number", json.Number("12345678901234567890"), kestra.KVNumber, json.Number("12345678901234567890")},
		{"true", true, kestra.KVBoolean, true},
		{"false", false, kestra.KVBoolean, false},
		{"map", map[string]any{"a": 1, "b": []string{"x"}}, kestra.KVJSON, map[string]any{"a": json.Number("1"), "b": []any{"x"}}},
		{"slice", []int{1, 2}, kestra.KVJSON, []any{json.Number("1"), json.Number("2")}},
		{"struct", kvPoint{X: 1, Y: "z"}, kestra.KVJSON, map[string]any{"x": json.Number("1"), "y": "z"}},
		{"raw-json", json.RawMessage(` {"k":[true]} `), kestra.KVJSON, map[string]any{"k": []any{true}}},
		{"datetime", when, kestra.KVDateTime, when},
		{"duration", 90*time.Minute + 15*time.Second, kestra.KVDuration, 90*time.Minute + 15*time.Second},
		{"zero-duration", time.Duration(0), kestra.KVDuration, time.Duration(0)},
		// A fraction or a sign falls outside the pattern: a STRING.
		{"fraction-duration", 90*time.Minute + 1500*time.Millisecond, kestra.KVString, "PT1H30M1.5S"},
		{"negative-duration", -5 * time.Minute, kestra.KVString, "-PT5M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			if err := env.c.KV.Set(ctx, "company.team", "k-"+tt.name, tt.value, nil); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err := env.c.KV.Get(ctx, "company.team", "k-"+tt.name)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got.Type != tt.wantType {
				t.Errorf("Type = %s, want %s", got.Type, tt.wantType)
			}
			if wt, ok := tt.want.(time.Time); ok {
				if gt, ok := got.Value.(time.Time); !ok || !gt.Equal(wt) {
					t.Errorf("Value = %#v, want %v", got.Value, wt)
				}
			} else if !reflect.DeepEqual(got.Value, tt.want) {
				t.Errorf("Value = %#v (%T), want %#v (%T)", got.Value, got.Value, tt.want, tt.want)
			}
			if got.Revision != 1 {
				t.Errorf("Revision = %d, want 1", got.Revision)
			}
			if got.Updated.IsZero() {
				t.Error("Updated is zero")
			}
		})
	}
}

func TestKVGetInto(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	ns := "company"
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for key, v := range map[string]any{
		"s": "123", "n": 42, "b": true, "j": kvPoint{X: 3, Y: "q"}, "t": when, "d": 2 * time.Second,
	} {
		if err := env.c.KV.Set(ctx, ns, key, v, nil); err != nil {
			t.Fatalf("Set %s: %v", key, err)
		}
	}
	var s string
	var n int
	var b bool
	var p kvPoint
	var tm time.Time
	var d time.Duration
	var anyV any
	for key, dst := range map[string]any{"s": &s, "n": &n, "b": &b, "j": &p, "t": &tm, "d": &d, "n2": &anyV} {
		if key == "n2" {
			key = "n"
		}
		if err := env.c.KV.GetInto(ctx, ns, key, dst); err != nil {
			t.Fatalf("GetInto %s: %v", key, err)
		}
	}
	if s != "123" || n != 42 || !b || p != (kvPoint{X: 3, Y: "q"}) || !tm.Equal(when) || d != 2*time.Second || anyV != json.Number("42") {
		t.Errorf("GetInto: s=%q n=%d b=%v p=%+v t=%v d=%v any=%#v", s, n, b, p, tm, d, anyV)
	}
	// A STRING does not decode into a number.
	if err := env.c.KV.GetInto(ctx, ns, "s", &n); err == nil {
		t.Error("GetInto(STRING \"123\", *int): no error")
	}
	if err := env.c.KV.GetInto(ctx, ns, "s", n); err == nil {
		t.Error("GetInto(non-pointer): no error")
	}
}

func TestKVRevisionAndDelete(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	for i := range 3 {
		if err := env.c.KV.Set(ctx, "ns", "counter", i, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := env.c.KV.Get(ctx, "ns", "counter")
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != 3 || got.Value != json.Number("2") {
		t.Errorf("after 3 writes: revision %d value %v, want 3 and 2", got.Revision, got.Value)
	}
	deleted, err := env.c.KV.Delete(ctx, "ns", "counter")
	if err != nil || !deleted {
		t.Fatalf("Delete existing = %v, %v; want true, nil", deleted, err)
	}
	deleted, err = env.c.KV.Delete(ctx, "ns", "counter")
	if err != nil || deleted {
		t.Fatalf("Delete missing = %v, %v; want false, nil", deleted, err)
	}
	_, err = env.c.KV.Get(ctx, "ns", "counter")
	if !errors.Is(err, kestra.ErrNotFound) || errors.Is(err, kestra.ErrGone) {
		t.Fatalf("Get deleted key: %v, want ErrNotFound", err)
	}
	var apiErr *kestra.APIError
	if !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "counter") {
		t.Errorf("Get deleted key: message %v does not name the key", err)
	}
}

func TestKVTTLExpiryAndHeaders(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	const ttl = 150 * time.Millisecond
	start := time.Now()
	err := env.c.KV.Set(ctx, "ns", "short-lived", "v", &kestra.KVSetOptions{TTL: ttl, Description: "a short life"})
	if err != nil {
		t.Fatal(err)
	}
	// The server stored the pair before Set returned, so it has expired by
	// setDone+ttl.
	setDone := time.Now()
	puts := env.requestsTo("/kv/short-lived")
	if len(puts) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(puts))
	}
	h := puts[0].Header
	if got := h.Get("ttl"); got != "PT0.15S" {
		t.Errorf("ttl header = %q, want PT0.15S", got)
	}
	if got := h.Get("description"); got != "a short life" {
		t.Errorf("description header = %q", got)
	}
	if got := h.Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type = %q, want text/plain", got)
	}
	if _, err := env.c.KV.Get(ctx, "ns", "short-lived"); err != nil && time.Since(start) < ttl {
		t.Fatalf("Get before expiry: %v", err)
	}
	var entries []*kestra.KVEntry
	for e, err := range env.c.KV.All(ctx, &kestra.KVSearchOptions{Namespace: "ns"}) {
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	if time.Since(start) < ttl {
		if len(entries) != 1 || entries[0].Description != "a short life" || entries[0].ExpirationDate.IsZero() {
			t.Errorf("All before expiry = %+v", entries)
		}
	}

	time.Sleep(time.Until(setDone.Add(ttl + 10*time.Millisecond)))
	_, err = env.c.KV.Get(ctx, "ns", "short-lived")
	if !errors.Is(err, kestra.ErrGone) {
		t.Fatalf("Get after expiry: %v, want ErrGone", err)
	}
	if errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("an expired key also matches ErrNotFound: %v", err)
	}
	// Kestra deleted the pair when it answered 410 (InternalKVStore, Kestra
	// 1.3.19 and 2.0.0-SNAPSHOT).
	var v string
	if err := env.c.KV.GetInto(ctx, "ns", "short-lived", &v); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("GetInto after the expired read: %v, want ErrNotFound", err)
	}

	// No TTL: no header.
	if err := env.c.KV.Set(ctx, "ns", "forever", 1, &kestra.KVSetOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range env.requestsTo("/kv/forever") {
		if _, ok := r.Header["Ttl"]; ok {
			t.Errorf("ttl header sent without TTL: %q", r.Header.Get("ttl"))
		}
		if _, ok := r.Header["Description"]; ok {
			t.Errorf("description header sent without description")
		}
	}
}

func TestKVRejectsBeforeRequest(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	var nilPtr *int
	for _, key := range []string{"", ".hidden", "-x", "_x", "a/b", "a b", "ünï", "a?b", "a%2Fb", "k\n"} {
		if err := env.c.KV.Set(ctx, "ns", key, "v", nil); err == nil {
			t.Errorf("Set(key %q): no error", key)
		}
		if _, err := env.c.KV.Get(ctx, "ns", key); err == nil {
			t.Errorf("Get(key %q): no error", key)
		}
		if _, err := env.c.KV.Delete(ctx, "ns", key); err == nil {
			t.Errorf("Delete(key %q): no error", key)
		}
	}
	for name, v := range map[string]any{
		"nil": nil, "nil-pointer": nilPtr, "nil-map": map[string]int(nil), "chan": make(chan int),
		"func": func() {}, "complex": 1 + 2i, "nan": math.NaN(), "inf": math.Inf(1),
		"bytes": []byte("x"), "bad-raw": json.RawMessage("{"), "bad-number": json.Number("1x"),
		"struct-with-chan": struct{ C chan int }{}, "map-bool-keys": map[bool]int{true: 1},
	} {
		if err := env.c.KV.Set(ctx, "ns", "key", v, nil); err == nil {
			t.Errorf("Set(%s value): no error", name)
		}
	}
	if err := env.c.KV.Set(ctx, "", "key", 1, nil); err == nil {
		t.Error("Set(empty namespace): no error")
	}
	if err := env.c.KV.Set(ctx, "ns", "key", 1, &kestra.KVSetOptions{TTL: -time.Second}); err == nil {
		t.Error("Set(negative TTL): no error")
	}
	if err := env.c.KV.Set(ctx, "ns", "key", 1, &kestra.KVSetOptions{Description: "two\nlines"}); err == nil {
		t.Error("Set(description with newline): no error")
	}
	if _, err := env.c.KV.Inherited(ctx, ""); err == nil {
		t.Error("Inherited(empty namespace): no error")
	}
	if n := len(env.emu.Requests()); n != 0 {
		t.Errorf("the server saw %d requests, want none", n)
	}
}

func TestKVAllPages(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	want := []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6"}
	for _, k := range want {
		if err := env.c.KV.Set(ctx, "app.prod", k, k, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"other", "k9"} {
		if err := env.c.KV.Set(ctx, "app", k, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	env.emu.ClearRequests()

	var got []string
	for e, err := range env.c.KV.All(ctx, &kestra.KVSearchOptions{Namespace: "app.prod", ListOptions: kestra.ListOptions{Size: 3}}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Namespace != "app.prod" {
			t.Errorf("entry of namespace %q", e.Namespace)
		}
		got = append(got, e.Key)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	reqs := env.requestsTo("/kv")
	if len(reqs) != 3 {
		t.Fatalf("%d list requests, want 3 (pages of 3 for 7 keys)", len(reqs))
	}
	for i, r := range reqs {
		q := r.RawQuery
		for _, part := range []string{"filters%5Bnamespace%5D%5BEQUALS%5D=app.prod", "size=3", "page=" + string(rune('1'+i))} {
			if !strings.Contains(q, part) {
				t.Errorf("request %d query %q lacks %q", i, q, part)
			}
		}
	}

	// break stops paging.
	env.emu.ClearRequests()
	n := 0
	for _, err := range env.c.KV.All(ctx, &kestra.KVSearchOptions{Namespace: "app.prod", ListOptions: kestra.ListOptions{Size: 3}}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 4 {
			break
		}
	}
	if reqs := env.requestsTo("/kv"); len(reqs) != 2 {
		t.Errorf("break after 4 entries: %d requests, want 2", len(reqs))
	}

	// Query and every namespace.
	got = nil
	for e, err := range env.c.KV.All(ctx, &kestra.KVSearchOptions{Query: "k9"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Namespace+"/"+e.Key)
	}
	if !reflect.DeepEqual(got, []string{"app/k9"}) {
		t.Errorf("Query k9 = %v", got)
	}
	count := 0
	for _, err := range env.c.KV.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != 9 {
		t.Errorf("All(nil) listed %d pairs, want 9", count)
	}
}

func TestKVAllError(t *testing.T) {
	t.Parallel()
	// The client holds the default user, whom this server does not know.
	env := newStoreEnv(t, kestra.Config{Username: kestratest.DefaultUsername, Password: kestratest.DefaultPassword}, kestratest.WithBasicAuth("admin@example.com", "Secret123"))
	calls := 0
	for e, err := range env.c.KV.All(t.Context(), nil) {
		calls++
		if e != nil || !errors.Is(err, kestra.ErrUnauthorized) {
			t.Errorf("yield(%v, %v), want nil and ErrUnauthorized", e, err)
		}
	}
	if calls != 1 {
		t.Errorf("%d yields, want 1", calls)
	}
}

func TestKVInherited(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	for _, ns := range []string{"a", "a.b", "a.b.c", "x"} {
		if err := env.c.KV.Set(ctx, ns, "key-"+strings.ReplaceAll(ns, ".", ""), 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := env.c.KV.Inherited(ctx, "a.b.c")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Namespace+"/"+e.Key)
	}
	if !reflect.DeepEqual(got, []string{"a/key-a", "a.b/key-ab"}) {
		t.Errorf("Inherited(a.b.c) = %v", got)
	}
}

// TestKVBody checks the exact text Set sends, since Kestra types the value
// from it.
func TestKVBody(t *testing.T) {
	t.Parallel()
	bodies := make(chan string, 16)
	_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
	}, kestra.WithRetry(kestra.DefaultRetryPolicy))
	for _, tt := range []struct {
		v    any
		want string
	}{
		{"123", `"123"`},
		{"a<b>&", `"a<b>&"`},
		{123, `123`},
		{uint8(7), `7`},
		{1.25, `1.25`},
		{false, `false`},
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600)), `2024-01-02T03:04:05+01:00`},
		{90 * time.Second, `"PT1M30S"`}, // an Ion string for certain, not a symbol
		{map[string]int{"a": 1}, `{"a":1}`},
		{json.RawMessage(" [1] "), `[1]`},
	} {
		if err := c.KV.Set(t.Context(), "ns", "k", tt.v, nil); err != nil {
			t.Fatalf("Set(%#v): %v", tt.v, err)
		}
		if got := <-bodies; got != tt.want {
			t.Errorf("Set(%#v) sent %q, want %q", tt.v, got, tt.want)
		}
	}
}
