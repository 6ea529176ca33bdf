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
	"os"
	"os/exec"
	"runtime"
	"strconv"
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
// frames per second of each and their ratio (goal: Follow within 1.4× of
// the raw reader's time, sdk/raw ≥ 0.71).
func BenchmarkFollowFrames(b *testing.B) {
	const frames = 200
	body := followBody(b, frames)
	srv, c := newRawEnv(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(body)
	}, kestra.WithRetry(kestra.DefaultRetryPolicy))
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
// after their first snapshot and reports the client's heap, goroutine
// stack and resident memory (in the first round) per open stream (goal:
// heap ≤ 32 KiB).
// BenchmarkFollowIdleStreamsRaw is the floor: the same streams read with
// net/http, bufio and encoding/json. Run each alone: resident memory is
// not given back between benchmarks of one process.
func BenchmarkFollowIdleStreams(b *testing.B) {
	benchIdleStreams(b, func(c *kestra.Client, _ string, ctx context.Context, ready func()) {
		first := true
		for _, err := range c.Executions.Follow(ctx, "4kyHz9dbBEyc1ouelYE3gn", nil) {
			if first {
				first = false
				ready()
			}
			if err != nil {
				return
			}
		}
	})
}

func BenchmarkFollowIdleStreamsRaw(b *testing.B) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	benchIdleStreams(b, func(_ *kestra.Client, url string, ctx context.Context, ready func()) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/main/executions/4kyHz9dbBEyc1ouelYE3gn/follow", nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := hc.Do(req)
		if err != nil {
			b.Error(err)
			ready()
			return
		}
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		first := true
		var tag string
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				if first {
					ready()
				}
				return
			}
			switch {
			case bytes.HasPrefix(line, []byte("id: ")):
				tag = string(bytes.TrimSpace(line[4:]))
			case bytes.HasPrefix(line, []byte("data: ")) && tag == "progress":
				var e kestra.Execution
				if err := json.Unmarshal(line[6:], &e); err != nil {
					b.Error(err)
				}
				if first {
					first = false
					ready()
				}
			}
		}
	})
}

// benchIdleStreams opens 1,000 streams with follow against a server
// process whose streams stay idle after their first snapshot; follow calls
// ready once it has the snapshot, and returns when ctx is done.
func benchIdleStreams(b *testing.B, follow func(c *kestra.Client, url string, ctx context.Context, ready func())) {
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
	url := "http://" + strings.TrimSpace(addr)
	c := newClient(b, kestra.Config{URL: url})

	var heap, stack, rss float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rssBefore := residentBytes()
		ctx, cancel := context.WithCancel(context.Background())
		var ready, done sync.WaitGroup
		ready.Add(streams)
		for range streams {
			done.Go(func() { follow(c, url, ctx, ready.Done) })
		}
		ready.Wait()
		runtime.GC()
		runtime.ReadMemStats(&after)
		if rss == 0 {
			// Only the first round: later ones reuse what it took.
			rss = residentBytes() - rssBefore
		}
		heap += float64(after.HeapInuse) - float64(before.HeapInuse)
		stack += float64(after.StackInuse) - float64(before.StackInuse)
		cancel()
		done.Wait()
	}
	b.ReportMetric(heap/float64(b.N*streams), "heap-B/stream")
	b.ReportMetric(stack/float64(b.N*streams), "stack-B/stream")
	if rss != 0 {
		b.ReportMetric(rss/streams, "rss-B/stream")
	}
}

// residentBytes is the resident memory of the process as the kernel counts
// it (VmRSS), 0 where /proc is missing.
func residentBytes() float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%g kB", &kb); err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// lineReader is a log stream of n lines, made as it is read.
type lineReader struct {
	n, i int
	buf  []byte
}

func (r *lineReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.i > r.n {
			return 0, io.EOF
		}
		if r.i == 0 {
			r.buf = append(r.buf, "id: start\ndata: {}\n\n"...)
		} else {
			ts := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.i) * time.Microsecond)
			r.buf = append(r.buf, `id: progress
data: {"namespace":"demo","flowId":"f","executionId":"e1","taskId":"t","taskRunId":"tr1","attemptNumber":1,"timestamp":"`...)
			r.buf = ts.AppendFormat(r.buf, time.RFC3339Nano)
			r.buf = append(r.buf, `","level":"INFO","thread":"worker-1","message":"line `...)
			r.buf = strconv.AppendInt(r.buf, int64(r.i), 10)
			r.buf = append(r.buf, "\"}\n\n"...)
		}
		r.i++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	if len(r.buf) == 0 {
		r.buf = r.buf[:0:cap(r.buf)]
	}
	return n, nil
}

// lineTransport answers a log stream of n lines.
type lineTransport struct{ n int }

func (t lineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Request: req, ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body:   io.NopCloser(&lineReader{n: t.n, buf: make([]byte, 0, 512)})}, nil
}

// BenchmarkLogsFollowLines follows one log stream of b.N lines (run it
// with -benchtime=10000000x for 10 million) and reports, besides B/op per
// line, the live heap at the end of the stream against the live heap
// after a tenth of it: memory must not grow with the lines.
func BenchmarkLogsFollowLines(b *testing.B) {
	c := newClient(b, kestra.Config{URL: "http://kestra.invalid"}, kestra.WithRetry(kestra.NoRetry),
		kestra.WithHTTPClient(&http.Client{Transport: lineTransport{n: b.N}}))
	live := func() float64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc)
	}
	var atTenth, atEnd float64
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for l, err := range c.Logs.Follow(context.Background(), "e1", &kestra.LogFollowOptions{StreamOptions: kestra.StreamOptions{MaxReconnects: -1}}) {
		if err != nil {
			break
		}
		if n++; l.Message != "line "+strconv.Itoa(n) {
			b.Fatalf("line %d is %q", n, l.Message)
		}
		switch n {
		case max(b.N/10, 1):
			b.StopTimer()
			atTenth = live()
			b.StartTimer()
		case b.N:
			b.StopTimer()
			atEnd = live()
			b.StartTimer()
		}
	}
	if n != b.N {
		b.Fatalf("%d lines, want %d", n, b.N)
	}
	b.ReportMetric(atEnd-atTenth, "heap-growth-B")
}
