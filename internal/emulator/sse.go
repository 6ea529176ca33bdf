package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// sseWriter writes SSE frames as Micronaut does (id then data), flushing
// after each one, and applies a DropAfterFrames fault.
type sseWriter struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	frames int
	dropAt int
	buf    bytes.Buffer
}

func newSSEWriter(w http.ResponseWriter, r *http.Request) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	sw := &sseWriter{w: w, rc: http.NewResponseController(w), dropAt: dropAfterFrames(r.Context())}
	_ = sw.rc.Flush()
	return sw
}

// frame writes one frame; false when the connection is gone or was dropped
// by a fault.
func (sw *sseWriter) frame(id string, data []byte) bool {
	sw.buf.Reset()
	sw.buf.WriteString("id: ")
	sw.buf.WriteString(id)
	sw.buf.WriteString("\ndata: ")
	sw.buf.Write(data)
	sw.buf.WriteString("\n\n")
	if _, err := sw.w.Write(sw.buf.Bytes()); err != nil {
		return false
	}
	if err := sw.rc.Flush(); err != nil {
		return false
	}
	sw.frames++
	if sw.dropAt > 0 && sw.frames >= sw.dropAt {
		dropConn(sw.w)
		return false
	}
	return true
}

// startFrame is the data of the first execution follow frame: an
// Execution built with only its id.
func startFrame(id string) []byte {
	b, _ := json.Marshal(struct {
		ID      string  `json:"id"`
		Labels  []Label `json:"labels"`
		Deleted bool    `json:"deleted"`
	}{ID: id, Labels: []Label{}})
	return b
}

// followExecution serves GET /executions/{id}/follow.
func (s *Server) followExecution(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("executionId")
	sw := newSSEWriter(w, r)
	if !sw.frame("start", startFrame(id)) {
		return nil
	}
	// An unknown execution is polled for up to 10 s, then the connection is
	// cut (the 404 is raised inside the committed stream).
	sub, stop, err := s.engine.followExecution(r.Context(), tenantOf(r), id, s.scaled(10*time.Second))
	switch {
	case errors.Is(err, errNoExecution):
		dropConn(w)
		return nil
	case err != nil:
		return nil
	}
	defer stop()
	idle := time.NewTimer(s.scaled(streamTimeout))
	defer idle.Stop()
	for {
		for _, sn := range sub.take() {
			if sn.final {
				sw.frame("end", sn.data)
				return nil
			}
			if !sw.frame("progress", sn.data) {
				return nil
			}
			idle.Reset(s.scaled(streamTimeout))
		}
		select {
		case <-sub.notify:
		case <-idle.C:
			dropConn(w) // Kestra's between-item timeout cuts the stream
			return nil
		case <-r.Context().Done():
			return nil
		case <-s.done():
			return nil
		}
	}
}
