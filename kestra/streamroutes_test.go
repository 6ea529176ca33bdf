package kestra

import "testing"

func TestStreamRoute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/api/v1/main/executions/abc/follow", true},
		{"GET", "/kestra/api/v1/main/logs/abc/follow", true},
		{"GET", "/api/v1/main/logs/abc/download", true},
		{"GET", "/api/v1/main/executions/abc/file", true},
		{"POST", "/api/v1/main/executions/webhook/ns/f/key", true},
		{"GET", "/api/v1/main/namespaces/company.team/files", true},
		{"GET", "/api/v1/main/executions/abc", false},
		{"POST", "/api/v1/main/executions/abc/follow", false},
		{"GET", "/api/v1/main/executions/abc/follow/more", false},
		{"GET", "/api/v1/main/executions//follow", false},
		{"GET", "/api/v1/main/flows/company.team/export", false},
		{"GET", "/executions/abc/follow", false},
	} {
		if got := streamRoute(tc.method, tc.path); got != tc.want {
			t.Errorf("streamRoute(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}
