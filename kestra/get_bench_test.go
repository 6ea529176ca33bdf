package kestra_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
)

// benchExecutionJSON builds an execution as Kestra sends it, with n task
// runs, each with two attempts and a few outputs.
func benchExecutionJSON(n int) []byte {
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	state := func(s string, at time.Time) map[string]any {
		return map[string]any{
			"current":   s,
			"startDate": at.Format(time.RFC3339Nano),
			"endDate":   at.Add(1500 * time.Millisecond).Format(time.RFC3339Nano),
			"duration":  "PT1.5S",
			"histories": []map[string]any{
				{"state": "CREATED", "date": at.Format(time.RFC3339Nano)},
				{"state": "RUNNING", "date": at.Add(time.Millisecond).Format(time.RFC3339Nano)},
				{"state": s, "date": at.Add(1500 * time.Millisecond).Format(time.RFC3339Nano)},
			},
		}
	}
	runs := make([]map[string]any, n)
	for i := range runs {
		at := start.Add(time.Duration(i) * time.Second)
		runs[i] = map[string]any{
			"id":          fmt.Sprintf("3mTDtNoUxYvFbQ2Lw%05d", i),
			"executionId": "7a1bGmB1cjb7lCX8xmKTw1",
			"namespace":   "company.team.data",
			"flowId":      "nightly_etl",
			"taskId":      fmt.Sprintf("task_%d", i),
			"attempts": []map[string]any{
				{"state": state("SUCCESS", at), "workerId": "worker-1", "logFile": "kestra:///company/team/data/nightly_etl/executions/7a1bGmB1cjb7lCX8xmKTw1/tasks/log.txt"},
			},
			"outputs": map[string]any{"value": fmt.Sprintf("row batch %d done", i), "count": i * 17, "ok": true},
			"state":   state("SUCCESS", at),
		}
	}
	e := map[string]any{
		"tenantId":     "main",
		"id":           "7a1bGmB1cjb7lCX8xmKTw1",
		"namespace":    "company.team.data",
		"flowId":       "nightly_etl",
		"flowRevision": 12,
		"taskRunList":  runs,
		"inputs":       map[string]any{"date": "2026-11-01", "limit": 1000, "dryRun": false, "config": map[string]any{"region": "eu-west-1"}},
		"outputs":      map[string]any{"rows": 123456},
		"labels":       []map[string]any{{"key": "team", "value": "data"}, {"key": "system.from", "value": "api"}},
		"state":        state("SUCCESS", start),
		"originalId":   "7a1bGmB1cjb7lCX8xmKTw1",
		"deleted":      false,
		"metadata":     map[string]any{"attemptNumber": 1, "originalCreatedDate": start.Format(time.RFC3339Nano)},
		"kind":         "NORMAL",
		"trigger":      map[string]any{"id": "schedule", "type": "io.kestra.plugin.core.trigger.Schedule", "variables": map[string]any{"date": start.Format(time.RFC3339Nano)}},
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

func benchServer(b *testing.B, body []byte) *httptest.Server {
	b.Helper()
	return startServer(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, _ = w.Write(body)
	})
}

// rawGet is the floor the SDK is measured against: net/http and
// encoding/json into the same type, on a keep-alive connection.
func rawGet(hc *http.Client, url string) (*kestra.Execution, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Basic YWRtaW46c2VjcmV0")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var e kestra.Execution
	return &e, json.Unmarshal(body, &e)
}

func rawClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128
	return &http.Client{Transport: t}
}

// BenchmarkGet compares Executions.Get with the raw floor, for a small
// (~2 KB) and a large (~300 KB, 500 task runs) execution, sequentially and
// with 8 and 64 goroutines sharing one client. Compare ns/op and allocs/op
// of each sdk/raw pair.
func BenchmarkGet(b *testing.B) {
	for _, size := range []struct {
		name string
		runs int
	}{{"small", 1}, {"large", 500}} {
		body := benchExecutionJSON(size.runs)
		for _, par := range []int{1, 8, 64} {
			name := fmt.Sprintf("%s/par=%d", size.name, par)
			b.Run(name+"/raw", func(b *testing.B) {
				srv := benchServer(b, body)
				hc := rawClient()
				url := srv.URL + "/api/v1/main/executions/7a1bGmB1cjb7lCX8xmKTw1"
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				runBench(b, par, func() error { _, err := rawGet(hc, url); return err })
			})
			b.Run(name+"/sdk", func(b *testing.B) {
				srv := benchServer(b, body)
				c := newClient(b, kestra.Config{URL: srv.URL, Username: "admin", Password: "secret"})
				ctx := b.Context()
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				runBench(b, par, func() error { _, err := c.Executions.Get(ctx, "7a1bGmB1cjb7lCX8xmKTw1"); return err })
			})
		}
	}
}

func runBench(b *testing.B, par int, call func() error) {
	b.Helper()
	if par == 1 {
		for b.Loop() {
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	var failed atomic.Value
	b.SetParallelism(max(1, par/max(1, runtime.GOMAXPROCS(0))))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := call(); err != nil {
				failed.Store(err)
				return
			}
		}
	})
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}
