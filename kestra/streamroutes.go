package kestra

import (
	"strings"
	"sync"
)

//go:generate go run ../internal/emulator/specops -streams ../openapi.yaml streamroutes.gen.go

// route is an operation of the Kestra API: method and path template.
type route struct{ method, path string }

// streamTemplates are the segments of each of streamRoutes' templates,
// from "api" on.
var streamTemplates = sync.OnceValue(func() [][]string {
	out := make([][]string, len(streamRoutes))
	for i, r := range streamRoutes {
		out[i] = strings.Split(strings.TrimPrefix(r.path, "/"), "/")
	}
	return out
})

// streamRoute reports whether a request of the generated client
// ([Client.API]) is to an operation whose answer is a stream or a download
// (streamRoutes, from openapi.yaml): such a call is bounded by its context
// only. The path is matched from its "/api/v1/" on, so that a prefix of a
// reverse proxy does not matter; a template segment {name} matches any one
// segment. A path of another operation that also fits a stream template
// (a tenant named "plugins" ...) is taken for the stream: it loses only the
// client's timeout.
func streamRoute(method, escapedPath string) bool {
	i := strings.Index(escapedPath, "/api/v1/")
	if i < 0 {
		return false
	}
	segs := strings.Split(escapedPath[i+1:], "/")
	for j, tmpl := range streamTemplates() {
		if streamRoutes[j].method == method && fits(tmpl, segs) {
			return true
		}
	}
	return false
}

// fits reports whether the segments of a path fit those of a template.
func fits(tmpl, segs []string) bool {
	if len(tmpl) != len(segs) {
		return false
	}
	for i, t := range tmpl {
		param := strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}")
		if segs[i] == "" || (t != segs[i] && !param) {
			return false
		}
	}
	return true
}
