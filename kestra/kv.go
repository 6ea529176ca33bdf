package kestra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kestra-go/sdk/gen"
)

// KVService reads and writes the key-value store of namespaces.
//
// Kestra types a value twice. When it stores one, it parses the text
// [KVService.Set] sends (as Ion, a superset of JSON), so the Go value
// chooses STRING, NUMBER, BOOLEAN, DATETIME or JSON. When it reads one
// back, a stored string that matches its duration pattern (P, then
// digits with D, then T and digits with H, M, S: upper case, no sign, no
// fraction) becomes a DURATION, written back as java.time.Duration
// prints it. So what [KVService.Get] returns is:
//
//	Go value given to Set                stored    read back (KVValue.Type, Value)
//	string "hello", "123", "true"        STRING    STRING, the same string
//	string "P1D", "PT1H30M", "PT0S"      STRING    DURATION, 24h / 1h30m / 0 ("PT24H", "PT1H30M", "PT0S")
//	string "PT1.5S", "-PT5M", "pt5m"     STRING    STRING, the same string
//	bool                                 BOOLEAN   BOOLEAN, bool
//	int*, uint*, float*, json.Number     NUMBER    NUMBER, json.Number
//	time.Time                            DATETIME  DATETIME, time.Time (UTC)
//	time.Duration, whole seconds, >= 0   STRING    DURATION, the same time.Duration
//	time.Duration with a fraction of a   STRING    STRING, its ISO-8601 text ("PT1.5S", "-PT5M");
//	  second, or negative                          GetInto a *time.Duration still reads it
//	map, slice, struct, json.RawMessage  JSON      JSON, map[string]any or []any
//
// So a string never round-trips when it looks like a duration, and a
// time.Duration round-trips as a DURATION only in whole, non-negative
// seconds; [KVService.GetInto] with a *time.Duration reads both forms.
//
// Named types follow their kind; pointers are followed; other values
// (structs, json.Marshaler implementations) are sent as json.Marshal
// writes them and typed from that JSON. nil, []byte, channels, functions, complex numbers
// and NaN or infinite floats are refused before any request. A DATE value
// (set by a flow) reads back as a time.Time at midnight UTC.
//
// Keys match [a-zA-Z0-9][a-zA-Z0-9._-]*; other keys are refused before any
// request. The first read of a pair whose TTL has passed answers
// [ErrGone] and makes Kestra delete it; later reads answer [ErrNotFound].
type KVService service

// KVType is the type Kestra gives a stored value.
type KVType = gen.KVType

// The types of KV values.
const (
	KVString   KVType = gen.KVTypeSTRING
	KVNumber   KVType = gen.KVTypeNUMBER
	KVBoolean  KVType = gen.KVTypeBOOLEAN
	KVDateTime KVType = gen.KVTypeDATETIME
	KVDate     KVType = gen.KVTypeDATE
	KVDuration KVType = gen.KVTypeDURATION
	KVJSON     KVType = gen.KVTypeJSON
)

// KVEntry describes a stored pair without its value: namespace, key,
// description, revision and dates. ExpirationDate is zero for a pair
// without TTL.
type KVEntry = gen.KVEntry

// KVValue is a stored value with its type, as [KVService.Get] returns it.
type KVValue struct {
	// Type is the type Kestra gave the value.
	Type KVType
	// Value is the value, as a Go type chosen by Type:
	//
	//	STRING    string
	//	NUMBER    json.Number (exact; call Int64 or Float64)
	//	BOOLEAN   bool
	//	DATETIME  time.Time
	//	DATE      time.Time, midnight UTC
	//	DURATION  time.Duration
	//	JSON      map[string]any or []any, numbers as json.Number
	//
	// A value that does not parse as its type, or a type this package does
	// not know, is decoded from Raw as JSON.
	Value any
	// Raw is the value as Kestra sent it, in JSON.
	Raw json.RawMessage
	// Revision counts the writes of the key, from 1.
	Revision int
	// Updated is when the value was last written.
	Updated time.Time
}

// KVSetOptions are the optional settings of [KVService.Set].
type KVSetOptions struct {
	// TTL makes the pair expire after this long (sent as the ttl header, an
	// ISO-8601 duration). Zero: the pair does not expire.
	TTL time.Duration
	// Description is shown next to the pair in Kestra. It travels in an
	// HTTP header, so it must not contain control characters (newlines).
	Description string
}

// KVSearchOptions select the pairs [KVService.All] lists.
type KVSearchOptions struct {
	// Namespace keeps the pairs of this namespace only (not its children).
	// Empty: every namespace of the tenant.
	Namespace string
	// Query keeps the pairs whose key contains this text.
	Query string
	// ListOptions.Size is how many pairs each request fetches (zero:
	// [DefaultPageSize]); Page the 1-based page All starts from.
	ListOptions
}

