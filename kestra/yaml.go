package kestra

// Flow YAML is read with github.com/goccy/go-yaml: it is maintained, it
// reports the line and column of every syntax error, and it gives the
// position of each key, so that an error can point at the property at fault.

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// FlowRef is what [ParseFlow] reads from a flow's YAML without a request:
// the flow's identity and the few properties a deploy needs.
type FlowRef struct {
	// Namespace and ID identify the flow.
	Namespace string
	ID        string
	// Revision is the revision the YAML declares, 0 when it declares none.
	// Kestra numbers revisions itself; a declared one that is not the next
	// makes the flow "outdated" in validation.
	Revision int
	// Labels are the flow's labels, written in YAML either as a map or as a
	// list of key/value pairs; nil when there are none.
	Labels map[string]string
	// Disabled is the flow's disabled property.
	Disabled bool
}

// FlowSourceError is a flow source rejected before any request: YAML that
// does not parse, several YAML documents where one flow is expected, or a
// missing or empty id, namespace or tasks.
type FlowSourceError struct {
	// File is the file the source came from, set by [LoadFlows].
	File string
	// Line and Column locate the error in the source, starting at 1; both
	// are 0 when the error has no position (a missing property).
	Line, Column int
	// Field is the top-level property at fault ("id", "namespace",
	// "tasks", "labels" or "revision"), empty for a syntax error.
	Field string
	// Message describes the error.
	Message string
}

// Is reports whether target is [ErrInvalid], so that one check,
// errors.Is(err, kestra.ErrInvalid), catches a flow refused here as well as
// one Kestra refuses.
func (e *FlowSourceError) Is(target error) bool { return target == ErrInvalid }

// Error returns "kestra: flow source: line 3, column 5: message", with the
// file name in place of "flow source" when there is one.
func (e *FlowSourceError) Error() string {
	var b strings.Builder
	b.WriteString("kestra: ")
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	case e.File != "":
		b.WriteString(e.File)
		b.WriteString(": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "flow source: line %d, column %d: ", e.Line, e.Column)
	default:
		b.WriteString("flow source: ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ParseFlow reads the namespace, id, revision, labels and disabled
// property of one flow from its YAML, without a request. It returns a
// [*FlowSourceError] when the YAML does not parse (naming its line and
// column), holds more than one document, is not a mapping, or when id,
// namespace or tasks is missing or empty (naming the property). The
// FlowRef returned with an error holds what could be read.
//
// Before parsing, the source is checked against Kestra's own limits,
// [MaxFlowSourceCodePoints] and [MaxFlowNestingDepth], so that a source
// Kestra would refuse costs no more than a scan. A UTF-8 byte order mark
// at the start, which some editors write, is skipped, as Kestra skips it.
// Errors match [ErrInvalid] with errors.Is.
//
// ParseFlow checks only what a request needs; [FlowsService.Validate] asks
// Kestra for a full validation.
func ParseFlow(source string) (ref FlowRef, err error) {
	defer func() {
		// The parser works on untrusted input; a bug in it must not take
		// the caller down.
		if r := recover(); r != nil {
			err = &FlowSourceError{Message: fmt.Sprintf("YAML parser failure: %v", r)}
		}
	}()
	source = strings.TrimPrefix(source, byteOrderMark)
	if err := checkFlowLimits(source); err != nil {
		return FlowRef{}, err
	}
	body, err := singleDocument(source)
	if err != nil {
		return FlowRef{}, err
	}
	return readFlowRef(body)
}

// singleDocument parses source and returns the body of its only document.
func singleDocument(source string) (ast.Node, error) {
	file, err := parser.ParseBytes([]byte(source), 0)
	if err != nil {
		return nil, yamlSourceError(err)
	}
	var docs []*ast.DocumentNode
	for _, doc := range file.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc)
		}
	}
	switch len(docs) {
	case 0:
		return nil, &FlowSourceError{Message: "the source is empty"}
	case 1:
		return docs[0].Body, nil
	}
	e := &FlowSourceError{Message: fmt.Sprintf("the source holds %d YAML documents, one flow is expected", len(docs))}
	if e.Line, e.Column = tokenPosition(docs[1].Start); e.Line == 0 {
		e.Line, e.Column = nodePosition(docs[1].Body)
	}
	return nil, e
}

// yamlSourceError converts an error of the YAML library.
func yamlSourceError(err error) *FlowSourceError {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &FlowSourceError{Message: ye.GetMessage()}
		e.Line, e.Column = tokenPosition(ye.GetToken())
		return e
	}
	return &FlowSourceError{Message: err.Error()}
}

