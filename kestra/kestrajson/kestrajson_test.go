package kestrajson_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kestra-go/sdk/kestra/kestrajson"
)

func TestObjectKeepsNumbersExact(t *testing.T) {
	t.Parallel()
	var v struct {
		Outputs kestrajson.Object `json:"outputs"`
	}
	in := `{"outputs":{"id":12345678901234567890,"n":3,"ratio":0.1,"exp":1.0E10,"s":"9007199254740993","nested":{"ids":[9007199254740993,-1]},"ok":true,"none":null}}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	want := kestrajson.Object{
		"id": json.Number("12345678901234567890"), "n": json.Number("3"), "ratio": json.Number("0.1"),
		"exp": json.Number("1.0E10"), "s": "9007199254740993",
		"nested": map[string]any{"ids": []any{json.Number("9007199254740993"), json.Number("-1")}},
		"ok":     true, "none": nil,
	}
	if diff := cmp.Diff(want, v.Outputs); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	// Encoding writes each number as it was received.
	out, err := json.Marshal(v.Outputs["nested"])
	if err != nil || string(out) != `{"ids":[9007199254740993,-1]}` {
		t.Errorf("re-encoded = %s, %v", out, err)
	}
	// An Object is a map[string]any.
	var m map[string]any = v.Outputs
	if len(m) != 8 {
		t.Errorf("len = %d", len(m))
	}
}

func TestObjectNullAndNotAnObject(t *testing.T) {
	t.Parallel()
	o := kestrajson.Object{"old": 1}
	if err := json.Unmarshal([]byte(`null`), &o); err != nil || o != nil {
		t.Errorf("null: %v, %v; want a nil Object", o, err)
	}
	for _, bad := range []string{`[1]`, `"x"`, `3`} {
		var o kestrajson.Object
		if err := json.Unmarshal([]byte(bad), &o); err == nil {
			t.Errorf("%s: decoded into %v, want an error", bad, o)
		}
	}
}
