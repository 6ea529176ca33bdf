package kestra

import (
	"fmt"
	"unicode/utf8"
)

// Limits of a flow source, checked by [ParseFlow] (and so by every method
// that takes a source) before the YAML parser allocates anything. They are
// the limits of Kestra's own YAML readers, so a flow Kestra accepts is
// never refused by them.
const (
	// MaxFlowSourceCodePoints is the most characters (Unicode code points)
	// a flow source may have: 3 Mi, the default codePointLimit of
	// SnakeYAML's LoaderOptions, which Kestra keeps
	// (core/src/main/java/io/kestra/core/serializers/JacksonMapper.java
	// builds its YAMLFactory with new LoaderOptions(); YamlParser.java reads
	// flows with new Yaml()). Kestra refuses a longer flow.
	MaxFlowSourceCodePoints = 3 * 1024 * 1024
	// MaxFlowNestingDepth is the deepest nesting of mappings and sequences
	// a flow source may have: 1000, the default maxNestingDepth of
	// Jackson's StreamReadConstraints (jackson-core 2.15 and later), which
	// Kestra's YAML mapper keeps (JacksonMapper.java changes only
	// maxNameLength). Kestra versions that read flows with SnakeYAML's
	// composer (YamlParser.java, new Yaml()) stop at its
	// nestingDepthLimit, 50.
	MaxFlowNestingDepth = 1000
)

// byteOrderMark is the UTF-8 byte order mark that editors on Windows write
// at the start of a file. YAML allows it there; SnakeYAML skips it.
const byteOrderMark = "\ufeff"

// checkFlowLimits refuses a source over MaxFlowSourceCodePoints or nested
// deeper than MaxFlowNestingDepth, in one pass that allocates nothing.
func checkFlowLimits(source string) error {
	if len(source) > MaxFlowSourceCodePoints {
		// A code point takes 1 to 4 bytes: count only when it may be over.
		if len(source) > 4*MaxFlowSourceCodePoints {
			return &FlowSourceError{Message: fmt.Sprintf(
				"the source is %d bytes long, over Kestra's limit of %d characters (MaxFlowSourceCodePoints)",
				len(source), MaxFlowSourceCodePoints)}
		}
		if n := utf8.RuneCountInString(source); n > MaxFlowSourceCodePoints {
			return &FlowSourceError{Message: fmt.Sprintf(
				"the source is %d characters long, over Kestra's limit of %d (MaxFlowSourceCodePoints)",
				n, MaxFlowSourceCodePoints)}
		}
	}
	if line, col, over := nestingOver(source, MaxFlowNestingDepth); over {
		return &FlowSourceError{Line: line, Column: col, Message: fmt.Sprintf(
			"mappings and sequences nested deeper than Kestra's limit of %d (MaxFlowNestingDepth)",
			MaxFlowNestingDepth)}
	}
	return nil
}

// nestingOver reports whether the YAML in src nests mappings and
// sequences deeper than limit, and the line and column (from 1) where it
// goes past it. It is a scan, not a parser: it follows block indentation,
// sequence entries, mapping keys, flow collections, quoted scalars, block
// scalars and comments. It may count less than a parser (a sequence
// indented as its parent key, invalid YAML the parser then refuses); it
// counts no more for the YAML a flow is written in.
func nestingOver(src string, limit int) (line, col int, over bool) {
	s := depthScan{limit: limit, blockParent: -2, plainParent: -2}
	// YAML breaks lines at \n, \r\n and \r.
	for lineNo := 1; len(src) > 0; lineNo++ {
		l := src
		if i := indexLineBreak(src); i >= 0 {
			l = src[:i]
			if src[i] == '\r' && i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			src = src[i+1:]
		} else {
			src = ""
		}
		s.lineNo = lineNo
		s.scanLine(l)
		if s.over {
			return s.overLine, s.overCol, true
		}
	}
	return 0, 0, false
}

func indexLineBreak(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			return i
		}
	}
	return -1
}

// depthScan is the state of nestingOver between lines.
type depthScan struct {
	limit int
	// stack holds the columns of the open block collections (a sequence
	// at its "-", a mapping at its first key).
	stack []int
	// flow counts the open flow collections ([ and {).
	flow int
	// quote is the quote of a quoted scalar that goes on to the next
	// line, or 0.
	quote byte
	// nodeStart: in a flow collection, the next character starts a node
	// (after [, {, "," or ": "), so a quote there opens a quoted scalar.
	nodeStart bool
	// blockParent is the indentation of the node whose block scalar (| or
	// >) is being skipped: lines more indented belong to the scalar. -2
	// when there is none, -1 for a block scalar at the top level.
	blockParent int
	// plainParent is the same for a plain scalar that may go on to the
	// next lines, more indented than its parent: those lines are text.
	plainParent int

	lineNo            int
	over              bool
	overLine, overCol int
}

func (s *depthScan) depth() int { return len(s.stack) + s.flow }

