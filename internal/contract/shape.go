package contract

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Shape is the shape of JSON values: the kinds of value seen (null,
// boolean, number, string, array, object) and, recursively, the members of
// objects and the items of arrays. Merging shapes keeps every kind and
// every member seen.
type Shape struct {
	Kinds []string          `json:"kinds"`
	Keys  map[string]*Shape `json:"keys,omitempty"`
	Items *Shape            `json:"items,omitempty"`
}

// ShapeOfJSON returns the shape of one JSON document.
func ShapeOfJSON(b []byte) (*Shape, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("contract: data after the JSON value")
	}
	return ShapeOf(v), nil
}

// ShapeOf returns the shape of a decoded JSON value.
func ShapeOf(v any) *Shape {
	switch v := v.(type) {
	case nil:
		return &Shape{Kinds: []string{"null"}}
	case bool:
		return &Shape{Kinds: []string{"boolean"}}
	case json.Number, float64:
		return &Shape{Kinds: []string{"number"}}
	case string:
		return &Shape{Kinds: []string{"string"}}
	case []any:
		s := &Shape{Kinds: []string{"array"}}
		for _, it := range v {
			s.Items = s.Items.Merge(ShapeOf(it))
		}
		return s
	case map[string]any:
		s := &Shape{Kinds: []string{"object"}, Keys: make(map[string]*Shape, len(v))}
		for k, it := range v {
			s.Keys[k] = ShapeOf(it)
		}
		return s
	default:
		return &Shape{Kinds: []string{fmt.Sprintf("%T", v)}}
	}
}

// Merge returns the union of s and o; either may be nil. Neither is
// changed.
func (s *Shape) Merge(o *Shape) *Shape {
	if s == nil {
		return o.clone()
	}
	if o == nil {
		return s.clone()
	}
	m := &Shape{Kinds: slices.Clone(s.Kinds)}
	for _, k := range o.Kinds {
		if !slices.Contains(m.Kinds, k) {
			m.Kinds = append(m.Kinds, k)
		}
	}
	slices.Sort(m.Kinds)
	if s.Keys != nil || o.Keys != nil {
		m.Keys = make(map[string]*Shape, len(s.Keys)+len(o.Keys))
		for k, v := range s.Keys {
			m.Keys[k] = v.Merge(o.Keys[k])
		}
		for k, v := range o.Keys {
			if _, ok := s.Keys[k]; !ok {
				m.Keys[k] = v.clone()
			}
		}
	}
	m.Items = s.Items.Merge(o.Items)
	return m
}

func (s *Shape) clone() *Shape {
	if s == nil {
		return nil
	}
	c := &Shape{Kinds: slices.Clone(s.Kinds), Items: s.Items.clone()}
	if s.Keys != nil {
		c.Keys = make(map[string]*Shape, len(s.Keys))
		for k, v := range s.Keys {
			c.Keys[k] = v.clone()
		}
	}
	return c
}

// Difference is one way two servers answered a call differently.
type Difference struct {
	Method, Route string
	Status        int
	// Path locates the difference in the body: $ is the body, .key a
	// member, [] the items of an array.
	Path string
	// Detail says what differs.
	Detail string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s %s %d %s: %s", d.Method, d.Route, d.Status, d.Path, d.Detail)
}

