package main

import (
	"bytes"
	"os"
	"testing"
)

// The committed table is what openapi.yaml gives: regenerate with
// `go generate ./internal/emulator` after `make spec`.
func TestTableUpToDate(t *testing.T) {
	doc, err := os.ReadFile("../../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := Read(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) < 100 {
		t.Fatalf("only %d operations read", len(ops))
	}
	want, err := Source(ops)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../specops.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("internal/emulator/specops.gen.go is stale: run go generate ./internal/emulator")
	}
	wantStreams, err := StreamSource(ops)
	if err != nil {
		t.Fatal(err)
	}
	gotStreams, err := os.ReadFile("../../../kestra/streamroutes.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotStreams, wantStreams) {
		t.Error("kestra/streamroutes.gen.go is stale: run go generate ./kestra")
	}
	// The follow streams are among the stream routes, a JSON answer is not.
	streams := map[string]bool{}
	for _, o := range ops {
		if o.Stream {
			streams[o.Method+" "+o.Path] = true
		}
	}
	for route, want := range map[string]bool{
		"GET /api/v1/{tenant}/executions/{executionId}/follow": true,
		"GET /api/v1/{tenant}/logs/{executionId}/follow":       true,
		"GET /api/v1/{tenant}/executions/{executionId}/file":   true,
		"GET /api/v1/{tenant}/executions/{executionId}":        false,
	} {
		if streams[route] != want {
			t.Errorf("%s: stream %v, want %v", route, streams[route], want)
		}
	}
}
