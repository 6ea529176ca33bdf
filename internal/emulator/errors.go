package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// Violation is one entry of a JsonError's _embedded.errors array, as
// Micronaut writes a bean-validation failure.
type Violation struct {
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

// jsonError is the Micronaut JsonError body Kestra sends for every error
// status except 401.
type jsonError struct {
	Message  string         `json:"message"`
	Links    jsonErrorLinks `json:"_links"`
	Embedded *jsonErrorEmb  `json:"_embedded,omitempty"`
}

type jsonErrorLinks struct {
	Self jsonErrorLink `json:"self"`
}

type jsonErrorLink struct {
	Href      string `json:"href"`
	Templated bool   `json:"templated"`
}

type jsonErrorEmb struct {
	Errors []Violation `json:"errors"`
}

// apiError is an error a handler returns; writeError turns it into a
// JsonError response.
type apiError struct {
	status     int
	message    string
	violations []Violation
}

func (e *apiError) Error() string { return e.message }

func errNotFound(msg string) *apiError {
	if msg == "" {
		return &apiError{status: http.StatusNotFound, message: "Not Found"}
	}
	return &apiError{status: http.StatusNotFound, message: "Not Found: " + msg}
}

func errIllegalState(msg string) *apiError {
	return &apiError{status: http.StatusConflict, message: "Illegal state: " + msg}
}

// errConflict is Kestra's ConflictException.
func errConflict(msg string) *apiError {
	return &apiError{status: http.StatusConflict, message: "Conflict: " + msg}
}

func errIllegalArgument(msg string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, message: "Illegal argument: " + msg}
}

// errUnprocessable is a Micronaut HttpStatusException of status 422, which
// ErrorController writes as the status's reason, then the text.
func errUnprocessable(msg string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, message: "Unprocessable Entity: " + msg}
}

func errBadRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, message: "Bad Request: " + msg}
}

func errInvalidFilters(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, message: "Invalid query filters: " + msg}
}

// errInvalidEntity is a ConstraintViolationException: the message joins the
// violations as "path: msg" and each one is listed in _embedded.errors.
func errInvalidEntity(vs ...Violation) *apiError {
	parts := make([]string, len(vs))
	for i, v := range vs {
		if v.Path == "" {
			parts[i] = v.Message
		} else {
			parts[i] = v.Path + ": " + v.Message
		}
	}
	return &apiError{status: http.StatusUnprocessableEntity, message: "Invalid entity: " + strings.Join(parts, ", "), violations: vs}
}

// errInvalidEntityMsg is a ConstraintViolationException raised from a
// deserialization failure: the message is the failure's own text, the
// violations carry Jackson's reference paths.
func errInvalidEntityMsg(msg string, vs ...Violation) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, message: "Invalid entity: " + msg, violations: vs}
}

// errInvalidInput is an InputOutputValidationException (no _embedded).
func errInvalidInput(id, cause string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, message: "Invalid entity: Invalid value for input `" + id + "`. Cause: " + cause}
}

func errInternal(msg string) *apiError {
	return &apiError{status: http.StatusInternalServerError, message: "Internal server error: " + msg}
}

type ctxKey int

const (
	ctxOrigURI ctxKey = iota
	ctxFault
	ctxFaultMark // *bool set when a fault action applied (tests skip spec checks)
)

// selfHref is the request path and query as the client sent them.
func selfHref(r *http.Request) string {
	if v, ok := r.Context().Value(ctxOrigURI).(string); ok {
		return v
	}
	return r.URL.RequestURI()
}

func withOrigURI(ctx context.Context, uri string) context.Context {
	return context.WithValue(ctx, ctxOrigURI, uri)
}

// writeJSONError writes a JsonError body with the given status.
func writeJSONError(w http.ResponseWriter, r *http.Request, status int, message string, vs []Violation) {
	body := jsonError{Message: message, Links: jsonErrorLinks{Self: jsonErrorLink{Href: selfHref(r)}}}
	if len(vs) > 0 {
		body.Embedded = &jsonErrorEmb{Errors: vs}
	}
	writeJSON(w, status, body)
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if ae, ok := err.(*apiError); ok {
		writeJSONError(w, r, ae.status, ae.message, ae.violations)
		return
	}
	writeJSONError(w, r, http.StatusInternalServerError, "Internal server error: "+err.Error(), nil)
	// Not an apiError: a bug of the emulator rather than an emulated error.
}

// writeJSON writes v as an application/json response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeRawJSON(w, status, "application/json", b)
}

func writeRawJSON(w http.ResponseWriter, status int, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
