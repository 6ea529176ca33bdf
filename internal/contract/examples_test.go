package contract

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestExamples runs every example program against the server under test.
// On the emulator, examples/examples_test.go already runs them (and checks
// their output), so this runs only against a server KESTRA_API_URL names.
func TestExamples(t *testing.T) {
	if target != "kestra" {
		t.Skip("examples/examples_test.go runs the examples on the emulator")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root := filepath.Join("..", "..")
	bin := t.TempDir()
	build := exec.CommandContext(t.Context(), goBin, "build", "-o", bin+string(os.PathSeparator), "./examples/...")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/...: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(bin)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no example built")
	}
	// One after the other: they share the namespace company.team.
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, e.Name()))
			cmd.Dir = filepath.Join(root, "examples", e.Name()) // examples may read files next to them
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", e.Name(), err, out)
			}
		})
	}
}