func tokenPosition(tk *token.Token) (line, column int) {
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

func nodePosition(n ast.Node) (line, column int) {
	if n == nil {
		return 0, 0
	}
	return tokenPosition(n.GetToken())
}

// readFlowRef reads a FlowRef from the body of a flow document.
func readFlowRef(body ast.Node) (FlowRef, error) {
	var ref FlowRef
	var doc any
	if err := yaml.NodeToValue(body, &doc); err != nil {
		return ref, yamlSourceError(err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		line, col := nodePosition(body)
		return ref, &FlowSourceError{Line: line, Column: col, Message: "a flow must be a YAML mapping"}
	}
	keys := map[string]ast.Node{}
	if mn, ok := body.(*ast.MappingNode); ok {
		for _, mv := range mn.Values {
			if k, ok := mv.Key.(*ast.StringNode); ok {
				keys[k.Value] = mv.Value
			}
		}
	}
	fieldErr := func(field, msg string) *FlowSourceError {
		e := &FlowSourceError{Field: field, Message: msg}
		if n, ok := keys[field]; ok {
			e.Line, e.Column = nodePosition(n)
		}
		return e
	}

	var errs []error
	identity := func(field string) string {
		v, present := m[field]
		switch x := v.(type) {
		case nil:
			if present {
				errs = append(errs, fieldErr(field, fmt.Sprintf("%q is empty", field)))
			} else {
				errs = append(errs, fieldErr(field, fmt.Sprintf("%q is missing", field)))
			}
		case string:
			if x == "" {
				errs = append(errs, fieldErr(field, fmt.Sprintf("%q is empty", field)))
			}
			return x
		case map[string]any, []any:
			errs = append(errs, fieldErr(field, fmt.Sprintf("%q must be a string", field)))
		case []byte:
			// !!binary: Kestra would read base64 text, not what it decodes to.
			errs = append(errs, fieldErr(field, fmt.Sprintf("%q must be plain text, not a !!binary value", field)))
		default:
			// A number or a boolean: Kestra reads it as the text written,
			// after its tag when it has one (!!int 5).
			n, ok := keys[field]
			for ok {
				tn, tagged := n.(*ast.TagNode)
				if !tagged {
					break
				}
				n, ok = tn.Value, tn.Value != nil
			}
			if ok && n.GetToken() != nil {
				return n.GetToken().Value
			}
			return fmt.Sprint(x)
		}
		return ""
	}
	ref.ID = identity("id")
	ref.Namespace = identity("namespace")
	switch tasks, present := m["tasks"]; {
	case !present:
		errs = append(errs, fieldErr("tasks", `"tasks" is missing`))
	case tasks == nil:
		errs = append(errs, fieldErr("tasks", `"tasks" is empty`))
	default:
		l, ok := tasks.([]any)
		switch {
		case !ok:
			errs = append(errs, fieldErr("tasks", `"tasks" must be a list`))
		case len(l) == 0:
			errs = append(errs, fieldErr("tasks", `"tasks" is empty`))
		}
	}
	if v, present := m["revision"]; present && v != nil {
		n, ok := intValue(v)
		if !ok {
			errs = append(errs, fieldErr("revision", `"revision" must be an integer`))
		}
		ref.Revision = n
	}
	labels, ok := labelMap(m["labels"])
	if !ok {
		errs = append(errs, fieldErr("labels", `"labels" must be a map or a list of key and value`))
	}
	ref.Labels = labels
	ref.Disabled, _ = m["disabled"].(bool)
	if len(errs) > 0 {
		// The first error carries the position; the others follow it.
		if len(errs) == 1 {
			return ref, errs[0]
		}
		return ref, errors.Join(errs...)
	}
	return ref, nil
}

func intValue(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case uint64:
		if n > uint64(int(^uint(0)>>1)) {
			return 0, false
		}
		return int(n), true
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}

// labelMap reads labels written as a map or as a list of key/value pairs.
func labelMap(v any) (map[string]string, bool) {
	switch l := v.(type) {
	case nil:
		return nil, true
	case map[string]any:
		out := make(map[string]string, len(l))
		for k, v := range l {
			out[k] = labelValue(v)
		}
		return out, true
	case []any:
		out := make(map[string]string, len(l))
		for _, x := range l {
			kv, ok := x.(map[string]any)
			if !ok {
				return nil, false
			}
			k, ok := kv["key"].(string)
			if !ok {
				return nil, false
			}
			out[k] = labelValue(kv["value"])
		}
		return out, true
	}
	return nil, false
}

func labelValue(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// FlowSource is one flow file read by [LoadFlows]: its name, its content
// verbatim, and what [ParseFlow] read from it.
type FlowSource struct {
	// File is the file's path in the file system given to LoadFlows.
	File string
	// Source is the file's content, byte for byte.
	Source string
	FlowRef
}

// LoadFlows reads the flow files of fsys whose paths match pattern (the
// syntax of [path.Match], as [fs.Glob] uses it: "flows/*.yaml"), one flow
// per file, sorted by path. It works with an embed.FS, os.DirFS and
// fstest.MapFS. Every file is parsed with [ParseFlow]; the errors of all
// the files that do not parse are returned together, each a
// [*FlowSourceError] naming its file. A pattern that matches no file and
// two files declaring the same flow are errors too.
func LoadFlows(fsys fs.FS, pattern string) ([]FlowSource, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, fmt.Errorf("kestra: load flows %q: %w", pattern, err)
	}
	var files []string
	for _, name := range names {
		info, err := fs.Stat(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("kestra: load flows: %w", err)
		}
		if !info.IsDir() {
			files = append(files, name)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("kestra: load flows: no file matches %q", pattern)
	}
	slices.Sort(files)
	out := make([]FlowSource, 0, len(files))
	var errs []error
	byFlow := map[[2]string]string{}
	for _, name := range files {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("kestra: load flows: %w", err))
			continue
		}
		src := string(b)
		ref, err := ParseFlow(src)
		if err != nil {
			errs = append(errs, withFile(err, name))
			continue
		}
		k := [2]string{ref.Namespace, ref.ID}
		if prev, dup := byFlow[k]; dup {
			errs = append(errs, fmt.Errorf("kestra: %s: flow %s/%s is also declared in %s", name, ref.Namespace, ref.ID, path.Clean(prev)))
			continue
		}
		byFlow[k] = name
		out = append(out, FlowSource{File: name, Source: src, FlowRef: ref})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// withFile sets File on the *FlowSourceError err is or joins.
func withFile(err error, file string) error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if fe, ok := e.(*FlowSourceError); ok {
				fe.File = file
			}
		}
		return err
	}
	if fe, ok := err.(*FlowSourceError); ok {
		fe.File = file
		return err
	}
	return fmt.Errorf("kestra: %s: %w", file, err)
}