// Compare returns the differences between the calls recorded on server a
// and on server b (named in details), leaving out the accepted ones. A
// call made on one server only is a difference: the suite makes the same
// calls on both.
func Compare(aName string, a []*Call, bName string, b []*Call, accepted []Accepted) []Difference {
	am, bm := byKey(a), byKey(b)
	keys := make([]string, 0, len(am)+len(bm))
	for k := range am {
		keys = append(keys, k)
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []Difference
	for _, k := range keys {
		ca, cb := am[k], bm[k]
		var diffs []Difference
		switch {
		case cb == nil:
			diffs = append(diffs, Difference{ca.Method, ca.Route, ca.Status, "$", "answered by " + aName + " only"})
		case ca == nil:
			diffs = append(diffs, Difference{cb.Method, cb.Route, cb.Status, "$", "answered by " + bName + " only"})
		default:
			if ca.Body != cb.Body {
				diffs = append(diffs, Difference{ca.Method, ca.Route, ca.Status, "$",
					fmt.Sprintf("body %s (%s) vs %s (%s)", ca.Body, aName, cb.Body, bName)})
			}
			for _, d := range diffShapes("$", ca.Shape, cb.Shape, aName, bName) {
				d.Method, d.Route, d.Status = ca.Method, ca.Route, ca.Status
				diffs = append(diffs, d)
			}
		}
		for _, d := range diffs {
			if !isAccepted(d, accepted) {
				out = append(out, d)
			}
		}
	}
	return out
}

func byKey(calls []*Call) map[string]*Call {
	m := make(map[string]*Call, len(calls))
	for _, c := range calls {
		if old, ok := m[c.Key()]; ok {
			merged := *old
			merged.Shape = old.Shape.Merge(c.Shape)
			merged.Count += c.Count
			if merged.Body != c.Body {
				merged.Body = mergeWords(merged.Body, c.Body)
			}
			c = &merged
		}
		m[c.Key()] = c
	}
	return m
}

func diffShapes(path string, a, b *Shape, aName, bName string) []Difference {
	if a == nil && b == nil {
		return nil
	}
	if a == nil || b == nil {
		side := aName
		if a == nil {
			side = bName
		}
		return []Difference{{Path: path, Detail: "a JSON body from " + side + " only"}}
	}
	var out []Difference
	if !slices.Equal(a.Kinds, b.Kinds) {
		out = append(out, Difference{Path: path, Detail: fmt.Sprintf("kinds %v (%s) vs %v (%s)", a.Kinds, aName, b.Kinds, bName)})
	}
	keys := make([]string, 0, len(a.Keys)+len(b.Keys))
	for k := range a.Keys {
		keys = append(keys, k)
	}
	for k := range b.Keys {
		if _, ok := a.Keys[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := path + "." + k
		ka, okA := a.Keys[k]
		kb, okB := b.Keys[k]
		switch {
		case !okB:
			out = append(out, Difference{Path: p, Detail: fmt.Sprintf("sent by %s only (%v)", aName, ka.Kinds)})
		case !okA:
			out = append(out, Difference{Path: p, Detail: fmt.Sprintf("sent by %s only (%v)", bName, kb.Kinds)})
		default:
			out = append(out, diffShapes(p, ka, kb, aName, bName)...)
		}
	}
	// An empty array on one side says nothing about its items.
	if a.Items != nil && b.Items != nil {
		out = append(out, diffShapes(path+"[]", a.Items, b.Items, aName, bName)...)
	}
	return out
}

// Accepted is a known difference between the servers, with its reason.
type Accepted struct {
	// Method, Route and Status match a call; "*" matches any.
	Method, Route, Status string
	// Path matches a difference's path: exactly, or as a prefix when it
	// ends in "*".
	Path   string
	Reason string
	Line   int
}

func (a Accepted) matches(d Difference) bool {
	if a.Method != "*" && a.Method != d.Method {
		return false
	}
	if a.Route != "*" && a.Route != d.Route {
		return false
	}
	if a.Status != "*" && a.Status != strconv.Itoa(d.Status) {
		return false
	}
	if p, ok := strings.CutSuffix(a.Path, "*"); ok {
		return strings.HasPrefix(d.Path, p)
	}
	return a.Path == d.Path
}

func isAccepted(d Difference, accepted []Accepted) bool {
	for _, a := range accepted {
		if a.matches(d) {
			return true
		}
	}
	return false
}

// ParseAccepted reads accepted differences, one a line:
//
//	METHOD ROUTE STATUS PATH | reason
//
// Blank lines and lines starting with # are skipped. Every entry needs a
// reason.
func ParseAccepted(r io.Reader) ([]Accepted, error) {
	var out []Accepted
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		spec, reason, ok := strings.Cut(line, "|")
		reason = strings.TrimSpace(reason)
		if !ok || reason == "" {
			return nil, fmt.Errorf("line %d: no reason (METHOD ROUTE STATUS PATH | reason)", n)
		}
		f := strings.Fields(spec)
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: want METHOD ROUTE STATUS PATH, got %q", n, strings.TrimSpace(spec))
		}
		if f[2] != "*" {
			if _, err := strconv.Atoi(f[2]); err != nil {
				return nil, fmt.Errorf("line %d: status %q is not a number or *", n, f[2])
			}
		}
		out = append(out, Accepted{Method: f[0], Route: f[1], Status: f[2], Path: f[3], Reason: reason, Line: n})
	}
	return out, sc.Err()
}

// LoadAccepted reads a file of accepted differences.
func LoadAccepted(file string) ([]Accepted, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	acc, err := ParseAccepted(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return acc, nil
}
