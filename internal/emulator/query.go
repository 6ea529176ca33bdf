package emulator

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pagedResults is Kestra's PagedResults: total is always present.
type pagedResults[T any] struct {
	Results []T `json:"results"`
	Total   int `json:"total"`
}

// page parameters of a search.
type pageParams struct {
	page, size int
	sort       []sortKey
}

type sortKey struct {
	field string
	desc  bool
}

// parsePage reads page (1-based, default 1), size (default 10) and the
// repeated sort=field:asc|desc parameters; fields must be in allowed.
func parsePage(q url.Values, allowed map[string]bool) (pageParams, error) {
	p := pageParams{page: 1, size: 10}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, conversionError("page", v)
		}
		if n < 1 {
			return p, errInvalidEntity(Violation{Path: "page", Message: "must be greater than or equal to 1"})
		}
		p.page = n
	}
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, conversionError("size", v)
		}
		if n < 1 {
			return p, errInvalidEntity(Violation{Path: "size", Message: "must be greater than or equal to 1"})
		}
		p.size = n
	}
	for _, raw := range q["sort"] {
		for _, s := range strings.Split(raw, ",") {
			if s == "" {
				continue
			}
			field, dir, _ := strings.Cut(s, ":")
			if !allowed[field] {
				return p, errIllegalArgument("Invalid sort field '" + field + "'")
			}
			p.sort = append(p.sort, sortKey{field: field, desc: strings.EqualFold(dir, "desc")})
		}
	}
	return p, nil
}

// conversionError is Micronaut's ConversionErrorException for a query
// parameter of the wrong type (422).
//
// A query value of the wrong type is a Micronaut ConversionErrorException
// whose cause is not a JSON mapping error: ErrorController (1.3.25 and
// 2.0) answers it 422 with the reason "Internal server error" and the
// exception's message, "Failed to convert argument [name] for value
// [value]" followed by " due to: " and the cause.
func conversionError(name, value string) error {
	return conversionErrorDueTo(name, value, "")
}

// conversionErrorDueTo is conversionError with the cause's message.
func conversionErrorDueTo(name, value, cause string) error {
	msg := fmt.Sprintf("Internal server error: Failed to convert argument [%s] for value [%s]", name, value)
	if cause != "" {
		msg += " due to: " + cause
	}
	return &apiError{status: 422, message: msg}
}

// dateTimeParseCause is java.time's DateTimeParseException message for a
// text ISO_ZONED_DATE_TIME does not parse: the index is where the text
// leaves the yyyy-MM-ddTHH:mm shape (an approximation past the minutes).
func dateTimeParseCause(v string) string {
	const shape = "dddd-dd-ddTdd:dd"
	i := 0
	for ; i < len(v) && i < len(shape); i++ {
		if c := v[i]; shape[i] == 'd' && (c < '0' || c > '9') || shape[i] != 'd' && c != shape[i] {
			break
		}
	}
	return fmt.Sprintf("Text '%s' could not be parsed at index %d", v, i)
}

