package kestra

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseErrorBody feeds arbitrary response bodies to the error parser and
// to newAPIError. Whatever a server or a proxy sends, building the error
// must not panic, the message of a body that is not JSON stays on one
// bounded line, and the message of a JsonError is Kestra's message.
func FuzzParseErrorBody(f *testing.F) {
	for _, seed := range []string{
		``,
		`   `,
		`{"message":"Not Found: Unable to find execution 7a1bGmB1cjb7lCX8xmKTw1","_links":{"self":{"href":"/api/v1/main/executions/7a1bGmB1cjb7lCX8xmKTw1","templated":false}}}`,
		`{"message":"Invalid entity: flow.id: Flow id already exists","_embedded":{"errors":[{"message":"Flow id already exists","path":"flow.id"}]},"_links":{"self":{"href":"/api/v1/main/flows","templated":false}}}`,
		`{"message":"Invalid entity: tasks: must not be empty, id: must match","_embedded":{"errors":[{"message":"must not be empty","path":"flow.tasks"},{"message":"must match \"^[a-zA-Z0-9][a-zA-Z0-9_-]*\"","path":"flow.id"}]}}`,
		`{"type":"about:blank","title":"Bad Request","status":400,"detail":"Invalid query filters: unknown field","errors":[{"message":"unknown","path":"filters"}]}`,
		`{"message":"invalid bulk delete","invalids":[{"message":"execution not found","invalidValue":"x"},{"message":"m","invalidValue":7}]}`,
		`{"message":"invalid bulk kill","invalids":{"x":"an object"}}`,
		`{"title":"Forbidden"}`,
		`{"detail":"only a detail"}`,
		`{"_embedded":{"errors":{"message":"an object, not a list"}}}`,
		`{"message":42}`,
		`{"message":"unterminated`,
		`[{"message":"an array"}]`,
		`null`,
		"<html><body><h1>502 Bad Gateway</h1></body></html>",
		"upstream connect error\r\nor disconnect/reset before headers.\treset reason: connection failure",
		"Unauthorized",
		strings.Repeat("long text ", 100),
		strings.Repeat("é", 400),
		"\xff\xfe not \xc3 UTF-8",
		`{"message":"` + strings.Repeat("x", maxErrorBody) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, violations := parseErrorBody(body)

		trimmed := strings.TrimSpace(string(body))
		var eb errorBody
		isJSON := trimmed != "" && trimmed[0] == '{' && json.Unmarshal(body, &eb) == nil
		switch {
		case trimmed == "" || trimmed[0] == '<':
			if msg != "" || violations != nil {
				t.Fatalf("empty or HTML body gave message %q, violations %v", msg, violations)
			}
		case isJSON:
			if eb.Message != "" && msg != eb.Message {
				t.Fatalf("message %q, want the JsonError message %q", msg, eb.Message)
			}
			if len(eb.Embedded.Errors) > 0 && len(violations) != len(eb.Embedded.Errors) {
				t.Fatalf("%d violations, want the %d of _embedded.errors", len(violations), len(eb.Embedded.Errors))
			}
		default:
			if violations != nil {
				t.Fatalf("text body gave violations %v", violations)
			}
			if strings.ContainsAny(msg, "\r\n\t") {
				t.Fatalf("text message not on one line: %q", msg)
			}
			if len(msg) > 512+len("…") {
				t.Fatalf("text message of %d bytes, want at most 512 and an ellipsis", len(msg))
			}
			if msg == "" {
				t.Fatalf("non-blank text body %q gave no message", trimmed)
			}
			if utf8.ValidString(trimmed) && !utf8.ValidString(msg) {
				t.Fatalf("valid UTF-8 body gave invalid UTF-8 message %q", msg)
			}
		}

		u, _ := url.Parse("http://user:pw@kestra.example:8080/api/v1/main/executions/x?page=1")
		for _, status := range []int{400, 404, 422, 503, 599} {
			e := newAPIError("GET", sanitizeURL(u), status, body)
			if e.Message == "" {
				t.Fatalf("status %d: empty message", status)
			}
			if len(e.Body) > maxErrorBody {
				t.Fatalf("status %d: body of %d bytes kept, want at most %d", status, len(e.Body), maxErrorBody)
			}
			s := e.Error()
			if !strings.HasPrefix(s, "kestra: GET /api/v1/main/executions/x: ") {
				t.Fatalf("status %d: error %q", status, s)
			}
			if strings.Contains(s, "pw") && !strings.Contains(string(body), "pw") {
				t.Fatalf("status %d: error %q carries the URL's password", status, s)
			}
		}
	})
}
