package examples_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUseFromAClone does what the README's Install section says for a
// clone of the SDK: a module of one's own that uses it through a replace
// directive, or through a workspace, builds, and its program (the emulator
// example) runs. No network: every dependency comes from the module cache.
func TestUseFromAClone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module outside this one")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	program, err := os.ReadFile(filepath.Join("emulator", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	for _, tc := range []struct {
		name  string
		steps [][]string // go commands, after go mod init
		env   []string
	}{
		{"replace", [][]string{
			{"mod", "edit", "-replace", "github.com/kestra-go/sdk=" + root},
			// -e: offline, the tests of dependencies' dependencies, which
			// tidy also looks up, are not in the module cache.
			{"mod", "tidy", "-e"},
			{"build", "-o", "program", "."},
		}, []string{"GOWORK=off"}},
		{"workspace", [][]string{
			{"work", "init", ".", root},
			{"build", "-o", "program", "."},
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.go"), program, 0o600); err != nil {
				t.Fatal(err)
			}
			// Offline, the checksums come from the SDK's go.sum; online,
			// go mod tidy gets the same ones from sum.golang.org.
			if err := os.WriteFile(filepath.Join(dir, "go.sum"), sums, 0o600); err != nil {
				t.Fatal(err)
			}
			env := append(withoutKestraEnv(os.Environ()), "GOPROXY=off", "GOFLAGS=")
			env = append(env, tc.env...)
			steps := append([][]string{{"mod", "init", "example.com/mine"}}, tc.steps...)
			for _, args := range steps {
				cmd := exec.CommandContext(ctx, goBin, args...)
				cmd.Dir, cmd.Env = dir, env
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
			cmd := exec.CommandContext(ctx, filepath.Join(dir, "program"))
			cmd.Env = withoutKestraEnv(os.Environ())
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "hello_emulator SUCCESS") {
				t.Fatalf("program: %v\n%s", err, out)
			}
		})
	}
}
