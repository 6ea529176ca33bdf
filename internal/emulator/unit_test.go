package emulator

import (
	"testing"
	"time"
)

func TestISODuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		d    time.Duration
		norm string
	}{
		{"PT1.5S", 1500 * time.Millisecond, "PT1.5S"},
		{"PT90S", 90 * time.Second, "PT1M30S"},
		{"P1DT2H", 26 * time.Hour, "PT26H"},
		{"PT0S", 0, "PT0S"},
		{"pt5m", 5 * time.Minute, "PT5M"},
		{"PT0.000123S", 123 * time.Microsecond, "PT0.000123S"},
	}
	for _, tt := range tests {
		d, err := parseISODuration(tt.in)
		if err != nil || d != tt.d {
			t.Errorf("parse %s = %v, %v", tt.in, d, err)
		}
		if got := formatISODuration(d); got != tt.norm {
			t.Errorf("format %v = %s, want %s", d, got, tt.norm)
		}
	}
	for _, bad := range []string{"", "P", "PT", "5m", "PTXS"} {
		if _, err := parseISODuration(bad); err == nil {
			t.Errorf("parse %q: no error", bad)
		}
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	vars := map[string]any{
		"inputs":  map[string]any{"name": "joe", "n": int64(3), "list": []any{"a", "b"}},
		"outputs": map[string]any{"ret": map[string]any{"value": "v"}},
	}
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"Hi {{ inputs.name }}!", "Hi joe!"},
		{"{{inputs.n}}", "3"},
		{"{{ outputs.ret.value | upper }}", "V"},
		{"{{ outputs['ret']['value'] }}", "v"},
		{"{{ inputs.list[1] }}", "b"},
		{"{{ inputs.missing | default('x') }}", "x"},
		{"{{ 'lit' }}", "lit"},
		{"{{ inputs.list }}", `["a","b"]`},
		{"{{ inputs.n == 3 }}", "true"},
		{"{{ inputs.n == 3.0 }}", "true"},
		{"{{ inputs.n != 3 }}", "false"},
		{"{{ inputs.n > 10 }}", "false"},
		{"{{ inputs.n <= 3 }}", "true"},
		{"{{ inputs.name == 'joe' }}", "true"},
		{"{{ inputs.name | upper == 'JOE' }}", "true"},
		{"{{ 'a==b' == 'a==b' }}", "true"},
		{"{{ inputs.name < 'k' }}", "true"},
	}
	for _, tt := range tests {
		got, err := render(tt.in, vars)
		if err != nil || got != tt.want {
			t.Errorf("render %q = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := render("{{ inputs.missing }}", vars); err == nil {
		t.Error("missing variable rendered")
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	re := globToRegexp("/api/v1/*/executions/*/follow")
	if !re.MatchString("/api/v1/main/executions/abc/follow") || re.MatchString("/api/v1/main/executions/abc") {
		t.Error("glob mismatch")
	}
}
