package emulator

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaultStatus(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.InjectFault(Fault{Method: "GET", Path: "/api/v1/main/flows/*", Times: 2, Status: 503, RetryAfter: "1", Message: "Service Unavailable: try later"})
	for i := range 2 {
		r := ts.get("/api/v1/main/flows/search")
		m := assertJSONError(t, r, 503, "Service Unavailable: try later")
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("request %d: Retry-After = %q", i, r.header.Get("Retry-After"))
		}
		_ = m
	}
	if r := ts.get("/api/v1/main/flows/search"); r.status != 200 {
		t.Errorf("third request: %d", r.status)
	}
	// Method mismatch does not match; empty message means empty body.
	remove := ts.InjectFault(Fault{Method: "POST", Status: 429})
	if r := ts.get("/api/v1/main/flows/search"); r.status != 200 {
		t.Errorf("GET with POST fault: %d", r.status)
	}
	r := ts.do("POST", "/api/v1/main/flows", strings.NewReader(helloFlow), yamlHeader())
	if r.status != 429 || len(r.body) != 0 {
		t.Errorf("POST fault: %d %q", r.status, r.body)
	}
	remove()
	if r := ts.do("POST", "/api/v1/main/flows", strings.NewReader(helloFlow), yamlHeader()); r.status != 200 {
		t.Errorf("after remove: %d", r.status)
	}
	if ts.FlowCount() != 1 {
		t.Errorf("FlowCount = %d", ts.FlowCount())
	}
	ts.InjectFault(Fault{Status: 500})
	ts.ClearFaults()
	if r := ts.get("/ping"); r.status != 200 {
		t.Errorf("after clear: %d", r.status)
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.InjectFault(Fault{Path: "/ping", Latency: 100 * time.Millisecond, Times: 1})
	start := time.Now()
	ts.get("/ping")
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("latency %v", d)
	}
	start = time.Now()
	ts.get("/ping")
	if d := time.Since(start); d > 90*time.Millisecond {
		t.Errorf("second request delayed %v", d)
	}
}

func TestFaultReset(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	// Before any response.
	ts.InjectFault(Fault{Path: "*/flows/search", Reset: true, Times: 1})
	// A fresh connection: Go retries a GET that failed on a reused one.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.url+"/api/v1/main/flows/search", nil)
	if resp, err := fresh.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("reset before response: got %d", resp.StatusCode)
	}
	// Mid-response.
	ts.InjectFault(Fault{Path: "*/flows/search", Reset: true, ResetAfterBytes: 10, Times: 1})
	req, _ = http.NewRequestWithContext(t.Context(), "GET", ts.url+"/api/v1/main/flows/search", nil)
	ts.authorize(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("reset mid-response: headers lost: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(b) != 10 {
		t.Errorf("mid-response reset read %d bytes, err %v", len(b), err)
	}
	if r := ts.get("/api/v1/main/flows/search"); r.status != 200 {
		t.Errorf("after reset: %d", r.status)
	}
}

func TestFaultDropStream(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSpeed(5))
	ts.createFlow(failFlow)
	id := ts.execute("company.team", "failing", "", nil).json(t)["id"].(string)
	ts.InjectFault(Fault{Path: "*/follow", DropAfterFrames: 2, Times: 1})
	resp := ts.openStream(t.Context(), "/api/v1/main/executions/"+id+"/follow")
	br := bufio.NewReader(resp.Body)
	for i := range 2 {
		if _, err := readFrame(t, br); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("after drop: %v, want unexpected EOF", err)
	}
	// The next follow is whole.
	resp = ts.openStream(t.Context(), "/api/v1/main/executions/"+id+"/follow")
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Errorf("second follow: %v", err)
	}
}

func TestRequestsInspection(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithRequestLogSize(3))
	ts.do("GET", "/api/v1/main/flows/search?filters[namespace][EQUALS]=a&page=2", nil, header{"X-Test": "1"})
	reqs := ts.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != "GET" || last.Path != "/api/v1/main/flows/search" || last.RawQuery != "filters[namespace][EQUALS]=a&page=2" || last.Header.Get("X-Test") != "1" {
		t.Errorf("request = %+v", last)
	}
	for range 5 {
		ts.get("/ping")
	}
	if n := len(ts.Requests()); n != 3 {
		t.Errorf("kept %d requests, want 3", n)
	}
	ts.ClearRequests()
	if n := len(ts.Requests()); n != 0 {
		t.Errorf("after clear: %d", n)
	}
}
