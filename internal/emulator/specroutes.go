package emulator

//go:generate go run ./specops ../../openapi.yaml specops.gen.go

import (
	"net/http"
	"strconv"
	"strings"
)

// specOperation is one operation of openapi.yaml (specops.gen.go).
type specOperation struct{ method, path, id string }

// specRoute is an operation of openapi.yaml as the router matches it.
type specRoute struct {
	op       specOperation
	segs     []string // path segments; "" is a {variable}
	literals int
	emulated bool
}

// combinedRoutes are operations a single, broader pattern serves (two
// ServeMux patterns for them would conflict): see routes.
var combinedRoutes = map[string]bool{
	"triggerExecutionByPostWebhook": true,
	"evalTaskRunExpression":         true,
}

// splitPattern returns the segments of a path template or ServeMux
// pattern path, "" standing for a variable, and how many are literal.
func splitPattern(path string) ([]string, int) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	n := 0
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = ""
		} else {
			n++
		}
	}
	return segs, n
}

func sameSegments(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// buildSpecRoutes indexes the operations of openapi.yaml and marks those
// a registered route serves.
func (s *Server) buildSpecRoutes() {
	type reg struct {
		method string
		segs   []string
	}
	var regs []reg
	for _, p := range s.patterns {
		m, path, _ := strings.Cut(p, " ")
		segs, _ := splitPattern(path)
		regs = append(regs, reg{m, segs})
	}
	s.specRoutes = map[string][]*specRoute{}
	s.specRoots = map[string]bool{}
	for _, op := range specOperations {
		segs, lit := splitPattern(op.path)
		sr := &specRoute{op: op, segs: segs, literals: lit}
		for _, r := range regs {
			if r.method == op.method && sameSegments(r.segs, segs) {
				sr.emulated = true
			}
		}
		if combinedRoutes[op.id] && s.cfg.version == Version20 {
			sr.emulated = true
		}
		k := specKey(op.method, len(segs))
		s.specRoutes[k] = append(s.specRoutes[k], sr)
		if len(segs) > 2 && segs[2] != "" {
			s.specRoots[segs[2]] = true
		}
	}
}

// specKey indexes the operations by method and number of path segments.
func specKey(method string, segments int) string {
	return method + " " + strconv.Itoa(segments)
}

// matchSpec returns the operation of openapi.yaml a request goes to, as
// Micronaut picks among matching routes the one with the most literal
// segments, or nil.
func (s *Server) matchSpec(method, path string) *specRoute {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *specRoute
	for _, sr := range s.specRoutes[specKey(method, len(segs))] {
		ok := true
		for i, x := range sr.segs {
			if x != "" && x != segs[i] || x == "" && segs[i] == "" {
				ok = false
				break
			}
		}
		if ok && (best == nil || sr.literals > best.literals) {
			best = sr
		}
	}
	return best
}

// notEmulated answers a request that goes to an operation of openapi.yaml
// the emulator does not emulate, unless a route of the emulator is at
// least as specific. It reports whether it answered.
func (s *Server) notEmulated(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.version != Version20 {
		// openapi.yaml describes the 2.0 API: a 1.3 server answers what
		// 1.3 has, and 404 where a 2.0 path does not exist there (the SDK
		// falls back to the 1.3 path on that 404).
		return false
	}
	sr := s.matchSpec(r.Method, r.URL.Path)
	if sr == nil || sr.emulated {
		return false
	}
	if _, pat := s.mux.Handler(r); pat != "" && pat != "/" {
		_, path, _ := strings.Cut(pat, " ")
		if _, lit := splitPattern(path); lit >= sr.literals {
			return false
		}
	}
	writeJSON(w, http.StatusNotImplemented, notEmulatedBody{
		Message:     "Not Implemented: operation " + sr.op.id + " (" + sr.op.method + " " + sr.op.path + ") is not emulated",
		OperationID: sr.op.id,
		Links:       jsonErrorLinks{Self: jsonErrorLink{Href: selfHref(r)}},
	})
	return true
}

// notEmulatedBody is a JsonError that also names the operation.
type notEmulatedBody struct {
	Message     string         `json:"message"`
	OperationID string         `json:"operationId"`
	Links       jsonErrorLinks `json:"_links"`
}

// EmulatedOperations returns the operationIds of openapi.yaml the server
// emulates, and how many operations the document has.
func (s *Server) EmulatedOperations() (ids []string, total int) {
	for _, op := range specOperations {
		segs, _ := splitPattern(op.path)
		for _, sr := range s.specRoutes[specKey(op.method, len(segs))] {
			if sr.op.id == op.id && sr.emulated {
				ids = append(ids, op.id)
			}
		}
	}
	return ids, len(specOperations)
}
