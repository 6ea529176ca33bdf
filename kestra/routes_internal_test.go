package kestra

import (
	"bufio"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// specRoute is one operation of openapi.yaml: its method and the segments
// of its path below /api/v1/.
type specRoute struct {
	method string
	seg    []string
}

func specRoutes(t *testing.T) []specRoute {
	t.Helper()
	f, err := os.Open("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pathRe := regexp.MustCompile(`^  /api/v1/([^:]*):\s*$`)
	methodRe := regexp.MustCompile(`^    (get|put|post|delete|patch):\s*$`)
	var routes []specRoute
	var cur []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := pathRe.FindStringSubmatch(line); m != nil {
			cur = strings.Split(m[1], "/")
			continue
		}
		if strings.HasPrefix(line, "  /") || !strings.HasPrefix(line, " ") {
			cur = nil
		}
		if m := methodRe.FindStringSubmatch(line); m != nil && cur != nil {
			routes = append(routes, specRoute{strings.ToUpper(m[1]), cur})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(routes) < 100 {
		t.Fatalf("read %d routes from openapi.yaml", len(routes))
	}
	return routes
}

// collisions returns, for each parameter of tmpl (a path below /api/v1/),
// the fixed segments of routes that sit in its place in a route of the
// same method and length whose other segments could match; nil when no
// parameter has any.
func collisions(routes []specRoute, method string, tmpl []string) [][]string {
	isParam := func(s string) bool { return strings.HasPrefix(s, "{") }
	words := map[int]map[string]bool{}
	for _, r := range routes {
		if r.method != method || len(r.seg) != len(tmpl) {
			continue
		}
		for i := range tmpl {
			if !isParam(tmpl[i]) || isParam(r.seg[i]) {
				continue
			}
			match := true
			for j := range tmpl {
				if j != i && !isParam(tmpl[j]) && !isParam(r.seg[j]) && tmpl[j] != r.seg[j] {
					match = false
				}
			}
			if match {
				if words[i] == nil {
					words[i] = map[string]bool{}
				}
				words[i][r.seg[i]] = true
			}
		}
	}
	if len(words) == 0 {
		return nil
	}
	var out [][]string
	for i, seg := range tmpl {
		if isParam(seg) {
			out = append(out, slices.Sorted(maps.Keys(words[i])))
		}
	}
	return out
}

// sdkTemplates are the calls of this package whose path takes arguments.
var sdkTemplates = []string{
	"GET executions/{executionId}", "DELETE executions/{executionId}", "GET executions/{executionId}/file",
	"GET executions/{executionId}/follow", "POST executions/{namespace}/{id}",
	"DELETE executions/{executionId}/actions/kill", "POST executions/{executionId}/actions/restart",
	"POST executions/{executionId}/actions/resume", "POST executions/{executionId}/actions/resume-from-breakpoint",
	"POST executions/{executionId}/actions/change-status", "POST executions/{executionId}/actions/force-run",
	"POST executions/{executionId}/actions/unqueue", "POST executions/{executionId}/actions/replay",
	"POST executions/{executionId}/actions/pause", "POST executions/{executionId}/actions/labels",
	"POST executions/{executionId}/actions/eval", "POST executions/{executionId}/actions/eval/{taskRunId}",
	"GET executions/webhook/{namespace}/{id}/{key}", "POST executions/webhook/{namespace}/{id}/{key}",
	"PUT executions/webhook/{namespace}/{id}/{key}",
	"GET flows/{namespace}", "POST flows/{namespace}", "GET flows/{namespace}/{id}", "PUT flows/{namespace}/{id}",
	"DELETE flows/{namespace}/{id}", "GET flows/{namespace}/{id}/revisions",
	"GET logs/{executionId}", "DELETE logs/{executionId}", "GET logs/{executionId}/download", "GET logs/{executionId}/follow",
	"GET namespaces/{namespace}/kv/{key}", "PUT namespaces/{namespace}/kv/{key}", "DELETE namespaces/{namespace}/kv/{key}",
	"GET namespaces/{namespace}/kv/inheritance",
	"GET namespaces/{namespace}/files", "POST namespaces/{namespace}/files", "PUT namespaces/{namespace}/files",
	"DELETE namespaces/{namespace}/files", "GET namespaces/{namespace}/files/directory",
	"POST namespaces/{namespace}/files/directory", "GET namespaces/{namespace}/files/stats",
	"GET namespaces/{namespace}/files/export",
	"POST triggers/{namespace}/{flowId}/{triggerId}/unlock", "POST triggers/{namespace}/{flowId}/{triggerId}/restart",
}

// TestRouteWordsMatchSpec derives, from openapi.yaml, the words each call
// must refuse as an argument, and the words a tenant must not be.
func TestRouteWordsMatchSpec(t *testing.T) {
	routes := specRoutes(t)
	var tenantRoutes []specRoute
	for _, r := range routes {
		if r.seg[0] == "{tenant}" {
			tenantRoutes = append(tenantRoutes, specRoute{r.method, r.seg[1:]})
		}
	}
	for _, key := range sdkTemplates {
		method, tmpl, _ := strings.Cut(key, " ")
		want := collisions(tenantRoutes, method, strings.Split(tmpl, "/"))
		var got [][]string
		for _, words := range routeWords[method][tmpl] {
			got = append(got, slices.Sorted(maps.Keys(words)))
		}
		if !slices.EqualFunc(got, want, func(a, b []string) bool { return slices.Equal(a, b) }) {
			t.Errorf("%s: refused words %q, the spec says %q", key, got, want)
		}
	}
	// The first segment of a route without a tenant, where a route of
	// the same method and length takes the tenant.
	tenant := map[string]bool{}
	for _, r := range routes {
		if r.seg[0] != "{tenant}" {
			continue
		}
		for _, q := range routes {
			if q.seg[0] == "{tenant}" || q.method != r.method || len(q.seg) != len(r.seg) || strings.HasPrefix(q.seg[0], "{") {
				continue
			}
			match := true
			for j := 1; j < len(r.seg); j++ {
				if !strings.HasPrefix(r.seg[j], "{") && !strings.HasPrefix(q.seg[j], "{") && r.seg[j] != q.seg[j] {
					match = false
				}
			}
			if match {
				tenant[q.seg[0]] = true
			}
		}
	}
	want := slices.Sorted(maps.Keys(tenant))
	got := slices.Sorted(maps.Keys(tenantWords))
	if !slices.Equal(got, want) {
		t.Errorf("refused tenants %q, the spec says %q", got, want)
	}
}
