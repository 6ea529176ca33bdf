package kestra

import (
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// astDepth is the nesting of mappings and sequences of n, as the parser
// built it (aliases not followed).
func astDepth(n ast.Node) int {
	switch x := n.(type) {
	case nil:
		return 0
	case *ast.DocumentNode:
		return astDepth(x.Body)
	case *ast.TagNode:
		return astDepth(x.Value)
	case *ast.AnchorNode:
		return astDepth(x.Value)
	case *ast.MappingNode:
		d := 0
		for _, v := range x.Values {
			d = max(d, astDepth(v.Key), astDepth(v.Value))
		}
		return 1 + d
	case *ast.MappingValueNode:
		// A mapping of one key, outside a MappingNode.
		return 1 + max(astDepth(x.Key), astDepth(x.Value))
	case *ast.MappingKeyNode:
		return astDepth(x.Value)
	case *ast.SequenceNode:
		d := 0
		for _, v := range x.Values {
			d = max(d, astDepth(v))
		}
		return 1 + d
	}
	return 0
}

// scanDepth is the depth nestingOver counts for src.
func scanDepth(src string) int {
	lo, hi := 0, 1<<20
	for lo < hi { // the least limit src is not over
		mid := (lo + hi) / 2
		if _, _, over := nestingOver(src, mid); over {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func parsedDepth(t testing.TB, src string) (int, bool) {
	file, err := parser.ParseBytes([]byte(src), 0)
	if err != nil {
		return 0, false
	}
	d := 0
	for _, doc := range file.Docs {
		d = max(d, astDepth(doc))
	}
	return d, true
}

var nestingSamples = []struct {
	src  string
	want int
}{
	{"id: a\nnamespace: b\ntasks:\n  - id: t\n    type: x\n", 3},
	{"a:\n  b:\n    c:\n      - - - x\n", 6},
	{"a: [b, {c: [d]}]\n", 4},
	{"a: {b: [1, 2], c: {d: e}}\n", 3},
	{"- - - - x\n", 4},
	{"a: |\n  [[[[[[\n  {{{{\nb: 1\n", 1},
	{"a: >-\n    - - - -\n    x: y\nb: c\n", 1},
	{"- |\n  [[[[\n- [x]\n", 2},
	{"a: '[[[['\nb: \"{{{{\\\" [[[\"\n", 1},
	{"a: 'it''s [[['\n", 1},
	{"a: x[[[[\n", 1},
	{"a: [it's, x]\n", 2},
	{"a: b # [[[[\n# [[[[\n", 1},
	{"a: [x, # [[[\n  y]\n", 2},
	{"a: \"multi\n  line [[[[\n  end\"\nb: [[c]]\n", 3},
	{"\"k: [\": [[v]]\n", 3},
	{"a: !!seq [!!str \"[[[\", &x [y]]\n", 3},
	{"--- [[a]]\n--- {b: [c]}\n", 2},
	{"a:\r  b:\r    c: d\r", 3},
	{"a:\r\n  b:\r\n    - c\r\n", 3},
	{"k: url://host:8080/x\nl: [a:b, c]\n", 2},
	{"{\"a\":[\"b\",{\"c\":\"[[\"}]}\n", 3},
	{"a:\n- b\n- c: [d]\n", 3},
}

func TestNestingScan(t *testing.T) {
	t.Parallel()
	for _, tc := range nestingSamples {
		got := scanDepth(tc.src)
		parsed, ok := parsedDepth(t, tc.src)
		if !ok {
			t.Errorf("%q does not parse", tc.src)
			continue
		}
		if got > parsed {
			t.Errorf("%q: scan counts %d, more than the parser's %d", tc.src, got, parsed)
		}
		if got != tc.want && !(tc.want < parsed && got >= tc.want) {
			t.Errorf("%q: scan counts %d, want %d (parser: %d)", tc.src, got, tc.want, parsed)
		}
	}
}

// FuzzNestingScan checks that the scan never counts more nesting than the
// parser builds, so that the limit refuses no YAML the parser would read
// within it.
func FuzzNestingScan(f *testing.F) {
	for _, tc := range nestingSamples {
		f.Add(tc.src)
	}
	f.Add(strings.Repeat("[", 50) + strings.Repeat("]", 50))
	f.Add("x:\n" + strings.Repeat("- ", 50) + "y\n")
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1<<12 {
			return
		}
		parsed, ok := parsedDepth(t, src)
		if !ok {
			return
		}
		if got := scanDepth(src); got > parsed {
			t.Fatalf("%q: scan counts %d, more than the parser's %d", src, got, parsed)
		}
	})
}
