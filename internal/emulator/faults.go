package emulator

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Fault describes a misbehaviour the server applies to matching requests,
// for testing clients' retries and reconnects. Exactly what happens depends
// on the fields set; several may combine (Latency then Status, for example).
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path matches the request path as the client sent it, before tenant
	// aliasing. A '*' matches any run of characters, including '/'; the
	// whole path must match. Empty matches any path.
	Path string
	// Times is how many matching requests the fault applies to; 0 means
	// every matching request until the fault is removed.
	Times int

	// Latency delays the request before anything else happens.
	Latency time.Duration
	// Status, when non-zero, answers with this status instead of serving.
	Status int
	// RetryAfter, with Status, is sent as the Retry-After header.
	RetryAfter string
	// Message, with Status, is sent as a JsonError body with this message;
	// when empty, the body is empty.
	Message string
	// Reset serves the request but drops the connection (no clean end of
	// the response) once ResetAfterBytes body bytes have been written, or
	// when the handler finishes, whichever comes first. With
	// ResetAfterBytes 0 the connection is dropped before any response.
	Reset           bool
	ResetAfterBytes int
	// DropAfterFrames, when positive, drops the connection of a follow
	// stream (execution or logs) right after that many SSE frames, without
	// the end of the chunked body: a lost connection, not a clean end.
	DropAfterFrames int
}

type faultEntry struct {
	f         Fault
	re        *regexp.Regexp
	remaining int // -1 for unlimited
}

func globToRegexp(p string) *regexp.Regexp {
	if p == "" {
		return nil
	}
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// InjectFault adds a fault; the returned function removes it. Faults are
// checked in the order they were added.
func (s *Server) InjectFault(f Fault) (remove func()) {
	fe := &faultEntry{f: f, re: globToRegexp(f.Path), remaining: f.Times}
	if f.Times <= 0 {
		fe.remaining = -1
	}
	s.httpMu.Lock()
	s.faults = append(s.faults, fe)
	s.httpMu.Unlock()
	return func() {
		s.httpMu.Lock()
		defer s.httpMu.Unlock()
		for i, x := range s.faults {
			if x == fe {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
				return
			}
		}
	}
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.httpMu.Lock()
	s.faults = nil
	s.httpMu.Unlock()
}

// matchFaults returns the faults that apply to r, consuming one use of each.
// Latencies add up; the first fault with Status, Reset or DropAfterFrames
// decides the rest.
func (s *Server) matchFaults(r *http.Request) (latency time.Duration, action *Fault) {
	s.httpMu.Lock()
	defer s.httpMu.Unlock()
	kept := s.faults[:0]
	for _, fe := range s.faults {
		match := (fe.f.Method == "" || strings.EqualFold(fe.f.Method, r.Method)) &&
			(fe.re == nil || fe.re.MatchString(r.URL.Path))
		isAction := fe.f.Status != 0 || fe.f.Reset || fe.f.DropAfterFrames > 0
		if match && (!isAction || action == nil) {
			latency += fe.f.Latency
			if isAction {
				f := fe.f
				action = &f
			}
			if fe.remaining > 0 {
				fe.remaining--
				if fe.remaining == 0 {
					continue
				}
			}
		}
		kept = append(kept, fe)
	}
	clear(s.faults[len(kept):])
	s.faults = kept
	return latency, action
}

// dropConn hijacks the connection and closes it, so the client sees the
// response cut short.
func dropConn(w http.ResponseWriter) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if buf != nil {
		_ = buf.Flush()
	}
	_ = conn.Close()
}

// resetWriter drops the connection once limit body bytes were written.
type resetWriter struct {
	http.ResponseWriter
	mu      sync.Mutex
	limit   int
	written int
	dropped bool
}

func (rw *resetWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.dropped {
		return 0, net.ErrClosed
	}
	n := len(p)
	if rw.written+n >= rw.limit {
		n = rw.limit - rw.written
	}
	if n > 0 {
		if _, err := rw.ResponseWriter.Write(p[:n]); err != nil {
			return 0, err
		}
		rw.written += n
	}
	if rw.written >= rw.limit {
		rw.dropLocked()
		return n, net.ErrClosed
	}
	return n, nil
}

func (rw *resetWriter) dropLocked() {
	if rw.dropped {
		return
	}
	rw.dropped = true
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
	dropConn(rw.ResponseWriter)
}

func (rw *resetWriter) finish() {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.dropLocked()
}

func (rw *resetWriter) Flush() {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if !rw.dropped {
		_ = http.NewResponseController(rw.ResponseWriter).Flush()
	}
}

func (rw *resetWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(rw.ResponseWriter).Hijack()
}

func (rw *resetWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// dropAfterFrames is the DropAfterFrames of the fault applied to the
// request, or 0.
func dropAfterFrames(ctx context.Context) int {
	if f, ok := ctx.Value(ctxFault).(*Fault); ok {
		return f.DropAfterFrames
	}
	return 0
}

// middleware records the request, applies faults, checks credentials and
// the tenant, then routes.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		latency, f := s.matchFaults(r)
		if latency > 0 {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-s.done():
				t.Stop()
			}
		}
		ctx := withOrigURI(r.Context(), r.URL.RequestURI())
		if f != nil {
			if mark, ok := r.Context().Value(ctxFaultMark).(*bool); ok {
				*mark = true
			}
			s.cfg.logger.Info("fault injected", "method", r.Method, "path", r.URL.Path,
				"status", f.Status, "reset", f.Reset, "dropAfterFrames", f.DropAfterFrames)
			switch {
			case f.Status != 0:
				if f.RetryAfter != "" {
					w.Header().Set("Retry-After", f.RetryAfter)
				}
				if f.Message != "" {
					writeJSONError(w, r, f.Status, f.Message, nil)
				} else {
					w.WriteHeader(f.Status)
				}
				return
			case f.Reset && f.ResetAfterBytes <= 0:
				dropConn(w)
				return
			case f.Reset:
				rw := &resetWriter{ResponseWriter: w, limit: f.ResetAfterBytes}
				defer rw.finish()
				w = rw
			}
			ctx = context.WithValue(ctx, ctxFault, f)
		}
		if s.isClosed() {
			writeJSONError(w, r, http.StatusServiceUnavailable, "Service Unavailable: server closed", nil)
			return
		}
		if !isOpenPath(r.URL.Path) && !s.authorized(r) {
			unauthorized(w, r)
			return
		}
		path, aerr := s.rewriteTenant(r.URL.Path)
		if aerr != nil {
			writeError(w, r.WithContext(ctx), aerr)
			return
		}
		r2 := r.WithContext(ctx)
		if path != r.URL.Path {
			u := *r.URL
			u.Path, u.RawPath = path, ""
			r2.URL = &u
		}
		if s.notEmulated(w, r2) {
			return
		}
		next.ServeHTTP(w, r2)
	})
}