// kvText sets *p to the value of kv (the pair key), a JSON string that
// parse reads as a what.
func kvText[T any](p *T, kv *KVValue, key, what string, parse func(string) (T, error)) error {
	var str string
	if err := json.Unmarshal(kv.Raw, &str); err != nil {
		return fmt.Errorf("kestra: KV %s: a %s value is not a %s", key, kv.Type, what)
	}
	v, err := parse(str)
	if err != nil {
		return fmt.Errorf("kestra: KV %s: %w", key, err)
	}
	*p = v
	return nil
}

var kvKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)

// nonEmptyNamespace refuses an empty namespace before any request.
func nonEmptyNamespace(namespace string) error {
	if namespace == "" {
		return errEmptyNamespace
	}
	return nil
}

// checkKV validates a namespace and key before any request.
func checkKV(namespace, key string) error {
	if err := nonEmptyNamespace(namespace); err != nil {
		return err
	}
	if !kvKeyPattern.MatchString(key) {
		return fmt.Errorf("kestra: invalid KV key %q: a key starts with a letter or digit and holds only letters, digits, '.', '_' and '-'", key)
	}
	return nil
}

// Set stores value under key in namespace, replacing any previous value.
// opts may be nil. Kestra types the value as [KVService] describes: a
// string that looks like an ISO-8601 duration reads back as a DURATION,
// and a time.Duration with a fraction of a second or a sign reads back as
// a STRING.
//
// Kestra API: PUT /api/v1/{tenant}/namespaces/{namespace}/kv/{key}
func (s *KVService) Set(ctx context.Context, namespace, key string, value any, opts *KVSetOptions) error {
	if err := checkKV(namespace, key); err != nil {
		return err
	}
	body, err := encodeKV(value)
	if err != nil {
		return fmt.Errorf("kestra: KV %s: %w", key, err)
	}
	h := http.Header{}
	if opts != nil {
		if opts.TTL < 0 {
			return fmt.Errorf("kestra: KV %s: negative TTL %v", key, opts.TTL)
		}
		if opts.TTL > 0 {
			h.Set("ttl", FormatISODuration(opts.TTL))
		}
		if opts.Description != "" {
			if strings.ContainsFunc(opts.Description, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				return fmt.Errorf("kestra: KV %s: description contains control characters", key)
			}
			h.Set("description", opts.Description)
		}
	}
	return s.c.run(ctx, &call{
		method: http.MethodPut, path: "namespaces/{namespace}/kv/{key}", args: []string{namespace, key}, header: h,
		body: bytes.NewReader(body), contentType: "text/plain",
	})
}

// encodeKV writes value as the text Kestra parses to type it.
func encodeKV(value any) ([]byte, error) {
	rv := reflect.ValueOf(value)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, errors.New("nil value")
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil, errors.New("nil value")
	}
	v := rv.Interface()
	switch x := v.(type) {
	case time.Time:
		return []byte(x.Format(time.RFC3339Nano)), nil
	case time.Duration:
		// A JSON string: stored as a string, which Kestra reads back as
		// a DURATION when it matches its duration pattern.
		return json.Marshal(FormatISODuration(x))
	case json.RawMessage:
		t := bytes.TrimSpace(x)
		if len(t) == 0 || !json.Valid(t) {
			return nil, errors.New("json.RawMessage is not valid JSON")
		}
		if string(t) == "null" {
			return nil, errors.New("nil value")
		}
		return t, nil
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return nil, fmt.Errorf("invalid json.Number %q", string(x))
		}
		return []byte(x), nil
	case []byte:
		return nil, errors.New("unsupported value type []byte: use a string or a json.RawMessage")
	}
	switch rv.Kind() {
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer, reflect.Interface:
		return nil, fmt.Errorf("unsupported value type %T", value)
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("unsupported number %v", f)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("unsupported value: %w", err)
	}
	b := bytes.TrimSpace(buf.Bytes())
	if string(b) == "null" {
		return nil, errors.New("nil value")
	}
	return b, nil
}

// kvDetail is Kestra's KvDetail with the value kept raw.
type kvDetail struct {
	Type     KVType          `json:"type"`
	Value    json.RawMessage `json:"value"`
	Revision int             `json:"revision"`
	Updated  time.Time       `json:"updated"`
}

// Get returns the value of key in namespace, typed as Kestra types it
// when it reads it (see [KVService]: a stored string that looks like a
// duration comes back as a DURATION). A missing key answers
// [ErrNotFound]; the first read of an expired one answers [ErrGone] and
// deletes it, so the next one answers [ErrNotFound].
//
// Kestra API: GET /api/v1/{tenant}/namespaces/{namespace}/kv/{key}
func (s *KVService) Get(ctx context.Context, namespace, key string) (*KVValue, error) {
	if err := checkKV(namespace, key); err != nil {
		return nil, err
	}
	var d kvDetail
	if err := s.c.run(ctx, &call{method: http.MethodGet, path: "namespaces/{namespace}/kv/{key}", args: []string{namespace, key}, out: &d}); err != nil {
		return nil, err
	}
	return &KVValue{Type: d.Type, Value: kvTyped(d.Type, d.Value), Raw: d.Value, Revision: d.Revision, Updated: d.Updated}, nil
}

