package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rawInputs are the multipart parts of an execution request: text values
// and stored files (by input id).
type rawInputs struct {
	values map[string]string
	files  map[string]storedFile
}

type storedFile struct {
	name string
	data []byte
}

// storagePrefix is the kestra:// prefix of an execution's files.
func storagePrefix(namespace, flowID, execID string) string {
	return "kestra:///" + strings.ReplaceAll(namespace, ".", "/") + "/" + flowID + "/executions/" + execID + "/"
}

// inputError is a refused input value. Kestra names the input in the
// message only for IllegalArgumentException and constraint violations
// (InputOutputValidationException#of(message, input)); other parse
// failures (a date, JSON, a SECRET without key) come wrapped as
// " errors:\n```\n<cause>\n```" with no input id
// (FlowInputOutput#parseType and #resolveInputValue, Kestra 1.3.19 and
// 2.0.0-SNAPSHOT).
type inputError struct {
	msg     string
	namesID bool
}

func (e *inputError) Error() string { return e.msg }

// argErr is a failure reported with the input's id.
func argErr(format string, a ...any) error {
	return &inputError{msg: fmt.Sprintf(format, a...), namesID: true}
}

// parseErr is a failure reported without the input's id.
func parseErr(format string, a ...any) error {
	return &inputError{msg: " errors:\n```\n" + fmt.Sprintf(format, a...) + "\n```"}
}

// inputAPIError is the 422 Kestra answers for a refused input.
func inputAPIError(id string, err error) error {
	var ie *inputError
	if errors.As(err, &ie) && !ie.namesID {
		return &apiError{status: http.StatusUnprocessableEntity, message: "Invalid entity: " + ie.msg}
	}
	return errInvalidInput(id, err.Error())
}

// convertInputs types the raw inputs by the flow's declared inputs. Files
// are added to store.
func convertInputs(pf *parsedFlow, raw rawInputs, prefix string, vars map[string]any, store map[string][]byte) (map[string]any, error) {
	out := map[string]any{}
	for _, decl := range pf.inputs {
		id, _ := decl["id"].(string)
		typ := strings.ToUpper(fmt.Sprint(decl["type"]))
		required := true
		if b, ok := decl["required"].(bool); ok {
			required = b
		}
		if typ == "FILE" {
			if f, ok := raw.files[id]; ok {
				uri := prefix + "inputs/" + id + "/" + f.name
				store[uri] = f.data
				out[id] = uri
				continue
			}
		}
		text, present := raw.values[id]
		var value any
		if present {
			v, err := convertInput(typ, decl, text)
			if err != nil {
				return nil, inputAPIError(id, err)
			}
			value = v
		} else if def, ok := decl["defaults"]; ok && def != nil {
			if s, isStr := def.(string); isStr {
				rendered, err := render(s, vars)
				if err != nil {
					return nil, errInvalidInput(id, err.Error())
				}
				v, err := convertInput(typ, decl, rendered)
				if err != nil {
					return nil, inputAPIError(id, err)
				}
				value = v
			} else {
				value = def
			}
		} else if required {
			// Not wrapped with the input id (FlowInputOutput#resolveInputValue).
			return nil, &apiError{status: http.StatusUnprocessableEntity, message: "Invalid entity: Missing required input:" + id}
		} else {
			continue
		}
		out[id] = value
	}
	return out, nil
}

// givenInputs reads the inputs a task or trigger gives a new execution id
// of the flow key (a Subflow task's, a webhook's): a map whose values are
// rendered with vars, then read as the flow's inputs, with their defaults
// (FlowInputOutput#readExecutionInputs). FILE inputs are stored in files.
func givenInputs(pf *parsedFlow, key flowKey, id string, given any, vars map[string]any, files map[string][]byte) (map[string]any, error) {
	rendered, err := renderValue(given, vars)
	if err != nil {
		return nil, err
	}
	raw := rawInputs{values: map[string]string{}}
	if m, ok := rendered.(map[string]any); ok {
		for k, v := range m {
			raw.values[k] = stringify(v)
		}
	}
	flowVars := map[string]any{"flow": map[string]any{"id": key.id, "namespace": key.namespace}, "execution": map[string]any{"id": id}}
	return convertInputs(pf, raw, storagePrefix(key.namespace, key.id, id), flowVars, files)
}

// emailRe is EmailInput's EMAIL_PATTERN (Kestra 1.3.19 and 2.0.0-SNAPSHOT).
var emailRe = regexp.MustCompile("^$|^[a-zA-Z0-9_!#$%&\u2019*+/=?`{|}~^.-]+@[a-zA-Z0-9.-]+$")