// paginate sorts items with the sort keys (cmps maps a field to its
// comparison) and returns the requested page.
func paginate[T any](items []T, p pageParams, cmps map[string]func(a, b T) int) pagedResults[T] {
	if len(p.sort) > 0 {
		slices.SortStableFunc(items, func(a, b T) int {
			for _, k := range p.sort {
				c := cmps[k.field](a, b)
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	out := pagedResults[T]{Results: []T{}, Total: len(items)}
	start := (p.page - 1) * p.size
	if start < len(items) {
		out.Results = items[start:min(len(items), start+p.size)]
	}
	return out
}

func sortKeys[T any](cmps map[string]func(a, b T) int) map[string]bool {
	m := map[string]bool{}
	for k := range cmps {
		m[k] = true
	}
	return m
}

// queryFilter is one filters[field][OP](=[key])=value leaf.
type queryFilter struct {
	field, op, key, value string
}

// filterSet is the parsed filters query: leaves are ANDed, and each or
// group matches when one of its leaves does.
type filterSet struct {
	and []queryFilter
	or  [][]queryFilter
}

// names reports whether a filter of fs, at any level, is on field.
func (fs filterSet) names(field string) bool {
	on := func(f queryFilter) bool { return f.field == field }
	return slices.ContainsFunc(fs.and, on) ||
		slices.ContainsFunc(fs.or, func(g []queryFilter) bool { return slices.ContainsFunc(g, on) })
}

var (
	filterLeafRe = regexp.MustCompile(`^filters\[([^\]]+)\]\[([^\]]+)\](?:\[([^\]]*)\])?$`)
	filterNestRe = regexp.MustCompile(`^filters\[(and|or)\]\[(\d+)\]\[([^\]]+)\]\[([^\]]+)\](?:\[([^\]]*)\])?$`)
	filterOps    = map[string]bool{
		"EQUALS": true, "NOT_EQUALS": true, "GREATER_THAN": true, "LESS_THAN": true,
		"GREATER_THAN_OR_EQUAL_TO": true, "LESS_THAN_OR_EQUAL_TO": true, "IN": true, "NOT_IN": true,
		"STARTS_WITH": true, "ENDS_WITH": true, "CONTAINS": true, "REGEX": true, "PREFIX": true,
	}
)

// parseFilters reads the filters[...] query parameters; fields must be in
// allowed.
func parseFilters(q url.Values, allowed map[string]bool) (filterSet, error) {
	var fs filterSet
	orGroups := map[string][]queryFilter{}
	var orOrder []string
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, "filters[") {
			continue
		}
		var f queryFilter
		group, isOr := "", false
		if m := filterNestRe.FindStringSubmatch(k); m != nil {
			f = queryFilter{field: m[3], op: m[4], key: m[5]}
			isOr = m[1] == "or"
			group = m[2]
		} else if m := filterLeafRe.FindStringSubmatch(k); m != nil {
			f = queryFilter{field: m[1], op: m[2], key: m[3]}
		} else {
			return fs, errInvalidFilters("cannot parse '" + k + "'")
		}
		if !allowed[f.field] {
			return fs, errInvalidFilters("field '" + f.field + "' is not supported")
		}
		if !filterOps[f.op] {
			return fs, errInvalidFilters("operation '" + f.op + "' is not supported for field '" + f.field + "'")
		}
		for _, v := range q[k] {
			f.value = v
			if isOr {
				if _, seen := orGroups[group]; !seen {
					orOrder = append(orOrder, group)
				}
				orGroups[group] = append(orGroups[group], f)
			} else {
				fs.and = append(fs.and, f)
			}
		}
	}
	if len(orOrder) > 0 {
		var g []queryFilter
		for _, o := range orOrder {
			g = append(g, orGroups[o]...)
		}
		fs.or = append(fs.or, g)
	}
	return fs, nil
}

// match evaluates the set with leaf, which reports whether one leaf holds.
func (fs filterSet) match(leaf func(queryFilter) bool) bool {
	for _, f := range fs.and {
		if !leaf(f) {
			return false
		}
	}
	for _, g := range fs.or {
		ok := false
		for _, f := range g {
			if leaf(f) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func splitList(v string) []string {
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// matchString applies a filter operation to a string field.
func matchString(op, actual, value string) bool {
	switch op {
	case "EQUALS":
		return actual == value
	case "NOT_EQUALS":
		return actual != value
	case "IN":
		return slices.Contains(splitList(value), actual)
	case "NOT_IN":
		return !slices.Contains(splitList(value), actual)
	case "STARTS_WITH":
		return strings.HasPrefix(actual, value)
	case "PREFIX":
		return actual == value || strings.HasPrefix(actual, value+".")
	case "ENDS_WITH":
		return strings.HasSuffix(actual, value)
	case "CONTAINS":
		return strings.Contains(strings.ToLower(actual), strings.ToLower(value))
	case "REGEX":
		re, err := regexp.Compile(value)
		return err == nil && re.MatchString(actual)
	case "GREATER_THAN":
		return actual > value
	case "LESS_THAN":
		return actual < value
	case "GREATER_THAN_OR_EQUAL_TO":
		return actual >= value
	case "LESS_THAN_OR_EQUAL_TO":
		return actual <= value
	}
	return false
}

// matchTime applies a filter operation to a date field; a nil actual
// matches nothing but NOT_EQUALS.
func matchTime(op string, actual *time.Time, value string) bool {
	t, err := parseDateTime(value)
	if err != nil {
		return false
	}
	if actual == nil {
		return op == "NOT_EQUALS"
	}
	c := actual.Compare(t)
	switch op {
	case "EQUALS":
		return c == 0
	case "NOT_EQUALS":
		return c != 0
	case "GREATER_THAN":
		return c > 0
	case "LESS_THAN":
		return c < 0
	case "GREATER_THAN_OR_EQUAL_TO":
		return c >= 0
	case "LESS_THAN_OR_EQUAL_TO":
		return c <= 0
	}
	return false
}

// matchLabels applies a filters[labels][OP][key]=value leaf.
func matchLabels(op string, labels []Label, key, value string) bool {
	if key == "" {
		// filters[labels][EQUALS]=k:v form.
		key, value, _ = strings.Cut(value, ":")
	}
	found := false
	for _, l := range labels {
		if l.Key == key {
			found = true
			if matchString(op, l.Value, value) {
				return true
			}
		}
	}
	if !found {
		return op == "NOT_EQUALS" || op == "NOT_IN"
	}
	return false
}

func parseDateTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("Text '%s' could not be parsed at index 0", v)
}

func boolParam(q url.Values, name string, def bool) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def, conversionError(name, v)
	}
	return b, nil
}

func compareTime(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}
