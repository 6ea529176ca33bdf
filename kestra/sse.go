package kestra

import (
	"bufio"
	"bytes"
	"io"
)

// An event-stream reader (text/event-stream, as the WHATWG HTML standard
// defines it) that hands each event to its caller without copying it more
// than once. It reads the same events as go-sse's sse.Read, which the tests
// hold it to on arbitrary input (FuzzReadEventsMatchesGoSSE); it exists
// because sse.Read copies every event twice and scans it byte by byte,
// which costs as much as a fifth of decoding the frame's JSON.
//
// Where go-sse and the standard differ, it does as go-sse does: an event is
// dispatched when any data, event or id field was seen (the standard skips
// events without data), and a byte-order mark is removed from the first
// line that is not blank.

// sseEvent is one event. Data is valid only until the callback returns.
type sseEvent struct {
	ID   string // the last id field of the stream so far (sse.Event.LastEventID)
	Type string // the event field, "" when absent
	Data []byte // the data fields joined by "\n"
}

// readEvents reads the event stream r and calls yield with each event
// until yield returns false or r ends. A line, or the data of an event,
// longer than maxSize bytes ends it with bufio.ErrTooLong. The end of r
// is not an error; an event it cuts short is dropped. Buffers start small
// and grow only as long lines arrive.
func readEvents(r io.Reader, maxSize int, yield func(ev *sseEvent) bool) error {
	var crPending bool // the last line ended with CR: an LF next belongs to it
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxSize)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if len(data) == 0 {
			return 0, nil, nil
		}
		if crPending {
			crPending = false
			if data[0] == '\n' {
				return 1, nil, nil
			}
		}
		lf := bytes.IndexByte(data, '\n')
		line := data
		if lf >= 0 {
			line = data[:lf]
		}
		if cr := bytes.IndexByte(line, '\r'); cr >= 0 {
			switch {
			case cr+1 == len(data):
				crPending = true // the LF, if any, has not arrived yet
			case data[cr+1] == '\n':
				return cr + 2, data[:cr], nil
			}
			return cr + 1, data[:cr], nil
		}
		if lf >= 0 {
			return lf + 1, line, nil
		}
		if atEOF {
			return len(data), nil, nil // a line cut short by the end: dropped
		}
		return 0, nil, nil
	})

	var (
		ev      sseEvent
		dirty   bool // a data, event or id field was seen since the last event
		started bool // a line that is not blank was seen: no more byte-order mark
	)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if dirty {
				if n := len(ev.Data); n > 0 {
					ev.Data = ev.Data[:n-1]
				}
				if !yield(&ev) {
					return nil
				}
				ev.Type, ev.Data, dirty = "", ev.Data[:0], false
			}
			continue
		}
		if !started {
			started = true
			line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
			if len(line) == 0 {
				continue
			}
		}
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(name) {
		case "data":
			if len(ev.Data)+len(value) >= maxSize {
				return bufio.ErrTooLong
			}
			ev.Data = append(append(ev.Data, value...), '\n')
			dirty = true
		case "event":
			ev.Type = string(value)
			dirty = true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				if string(value) != ev.ID {
					ev.ID = string(value)
				}
				dirty = true
			}
		}
		// retry, comments (an empty name) and unknown fields are ignored.
	}
	return sc.Err()
}
