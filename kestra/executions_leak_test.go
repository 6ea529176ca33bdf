package kestra_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// TestExecutionsFileUploadLeavesNoGoroutine checks that the goroutine that
// writes a streamed multipart body always ends: after a success, when the
// server answers before reading the body, when the request is never sent,
// when the file reader fails, and when ctx is cancelled. It is not
// parallel, so that goleak sees only its own goroutines.
func TestExecutionsFileUploadLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	srv := kestratest.NewServer(kestratest.WithSpeed(200))
	// As the default transport does, wait for 100 Continue before a streamed
	// body, so a server that answers without reading it is heard.
	tr := &http.Transport{ExpectContinueTimeout: time.Second}
	defer func() {
		tr.CloseIdleConnections()
		srv.Close()
	}()
	c := srv.Client(kestra.WithRetry(kestra.NoRetry), kestra.WithHTTPClient(&http.Client{Transport: tr}))
	deploy(t, c, flowInputs)
	failing := errors.New("editor refuses")
	cEditor := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithHTTPClient(&http.Client{Transport: tr}),
		kestra.WithRequestEditor(func(context.Context, *http.Request) error { return failing }))

	inputs := func(doc io.Reader) *kestra.ExecuteOptions {
		return &kestra.ExecuteOptions{Inputs: map[string]any{
			"name": "n", "count": 1, "enabled": true, "config": "{}",
			"doc": kestra.File{Name: "d.bin", Reader: doc},
		}}
	}
	big := func() io.Reader { return &patternReader{left: 8 << 20} }

	if _, err := c.Executions.Create(t.Context(), execNS, "inputs", inputs(big())); err != nil {
		t.Errorf("success: %v", err)
	}
	// The emulator answers 404 before it reads the parts.
	if _, err := c.Executions.Create(t.Context(), execNS, "unknown", inputs(big())); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("unknown flow: %v", err)
	}
	if _, err := cEditor.Executions.Create(t.Context(), execNS, "inputs", inputs(big())); !errors.Is(err, failing) {
		t.Errorf("editor error: %v", err)
	}
	readErr := errors.New("disk on fire")
	if _, err := c.Executions.Create(t.Context(), execNS, "inputs", inputs(io.MultiReader(strings.NewReader("partial"), errReader{readErr}))); err == nil {
		t.Error("failing reader: no error")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Executions.Create(ctx, execNS, "inputs", inputs(&slowReader{ctx: ctx})); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := c.Executions.Resume(t.Context(), "unknown", map[string]any{"doc": kestra.File{Reader: big()}}); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("resume: %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// slowReader yields a byte at a time until ctx ends.
type slowReader struct{ ctx context.Context }

func (r *slowReader) Read(p []byte) (int, error) {
	select {
	case <-r.ctx.Done():
		return 0, r.ctx.Err()
	case <-time.After(time.Millisecond):
		p[0] = 'x'
		return 1, nil
	}
}
