package emulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type frame struct {
	id   string
	data []byte
}

// openStream starts a GET and returns the response for reading frames.
func (ts *testServer) openStream(ctx context.Context, path string) *http.Response {
	ts.t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", ts.url+path, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.authorize(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// readFrame reads one frame and checks its exact layout:
// "id: <tag>\ndata: <json>\n\n".
func readFrame(t *testing.T, br *bufio.Reader) (frame, error) {
	t.Helper()
	idLine, err := br.ReadString('\n')
	if err != nil {
		return frame{}, err
	}
	dataLine, err := br.ReadString('\n')
	if err != nil {
		return frame{}, err
	}
	blank, err := br.ReadString('\n')
	if err != nil {
		return frame{}, err
	}
	if !strings.HasPrefix(idLine, "id: ") || !strings.HasPrefix(dataLine, "data: ") || blank != "\n" {
		t.Fatalf("bad frame: %q %q %q", idLine, dataLine, blank)
	}
	return frame{id: strings.TrimSuffix(idLine[4:], "\n"), data: []byte(strings.TrimSuffix(dataLine[6:], "\n"))}, nil
}

func TestFollowExecutionFraming(t *testing.T) {
	t.Parallel()
	// Slow enough (50ms a step) for the follow to connect while CREATED.
	ts := newTestServer(t, WithSpeed(2))
	ts.createFlow(failFlow)
	id := ts.execute("company.team", "failing", "", nil).json(t)["id"].(string)
	resp := ts.openStream(t.Context(), "/api/v1/main/executions/"+id+"/follow")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("follow: %d %v", resp.StatusCode, resp.Header)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
	wantStart := "id: start\ndata: {\"id\":\"" + id + "\",\"labels\":[],\"deleted\":false}\n\n"
	if !bytes.HasPrefix(raw, []byte(wantStart)) {
		t.Fatalf("start frame = %q", raw[:min(len(raw), len(wantStart))])
	}
	br := bufio.NewReader(bytes.NewReader(raw))
	var frames []frame
	for {
		f, err := readFrame(t, br)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	if frames[0].id != "start" || frames[len(frames)-1].id != "end" {
		t.Fatalf("first %s last %s", frames[0].id, frames[len(frames)-1].id)
	}
	// Every step is a frame: the sequence of (execution state, task run
	// states) never skips one.
	var steps []string
	for _, f := range frames[1:] {
		if f.id != "progress" && f.id != "end" {
			t.Fatalf("frame id %q", f.id)
		}
		var e executionJSON
		if err := json.Unmarshal(f.data, &e); err != nil {
			t.Fatal(err)
		}
		if e.Deleted == nil {
			t.Error("follow frames carry the full Execution (deleted)")
		}
		step := e.State.Current
		for _, tr := range e.TaskRunList {
			step += " " + tr.TaskID + "=" + tr.State.Current
		}
		steps = append(steps, step)
	}
	want := []string{
		"CREATED",
		"RUNNING",
		"RUNNING log=CREATED",
		"RUNNING log=RUNNING",
		"RUNNING log=SUCCESS",
		"RUNNING log=SUCCESS ret=CREATED",
		"RUNNING log=SUCCESS ret=RUNNING",
		"RUNNING log=SUCCESS ret=SUCCESS",
		"RUNNING log=SUCCESS ret=SUCCESS fail=CREATED",
		"RUNNING log=SUCCESS ret=SUCCESS fail=RUNNING",
		"RUNNING log=SUCCESS ret=SUCCESS fail=FAILED",
		"FAILED log=SUCCESS ret=SUCCESS fail=FAILED",
	}
	// The first frame is the snapshot at connection time: on a loaded
	// machine the stream may connect a step or two late. From there on, no
	// step may be skipped.
	from := slices.Index(want, steps[0])
	if from < 0 || strings.Join(steps, "\n") != strings.Join(want[from:], "\n") {
		t.Errorf("steps:\n%s\nwant (a suffix of):\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
	// The end frame carries task outputs (full Execution).
	if !bytes.Contains(frames[len(frames)-1].data, []byte(`"outputs":{"value":"value-company.team"}`)) {
		t.Errorf("end frame without outputs: %s", frames[len(frames)-1].data)
	}
}

func TestFollowFinishedExecution(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	id := ts.execute("company.team", "hello", "wait=true", nil).json(t)["id"].(string)
	resp := ts.openStream(t.Context(), "/api/v1/main/executions/"+id+"/follow")
	br := bufio.NewReader(resp.Body)
	var ids []string
	for {
		f, err := readFrame(t, br)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.id)
	}
	if strings.Join(ids, ",") != "start,end" {
		t.Errorf("frames = %v", ids)
	}
}

func TestFollowUnknownExecution(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	resp := ts.openStream(t.Context(), "/api/v1/main/executions/nope/follow")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	f, err := readFrame(t, br)
	if err != nil || f.id != "start" || string(f.data) != `{"id":"nope","labels":[],"deleted":false}` {
		t.Fatalf("start = %v %s %v", f.id, f.data, err)
	}
	_, err = io.ReadAll(br)
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("unknown execution stream ended with %v, want a cut connection", err)
	}
}

func TestFollowLogs(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSpeed(50))
	ts.createFlow(pauseFlow)
	id := ts.execute("company.team", "pausing", "", nil).json(t)["id"].(string)
	ts.waitState(id, "PAUSED")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	resp := ts.openStream(ctx, "/api/v1/main/logs/"+id+"/follow?filters[level][GREATER_THAN_OR_EQUAL_TO]=INFO")
	br := bufio.NewReader(resp.Body)
	f, err := readFrame(t, br)
	if err != nil || f.id != "start" || string(f.data) != "{}" {
		t.Fatalf("start = %v %s %v", f.id, f.data, err)
	}
	f, err = readFrame(t, br) // history
	if err != nil || f.id != "progress" || !bytes.Contains(f.data, []byte(`"message":"before"`)) {
		t.Fatalf("history = %v %s %v", f.id, f.data, err)
	}
	body, ct := multipartBody(t, map[string]string{"approved": "false"}, nil)
	ts.do("POST", "/api/v1/main/executions/"+id+"/actions/resume", body, header{"Content-Type": ct})
	f, err = readFrame(t, br) // live
	if err != nil || !bytes.Contains(f.data, []byte(`"message":"approved=false"`)) {
		t.Fatalf("live = %v %s %v", f.id, f.data, err)
	}
	ts.waitState(id, "SUCCESS")
	// The stream stays open after the execution ended.
	done := make(chan error, 1)
	go func() { _, err := br.ReadByte(); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("log stream ended by itself: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	<-done
}

func TestFollowLogs13(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithVersion(Version13))
	ts.createFlow(failFlow)
	id := ts.execute("company.team", "failing", "wait=true", nil).json(t)["id"].(string)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	resp := ts.openStream(ctx, "/api/v1/main/logs/"+id+"/follow?minLevel=ERROR")
	br := bufio.NewReader(resp.Body)
	f, _ := readFrame(t, br)
	if string(f.data) != `{"attemptNumber":null}` {
		t.Errorf("1.3 start = %s", f.data)
	}
	f, _ = readFrame(t, br)
	if !bytes.Contains(f.data, []byte(`"level":"ERROR"`)) {
		t.Errorf("minLevel=ERROR gave %s", f.data)
	}
}

// Deleting a running execution only purges its rows (ExecutionService#delete,
// Kestra 1.3.19 and 2.0.0-SNAPSHOT); the executor then finds no row and
// moves it no further (AbstractJdbcExecutionRepository#lock), so a
// follower gets no end frame and wait=true holds: both stay open until the
// client or the server goes.
func TestDeleteRunningExecutionLeavesFollowersOpen(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSpeed(1))
	ts.createFlow("id: slow\nnamespace: a\ntasks:\n  - id: s\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT1H\n")
	id := ts.execute("a", "slow", "", nil).json(t)["id"].(string)
	ts.waitState(id, "RUNNING")
	resp := ts.openStream(t.Context(), "/api/v1/main/executions/"+id+"/follow")
	br := bufio.NewReader(resp.Body)
	for _, want := range []string{"start", "progress"} {
		if f, err := readFrame(t, br); err != nil || f.id != want {
			t.Fatalf("frame %q: %v %v", want, f.id, err)
		}
	}
	waitCtx, cancelWait := context.WithCancel(t.Context())
	waited := make(chan error, 1)
	go func() {
		body, ct := multipartBody(t, nil, nil)
		req, _ := http.NewRequestWithContext(waitCtx, "POST", ts.url+"/api/v1/main/executions/a/slow?wait=true", body)
		req.Header.Set("Content-Type", ct)
		ts.authorize(req)
		r, err := http.DefaultClient.Do(req)
		if err == nil {
			r.Body.Close()
			err = errors.New("wait=true answered " + r.Status)
		}
		waited <- err
	}()
	for ts.ExecutionCount() < 2 {
		time.Sleep(time.Millisecond)
	}
	ts.mu.Lock()
	var waiting *execution
	for _, ex := range ts.execs {
		if ex.e.ID != id {
			waiting = ex
		}
	}
	ts.mu.Unlock()
	for ts.followers(waiting) == 0 {
		time.Sleep(time.Millisecond)
	}
	for _, del := range []string{id, waiting.e.ID} {
		if r := ts.do("DELETE", "/api/v1/main/executions/"+del, nil, nil); r.status != 204 {
			t.Fatalf("delete: %d", r.status)
		}
	}
	assertJSONError(t, ts.get("/api/v1/main/executions/"+id), 404, "Not Found")
	// The followers are still there, not told anything.
	ts.mu.Lock()
	ex := ts.execs[id]
	ts.mu.Unlock()
	if ex != nil {
		t.Fatal("deleted execution still listed")
	}
	if n := ts.followers(waiting); n != 1 {
		t.Errorf("%d wait=true followers after delete, want 1 still waiting", n)
	}
	cancelWait()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Errorf("wait=true on a deleted execution: %v, want it held until the client gave up", err)
	}
	// Closing the server ends the follow stream cleanly, with no end frame
	// and no cut before.
	ts.Close()
	rest, err := io.ReadAll(br)
	if err != nil || len(rest) != 0 {
		t.Errorf("follow of a deleted execution: %q, %v; want silence then a clean close", rest, err)
	}
}

