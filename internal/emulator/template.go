package emulator

import (
	"encoding/json"
	"fmt"
	"iter"
	"strconv"
	"strings"
)

// render evaluates the Pebble-like {{ expression }} blocks of s against
// vars: dotted paths (inputs.x, outputs.task.value, execution.id, flow.id,
// labels.k, vars.v, trigger.body), ['key'] indexing, quoted strings and
// numbers, the filters default, upper, lower, trim and json, and one
// comparison (==, !=, <, <=, >, >=). A path
// that does not resolve is an error, as in Kestra's strict mode.
func render(s string, vars map[string]any) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		expr := strings.TrimSpace(rest[i+2 : i+j])
		v, err := evalExpr(expr, vars)
		if err != nil {
			return "", fmt.Errorf("%w used in the expression `%s` at line 1", err, rest[i:i+j+2])
		}
		b.WriteString(stringify(v))
		rest = rest[i+j+2:]
	}
}

// renderValue renders strings, and the strings inside maps and lists.
func renderValue(v any, vars map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		return render(x, vars)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderValue(e, vars)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := renderValue(e, vars)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

func stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

func evalExpr(expr string, vars map[string]any) (any, error) {
	if left, op, right, ok := cutComparison(expr); ok {
		a, err := evalFiltered(left, vars)
		if err != nil {
			return nil, err
		}
		b, err := evalFiltered(right, vars)
		if err != nil {
			return nil, err
		}
		return compare(a, op, b), nil
	}
	return evalFiltered(expr, vars)
}

// comparisons are the binary operators of an expression, longest first.
var comparisons = []string{"==", "!=", "<=", ">=", "<", ">"}

// cutComparison splits expr at its first comparison operator outside
// quotes.
func cutComparison(expr string) (left, op, right string, ok bool) {
	for i := range unquoted(expr) {
		for _, o := range comparisons {
			if strings.HasPrefix(expr[i:], o) {
				return strings.TrimSpace(expr[:i]), o, strings.TrimSpace(expr[i+len(o):]), true
			}
		}
	}
	return "", "", "", false
}

// unquoted yields the indexes of expr that are outside '…' and "…"
// literals (quotes excluded).
func unquoted(expr string) iter.Seq[int] {
	return func(yield func(int) bool) {
		quote := byte(0)
		for i := 0; i < len(expr); i++ {
			switch c := expr[i]; {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '\'' || c == '"':
				quote = c
			default:
				if !yield(i) {
					return
				}
			}
		}
	}
}

// compare applies a comparison as Pebble does: numbers by value, anything
// else by its text.
func compare(a any, op string, b any) bool {
	x, xNum := number(a)
	y, yNum := number(b)
	c := 0
	if xNum && yNum {
		c = cmpFloat(x, y)
	} else {
		c = strings.Compare(stringify(a), stringify(b))
	}
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// evalFiltered evaluates an operand and its filters.
func evalFiltered(expr string, vars map[string]any) (any, error) {
	parts := splitPipes(expr)
	var filters []string
	if len(parts) > 1 {
		filters = parts[1:]
	}
	v, err := evalOperand(strings.TrimSpace(parts[0]), vars)
	for _, f := range filters {
		f = strings.TrimSpace(f)
		name, arg, hasArg := strings.Cut(f, "(")
		name = strings.TrimSpace(name)
		switch name {
		case "default":
			if err != nil || v == nil || v == "" {
				if !hasArg {
					return nil, fmt.Errorf("default filter needs an argument")
				}
				v, err = evalOperand(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(arg), ")")), vars)
			}
		case "upper":
			v = strings.ToUpper(stringify(v))
		case "lower":
			v = strings.ToLower(stringify(v))
		case "trim":
			v = strings.TrimSpace(stringify(v))
		case "json", "toJson":
			b, _ := json.Marshal(v)
			v = string(b)
		default:
			return nil, fmt.Errorf("Unknown filter `%s`", name)
		}
	}
	return v, err
}

func splitPipes(expr string) []string {
	var out []string
	start := 0
	for i := range unquoted(expr) {
		if expr[i] == '|' {
			out = append(out, expr[start:i])
			start = i + 1
		}
	}
	return append(out, expr[start:])
}

func evalOperand(op string, vars map[string]any) (any, error) {
	if len(op) >= 2 && (op[0] == '\'' || op[0] == '"') && op[len(op)-1] == op[0] {
		return op[1 : len(op)-1], nil
	}
	if n, err := strconv.ParseInt(op, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(op, 64); err == nil {
		return f, nil
	}
	switch op {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	segs, err := pathSegments(op)
	if err != nil {
		return nil, err
	}
	var cur any = vars
	for _, seg := range segs {
		switch m := cur.(type) {
		case map[string]any:
			v, ok := m[seg]
			if !ok {
				return nil, fmt.Errorf("Unable to find `%s`", seg)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(m) {
				return nil, fmt.Errorf("Unable to find `%s`", seg)
			}
			cur = m[i]
		default:
			return nil, fmt.Errorf("Unable to find `%s`", seg)
		}
	}
	return cur, nil
}

// pathSegments splits a.b['c'][0] into a, b, c, 0.
func pathSegments(p string) ([]string, error) {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '.':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		case '[':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("Unexpected token in `%s`", p)
			}
			key := strings.Trim(strings.TrimSpace(p[i+1:i+j]), `'"`)
			out = append(out, key)
			i += j
		case ' ', '\t':
			return nil, fmt.Errorf("Unexpected token in `%s`", p)
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("Empty expression")
	}
	return out, nil
}
