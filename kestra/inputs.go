package kestra

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"unicode"
)

// File is the value of a FILE input in [ExecuteOptions.Inputs] and
// [ExecutionsService.Resume]: its content is streamed from Reader, never
// read whole into memory, and Kestra stores it under Name. The caller keeps
// ownership of Reader: it is read to its end once and not closed. Use
// [FilePath] for a file on disk.
type File struct {
	// Name is the file name Kestra stores; empty means the input id.
	Name string
	// Reader supplies the content.
	Reader io.Reader

	path string
}

// FilePath is a [File] read from the file at path, opened when the request
// is made and closed when it ends. Its name is the base name of path.
func FilePath(path string) File {
	return File{Name: filepath.Base(path), path: path}
}

// inputPart is one multipart part of an execution request: a text value
// or a file.
type inputPart struct {
	name  string
	value string
	file  *File
}

// encodeInputs checks and converts inputs to multipart parts, in sorted
// key order. Values that are not files are converted here, so an
// unsupported value fails before any request.
func encodeInputs(inputs map[string]any) ([]inputPart, error) {
	parts := make([]inputPart, 0, len(inputs))
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		if name == "" {
			return nil, errors.New("kestra: input with an empty name")
		}
		p, skip, err := encodeInput(name, inputs[name])
		if err != nil {
			return nil, err
		}
		if !skip {
			parts = append(parts, p)
		}
	}
	return parts, nil
}

var (
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
)

// encodeInput converts one input value. A nil value (or nil pointer) is
// skipped: the input is not sent and takes its default.
//
//   - string kinds: as they are; []byte and json.RawMessage: their bytes
//   - bool, integer and float kinds: their decimal text
//   - time.Time: RFC 3339 with nanoseconds, zone kept
//   - time.Duration: ISO-8601 (PT1M30S)
//   - encoding.TextMarshaler: its text
//   - slices, arrays, maps, structs, json.Marshaler: JSON text
//   - File, *File: a file part
//
// Channels, functions, complex numbers, unsafe pointers and bare
// io.Readers (which belong in a File) are refused.
func encodeInput(name string, v any) (inputPart, bool, error) {
	p := inputPart{name: name}
	switch x := v.(type) {
	case nil:
		return p, true, nil
	case File:
		p.file = &x
	case *File:
		if x == nil {
			return p, true, nil
		}
		p.file = x
	case string:
		p.value = x
	case []byte:
		p.value = string(x)
	case json.RawMessage:
		if !json.Valid(x) {
			return p, false, fmt.Errorf("kestra: input %q: json.RawMessage is not valid JSON", name)
		}
		p.value = string(x)
	case bool:
		p.value = strconv.FormatBool(x)
	case time.Time:
		p.value = x.Format(time.RFC3339Nano)
	case time.Duration:
		p.value = FormatISODuration(x)
	case io.Reader:
		// Not JSON: the content would be lost. Its file name is unknown.
		return p, false, fmt.Errorf("kestra: input %q: a %T is not a value; wrap it in kestra.File for a FILE input", name, v)
	default:
		s, skip, err := encodeReflect(reflect.ValueOf(v))
		if err != nil {
			return p, false, fmt.Errorf("kestra: input %q: %w", name, err)
		}
		if skip {
			return p, true, nil
		}
		p.value = s
	}
	if p.file != nil && p.file.Reader == nil && p.file.path == "" {
		return p, false, fmt.Errorf("kestra: input %q: File without a Reader", name)
	}
	return p, false, nil
}

func encodeReflect(rv reflect.Value) (string, bool, error) {
	t := rv.Type()
	switch {
	case t == reflect.TypeFor[time.Time]():
		return rv.Interface().(time.Time).Format(time.RFC3339Nano), false, nil
	case t == reflect.TypeFor[time.Duration]():
		return FormatISODuration(rv.Interface().(time.Duration)), false, nil
	case t.Kind() == reflect.Pointer:
		if rv.IsNil() {
			return "", true, nil
		}
		return encodeReflect(rv.Elem())
	case t.Implements(jsonMarshalerType) && !t.Implements(textMarshalerType):
		return marshalJSON(rv)
	case t.Implements(textMarshalerType):
		b, err := rv.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return "", false, err
		}
		return string(b), false, nil
	}
	switch t.Kind() {
	case reflect.String:
		return rv.String(), false, nil
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), false, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), false, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), false, nil
	case reflect.Float32, reflect.Float64:
		return formatFloat(rv.Float(), t.Bits())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(textMarshalerType) && !t.Elem().Implements(jsonMarshalerType) {
			return string(rv.Bytes()), false, nil // a named []byte: its bytes
		}
		return marshalJSON(rv)
	case reflect.Array, reflect.Map, reflect.Struct:
		return marshalJSON(rv)
	case reflect.Interface:
		if rv.IsNil() {
			return "", true, nil
		}
		return encodeReflect(rv.Elem())
	}
	return "", false, fmt.Errorf("unsupported value type %s", t)
}

func marshalJSON(rv reflect.Value) (string, bool, error) {
	b, err := json.Marshal(rv.Interface())
	if err != nil {
		return "", false, err
	}
	return string(b), false, nil
}

// formatFloat writes f as Kestra's FLOAT input reads it (Java's
// Double.parseDouble): plain decimals, exponent form only for very large or
// small values. NaN and infinities are refused.
func formatFloat(f float64, bits int) (string, bool, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", false, fmt.Errorf("unsupported float value %v", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.FormatFloat(f, format, -1, bits), false, nil
}

