package kestra_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kestra-go/sdk/kestra"
)

// flowWith returns a valid flow whose extra property x holds value.
func flowWith(value string) string {
	return "id: deep\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\nx: " + value + "\n"
}

// nested returns value wrapped in depth flow sequences.
func nested(depth int, value string) string {
	return strings.Repeat("[", depth) + value + strings.Repeat("]", depth)
}

// blockNested returns depth block mappings, each indented under the last.
func blockNested(depth int) string {
	var b strings.Builder
	for i := range depth {
		b.WriteString("\n" + strings.Repeat(" ", i+2) + "k:")
	}
	b.WriteString(" v")
	return b.String()
}

func wantLimitError(t *testing.T, what string, err error, limit string) *kestra.FlowSourceError {
	t.Helper()
	var fe *kestra.FlowSourceError
	if !errors.As(err, &fe) {
		t.Fatalf("%s: error %v (%T), want a *FlowSourceError", what, err, err)
	}
	if !strings.Contains(err.Error(), limit) {
		t.Errorf("%s: error %q does not name %s", what, err, limit)
	}
	if !errors.Is(err, kestra.ErrInvalid) {
		t.Errorf("%s: errors.Is(err, ErrInvalid) = false", what)
	}
	return fe
}

// Nesting past Kestra's limit is refused by a scan, before the parser,
// whose memory grows with the square of the depth: a 200 KB source nested
// 100,000 deep (which took minutes and gigabytes) fails at once.
func TestParseFlowNestingLimit(t *testing.T) {
	t.Parallel()
	// The root mapping is one level: x's value may nest 999 more.
	ok := kestra.MaxFlowNestingDepth - 1
	for _, tc := range []struct {
		name string
		src  string
	}{
		{"flow sequences", flowWith(nested(ok, "1"))},
		{"flow mappings", flowWith(strings.Repeat("{a: ", ok) + "1" + strings.Repeat("}", ok))},
		{"compact block sequences", "id: deep\nnamespace: company.team\ntasks: [a]\nx:\n  " + strings.Repeat("- ", ok) + "1\n"},
		{"indented block mappings", "id: deep\nnamespace: company.team\ntasks: [a]\nx:" + blockNested(ok-1) + "\n"},
	} {
		if _, err := kestra.ParseFlow(tc.src); err != nil {
			t.Errorf("%s at the limit: %v", tc.name, err)
		}
	}

	over := kestra.MaxFlowNestingDepth
	for _, tc := range []struct {
		name string
		src  string
		line int
	}{
		{"flow sequences", flowWith(nested(over, "1")), 7},
		{"unclosed flow sequences, 200 KB", flowWith(strings.Repeat("[", 200_000)), 7},
		{"flow mappings", flowWith(strings.Repeat("{a: ", 100_000)), 7},
		{"compact block sequences", "id: deep\nnamespace: company.team\ntasks: [a]\nx:\n  " + strings.Repeat("- ", 100_000) + "1\n", 5},
		{"indented block mappings", "id: deep\nnamespace: company.team\ntasks: [a]\nx:" + blockNested(over) + "\n", 4 + over},
		{"block and flow", "id: deep\nnamespace: company.team\ntasks: [a]\nx:\n  " + strings.Repeat("- ", 500) + nested(600, "1") + "\n", 5},
	} {
		_, err := kestra.ParseFlow(tc.src)
		fe := wantLimitError(t, tc.name, err, "MaxFlowNestingDepth")
		if fe.Line != tc.line || fe.Column < 1 {
			t.Errorf("%s: error at %d:%d, want line %d", tc.name, fe.Line, fe.Column, tc.line)
		}
	}
}

