package emulator

import (
	"encoding/json"
	"mime"
	"net/http"

	"github.com/goccy/go-yaml"
)

// yamlMediaType is Micronaut's MediaType.APPLICATION_YAML, the only type
// FlowController's YAML create and update consume.
const yamlMediaType = "application/x-yaml"

// flowBody reads the body of a flow create or update. FlowController
// (1.3.25 and 2.0) routes a body of any other content type to its hidden,
// deprecated JSON endpoint (createFlowFromJson, updateFlowFromJson:
// consumes = MediaType.ALL, @Body Flow): the body is a Flow in JSON, the
// source kept is its "source" or one generated from it
// (Flow#sourceOrGenerateIfNull), and the answer is a Flow without source.
// A body that is not JSON is a JsonParseException (422 "Invalid json").
func flowBody(r *http.Request) (src string, fromJSON bool, err error) {
	body, err := readBody(r)
	if err != nil {
		return "", false, err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == yamlMediaType {
		return body, false, nil
	}
	var flow map[string]any
	if err := json.Unmarshal([]byte(body), &flow); err != nil {
		return "", true, &apiError{status: http.StatusUnprocessableEntity, message: "Invalid json: " + err.Error()}
	}
	if s, ok := flow["source"].(string); ok && s != "" {
		return s, true, nil
	}
	delete(flow, "source")
	b, err := yaml.Marshal(flow)
	if err != nil {
		return "", true, errInternal(err.Error())
	}
	return string(b), true, nil
}

// consumes refuses a request whose Content-Type is not mediaType as
// Micronaut does for a route declared with consumes = mediaType: 415 and
// "Unsupported Media Type: Content Type [x] not allowed. Allowed types:
// [mediaType]". A request without Content-Type is let through (Micronaut
// matches it). KVController#setKeyValue consumes text/plain only (1.3.25
// and 2.0), so a JSON upload of a value is refused there.
func consumes(mediaType string, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			if mt, _, _ := mime.ParseMediaType(ct); mt != mediaType {
				return &apiError{status: http.StatusUnsupportedMediaType,
					message: "Unsupported Media Type: Content Type [" + mt + "] not allowed. Allowed types: [" + mediaType + "]"}
			}
		}
		return h(w, r)
	}
}

// withoutNulls returns m without null properties, at every depth, as
// Kestra's NON_NULL mapper writes an object (JacksonMapper; 1.3.25 and
// 2.0); a null element of a list stays. m is not modified: what holds no
// null is shared, not copied.
func withoutNulls(m map[string]any) map[string]any {
	out, _ := stripNulls(m)
	return out.(map[string]any)
}

// stripNulls returns v without null properties and whether it changed.
func stripNulls(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			ne, changed := stripNulls(e)
			if e == nil || changed {
				if out == nil {
					out = make(map[string]any, len(x))
					for k2, e2 := range x {
						out[k2] = e2
					}
				}
				if e == nil {
					delete(out, k)
				} else {
					out[k] = ne
				}
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range x {
			if ne, changed := stripNulls(e); changed {
				if out == nil {
					out = append([]any(nil), x...)
				}
				out[i] = ne
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	}
	return v, false
}
