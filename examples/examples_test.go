// Package examples_test builds every example and runs it against the
// built-in emulator, so that none of them can rot.
package examples_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// expectations lists, for each example, lines its output must contain.
var expectations = map[string][]string{
	"quickstart":      {"flow company.team.hello_go revision 1", "RUNNING", "ended SUCCESS", `"Go is 42"`, "Hello, Go!", "execution and flow deleted"},
	"createflow":      {"created company.team.create_flow_example revision 1", "invalid flow refused: 422, 2 violation(s)\n  io.kestra.core.models.flows.FlowWithSource[\"tasks\"]", "refused before sending: line 5, column 4: "},
	"updateflow":      {"revision 1: version one", "revision 2: version two", "revision 2: unchanged"},
	"deleteflow":      {"deleted company.team.delete_flow_example", "get after delete: not found"},
	"execute":         {": SUCCESS", "labels: team=platform env=dev", "inputs: user=ada count=3", "output of result: ada:3"},
	"deleteexecution": {"ended SUCCESS", "execution deleted, logs kept", "get after delete: not found"},
	"follow":          {"RUNNING", "SUCCESS first=SUCCESS nap=SUCCESS last=SUCCESS", "terminal state reached"},
	"deploy":          {"namespace company.team.deploy: 2 to create", "  + ingest", "  + report", "dry run: nothing sent"},
	"waitlogs":        {"extract INFO  extracting", "load WARN  loaded with warnings", "ended SUCCESS"},
	"cleanup":         {"as expected, Kestra refuses to delete executions that have not ended:\n  ", ": execution not found\n", "kill accepted for 1", "deleted 4 executions"},
	"emulator":        {"company.team hello_emulator SUCCESS"},
	"breakpoints":     {"stopped: extract SUCCESS map[value:42 rows]", "stopped: load BREAKPOINT\n", "resumed, ended SUCCESS"},
}

func TestExamplesRunAgainstTheEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every example")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin+string(os.PathSeparator), "./...")
	build.Dir = "."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/...: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "internal" {
			names = append(names, e.Name())
		}
	}
	for _, name := range names {
		want, ok := expectations[name]
		if !ok {
			t.Errorf("example %s has no expectations in examples_test.go", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, name))
			cmd.Env = withoutKestraEnv(os.Environ())
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", name, err, stdout.String(), stderr.String())
			}
			// The emulator example starts the emulator itself, silently.
			if name != "emulator" && !strings.HasPrefix(stderr.String(), "KESTRA_API_URL not set: using the built-in Kestra emulator at http://127.0.0.1:") {
				t.Errorf("%s: stderr does not announce the emulator:\n%s", name, stderr.String())
			}
			for _, w := range want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("%s: output lacks %q:\n%s", name, w, stdout.String())
				}
			}
		})
	}
}

func withoutKestraEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "KESTRA_") {
			out = append(out, kv)
		}
	}
	return out
}
