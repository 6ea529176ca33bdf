package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/speakeasy-api/openapi/overlay"
	"gopkg.in/yaml.v3"
)

// maxDocument bounds what Load reads: the Kestra document is under 1 MiB.
const maxDocument = 64 << 20

// Load reads an upstream document from a file or an http(s) URL.
func Load(ctx context.Context, in string) ([]byte, error) {
	if u, err := url.Parse(in); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, in, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // its message repeats the method and URL
			}
			return nil, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetch %s: %s", u.Redacted(), resp.Status)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
		}
		if len(b) > maxDocument {
			return nil, fmt.Errorf("fetch %s: larger than %d MiB", u.Redacted(), maxDocument>>20)
		}
		return b, nil
	}
	b, err := os.ReadFile(in)
	if err != nil {
		return nil, fmt.Errorf("read upstream document: %w", err)
	}
	return b, nil
}

// LoadOverlay reads an OpenAPI Overlay document and checks that it is one.
func LoadOverlay(path string) (*overlay.Overlay, error) {
	ov, err := overlay.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("overlay %s: %w", path, err)
	}
	if err := ov.Validate(); err != nil {
		return nil, fmt.Errorf("overlay %s: %w", path, err)
	}
	return ov, nil
}

// WriteFileAtomic writes data to a temporary file beside path and renames it
// into place, so a failed run never leaves a partial file.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Normalize turns an upstream document into the normalized one: prose
// dropped, generic fixes and the overlay applied, keys sorted.
func Normalize(src []byte, ov *overlay.Overlay) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("not a YAML or JSON document: %w", err)
	}
	root, err := openAPIRoot(&doc)
	if err != nil {
		return nil, err
	}
	var title *yaml.Node // the document's name, kept although it is a prose key
	if t := get(get(root, "info"), "title"); t != nil {
		title = t
	}
	stripProse(root, false)
	if info := get(root, "info"); title != nil && info != nil {
		info.Content = append(info.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "title"}, title)
	}
	fixGenerics(root)
	if ov != nil {
		warnings, err := ov.ApplyToStrict(root)
		if err != nil {
			return nil, fmt.Errorf("apply overlay: %w", err)
		}
		if len(warnings) > 0 {
			return nil, fmt.Errorf("apply overlay: %s", strings.Join(warnings, "; "))
		}
		// The overlay inserts its own nodes, one shared by every target:
		// copy them, so that sorting leaves the overlay (which may serve
		// again) and the other targets alone.
		root = deepCopy(root)
	}
	sortKeys(root, true)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var errNotOpenAPI = errors.New("not an OpenAPI 3 document (no `openapi: 3.x` and `paths`)")

func openAPIRoot(doc *yaml.Node) (*yaml.Node, error) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errNotOpenAPI
	}
	root := doc.Content[0]
	v := get(root, "openapi")
	if v == nil || v.Kind != yaml.ScalarNode || !strings.HasPrefix(v.Value, "3.") {
		return nil, errNotOpenAPI
	}
	if p := get(root, "paths"); p == nil || p.Kind != yaml.MappingNode {
		return nil, errNotOpenAPI
	}
	return root, nil
}

// get returns the value of key in a mapping node, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// del removes key from a mapping node.
func del(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

// prose are the keys that carry words for people, not facts for a client.
var prose = map[string]bool{
	"description": true, "summary": true, "example": true, "examples": true,
	"externalDocs": true, "title": true, "x-pattern-message": true,
}

// nameMaps are the keys whose values map user-chosen names (a property
// called "description", a header called "summary") to objects: their keys
// are never prose.
var nameMaps = map[string]bool{
	"properties": true, "paths": true, "schemas": true, "responses": true,
	"parameters": true, "requestBodies": true, "headers": true,
	"securitySchemes": true, "content": true, "encoding": true,
	"links": true, "callbacks": true, "variables": true, "mapping": true,
}

// stripProse drops prose keys everywhere but in name maps. The info object
// keeps its title, which identifies the document.
func stripProse(n *yaml.Node, isNameMap bool) {
	switch n.Kind {
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if !isNameMap && prose[k.Value] {
				continue
			}
			if k.Value == "tags" && v.Kind == yaml.SequenceNode && !isNameMap {
				continue // grouping for documentation only
			}
			stripProse(v, !isNameMap && nameMaps[k.Value])
			kept = append(kept, k, v)
		}
		n.Content = kept
	case yaml.SequenceNode:
		for _, c := range n.Content {
			stripProse(c, false)
		}
	}
}

