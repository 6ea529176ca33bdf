package emulator

import (
	"net/http"
	"time"
)

// Request is what the server saw of one request (everything but the body).
type Request struct {
	Method   string
	Path     string // as sent, before tenant aliasing
	RawQuery string
	Header   http.Header
	Time     time.Time
}

func (s *Server) record(r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Time: now()}
	s.httpMu.Lock()
	defer s.httpMu.Unlock()
	if s.cfg.maxReqLog <= 0 {
		return
	}
	if len(s.requests) >= s.cfg.maxReqLog {
		n := copy(s.requests, s.requests[len(s.requests)-s.cfg.maxReqLog+1:])
		clear(s.requests[n:])
		s.requests = s.requests[:n]
	}
	s.requests = append(s.requests, req)
}

// Requests returns the requests the server received, oldest first
// (bounded by [WithRequestLogSize]).
func (s *Server) Requests() []Request {
	s.httpMu.Lock()
	defer s.httpMu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// ClearRequests forgets the recorded requests.
func (s *Server) ClearRequests() {
	s.httpMu.Lock()
	defer s.httpMu.Unlock()
	clear(s.requests)
	s.requests = s.requests[:0]
}

// ExecutionCount returns how many executions exist (deleted ones are
// gone).
func (s *Server) ExecutionCount() int { return s.engine.counts().executions }

// ExecutionsCreated returns how many executions were ever created,
// including deleted ones.
func (s *Server) ExecutionsCreated() int { return s.engine.counts().created }

// FlowCount returns how many flows exist and are not deleted.
func (s *Server) FlowCount() int { return s.engine.counts().flows }

// LogCount returns how many log lines are stored for an execution.
func (s *Server) LogCount(executionID string) int { return s.engine.logCount(executionID) }