// checkLabels rejects labels Kestra would refuse, before any request: an
// empty key or value, a key with ':' or white space, and system labels
// other than system.correlationId and system.from.
func checkLabels(labels map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		switch {
		case k == "":
			return errors.New("kestra: label with an empty key")
		case strings.ContainsRune(k, ':'):
			return fmt.Errorf("kestra: label %q: the key contains ':'", k)
		case strings.IndexFunc(k, unicode.IsSpace) >= 0:
			return fmt.Errorf("kestra: label %q: the key contains white space", k)
		case strings.TrimSpace(v) == "":
			return fmt.Errorf("kestra: label %q: empty value", k)
		case strings.HasPrefix(k, "system.") && k != "system.correlationId" && k != "system.from":
			return fmt.Errorf("kestra: label %q: system labels are set by Kestra (only system.correlationId and system.from may be given)", k)
		}
	}
	return nil
}

// labelQuery returns labels as Kestra's labels=key:value query values, in
// key order.
func labelQuery(labels map[string]string) []string {
	out := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		out = append(out, k+":"+labels[k])
	}
	return out
}

// labelList returns labels as Kestra's [{key,value}] list, in key order.
func labelList(labels map[string]string) []Label {
	out := make([]Label, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		out = append(out, Label{Key: k, Value: labels[k]})
	}
	return out
}

// formBody is a multipart/form-data request body of inputs.
type formBody struct {
	body        io.Reader
	contentType string
	// streamed: the body is a pipe fed by a goroutine, read once.
	streamed bool
	finish   func()
}

// errBodyDone closes the pipe of a streamed body once its request ended.
var errBodyDone = errors.New("kestra: request ended")

// newFormBody encodes parts. Without files the body is built in memory
// (it holds only the text values) and can be sent again. With files it is
// streamed through a pipe by a goroutine that writes the parts as the
// transport reads them; finish, which the caller must call once the
// request returned, closes the pipe and waits for that goroutine (or for
// ctx), so none is left behind even when the request failed early. Files
// given with [FilePath] are opened here, so a missing file fails before
// the request.
func newFormBody(ctx context.Context, parts []inputPart) (*formBody, error) {
	hasFile := slices.ContainsFunc(parts, func(p inputPart) bool { return p.file != nil })
	if !hasFile {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, p := range parts {
			if err := mw.WriteField(p.name, p.value); err != nil {
				return nil, fmt.Errorf("kestra: input %q: %w", p.name, err)
			}
		}
		if err := mw.Close(); err != nil {
			return nil, fmt.Errorf("kestra: %w", err)
		}
		return &formBody{body: bytes.NewReader(buf.Bytes()), contentType: mw.FormDataContentType(), finish: func() {}}, nil
	}

	readers := make([]io.Reader, len(parts))
	var opened []*os.File
	closeOpened := func() {
		for _, f := range opened {
			_ = f.Close()
		}
	}
	for i, p := range parts {
		switch {
		case p.file == nil:
		case p.file.path != "":
			f, err := os.Open(p.file.path)
			if err != nil {
				closeOpened()
				return nil, fmt.Errorf("kestra: input %q: %w", p.name, err)
			}
			opened = append(opened, f)
			readers[i] = f
		default:
			readers[i] = p.file.Reader
		}
	}

	body, contentType, finish := pipeMultipart(func(mw *multipart.Writer) error {
		defer closeOpened()
		return writeParts(mw, parts, readers)
	})
	return &formBody{body: body, contentType: contentType, streamed: true, finish: func() { finish(ctx) }}, nil
}

// pipeMultipart streams the multipart body that write writes, from a
// goroutine, as the transport reads it. finish, which the caller must call
// once the request returned, closes the pipe (so the writer stops at its
// next write) and waits for the goroutine, or for ctx to be done.
func pipeMultipart(write func(*multipart.Writer) error) (body io.Reader, contentType string, finish func(ctx context.Context)) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := write(mw)
		if err == nil {
			err = mw.Close()
		}
		// nil closes the pipe normally (EOF for the reader).
		_ = pw.CloseWithError(err)
	}()
	finish = func(ctx context.Context) {
		_ = pr.CloseWithError(errBodyDone)
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	return pr, mw.FormDataContentType(), finish
}

// header returns the headers of the request that sends fb: with a
// streamed body, [expectContinue].
func (fb *formBody) header() http.Header {
	if fb.streamed {
		return expectContinue()
	}
	return nil
}

// expectContinue makes a request with a large streamed body (files) wait
// for the server's 100 Continue before sending it. A server that refuses
// the request (an unknown flow, an invalid path) answers at once, and the
// caller gets that answer, not a broken pipe from a body the server never
// read. A server that ignores the header gets the body after the
// transport's ExpectContinueTimeout (1s by default).
func expectContinue() http.Header {
	return http.Header{"Expect": {"100-continue"}}
}

func writeParts(mw *multipart.Writer, parts []inputPart, readers []io.Reader) error {
	for i, p := range parts {
		if p.file == nil {
			if err := mw.WriteField(p.name, p.value); err != nil {
				return err
			}
			continue
		}
		name := p.file.Name
		if name == "" {
			name = p.name
		}
		w, err := mw.CreateFormFile(p.name, name)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, readers[i]); err != nil {
			return fmt.Errorf("kestra: input %q: %w", p.name, err)
		}
	}
	return nil
}
