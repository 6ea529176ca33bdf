package kestra_test

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
)

type commonInputs struct {
	Name string `kestra:"name"`
}

type reportInputs struct {
	commonInputs
	Count   int            `kestra:"count"`
	Enabled bool           `kestra:"enabled"`
	Config  map[string]any `kestra:"config"`
	Doc     kestra.File    `kestra:"doc"`
	When    time.Time      `kestra:"when,omitempty"`
	Ratio   float64        `kestra:"ratio,omitempty"`
	Period  *time.Duration `kestra:"period"` // nil: not sent
	Note    string         `kestra:"-"`
	secret  string
}

// A struct with kestra tags gives the inputs of an execution: Kestra gets
// what the same map would send.
func TestInputsOfStruct(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, nil, flowInputs)
	in := reportInputs{
		commonInputs: commonInputs{Name: "ada"},
		Count:        3,
		Config:       map[string]any{"verbose": true},
		Doc:          kestra.File{Name: "d.txt", Reader: strings.NewReader("data")},
		Note:         "not an input",
		secret:       "x",
	}
	inputs, err := kestra.InputsOf(&in)
	if err != nil {
		t.Fatal(err)
	}
	keys := strings.Join(sortedKeys(inputs), ",")
	if keys != "config,count,doc,enabled,name,period" {
		t.Errorf("inputs = %s; want config,count,doc,enabled,name,period (omitempty, - and unexported left out)", keys)
	}
	e, err := env.c.Executions.Create(t.Context(), execNS, "inputs", &kestra.ExecuteOptions{Inputs: inputs, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	var count int64
	if err := e.InputInto("count", &count); err != nil || count != 3 {
		t.Errorf("InputInto(count) = %d, %v", count, err)
	}
	var cfg struct{ Verbose bool }
	if err := e.InputInto("config", &cfg); err != nil || !cfg.Verbose {
		t.Errorf("InputInto(config) = %+v, %v", cfg, err)
	}
	if uri, _ := e.Inputs["doc"].(string); !strings.HasSuffix(uri, "/inputs/doc/d.txt") {
		t.Errorf("doc = %q, want the uploaded file", uri)
	}
	var out string
	if err := e.TaskOutputs("echo", &struct{ Value *string }{&out}); err != nil || out != "ada-3" {
		t.Errorf("echo = %q, %v; want ada-3", out, err)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func TestInputsOfRules(t *testing.T) {
	t.Parallel()
	// Untagged fields take their name; a nil pointer gives no inputs.
	got, err := kestra.InputsOf(struct {
		Region string
		Zone   string `kestra:",omitempty"`
	}{Region: "eu"})
	if err != nil || len(got) != 1 || got["Region"] != "eu" {
		t.Errorf("InputsOf(untagged) = %v, %v", got, err)
	}
	if got, err := kestra.InputsOf((*reportInputs)(nil)); err != nil || got != nil {
		t.Errorf("InputsOf(nil) = %v, %v", got, err)
	}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"not a struct", map[string]any{"a": 1}, "not a struct"},
		{"a channel", struct {
			C chan int `kestra:"c"`
		}{C: make(chan int)}, `input "c"`},
		{"a bare reader", struct {
			R *strings.Reader `kestra:"r"`
		}{R: strings.NewReader("x")}, "kestra.File"},
		{"a file without reader", struct {
			F kestra.File `kestra:"f"`
		}{}, "File without a Reader"},
		{"the same name twice", struct {
			A string `kestra:"x"`
			B string `kestra:"x"`
		}{}, `two fields for input "x"`},
		{"an unknown option", struct {
			A string `kestra:"a,required"`
		}{}, "unknown tag option"},
	} {
		if _, err := kestra.InputsOf(tc.v); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

// Inputs keep their numbers exact, as json.Number at any depth, and
// InputInto decodes them without a loss, however large.
func TestExecutionInputInto(t *testing.T) {
	t.Parallel()
	var e kestra.Execution
	body := `{"id":"e1","inputs":{"small":9007199254740991,"big":9007199254740993,"nested":{"ids":[1,2,12345678901234567890]},"ratio":0.5,"name":"ada"}}`
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	if e.Inputs["big"] != json.Number("9007199254740993") {
		t.Errorf("Inputs[big] = %#v, want json.Number 9007199254740993", e.Inputs["big"])
	}
	var n int64
	if err := e.InputInto("small", &n); err != nil || n != 1<<53-1 {
		t.Errorf("InputInto(small) = %d, %v", n, err)
	}
	if err := e.InputInto("big", &n); err != nil || n != 1<<53+1 {
		t.Errorf("InputInto(big) = %d, %v; want 9007199254740993", n, err)
	}
	var nested struct{ IDs []uint64 }
	if err := e.InputInto("nested", &nested); err != nil || len(nested.IDs) != 3 || nested.IDs[2] != 12345678901234567890 {
		t.Errorf("InputInto(nested) = %v, %v; want the third id exact", nested, err)
	}
	var anyV any
	if err := e.InputInto("nested", &anyV); err != nil {
		t.Errorf("InputInto(nested) into an any: %v", err)
	}
	var r float64
	if err := e.InputInto("ratio", &r); err != nil || r != 0.5 {
		t.Errorf("InputInto(ratio) = %v, %v", r, err)
	}
	if err := e.InputInto("ratio", &n); err == nil {
		t.Errorf("InputInto(ratio) into an int64: no error")
	}
	if err := e.InputInto("missing", &r); err == nil || !strings.Contains(err.Error(), `no input "missing"`) {
		t.Errorf("InputInto(missing) = %v", err)
	}
	var s string
	if err := e.InputInto("name", &s); err != nil || s != "ada" {
		t.Errorf("InputInto(name) = %q, %v", s, err)
	}
	if err := e.InputInto("name", nil); err == nil || errors.Is(err, nil) {
		t.Errorf("InputInto(name, nil): no error")
	}
}
