package kestra_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/kestra-go/sdk/kestra"
)

// TestStreamedBodiesWaitForContinue checks that requests whose body streams
// a file ask the server to accept it first (Expect: 100-continue), so that
// a server refusing them at once is heard, and that small in-memory bodies
// do not pay that round trip.
func TestStreamedBodiesWaitForContinue(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		expect = map[string]string{}
	)
	_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		expect[r.URL.Path] = r.Header.Get("Expect")
		mu.Unlock()
		// Refuse without reading the body, as Kestra does for an unknown flow.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Not Found: Requested Flow is not found."}`))
	})
	ctx := t.Context()

	big := newGenReader(1 << 40) // never fully sent: the server refuses first
	_, err := c.Executions.Create(ctx, "ns", "with_file", &kestra.ExecuteOptions{
		Inputs: map[string]any{"data": kestra.File{Name: "data.bin", Reader: big}},
	})
	if !errors.Is(err, kestra.ErrNotFound) {
		t.Fatalf("create with a file: %v, want ErrNotFound", err)
	}
	err = c.Files.Upload(ctx, "ns", "/big.bin", newGenReader(1<<40))
	if !errors.Is(err, kestra.ErrNotFound) {
		t.Fatalf("upload: %v, want ErrNotFound", err)
	}
	_, err = c.Executions.Create(ctx, "ns", "no_file", &kestra.ExecuteOptions{
		Inputs: map[string]any{"name": strings.Repeat("x", 10)},
	})
	if !errors.Is(err, kestra.ErrNotFound) {
		t.Fatalf("create without a file: %v, want ErrNotFound", err)
	}

	mu.Lock()
	defer mu.Unlock()
	for path, want := range map[string]string{
		"/api/v1/main/executions/ns/with_file": "100-continue",
		"/api/v1/main/namespaces/ns/files":     "100-continue",
		"/api/v1/main/executions/ns/no_file":   "",
	} {
		if got, ok := expect[path]; !ok || got != want {
			t.Errorf("%s: Expect %q (seen %v), want %q", path, got, ok, want)
		}
	}
}
