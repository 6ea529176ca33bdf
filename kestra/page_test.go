package kestra_test

import (
	"encoding/json"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/kestra-go/sdk/kestra"
)

// searchServer answers every search with total items, pages sliced by the
// page and size asked, and records the query of each search.
type searchServer struct {
	mu      sync.Mutex
	queries []url.Values
}

func (s *searchServer) start(t *testing.T, total int, item func(i int) any) *kestra.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.mu.Lock()
		s.queries = append(s.queries, q)
		s.mu.Unlock()
		page, size := queryInt(q.Get("page"), 1), queryInt(q.Get("size"), 10)
		items := []any{}
		for i := (page - 1) * size; i < min(page*size, total); i++ {
			items = append(items, item(i))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"results": items, "total": total})
	}))
	t.Cleanup(srv.Close)
	c, err := kestra.New(kestra.Config{URL: srv.URL}, kestra.WithRetry(kestra.NoRetry))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// countAll ranges over seq and returns how many items it yielded before an
// error.
func countAll[T any](seq iter.Seq2[T, error]) (n int, err error) {
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func queryInt(s string, def int) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	if s == "" {
		return def
	}
	return n
}

// TestAllPagesWithDefaultPageSize: every All, given no Size, asks pages of
// DefaultPageSize from page 1 and yields every item once.
func TestAllPagesWithDefaultPageSize(t *testing.T) {
	total := kestra.DefaultPageSize + 3
	for name, run := range map[string]func(c *kestra.Client) (int, error){
		"Flows":      func(c *kestra.Client) (int, error) { return countAll(c.Flows.All(t.Context(), nil)) },
		"Executions": func(c *kestra.Client) (int, error) { return countAll(c.Executions.All(t.Context(), nil)) },
		"KV":         func(c *kestra.Client) (int, error) { return countAll(c.KV.All(t.Context(), nil)) },
	} {
		t.Run(name, func(t *testing.T) {
			var s searchServer
			c := s.start(t, total, func(i int) any {
				return map[string]any{"id": "x" + strings.Repeat("y", i%3), "namespace": "a", "key": "k"}
			})
			n, err := run(c)
			if err != nil || n != total {
				t.Fatalf("All yielded %d items, %v; want %d", n, err, total)
			}
			if len(s.queries) != 2 {
				t.Fatalf("%d requests, want 2", len(s.queries))
			}
			for i, q := range s.queries {
				if q.Get("page") != []string{"1", "2"}[i] || q.Get("size") != "100" {
					t.Errorf("request %d: page %q size %q, want page %d size 100", i, q.Get("page"), q.Get("size"), i+1)
				}
			}
		})
	}
}

// TestKVAllStartsAtPage: KVSearchOptions pages like every search: All
// starts at ListOptions.Page with ListOptions.Size, and sends the filters.
func TestKVAllStartsAtPage(t *testing.T) {
	var s searchServer
	c := s.start(t, 7, func(i int) any { return map[string]any{"namespace": "app", "key": "k"} })
	n := 0
	for _, err := range c.KV.All(t.Context(), &kestra.KVSearchOptions{Namespace: "app", Query: "k", ListOptions: kestra.ListOptions{Page: 2, Size: 3}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 4 {
		t.Errorf("All from page 2 by 3 of 7 yielded %d, want 4", n)
	}
	want := []string{"page=2&size=3", "page=3&size=3"}
	if len(s.queries) != len(want) {
		t.Fatalf("%d requests, want %d", len(s.queries), len(want))
	}
	for i, q := range s.queries {
		if q.Get("filters[namespace][EQUALS]") != "app" || q.Get("filters[q][EQUALS]") != "k" {
			t.Errorf("request %d: filters %v", i, q)
		}
		q.Del("filters[namespace][EQUALS]")
		q.Del("filters[q][EQUALS]")
		if q.Encode() != want[i] {
			t.Errorf("request %d: %s, want %s", i, q.Encode(), want[i])
		}
	}
}

// TestListFiltersOneForm: flows, executions and triggers write their
// filters in the one form filters[field][OP]=value, labels as
// filters[labels][EQUALS][key]=value, and decode the page's items.
func TestListFiltersOneForm(t *testing.T) {
	var s searchServer
	c := s.start(t, 1, func(int) any {
		return map[string]any{"id": "f", "namespace": "a", "state": map[string]any{"namespace": "a", "flowId": "f", "triggerId": "t"}}
	})
	labels := map[string]string{"team": "data", "env": "prod"}
	fp, err := c.Flows.List(t.Context(), &kestra.FlowSearchOptions{Namespace: "a", IncludeSubNamespaces: true, Labels: labels})
	if err != nil || len(fp.Items) != 1 || fp.Items[0].ID != "f" || fp.Total != 1 {
		t.Fatalf("Flows.List = %+v, %v", fp, err)
	}
	ep, err := c.Executions.List(t.Context(), &kestra.ExecutionSearchOptions{FlowID: "f", Labels: labels})
	if err != nil || len(ep.Items) != 1 || ep.Items[0].ID != "f" {
		t.Fatalf("Executions.List = %+v, %v", ep, err)
	}
	tp, err := c.Triggers.List(t.Context(), &kestra.TriggerSearchOptions{TriggerID: "t"})
	if err != nil || len(tp.Items) != 1 || tp.Items[0].TriggerID != "t" {
		t.Fatalf("Triggers.List = %+v, %v", tp, err)
	}
	want := []string{
		"filters[labels][EQUALS][env]=prod&filters[labels][EQUALS][team]=data&filters[namespace][PREFIX]=a",
		"filters[flowId][EQUALS]=f&filters[labels][EQUALS][env]=prod&filters[labels][EQUALS][team]=data",
		"filters[triggerId][EQUALS]=t",
	}
	if len(s.queries) != len(want) {
		t.Fatalf("%d requests, want %d", len(s.queries), len(want))
	}
	for i, q := range s.queries {
		if got, _ := url.QueryUnescape(q.Encode()); got != want[i] {
			t.Errorf("request %d: %s, want %s", i, got, want[i])
		}
	}
}
