package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
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

// readInputParts streams the multipart body; file parts are read once,
// straight into their storage buffer.
func readInputParts(r *http.Request) (rawInputs, error) {
	in := rawInputs{values: map[string]string{}, files: map[string]storedFile{}}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if r.ContentLength > 0 || mt != "" {
			return in, &apiError{status: http.StatusUnsupportedMediaType, message: "Unsupported Media Type: Content Type [" + mt + "] not allowed. Allowed types: [multipart/form-data]"}
		}
		return in, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return in, errBadRequest(err.Error())
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return in, nil
		}
		if err != nil {
			return in, errBadRequest(err.Error())
		}
		name, filename := part.FormName(), part.FileName()
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(part, maxBody)); err != nil {
			return in, errBadRequest(err.Error())
		}
		switch {
		case name == "files" && filename != "":
			// Legacy form: the file name is the input id.
			in.files[filename] = storedFile{name: filename, data: buf.Bytes()}
		case filename != "":
			in.files[name] = storedFile{name: filename, data: buf.Bytes()}
		default:
			in.values[name] = buf.String()
		}
	}
}

// storagePrefix is the kestra:// prefix of an execution's files.
func storagePrefix(namespace, flowID, execID string) string {
	return "kestra:///" + strings.ReplaceAll(namespace, ".", "/") + "/" + flowID + "/executions/" + execID + "/"
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
				return nil, errInvalidInput(id, err.Error())
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
					return nil, errInvalidInput(id, err.Error())
				}
				value = v
			} else {
				value = def
			}
		} else if required {
			return nil, errInvalidInput(id, "missing required input")
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

// convertInput converts one text value to the input's type, as Kestra's
// FlowInputOutput does.
func convertInput(typ string, decl map[string]any, text string) (any, error) {
	switch typ {
	case "STRING", "SECRET", "EMAIL", "URI", "YAML", "FILE":
		return text, nil
	case "INT":
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("For input string: %q", text)
		}
		return n, nil
	case "FLOAT":
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return nil, fmt.Errorf("For input string: %q", text)
		}
		return f, nil
	case "BOOLEAN", "BOOL":
		return strings.EqualFold(strings.TrimSpace(text), "true"), nil
	case "DATETIME":
		t, err := time.Parse(time.RFC3339Nano, text)
		if err != nil {
			return nil, fmt.Errorf("Text '%s' could not be parsed at index 0", text)
		}
		return t.UTC().Format(time.RFC3339Nano), nil
	case "DATE":
		if _, err := time.Parse("2006-01-02", text); err != nil {
			return nil, fmt.Errorf("Text '%s' could not be parsed at index 0", text)
		}
		return text, nil
	case "TIME":
		if _, err := time.Parse("15:04:05", text); err != nil {
			if _, err := time.Parse("15:04", text); err != nil {
				return nil, fmt.Errorf("Text '%s' could not be parsed at index 0", text)
			}
		}
		return text, nil
	case "DURATION":
		d, err := parseISODuration(text)
		if err != nil {
			return nil, fmt.Errorf("Text cannot be parsed to a Duration")
		}
		return formatISODuration(d), nil
	case "JSON":
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return nil, fmt.Errorf("Unrecognized token '%s': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", text)
		}
		return v, nil
	case "ARRAY", "MULTISELECT":
		var l []any
		if err := json.Unmarshal([]byte(text), &l); err != nil {
			if typ == "MULTISELECT" {
				l = []any{}
				for _, p := range splitList(text) {
					l = append(l, p)
				}
			} else {
				return nil, fmt.Errorf("Unable to parse array element as JSON: %s", text)
			}
		}
		if typ == "MULTISELECT" {
			allowed := stringList(decl["values"])
			if len(allowed) == 0 {
				allowed = stringList(decl["options"])
			}
			for _, e := range l {
				if !slices.Contains(allowed, fmt.Sprint(e)) {
					return nil, fmt.Errorf("value '%v' doesn't match the values '%v'", e, allowed)
				}
			}
			return l, nil
		}
		if it, _ := decl["itemType"].(string); it != "" {
			for i, e := range l {
				v, err := convertInput(strings.ToUpper(it), nil, stringify(e))
				if err != nil {
					return nil, err
				}
				l[i] = v
			}
		}
		return l, nil
	case "SELECT", "ENUM":
		allowed := stringList(decl["values"])
		if !slices.Contains(allowed, text) {
			return nil, fmt.Errorf("it must match the values `%v`", allowed)
		}
		return text, nil
	}
	return text, nil
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}
