package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Every response the tests see from a 2.0 server is validated against the
// project's openapi.yaml (the normalized Kestra spec). Mismatches are
// collected and reported once all tests ran; a mismatch not listed in
// knownSpecDefects fails the run.

const specPath = "../../openapi.yaml"

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error

	mismatchMu sync.Mutex
	mismatches = map[string]int{} // "operationId status: error" → count
	validated  = map[string]int{} // operationId → responses validated
)

// knownSpecDefects are mismatches where the spec, not the emulator, is
// wrong against kestra-api-facts.md; each is matched by operationId and a
// regexp on the error text. It is empty: the overlay fixes each one found.
var knownSpecDefects = []struct {
	operation string
	errRe     *regexp.Regexp
	why       string
}{}

func loadSpec() (routers.Router, error) {
	specOnce.Do(func() {
		if _, err := os.Stat(specPath); err != nil {
			specErr = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(specPath)
		if err != nil {
			specErr = err
			return
		}
		doc.Servers = nil
		patchSpecForValidation(doc)
		specRouter, specErr = legacy.NewRouter(doc, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation(), openapi3.DisableSchemaPatternValidation())
		openapi3filter.RegisterBodyDecoder("text/json", openapi3filter.JSONBodyDecoder)
	})
	return specRouter, specErr
}

// recordingWriter tees the response body, except streams.
type recordingWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
	stream bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.stream = strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.stream {
		w.buf.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type recorded struct {
	req    *http.Request
	status int
	header http.Header
	body   []byte
}

var (
	recordMu   sync.Mutex
	recordings []recorded
)

// recordResponses wraps the handler so that each response of a 2.0 server
// is kept, to be checked against the spec once the tests ran (loading the
// spec is slow under the race detector, so it happens meanwhile).
func recordResponses(t *testing.T, h *Server) http.Handler {
	t.Helper()
	if h.cfg.version != Version20 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recordingWriter{ResponseWriter: w}
		probe := r.Clone(context.Background())
		probe.Body = nil
		faulted := new(bool)
		h.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), ctxFaultMark, faulted)))
		if *faulted || rw.stream || rw.status == 0 || rw.status == http.StatusUnauthorized || rw.status == http.StatusNotImplemented {
			return
		}
		recordMu.Lock()
		recordings = append(recordings, recorded{req: probe, status: rw.status, header: rw.Header().Clone(), body: bytes.Clone(rw.buf.Bytes())})
		recordMu.Unlock()
	})
}

// validateRecorded checks every recorded response against the spec.
func validateRecorded() error {
	router, err := loadSpec()
	if err != nil {
		return err
	}
	recordMu.Lock()
	recs := recordings
	recordings = nil
	recordMu.Unlock()
	for _, rec := range recs {
		validateOne(router, rec.req, rec.status, rec.header, rec.body)
	}
	return nil
}

// validateOne checks one response and records its mismatches.
func validateOne(router routers.Router, req *http.Request, status int, hdr http.Header, body []byte) {
	route, params, err := router.FindRoute(req)
	if err != nil {
		return // legacy paths, /ping and emulator-only routes
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  status,
		Header:  hdr,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	op := route.Operation.OperationID
	err = openapi3filter.ValidateResponse(context.Background(), in)
	mismatchMu.Lock()
	defer mismatchMu.Unlock()
	validated[op]++
	if err == nil {
		return
	}
	msgs := []string{err.Error()}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		msgs = msgs[:0]
		for _, e := range me {
			msgs = append(msgs, e.Error())
		}
	}
	for _, m := range msgs {
		m = strings.Join(strings.Fields(m), " ")
		if len(m) > 600 {
			m = m[:600] + "…"
		}
		mismatches[fmt.Sprintf("%s %s %d: %s", req.Method, op, status, m)]++
	}
}

// reportSpecMismatches prints the collected mismatches and returns false if
// one of them is not a known spec defect.
func reportSpecMismatches() bool {
	mismatchMu.Lock()
	defer mismatchMu.Unlock()
	if len(validated) == 0 {
		return true
	}
	ok := true
	keys := make([]string, 0, len(mismatches))
	for k := range mismatches {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		known := false
		for _, d := range knownSpecDefects {
			if strings.Contains(k, " "+d.operation+" ") && d.errRe.MatchString(k) {
				known = true
			}
		}
		if !known {
			ok = false
			fmt.Fprintf(os.Stderr, "spec mismatch (x%d): %s\n", mismatches[k], k)
		}
	}
	if os.Getenv("EMULATOR_SPEC_REPORT") != "" {
		ops := make([]string, 0, len(validated))
		for op, n := range validated {
			ops = append(ops, fmt.Sprintf("%s=%d", op, n))
		}
		slices.Sort(ops)
		fmt.Fprintf(os.Stderr, "validated against openapi.yaml: %s\n", strings.Join(ops, " "))
	}
	return ok
}

// patchSpecForValidation works around spec defects that make kin-openapi
// refuse the whole document (reported to the spec owner): arrays declared
// without items get an empty items schema.
func patchSpecForValidation(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(sr *openapi3.SchemaRef)
	walk = func(sr *openapi3.SchemaRef) {
		if sr == nil || sr.Value == nil || seen[sr.Value] {
			return
		}
		s := sr.Value
		seen[s] = true
		if s.Type.Is("array") && s.Items == nil {
			s.Items = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
			specPatches = append(specPatches, "array without items")
		}
		walk(s.Items)
		walk(s.Not)
		for _, l := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, x := range l {
				walk(x)
			}
		}
		for _, p := range s.Properties {
			walk(p)
		}
		if s.AdditionalProperties.Schema != nil {
			walk(s.AdditionalProperties.Schema)
		}
	}
	for _, sr := range doc.Components.Schemas {
		walk(sr)
	}
	for _, pi := range doc.Paths.Map() {
		for _, op := range pi.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil {
					walk(p.Value.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil && r.Value.Description == nil {
					empty := ""
					r.Value.Description = &empty
					specPatches = append(specPatches, "response without description")
				}
				if r.Value != nil {
					for _, mt := range r.Value.Content {
						walk(mt.Schema)
					}
				}
			}
		}
	}
}

var specPatches []string
