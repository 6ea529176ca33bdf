// Command normalize turns an upstream Kestra OpenAPI document into the
// project's openapi.yaml: it keeps the structure (paths, operations,
// parameters, bodies, schemas, security schemes), drops the prose, fixes the
// known defects of the upstream document and writes the result with a stable
// key order, so that the diff between two Kestra versions is readable.
//
// Usage:
//
//	go run ./api/normalize -in ../shared/kestra-openapi/kestra-ee.yml -out openapi.yaml
//	go run ./api/normalize -in http://localhost:8080/swagger/kestra.yml -out openapi.yaml
//
// The output file is replaced atomically: on any error it is left untouched.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	in := flag.String("in", "", "upstream OpenAPI document: a file path or an http(s) URL (required)")
	out := flag.String("out", "openapi.yaml", "where to write the normalized document")
	overlayPath := flag.String("overlay", "api/overlay.yaml", "OpenAPI Overlay with the fixes to apply")
	timeout := flag.Duration("timeout", time.Minute, "how long to wait for a URL")
	flag.Parse()
	if *in == "" {
		fmt.Fprintln(os.Stderr, "normalize: -in is required (a file or a URL such as http://localhost:8080/swagger/kestra.yml)")
		os.Exit(2)
	}
	if err := run(*in, *out, *overlayPath, *timeout); err != nil {
		// One line, whatever the error: some (the overlay's) span several.
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
		fmt.Fprintln(os.Stderr, "normalize:", msg)
		os.Exit(1)
	}
}

func run(in, out, overlayPath string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	src, err := Load(ctx, in)
	if err != nil {
		return err
	}
	ov, err := LoadOverlay(overlayPath)
	if err != nil {
		return err
	}
	doc, err := Normalize(src, ov)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return WriteFileAtomic(out, doc)
}