// convertInput converts one text value to the input's type and checks it
// as Kestra's FlowInputOutput#parseType and the validate method of the
// input's class do (Kestra 1.3.19 and 2.0.0-SNAPSHOT).
func convertInput(typ string, decl map[string]any, text string) (any, error) {
	switch typ {
	case "STRING", "EMAIL", "YAML", "FILE":
		if typ == "EMAIL" && !emailRe.MatchString(text) {
			return nil, argErr("The input must be a valid email")
		}
		if typ == "STRING" {
			if err := checkValidator(decl, text); err != nil {
				return nil, err
			}
		}
		return text, nil
	case "SECRET":
		// The emulator has no encryption key, as a Kestra without
		// kestra.encryption.secret-key.
		return nil, parseErr("Unable to use a `SECRET` input/output as encryption is not configured")
	case "URI":
		// URI.create: an illegal character fails with the
		// URISyntaxException's message; no scheme is refused.
		if i := strings.IndexAny(text, " \"<>\\^`{|}"); i >= 0 {
			return nil, argErr("Illegal character in %s at index %d: %s", uriComponent(text, i), i, text)
		}
		if u, err := url.Parse(text); err != nil || u.Scheme == "" {
			return nil, argErr("Invalid URI format.")
		}
		return text, nil
	case "INT":
		// Integer.valueOf: 32 bits, no surrounding space.
		n, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			return nil, argErr("For input string: \"%s\"", text)
		}
		if min, ok := numberBound(decl, "min"); ok && float64(n) < min {
			return nil, argErr("it must be more than `%s`", fmt.Sprint(decl["min"]))
		}
		if max, ok := numberBound(decl, "max"); ok && float64(n) > max {
			return nil, argErr("it must be less than `%s`", fmt.Sprint(decl["max"]))
		}
		return n, nil
	case "FLOAT":
		// Float.valueOf: 32 bits, printed back as the float it is
		// (1.1, not 1.100000023841858).
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 32)
		if err != nil {
			return nil, argErr("For input string: \"%s\"", text)
		}
		f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', -1, 32), 64)
		if min, ok := numberBound(decl, "min"); ok && f < min {
			return nil, argErr("it must be more than `%s`", javaFloat(min))
		}
		if max, ok := numberBound(decl, "max"); ok && f > max {
			return nil, argErr("it must be less than `%s`", javaFloat(max))
		}
		return f, nil
	case "BOOLEAN", "BOOL":
		// Boolean.valueOf: "true" in any case, nothing else, not trimmed.
		return strings.EqualFold(text, "true"), nil
	case "DATETIME":
		t, err := time.Parse(time.RFC3339Nano, text)
		if err != nil {
			return nil, parseErr("Text '%s' could not be parsed at index 0", text)
		}
		if err := checkTimeBounds(decl, t, func(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }, javaInstant); err != nil {
			return nil, err
		}
		return javaInstant(t), nil
	case "DATE":
		t, err := time.Parse(time.DateOnly, text)
		if err != nil {
			return nil, parseErr("Text '%s' could not be parsed at index 0", text)
		}
		if err := checkTimeBounds(decl, t, func(s string) (time.Time, error) { return time.Parse(time.DateOnly, s) }, func(t time.Time) string { return t.Format(time.DateOnly) }); err != nil {
			return nil, err
		}
		return text, nil
	case "TIME":
		t, err := parseLocalTime(text)
		if err != nil {
			return nil, parseErr("Text '%s' could not be parsed at index 0", text)
		}
		if err := checkTimeBounds(decl, t, parseLocalTime, javaLocalTime); err != nil {
			return nil, err
		}
		return javaLocalTime(t), nil
	case "DURATION":
		d, err := parseISODuration(text)
		if err != nil {
			return nil, parseErr("Text cannot be parsed to a Duration")
		}
		for _, b := range []struct {
			key, msg string
			out      func(time.Duration) bool
		}{
			{"min", "It must be more than `%s`", func(m time.Duration) bool { return d < m }},
			{"max", "It must be less than `%s`", func(m time.Duration) bool { return d > m }},
		} {
			if v, ok := decl[b.key].(string); ok {
				if m, err := parseISODuration(v); err == nil && b.out(m) {
					return nil, argErr(b.msg, formatISODuration(m))
				}
			}
		}
		return formatISODuration(d), nil
	case "JSON":
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return nil, parseErr("Unrecognized token '%s': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", text)
		}
		return v, nil
	case "ARRAY", "MULTISELECT":
		// A JSON array only (JacksonMapper#toList).
		var l []any
		if err := json.Unmarshal([]byte(text), &l); err != nil {
			return nil, parseErr("Cannot deserialize value of type `java.util.ArrayList<java.lang.Object>` from %s", text)
		}
		if typ == "MULTISELECT" {
			allowed := optionValues(decl["values"])
			if allowed == nil {
				allowed = optionValues(decl["options"])
			}
			if custom, _ := decl["allowCustomValue"].(bool); !custom {
				for _, e := range l {
					if !slices.Contains(allowed, fmt.Sprint(e)) {
						return nil, argErr("value `%v` doesn't match the values `%s`", e, javaList(allowed))
					}
				}
			}
			return l, nil
		}
		if it, _ := decl["itemType"].(string); it != "" {
			it = strings.ToUpper(it)
			for i, e := range l {
				v, err := convertInput(it, nil, stringify(e))
				if err != nil {
					return nil, argErr("Unable to parse array element as `%s` on `%s`", it, stringify(e))
				}
				l[i] = v
			}
		}
		return l, nil
	case "SELECT", "ENUM":
		// Checked only when required, and then not with allowCustomValue.
		allowed := optionValues(decl["values"])
		required := true
		if b, ok := decl["required"].(bool); ok {
			required = b
		}
		custom, _ := decl["allowCustomValue"].(bool)
		if required && !custom && !slices.Contains(allowed, text) {
			return nil, argErr("it must match the values `%s`", javaList(allowed))
		}
		return text, nil
	}
	return text, nil
}

