// Package contract holds the contract suite: tests that drive the SDK
// against a Kestra server (the one KESTRA_API_URL names, or an in-process
// emulator) and record, for each call, its method, route template, status
// and the JSON shape of its answer, so that two servers can be compared
// (see [Compare] and the shapediff command).
package contract

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
)

// Routes matches request paths against the path templates of an OpenAPI
// document.
type Routes struct {
	templates []route
}

type route struct {
	segs    []string // the template split on "/"
	methods []string // upper case
}

// LoadRoutes reads the paths of an OpenAPI document (YAML or JSON).
func LoadRoutes(file string) (*Routes, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Paths) == 0 {
		return nil, fmt.Errorf("%s: no paths", file)
	}
	r := &Routes{}
	for p, ops := range doc.Paths {
		rt := route{segs: strings.Split(p, "/")}
		for m := range ops {
			rt.methods = append(rt.methods, strings.ToUpper(m))
		}
		r.templates = append(r.templates, rt)
	}
	// Most literal segments first, so /executions/search wins over
	// /executions/{executionId}; then by text, for a stable choice.
	slices.SortFunc(r.templates, func(a, b route) int {
		if la, lb := literals(a.segs), literals(b.segs); la != lb {
			return lb - la
		}
		return strings.Compare(strings.Join(a.segs, "/"), strings.Join(b.segs, "/"))
	})
	return r, nil
}

func literals(segs []string) int {
	n := 0
	for _, s := range segs {
		if !strings.HasPrefix(s, "{") {
			n++
		}
	}
	return n
}

// Template returns the path template of an operation with this method
// that matches path, or path itself marked "(no route)" when none does.
func (r *Routes) Template(method, path string) string {
	segs := strings.Split(path, "/")
	for _, rt := range r.templates {
		t := rt.segs
		if len(t) != len(segs) || !slices.Contains(rt.methods, method) {
			continue
		}
		ok := true
		for i, s := range t {
			if strings.HasPrefix(s, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return strings.Join(t, "/")
		}
	}
	return path + " (no route)"
}

// Call is what was recorded of the answers to one kind of call: all the
// answers with the same method, route template and status, their shapes
// merged.
type Call struct {
	Method string `json:"method"`
	Route  string `json:"route"`
	Status int    `json:"status"`
	// Body is the kind of body: "json", "sse", "text", "binary" or
	// "empty".
	Body string `json:"body"`
	// Shape is the merged shape of the JSON bodies (for "sse", an object
	// keyed by frame id, each the merged shape of the frames' data).
	Shape *Shape `json:"shape,omitempty"`
	// Count is how many answers were merged.
	Count int `json:"count"`
}

// Key identifies a Call.
func (c *Call) Key() string { return fmt.Sprintf("%s %s %d", c.Method, c.Route, c.Status) }

// Recorder is an http.RoundTripper that records the Call of every answer
// it carries. Bodies are read as the caller reads them (streams included),
// up to 32 MiB each; the shape is taken when the body is closed.
type Recorder struct {
	Next   http.RoundTripper
	Routes *Routes

	mu    sync.Mutex
	calls map[string]*Call
}

const maxRecorded = 32 << 20

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	next := r.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	route := req.URL.Path
	if r.Routes != nil {
		route = r.Routes.Template(req.Method, req.URL.Path)
	}
	resp.Body = &recordedBody{
		ReadCloser: resp.Body,
		done: func(b []byte) {
			r.add(req.Method, route, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		},
	}
	return resp, nil
}

type recordedBody struct {
	io.ReadCloser
	buf  bytes.Buffer
	once sync.Once
	done func([]byte)
}

func (b *recordedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 && b.buf.Len() < maxRecorded {
		b.buf.Write(p[:n])
	}
	return n, err
}

func (b *recordedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.done(b.buf.Bytes()) })
	return err
}

func (r *Recorder) add(method, route string, status int, contentType string, body []byte) {
	kind, shape := bodyShape(contentType, body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = make(map[string]*Call)
	}
	c := &Call{Method: method, Route: route, Status: status, Body: kind}
	if old, ok := r.calls[c.Key()]; ok {
		c = old
		if c.Body != kind {
			c.Body = mergeWords(c.Body, kind)
		}
	} else {
		r.calls[c.Key()] = c
	}
	c.Count++
	c.Shape = c.Shape.Merge(shape)
}

// mergeWords joins two "|"-separated sets of words, sorted.
func mergeWords(a, b string) string {
	set := strings.Split(a, "|")
	for _, w := range strings.Split(b, "|") {
		if !slices.Contains(set, w) {
			set = append(set, w)
		}
	}
	slices.Sort(set)
	return strings.Join(set, "|")
}

// Calls returns the recorded calls, sorted by key.
func (r *Recorder) Calls() []*Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Call, 0, len(r.calls))
	for _, c := range r.calls {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Call) int { return strings.Compare(a.Key(), b.Key()) })
	return out
}

// WriteLog writes the recorded calls as indented JSON.
func (r *Recorder) WriteLog(file string) error {
	b, err := json.MarshalIndent(r.Calls(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}

// ReadLog reads a log WriteLog wrote.
func ReadLog(file string) ([]*Call, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var calls []*Call
	if err := json.Unmarshal(b, &calls); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return calls, nil
}

func bodyShape(contentType string, body []byte) (string, *Shape) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "empty", nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "text/event-stream":
		return "sse", sseShape(body)
	case strings.Contains(mt, "json"):
		if s, err := ShapeOfJSON(body); err == nil {
			return "json", s
		}
		return "text", nil
	case strings.HasPrefix(mt, "text/"):
		return "text", nil
	default:
		return "binary", nil
	}
}

// sseShape merges the data of the frames of a stream by frame id.
func sseShape(body []byte) *Shape {
	out := &Shape{Kinds: []string{"object"}, Keys: map[string]*Shape{}}
	id := ""
	var data []string
	flush := func() {
		if len(data) > 0 {
			tag := id
			if tag == "" {
				tag = "(no id)"
			}
			s, err := ShapeOfJSON([]byte(strings.Join(data, "\n")))
			if err != nil {
				s = &Shape{Kinds: []string{"text"}}
			}
			out.Keys[tag] = out.Keys[tag].Merge(s)
		}
		id, data = "", nil
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), maxRecorded)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	flush()
	return out
}