func (s *depthScan) check(col int) {
	if !s.over && s.depth() > s.limit {
		s.over, s.overLine, s.overCol = true, s.lineNo, col+1
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func skipBlanks(l string, i int) int {
	for i < len(l) && isBlank(l[i]) {
		i++
	}
	return i
}

func (s *depthScan) scanLine(l string) {
	indent := 0
	for indent < len(l) && l[indent] == ' ' {
		indent++
	}
	rest := skipBlanks(l, indent)
	blank := rest == len(l)

	// A document marker ends everything, block scalars included.
	if s.quote == 0 && len(l) >= 3 && (l[:3] == "---" || l[:3] == "...") && (len(l) == 3 || isBlank(l[3])) {
		s.stack, s.flow, s.blockParent, s.plainParent, s.nodeStart = s.stack[:0], 0, -2, -2, false
		if l[:3] == "---" {
			s.node(l, skipBlanks(l, 3))
		}
		return
	}
	if s.blockParent > -2 {
		if blank || indent > s.blockParent {
			return
		}
		s.blockParent = -2
	}
	if s.plainParent > -2 {
		switch {
		case blank:
			return
		case l[rest] == '#':
			s.plainParent = -2
			return
		case indent > s.plainParent:
			return
		}
		s.plainParent = -2
	}
	if s.quote != 0 || s.flow > 0 {
		s.scanFlow(l, 0)
		return
	}
	if blank || l[rest] == '#' {
		return
	}
	for len(s.stack) > 0 && s.stack[len(s.stack)-1] >= indent {
		s.stack = s.stack[:len(s.stack)-1]
	}
	p := indent
	// Sequence entries: "- - x" opens two sequences. (A complex key, "? ",
	// is not counted.)
	for p < len(l) && l[p] == '-' && (p+1 == len(l) || isBlank(l[p+1])) {
		s.push(p)
		p = skipBlanks(l, p+1)
	}
	if p >= len(l) || l[p] == '#' {
		return
	}
	key := skipProperties(l, p)
	if k := mappingIndicator(l, key); k >= 0 {
		s.push(p)
		p = skipBlanks(l, k+1)
	}
	s.node(l, p)
}

// skipProperties skips the tags and anchors at l[p:] and the blanks after
// them.
func skipProperties(l string, p int) int {
	for p < len(l) && (l[p] == '!' || l[p] == '&') {
		for p < len(l) && !isBlank(l[p]) {
			p++
		}
		p = skipBlanks(l, p)
	}
	return p
}

// parentIndent is the column of the innermost open block collection, -1
// at the top level.
func (s *depthScan) parentIndent() int {
	if n := len(s.stack); n > 0 {
		return s.stack[n-1]
	}
	return -1
}

func (s *depthScan) push(col int) {
	s.stack = append(s.stack, col)
	s.check(col)
}

// node reads the start of a block node at l[p:].
func (s *depthScan) node(l string, p int) {
	p = skipProperties(l, p) // tags and anchors come before the node
	if p >= len(l) {
		return
	}
	switch l[p] {
	case '[', '{', '"', '\'':
		s.nodeStart = true
		s.scanFlow(l, p)
	case '|', '>':
		s.blockParent = s.parentIndent()
	case '#':
		// A comment: nothing goes on to the next line.
	default:
		// A plain scalar (or an alias, which has no next line).
		s.plainParent = s.parentIndent()
	}
}

// mappingIndicator returns the index of the ':' that ends the mapping key
// starting at l[p], or -1 when l[p:] is not a key.
func mappingIndicator(l string, p int) int {
	i := p
	if i < len(l) && (l[i] == '"' || l[i] == '\'') {
		end := closingQuote(l, i+1, l[i])
		if end < 0 {
			return -1
		}
		i = end + 1
	} else if i < len(l) && (l[i] == '[' || l[i] == '{' || l[i] == '|' || l[i] == '>') {
		return -1 // a flow collection, a block scalar
	} else if i < len(l) && l[i] == '*' {
		// An alias's name runs to a blank, colons included.
		for i < len(l) && !isBlank(l[i]) {
			i++
		}
	}
	for ; i < len(l); i++ {
		switch l[i] {
		case ':':
			if i+1 == len(l) || isBlank(l[i+1]) {
				return i
			}
		case '#':
			if i > p && isBlank(l[i-1]) {
				return -1
			}
		}
	}
	return -1
}

// closingQuote returns the index of the quote that closes a scalar
// quoted with q whose text starts at l[i], or -1 when it goes on past the
// line. In single quotes, a doubled quote stands for one; in double
// quotes, a backslash escapes the next character.
func closingQuote(l string, i int, q byte) int {
	for ; i < len(l); i++ {
		switch {
		case q == '"' && l[i] == '\\':
			i++
		case l[i] == q:
			if q == '\'' && i+1 < len(l) && l[i+1] == '\'' {
				i++
				continue
			}
			return i
		}
	}
	return -1
}

// scanFlow reads l[i:] inside a quoted scalar or a flow collection, or at
// the start of one. It returns when the line ends, or when the outermost
// quoted scalar or flow collection closes (the rest of the line is then
// a comment or nothing that nests).
func (s *depthScan) scanFlow(l string, i int) {
	for i < len(l) {
		if s.quote != 0 {
			end := closingQuote(l, i, s.quote)
			if end < 0 {
				return
			}
			s.quote, s.nodeStart, i = 0, false, end+1
			if s.flow == 0 {
				return
			}
			continue
		}
		c := l[i]
		switch {
		case isBlank(c):
		case c == '[' || c == '{':
			s.flow++
			s.check(i)
			s.nodeStart = true
		case c == ']' || c == '}':
			if s.flow > 0 {
				s.flow--
			}
			s.nodeStart = false
			if s.flow == 0 {
				return
			}
		case c == ',':
			s.nodeStart = true
		case c == ':' || c == '?':
			s.nodeStart = i+1 == len(l) || isBlank(l[i+1]) || c == ':' && i > 0 && (l[i-1] == '"' || l[i-1] == '\'')
		case (c == '"' || c == '\'') && s.nodeStart:
			s.quote = c
		case (c == '!' || c == '&') && s.nodeStart:
			for i+1 < len(l) && !isBlank(l[i+1]) && !isFlowIndicator(l[i+1]) {
				i++
			}
		case c == '#' && (i == 0 || isBlank(l[i-1])):
			return
		default:
			s.nodeStart = false
		}
		i++
	}
}

func isFlowIndicator(c byte) bool {
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'
}