// kvTyped converts a raw value to the Go type of its Kestra type.
func kvTyped(t KVType, raw json.RawMessage) any {
	var s string
	switch t {
	case KVBoolean:
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			return b
		}
	case KVNumber:
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n
		}
	case KVString:
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case KVDateTime, KVDate:
		if json.Unmarshal(raw, &s) == nil {
			if tm, err := parseKVTime(s); err == nil {
				return tm
			}
		}
	case KVDuration:
		if json.Unmarshal(raw, &s) == nil {
			if d, err := ParseISODuration(s); err == nil {
				return d
			}
		}
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// parseKVTime reads a DATETIME (RFC 3339, or local date-time read as UTC)
// or a DATE.
func parseKVTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date-time %q", s)
}

// GetInto reads the value of key in namespace into v, a non-nil pointer:
// a *time.Time takes a DATETIME or DATE, a *time.Duration a DURATION (or
// an ISO-8601 string), a *any the value [KVValue.Value] would hold, and
// anything else is decoded from the JSON value with encoding/json. Errors
// are those of [KVService.Get].
//
// Kestra API: GET /api/v1/{tenant}/namespaces/{namespace}/kv/{key}
func (s *KVService) GetInto(ctx context.Context, namespace, key string, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("kestra: GetInto needs a non-nil pointer, not %T", v)
	}
	kv, err := s.Get(ctx, namespace, key)
	if err != nil {
		return err
	}
	switch p := v.(type) {
	case *any:
		*p = kv.Value
		return nil
	case *time.Time:
		return kvText(p, kv, key, "time", parseKVTime)
	case *time.Duration:
		return kvText(p, kv, key, "duration", ParseISODuration)
	}
	if err := json.Unmarshal(kv.Raw, v); err != nil {
		return fmt.Errorf("kestra: KV %s: decode %s value: %w", key, kv.Type, err)
	}
	return nil
}

// Delete removes key from namespace. It reports whether the key existed;
// after a retry (the first answer was lost) a key found gone is reported
// deleted, the first attempt having deleted it.
//
// Kestra API: DELETE /api/v1/{tenant}/namespaces/{namespace}/kv/{key}
func (s *KVService) Delete(ctx context.Context, namespace, key string) (bool, error) {
	if err := checkKV(namespace, key); err != nil {
		return false, err
	}
	var deleted bool
	cl := &call{method: http.MethodDelete, path: "namespaces/{namespace}/kv/{key}", args: []string{namespace, key}, out: &deleted, goneOK: true}
	if err := s.c.run(ctx, cl); err != nil {
		return false, err
	}
	return deleted || cl.retried, nil
}

// All lists the pairs opts selects (nil: every pair of the tenant), without
// their values, sorted by namespace and key. Pages are fetched as the loop
// needs them; an error is yielded once and ends the iteration. Expired
// pairs are not listed.
//
// Kestra API: GET /api/v1/{tenant}/kv
func (s *KVService) All(ctx context.Context, opts *KVSearchOptions) iter.Seq2[*KVEntry, error] {
	return all(ctx, opts, s.list)
}

func (o *KVSearchOptions) own() {}

// list returns one page of the pairs o selects.
func (s *KVService) list(ctx context.Context, o *KVSearchOptions) (*Page[KVEntry], error) {
	q, err := o.ListOptions.query("KVSearchOptions", nil)
	if err != nil {
		return nil, err
	}
	f := filters{}
	f.add("namespace", "EQUALS", o.Namespace)
	f.add("q", "EQUALS", o.Query)
	var res gen.PagedResultsKVEntry
	if err := s.c.run(ctx, &call{method: http.MethodGet, path: "kv", query: f.into(q), out: &res}); err != nil {
		return nil, err
	}
	page := &Page[KVEntry]{Items: make([]*KVEntry, len(res.Results)), Total: int(min(res.Total, math.MaxInt))}
	for i := range res.Results {
		page.Items[i] = &res.Results[i]
	}
	return page, nil
}

// Inherited lists the pairs namespace sees from its parent namespaces
// (a.b.c sees those of a.b and a), without their values.
//
// Kestra API: GET /api/v1/{tenant}/namespaces/{namespace}/kv/inheritance
func (s *KVService) Inherited(ctx context.Context, namespace string) ([]*KVEntry, error) {
	if err := nonEmptyNamespace(namespace); err != nil {
		return nil, err
	}
	var out []*KVEntry
	if err := s.c.run(ctx, &call{method: http.MethodGet, path: "namespaces/{namespace}/kv/inheritance", args: []string{namespace}, out: &out}); err != nil {
		return nil, err
	}
	return out, noNil(out, "pair")
}
