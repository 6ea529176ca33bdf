package kestra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
)

// bytesTransport answers follow requests with body as an event stream and
// any other request with a 404.
type bytesTransport struct{ body []byte }

func (bt bytesTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: req, ProtoMajor: 1, ProtoMinor: 1}
	if strings.HasSuffix(req.URL.Path, "/follow") {
		resp.Header.Set("Content-Type", "text/event-stream")
		resp.Body = io.NopCloser(bytes.NewReader(bt.body))
		return resp, nil
	}
	resp.StatusCode = http.StatusNotFound
	resp.Header.Set("Content-Type", "application/json")
	resp.Body = io.NopCloser(strings.NewReader(`{"message":"Not Found"}`))
	return resp, nil
}

// FuzzFollowFrames feeds arbitrary bytes to the execution and log streams
// as the body of each of their follow responses, through go-sse and the
// frame checks: they must neither panic nor block, must not yield another
// execution than the one followed, a running state after a terminal one,
// the same state twice in a row, nor anything after an error.
func FuzzFollowFrames(f *testing.F) {
	transcript, err := os.ReadFile("testdata/follow_success.sse")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(transcript)
	f.Add(transcript[:len(transcript)/2])
	f.Add(bytes.ReplaceAll(transcript, []byte("\n"), []byte("\r\n")))
	f.Add(bytes.ReplaceAll(transcript, []byte("\n"), []byte("\r")))
	f.Add(append([]byte("\xef\xbb\xbf"), transcript...))
	f.Add([]byte(""))
	f.Add([]byte("id: start\ndata: {}\n\n"))
	f.Add([]byte("id: end\ndata: {}\n\n"))
	f.Add([]byte("id: end\ndata: null\n\n"))
	f.Add([]byte("id: progress\ndata: {\"state\":{\"current\":\"RUNNING\"}}\n\nid: progress\ndata: [\n\n"))
	f.Add([]byte("event: end\ndata: {\"state\":{\"current\":\"SUCCESS\"}}\n\n"))
	f.Add([]byte("id: progress\ndata: {\"timestamp\":\"2025-01-01T00:00:00Z\",\"message\":\"hi\",\"level\":\"INFO\"}\n\n"))
	f.Add([]byte("id: pro\x00gress\ndata:{}\n\n:comment\nretry: 10\n\n"))
	f.Add([]byte("data\ndata\n\nid\n\n"))
	f.Add([]byte("id: end\ndata: {\"id\":\"y\",\"state\":{\"current\":\"FAILED\"}}\n\n"))
	f.Add([]byte("id: end\ndata: {\"id\":\"x\",\"state\":{\"current\":\"RUNNING\"}}\n\n"))
	f.Add([]byte("id: progress\ndata: null\n\nid: progress\ndata: {\"id\":\"x\",\"state\":{\"current\":\"RUNNING\"}}\n\n"))
	f.Add([]byte("id: progress\ndata: {\"id\":\"x\",\n\n"))

	f.Fuzz(func(t *testing.T, body []byte) {
		c := newClient(t, kestra.Config{URL: "http://kestra.invalid"},
			kestra.WithRetry(kestra.NoRetry),
			kestra.WithHTTPClient(&http.Client{Transport: bytesTransport{body}}))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()

		afterErr, n := false, 0
		var last *kestra.Execution
		for e, err := range c.Executions.Follow(ctx, "x",
			&kestra.StreamOptions{MaxReconnects: 1, ReconnectDelay: time.Microsecond, MaxReconnectDelay: time.Microsecond}) {
			// A body whose every connection brings new states keeps the
			// stream alive (as it should: the execution is progressing).
			if n++; n > 100 {
				break
			}
			if afterErr {
				t.Fatal("a value after an error")
			}
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatal("Follow hung")
				}
				afterErr = true
				continue
			}
			if e == nil {
				t.Fatal("nil execution without an error")
			}
			if e.ID != "x" {
				t.Fatalf("yielded execution %q, want only x", e.ID)
			}
			if last != nil && last.IsTerminal() && !e.IsTerminal() {
				t.Fatal("a running snapshot after a terminal one")
			}
			if last != nil && !e.IsTerminal() && snapshotKey(last) == snapshotKey(e) {
				t.Fatal("the same snapshot twice in a row")
			}
			last = e
		}

		afterErr = false
		for l, err := range c.Logs.Follow(ctx, "x", &kestra.LogFollowOptions{StreamOptions: kestra.StreamOptions{MaxReconnects: -1}}) {
			if afterErr {
				t.Fatal("a line after an error")
			}
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatal("Logs.Follow hung")
				}
				afterErr = true
				continue
			}
			if l == nil {
				t.Fatal("nil line without an error")
			}
		}
		if !afterErr {
			t.Fatal("a log stream that breaks must end with an error")
		}
	})
}

func snapshotKey(e *kestra.Execution) string {
	b, _ := json.Marshal(struct {
		S  kestra.StateType
		TR []kestra.TaskRun
	}{e.State.Current, e.TaskRunList})
	return string(b)
}
