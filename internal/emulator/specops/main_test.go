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
}