var leakedGetter = regexp.MustCompile(`^(get|is)([A-Z].*)$`)

// fixGenerics applies the fixes that follow a rule rather than a place:
//
//   - Java getters leaked as properties (getDuration beside duration) are
//     removed, and leaked getX/isX names leave the required lists: the server
//     never sends them.
//   - A required name with no such property is dropped.
//   - additionalProperties typed {type: object} stands for a Java
//     Map<String, Object>, whose values are any JSON: it becomes {}.
//   - An array schema without items (a Java collection of Object) gets
//     items: {}, which OpenAPI requires.
func fixGenerics(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		if t := get(n, "type"); t != nil && t.Kind == yaml.ScalarNode && t.Value == "array" && get(n, "items") == nil {
			n.Content = append(n.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "items"},
				&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"})
		}
		if props := get(n, "properties"); props != nil && props.Kind == yaml.MappingNode {
			fixLeakedGetters(n, props)
		}
		if ap := get(n, "additionalProperties"); ap != nil && ap.Kind == yaml.MappingNode &&
			len(ap.Content) == 2 && ap.Content[0].Value == "type" && ap.Content[1].Value == "object" {
			ap.Content = nil
		}
		for i := 1; i < len(n.Content); i += 2 {
			fixGenerics(n.Content[i])
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			fixGenerics(c)
		}
	}
}

func fixLeakedGetters(schema, props *yaml.Node) {
	for i := 0; i+1 < len(props.Content); {
		name := props.Content[i].Value
		if m := leakedGetter.FindStringSubmatch(name); m != nil && m[1] == "get" {
			field := strings.ToLower(m[2][:1]) + m[2][1:]
			if get(props, field) != nil {
				props.Content = slices.Delete(props.Content, i, i+2)
				continue
			}
		}
		i += 2
	}
	req := get(schema, "required")
	if req == nil || req.Kind != yaml.SequenceNode {
		return
	}
	kept := req.Content[:0]
	for _, r := range req.Content {
		if leakedGetter.MatchString(r.Value) || get(props, r.Value) == nil && get(schema, "allOf") == nil {
			continue
		}
		kept = append(kept, r)
	}
	req.Content = kept
	if len(kept) == 0 {
		del(schema, "required")
	}
}

// deepCopy returns a copy of n that shares no node with it.
func deepCopy(n *yaml.Node) *yaml.Node {
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, e := range n.Content {
			c.Content[i] = deepCopy(e)
		}
	}
	return &c
}

// sortKeys orders every mapping by key, except the root, which keeps the
// conventional order (openapi, info, paths, components). It also resets
// every node to the default style (block collections, plain scalars quoted
// only where YAML needs it), so a JSON and a YAML source of the same
// document give the same bytes.
func sortKeys(n *yaml.Node, isRoot bool) {
	switch n.Kind {
	case yaml.MappingNode:
		if !isRoot {
			type pair struct{ k, v *yaml.Node }
			pairs := make([]pair, 0, len(n.Content)/2)
			for i := 0; i+1 < len(n.Content); i += 2 {
				pairs = append(pairs, pair{n.Content[i], n.Content[i+1]})
			}
			slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(a.k.Value, b.k.Value) })
			n.Content = n.Content[:0]
			for _, p := range pairs {
				n.Content = append(n.Content, p.k, p.v)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			n.Content[i].Style = 0
			sortKeys(n.Content[i+1], false)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			sortKeys(c, false)
		}
	}
	n.Style = 0
}
