package kestra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// APIError is a response from Kestra with a status of 400 or more. It
// carries the server's message and, for validation failures, each
// violation. Sentinels of the same type ([ErrNotFound], [ErrInvalid] ...)
// match it by status with errors.Is:
//
//	if errors.Is(err, kestra.ErrNotFound) { ... }
//	var apiErr *kestra.APIError
//	if errors.As(err, &apiErr) { log.Println(apiErr.Violations) }
type APIError struct {
	// StatusCode is the HTTP status, such as 404 or 422.
	StatusCode int
	// Method and URL identify the request. URL never carries credentials.
	Method string
	URL    string
	// Message is Kestra's message, such as "Invalid entity: flow.id: Flow
	// id already exists", or the status text when the body has none.
	Message string
	// Violations are the constraint violations of a 422, one per invalid
	// property.
	Violations []Violation
	// Body is the raw response body, at most 64 KiB of it. Message and
	// Violations are read from the whole body, up to the client's
	// response cap.
	Body []byte

	sentinel bool
}

// Violation is one constraint a request broke, as Kestra reports it in
// _embedded.errors: the property path (such as "flow.id" or "yaml") and
// the message. For a bulk operation on executions that Kestra refuses, one
// Violation names each refused execution: Path is its id, and Message
// says why ("execution not found", "execution already finished").
type Violation struct {
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// Sentinel errors, for errors.Is. Each matches any *APIError of its status.
var (
	ErrBadRequest   = &APIError{StatusCode: http.StatusBadRequest, sentinel: true}
	ErrUnauthorized = &APIError{StatusCode: http.StatusUnauthorized, sentinel: true}
	ErrForbidden    = &APIError{StatusCode: http.StatusForbidden, sentinel: true}
	ErrNotFound     = &APIError{StatusCode: http.StatusNotFound, sentinel: true}
	ErrConflict     = &APIError{StatusCode: http.StatusConflict, sentinel: true}
	// ErrGone is what Kestra answers for an expired KV pair.
	ErrGone = &APIError{StatusCode: http.StatusGone, sentinel: true}
	// ErrInvalid is Kestra's 422: invalid YAML, flow, inputs or arguments.
	ErrInvalid = &APIError{StatusCode: http.StatusUnprocessableEntity, sentinel: true}
)

// Error returns "kestra: METHOD PATH: STATUS: message". Control
// characters of the server's message are escaped (\n, \x1b ...), so that
// it cannot forge log lines or drive a terminal.
func (e *APIError) Error() string {
	if e.sentinel {
		return fmt.Sprintf("kestra: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	var b strings.Builder
	b.WriteString("kestra: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
	}
	if e.URL != "" {
		if u, err := url.Parse(e.URL); err == nil && u.Path != "" {
			b.WriteString(escapeControl(u.Path))
		} else {
			b.WriteString(escapeControl(e.URL))
		}
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteByte(' ')
		b.WriteString(text)
	}
	// Kestra starts its messages with the reason phrase ("Not Found: …"),
	// which the status already says.
	msg := strings.TrimPrefix(e.Message, http.StatusText(e.StatusCode)+": ")
	if msg != "" && msg != http.StatusText(e.StatusCode) {
		b.WriteString(": ")
		b.WriteString(escapeControl(msg))
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's status.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.sentinel && t.StatusCode == e.StatusCode
}

const maxErrorBody = 64 << 10

// errorBody is the union of the error documents Kestra sends: Micronaut's
// JsonError and RFC 7807 problem details.
type errorBody struct {
	Message  string `json:"message"`
	Embedded struct {
		Errors []Violation `json:"errors"`
	} `json:"_embedded"`
	Title  string      `json:"title"`
	Detail string      `json:"detail"`
	Errors []Violation `json:"errors"`
	// Invalids is the BulkErrorResponse of a bulk operation: a list of
	// constraint violations, one per refused id. Read apart, so that
	// another shape does not hide the message.
	Invalids json.RawMessage `json:"invalids"`
}

// bulkViolations reads the invalids of a BulkErrorResponse; nil when they
// are not a list of violations.
func bulkViolations(raw json.RawMessage) []Violation {
	var invalids []struct {
		Message      string `json:"message"`
		InvalidValue any    `json:"invalidValue"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &invalids) != nil {
		return nil
	}
	out := make([]Violation, 0, len(invalids))
	for _, inv := range invalids {
		v := Violation{Message: inv.Message}
		switch x := inv.InvalidValue.(type) {
		case string:
			v.Path = x
		case nil:
		default:
			b, _ := json.Marshal(x)
			v.Path = string(b)
		}
		out = append(out, v)
	}
	return out
}

// newAPIError builds the error for a failed response from its body (u is
// already free of secrets). The whole body is parsed, so that a long
// refusal keeps every violation; Body keeps its first 64 KiB.
func newAPIError(method string, u string, status int, body []byte) *APIError {
	e := &APIError{StatusCode: status, Method: method, URL: u}
	e.Message, e.Violations = parseErrorBody(body)
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	e.Body = body
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if e.Message == "" {
		// A status net/http has no text for, as it says it.
		e.Message = "status code " + strconv.Itoa(status)
	}
	return e
}

// parseErrorBody reads Kestra's message and violations from an error body.
// A text body that is not JSON becomes the message, on one line; an HTML
// page (from a proxy) gives no message.
func parseErrorBody(body []byte) (string, []Violation) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] == '<' {
		return "", nil
	}
	var eb errorBody
	if trimmed[0] != '{' || json.Unmarshal(body, &eb) != nil {
		// Only the head of a long text is read: it is cut to 512 bytes.
		head, cut := trimmed, false
		if len(head) > 4096 {
			head, cut = head[:4096], true
		}
		text := strings.Join(strings.Fields(string(head)), " ")
		if len(text) > 512 {
			text, cut = text[:512], true
		}
		if cut {
			text = strings.ToValidUTF8(text, "") + "…"
		}
		return text, nil
	}
	violations := eb.Embedded.Errors
	if len(violations) == 0 {
		violations = eb.Errors
	}
	violations = append(violations, bulkViolations(eb.Invalids)...)
	msg := eb.Message
	switch {
	case msg != "":
	case eb.Title != "" && eb.Detail != "":
		msg = eb.Title + ": " + eb.Detail
	case eb.Detail != "":
		msg = eb.Detail
	default:
		msg = eb.Title
	}
	return msg, violations
}

// escapeControl writes the control characters of s (C0, DEL, C1) and
// invalid UTF-8 as Go escapes.
func escapeControl(s string) string {
	clean := true
	for _, r := range s {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				fmt.Fprintf(&b, `\x%02x`, s[i])
				continue
			}
			b.WriteRune(r)
		case r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sanitizeURL drops user information from u.
func sanitizeURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}
