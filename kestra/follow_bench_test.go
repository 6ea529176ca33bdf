package kestra_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
)

// followBody returns an execution stream as Kestra frames it: start, n
// progress frames of a small execution (each with one task run more, so
// each is a change), then end.
func followBody(tb testing.TB, n int) []byte {
	tb.Helper()
	transcript, err := os.ReadFile("testdata/follow_success.sse")
	if err != nil {
		tb.Fatal(err)
	}
	// The end frame of the transcript is the template: a SUCCESS execution
	// with one task run.
	i := bytes.LastIndex(transcript, []byte("id: end\ndata: "))
	var ex map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(transcript[i+len("id: end\ndata: "):]), &ex); err != nil {
		tb.Fatal(err)
	}
	tr := ex["taskRunList"].([]any)[0].(map[string]any)
	var b bytes.Buffer
	b.WriteString("id: start\ndata: {\"id\":\"4kyHz9dbBEyc1ouelYE3gn\",\"labels\":[],\"deleted\":false}\n\n")
	frame := func(tag string, state string, runs int) {
		list := make([]any, 0, 4)
		for k := range 4 {
			c := make(map[string]any, len(tr))
			for key, v := range tr {
				c[key] = v
			}
			c["id"] = fmt.Sprintf("run%d-%d", k, runs)
			list = append(list, c)
		}
		ex["taskRunList"] = list
		ex["state"].(map[string]any)["current"] = state
		data, err := json.Marshal(ex)
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "id: %s\ndata: %s\n\n", tag, data)
	}
	for k := range n {
		frame("progress", "RUNNING", k)
	}
	frame("end", "SUCCESS", n)
	return b.Bytes()
}

// rawFollow is the floor: net/http, bufio and encoding/json into the same
// type, no reconnects, no de-duplication.
func rawFollow(hc *http.Client, url string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	frames := 0
	var tag string
	for {
		line, err := r.ReadSlice('\n')
		if err == io.EOF {
			return frames, nil
		}
		if err != nil {
			return frames, err
		}
		switch {
		case bytes.HasPrefix(line, []byte("id: ")):
			tag = string(bytes.TrimSpace(line[4:]))
		case bytes.HasPrefix(line, []byte("data: ")) && tag != "start":
			var e kestra.Execution
			if err := json.Unmarshal(line[6:], &e); err != nil {
				return frames, err
			}
			frames++
			if tag == "end" {
				return frames, nil
			}
		}
	}
}

// BenchmarkFollowFrames reads the same stream of small frames with Follow
// and with the raw reader, alternately, over loopback, and reports the
// frames per second of each and their ratio (goal: sdk/raw ≥ 0.9).
func BenchmarkFollowFrames(b *testing.B) {
	const frames = 200
	body := followBody(b, frames)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c, err := kestra.New(kestra.Config{URL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer hc.CloseIdleConnections()
	url := srv.URL + "/api/v1/main/executions/4kyHz9dbBEyc1ouelYE3gn/follow"
	ctx := context.Background()

	var sdkTime, rawTime time.Duration
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		n := 0
		for _, err := range c.Executions.Follow(ctx, "4kyHz9dbBEyc1ouelYE3gn", nil) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		t1 := time.Now()
		m, err := rawFollow(hc, url)
		if err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(t1)
		sdkTime += t1.Sub(t0)
		if n != frames+1 || m != frames+1 {
			b.Fatalf("sdk %d frames, raw %d, want %d", n, m, frames+1)
		}
	}
	total := float64(b.N * (frames + 1))
	sdk, raw := total/sdkTime.Seconds(), total/rawTime.Seconds()
	b.ReportMetric(sdk, "sdk-frames/s")
	b.ReportMetric(raw, "raw-frames/s")
	b.ReportMetric(sdk/raw, "sdk/raw")
}

const idleServerEnv = "KESTRA_GO_IDLE_FOLLOW_SERVER"

// TestIdleFollowServer is not a test: BenchmarkFollowIdleStreams runs the
// test binary with it as a separate server process, so that the server's
// memory is not counted as the client's. It serves follow streams that
// send start and one progress frame, then stay open, until stdin closes.
func TestIdleFollowServer(t *testing.T) {
	if os.Getenv(idleServerEnv) == "" {
		t.Skip("helper process of BenchmarkFollowIdleStreams")
	}
	body := followBody(t, 1)
	first := body[:bytes.Index(body, []byte("\n\nid: end"))+2]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(first)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	close(done)
	_ = srv.Close()
}

// BenchmarkFollowIdleStreams opens 1,000 follow streams that stay idle
// after their first snapshot and reports the client's heap and goroutine
// stack per open stream (goal: heap ≤ 32 KiB).
func BenchmarkFollowIdleStreams(b *testing.B) {
	const streams = 1000
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleFollowServer$")
	cmd.Env = append(os.Environ(), idleServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	c, err := kestra.New(kestra.Config{URL: "http://" + strings.TrimSpace(addr)})
	if err != nil {
		b.Fatal(err)
	}

	var heap, stack float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ctx, cancel := context.WithCancel(context.Background())
		var ready, done sync.WaitGroup
		ready.Add(streams)
		for range streams {
			done.Go(func() {
				first := true
				for _, err := range c.Executions.Follow(ctx, "4kyHz9dbBEyc1ouelYE3gn", nil) {
					if first {
						first = false
						ready.Done()
					}
					if err != nil {
						return
					}
				}
			})
		}
		ready.Wait()
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap += float64(after.HeapInuse) - float64(before.HeapInuse)
		stack += float64(after.StackInuse) - float64(before.StackInuse)
		cancel()
		done.Wait()
	}
	b.ReportMetric(heap/float64(b.N*streams), "heap-B/stream")
	b.ReportMetric(stack/float64(b.N*streams), "stack-B/stream")
}
