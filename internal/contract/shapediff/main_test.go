package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.json", `[{"method":"GET","route":"/r","status":200,"body":"json","shape":{"kinds":["object"],"keys":{"x":{"kinds":["string"]}}},"count":1}]`)
	b := write("b.json", `[{"method":"GET","route":"/r","status":200,"body":"json","shape":{"kinds":["object"],"keys":{"x":{"kinds":["number"]}}},"count":1}]`)
	none := write("none.txt", "# nothing accepted\n")
	acc := write("acc.txt", "GET /r 200 $.x | the emulator writes a number\n")

	var out, errOut bytes.Buffer
	if code := run([]string{"-accepted", none, "kestra=" + a, "emulator=" + b}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1; %s %s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "GET /r 200 $.x: kinds [string] (kestra) vs [number] (emulator)") {
		t.Errorf("output = %q", out.String())
	}
	out.Reset()
	if code := run([]string{"-accepted", acc, "kestra=" + a, "emulator=" + b}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d with the difference accepted; %s", code, out.String())
	}
	if code := run([]string{"kestra=" + a}, &out, &errOut); code != 2 {
		t.Errorf("one log: exit %d, want 2", code)
	}
	bad := write("bad.txt", "GET /r 200 $.x\n")
	if code := run([]string{"-accepted", bad, a, b}, &out, &errOut); code != 2 {
		t.Errorf("entry without reason: exit %d, want 2", code)
	}
}