// followers returns how many followers (follow streams, wait=true
// requests) ex has.
func (s *Server) followers(ex *execution) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(ex.subs)
}

// Kestra gives up on a silent execution after an hour: wait=true answers
// 500 with Reactor's timeout (the execution goes on), and the follow
// streams are cut after an hour without a frame (the Reactor timeout of
// ExecutionController#createExecution and #follow, LogController#follow,
// 1.3.19 and 2.0.0-SNAPSHOT). An hour is 100ms here.
func TestHourTimeouts_ExecutionControllerReactorTimeout(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSpeed(36000))
	ts.createFlow(pauseFlow)
	r := ts.execute("company.team", "pausing", "wait=true", nil)
	m := assertJSONError(t, r, 500, "")
	if want := "Internal server error: Did not observe any item or terminal signal within 3600000ms in 'map' (and no fallback has been configured)"; m["message"] != want {
		t.Errorf("message = %q, want %q", m["message"], want)
	}
	res := ts.get("/api/v1/main/executions/search?filters[namespace][EQUALS]=company.team").json(t)["results"].([]any)
	if len(res) != 1 {
		t.Fatalf("%d executions after the timeout, want the one still there", len(res))
	}
	id := res[0].(map[string]any)["id"].(string)
	ts.waitState(id, "PAUSED")

	for _, path := range []string{"/api/v1/main/executions/" + id + "/follow", "/api/v1/main/logs/" + id + "/follow"} {
		resp := ts.openStream(t.Context(), path)
		br := bufio.NewReader(resp.Body)
		if f, err := readFrame(t, br); err != nil || f.id != "start" {
			t.Fatalf("%s: first frame %q, %v", path, f.id, err)
		}
		_, err := io.ReadAll(br)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: a silent stream ended with %v, want it cut", path, err)
		}
	}
}