// uriComponent names the part of a URI that holds index i, as
// java.net.URI's parser reports it.
func uriComponent(text string, i int) string {
	switch {
	case strings.Contains(text[:i], "#"):
		return "fragment"
	case strings.Contains(text[:i], "?"):
		return "query"
	}
	if _, rest, ok := strings.Cut(text, "://"); ok {
		start := len(text) - len(rest)
		if i >= start && !strings.Contains(text[start:i], "/") {
			return "authority"
		}
	}
	return "path"
}

// checkValidator checks a STRING against its validator, a regular
// expression the whole value must match (Pattern#matches).
func checkValidator(decl map[string]any, text string) error {
	v, _ := decl["validator"].(string)
	if v == "" {
		return nil
	}
	re, err := regexp.Compile("^(?:" + v + ")$")
	if err != nil || !re.MatchString(text) {
		return argErr("it must match the pattern `%s`", v)
	}
	return nil
}

// numberBound reads a numeric min or max of an INT or FLOAT input.
func numberBound(decl map[string]any, key string) (float64, bool) {
	switch v := decl[key].(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// checkTimeBounds checks a DATETIME, DATE or TIME against its after and
// before bounds, printed as Java prints them.
func checkTimeBounds(decl map[string]any, t time.Time, parse func(string) (time.Time, error), format func(time.Time) string) error {
	if s, ok := decl["after"].(string); ok {
		if b, err := parse(s); err == nil && t.Before(b) {
			return argErr("it must be after `%s`", format(b))
		}
	}
	if s, ok := decl["before"].(string); ok {
		if b, err := parse(s); err == nil && t.After(b) {
			return argErr("it must be before `%s`", format(b))
		}
	}
	return nil
}

// parseLocalTime reads a LocalTime: HH:mm, HH:mm:ss or HH:mm:ss with up
// to nine fraction digits (DateTimeFormatter.ISO_LOCAL_TIME).
func parseLocalTime(s string) (time.Time, error) {
	for _, layout := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("invalid time")
}

// javaFraction writes nanoseconds as java.time prints them: in groups of
// three digits, none when zero.
func javaFraction(ns int) string {
	switch {
	case ns == 0:
		return ""
	case ns%1_000_000 == 0:
		return fmt.Sprintf(".%03d", ns/1_000_000)
	case ns%1000 == 0:
		return fmt.Sprintf(".%06d", ns/1000)
	}
	return fmt.Sprintf(".%09d", ns)
}

// javaInstant is Instant#toString.
func javaInstant(t time.Time) string {
	t = t.UTC()
	return t.Format("2006-01-02T15:04:05") + javaFraction(t.Nanosecond()) + "Z"
}

// javaLocalTime is LocalTime#toString: seconds only when not zero.
func javaLocalTime(t time.Time) string {
	s := t.Format("15:04")
	if t.Second() != 0 || t.Nanosecond() != 0 {
		s += t.Format(":05") + javaFraction(t.Nanosecond())
	}
	return s
}

// javaFloat prints a bound as Float#toString does for usual values.
func javaFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 32)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// javaList prints values as a Java List does: [a, b].
func javaList(values []string) string {
	return "[" + strings.Join(values, ", ") + "]"
}

// optionValues reads the values of a SELECT or MULTISELECT: strings, or
// 2.0's value options ({value, label}).
func optionValues(v any) []string {
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			e = m["value"]
		}
		out = append(out, fmt.Sprint(e))
	}
	return out
}