// Brackets and dashes that are text do not count.
func TestParseFlowNestingIgnoresText(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[{", 5000)
	for _, src := range []string{
		flowWith(`"` + deep + `"`),
		flowWith(`'it''s ` + deep + `'`),
		flowWith("|\n  " + deep + "\n  " + strings.Repeat("- ", 5000)),
		flowWith("plain" + deep),
		flowWith("1 # " + deep),
		"# " + deep + "\n" + flowWith("1"),
		flowWith("\"first line\n  " + deep + "\n  last line\""),
		flowWith("first line\n  " + strings.Repeat("- ", 5000) + "\n  last line"),
	} {
		if _, err := kestra.ParseFlow(src); err != nil {
			t.Errorf("ParseFlow(%.60q...): %v", src, err)
		}
	}
}

// The size limit counts characters, as Kestra does: a source of 3 Mi
// two-byte characters (6 MiB) is accepted, one more character is not.
func TestParseFlowSizeLimit(t *testing.T) {
	t.Parallel()
	base := flowWith("1") + "# "
	pad := kestra.MaxFlowSourceCodePoints - len(base) - 1 // the final newline
	atLimit := base + strings.Repeat("é", pad) + "\n"
	if _, err := kestra.ParseFlow(atLimit); err != nil {
		t.Errorf("a source of exactly MaxFlowSourceCodePoints characters: %v", err)
	}
	wantLimitError(t, "one character over", func() error {
		_, err := kestra.ParseFlow(base + strings.Repeat("é", pad+1) + "\n")
		return err
	}(), "MaxFlowSourceCodePoints")
	wantLimitError(t, "50 MB", func() error {
		_, err := kestra.ParseFlow(flowWith(strings.Repeat("a", 50<<20)))
		return err
	}(), "MaxFlowSourceCodePoints")
}

// Every method that takes a source checks the limits before any request.
func TestFlowLimitsBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	env := newEmuEnv(t, emuSetup{})
	ctx := t.Context()
	deep := flowWith(nested(50_000, "1"))
	for name, call := range map[string]func() error{
		"Create":   func() error { _, err := env.c.Flows.Create(ctx, deep); return err },
		"Update":   func() error { _, err := env.c.Flows.Update(ctx, deep); return err },
		"Apply":    func() error { _, err := env.c.Flows.Apply(ctx, deep); return err },
		"Validate": func() error { return env.c.Flows.Validate(ctx, deep) },
	} {
		err := call()
		if !errors.Is(err, kestra.ErrInvalid) || !strings.Contains(err.Error(), "MaxFlowNestingDepth") {
			t.Errorf("%s: error %v, want the nesting limit", name, err)
		}
	}
	if n := len(env.emu.Requests()); n != 0 {
		t.Errorf("the server saw %d requests", n)
	}
	_, err := kestra.LoadFlows(fstest.MapFS{"flows/deep.yaml": {Data: []byte(deep)}}, "flows/*.yaml")
	if err == nil || !strings.Contains(err.Error(), "flows/deep.yaml") || !strings.Contains(err.Error(), "MaxFlowNestingDepth") {
		t.Errorf("LoadFlows: error %v, want the file and the limit", err)
	}
}

// A flow refused before any request matches ErrInvalid, as the same flow
// refused by Kestra does, and still gives its line and column.
func TestLocalFlowErrorsAreErrInvalid(t *testing.T) {
	t.Parallel()
	env := newEmuEnv(t, emuSetup{})
	ctx := t.Context()
	bad := "id: hello\nnamespace: company.team\ntasks:\n  - id: log\n   type: x\n"
	_, err := env.c.Flows.Create(ctx, bad)
	if !errors.Is(err, kestra.ErrInvalid) {
		t.Errorf("Create: errors.Is(%v, ErrInvalid) = false", err)
	}
	var fe *kestra.FlowSourceError
	if !errors.As(err, &fe) || fe.Line != 5 {
		t.Errorf("Create: %v, want a *FlowSourceError at line 5", err)
	}
	// Several errors at once.
	_, err = kestra.ParseFlow("tasks: []\n")
	if !errors.Is(err, kestra.ErrInvalid) {
		t.Errorf("ParseFlow, joined errors: errors.Is(%v, ErrInvalid) = false", err)
	}
	err = env.c.Flows.Validate(ctx, bad)
	var ve *kestra.ValidationError
	if !errors.Is(err, kestra.ErrInvalid) || !errors.As(err, &ve) || !errors.As(err, &fe) || fe.Line != 5 {
		t.Errorf("Validate: %v, want ErrInvalid, a *ValidationError and a *FlowSourceError at line 5", err)
	}
	// A flow Kestra refuses matches it too.
	_, err = env.c.Flows.Create(ctx, "id: broken\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.invalid\n")
	var apiErr *kestra.APIError
	if !errors.Is(err, kestra.ErrInvalid) || !errors.As(err, &apiErr) {
		t.Errorf("Create refused by the server: %v", err)
	}
	if n := len(env.emu.Requests()); n != 1 {
		t.Errorf("the server saw %d requests, want 1", n)
	}
}

// A byte order mark, which editors on Windows write, is not part of the
// first key.
func TestParseFlowByteOrderMark(t *testing.T) {
	t.Parallel()
	ref, err := kestra.ParseFlow("\ufeff" + validFlow)
	if err != nil || ref.ID != "hello" || ref.Namespace != "company.team" {
		t.Errorf("ParseFlow with a BOM = %+v, %v", ref, err)
	}
	flows, err := kestra.LoadFlows(fstest.MapFS{"a.yaml": {Data: []byte("\ufeffid: a\nnamespace: n\ntasks: [1]\n")}}, "*.yaml")
	if err != nil || len(flows) != 1 || flows[0].ID != "a" {
		t.Errorf("LoadFlows with a BOM = %+v, %v", flows, err)
	}
}

// Tagged ids are read as Kestra reads them, or refused; never as the tag.
func TestParseFlowTaggedIdentity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, id string }{
		{"id: !!str 123\nnamespace: n\ntasks: [1]\n", "123"},
		{"id: !!int 123\nnamespace: n\ntasks: [1]\n", "123"},
		{"id: !!str hello\nnamespace: !!str n\ntasks: [1]\n", "hello"},
	} {
		ref, err := kestra.ParseFlow(tc.src)
		if err != nil || ref.ID != tc.id {
			t.Errorf("ParseFlow(%q) = %+v, %v, want id %q", tc.src, ref, err, tc.id)
		}
	}
	_, err := kestra.ParseFlow("id: !!binary YWJj\nnamespace: n\ntasks: [1]\n")
	var fe *kestra.FlowSourceError
	if !errors.As(err, &fe) || fe.Field != "id" || !strings.Contains(err.Error(), "!!binary") || fe.Line != 1 {
		t.Errorf("ParseFlow(id: !!binary) = %v, want an error on id naming !!binary", err)
	}
}
