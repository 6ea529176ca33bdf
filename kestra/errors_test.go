package kestra_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kestra-go/sdk/kestra"
)

var sentinels = []*kestra.APIError{
	kestra.ErrBadRequest, kestra.ErrUnauthorized, kestra.ErrForbidden, kestra.ErrNotFound,
	kestra.ErrConflict, kestra.ErrGone, kestra.ErrInvalid,
}

// failWith answers every request with status, content type and body.
func failWith(t *testing.T, status int, contentType, body string) *httptest.Server {
	t.Helper()
	return startServer(t, func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

func TestAPIErrorShapes(t *testing.T) {
	t.Parallel()
	const (
		jsonError = `{"message":"Invalid entity: flow.id: Flow id already exists","_links":{"self":{"href":"/api/v1/main/executions/abc","templated":false}},"_embedded":{"errors":[{"message":"Flow id already exists","path":"flow.id"}]}}`
		problem   = `{"type":"about:blank","title":"Bad Request","detail":"Tenant must be 'main' for OSS version","status":400}`
		notFound  = `{"message":"Not Found: Execution 'abc' not found","_links":{"self":{"href":"/api/v1/main/executions/abc","templated":false}}}`
		html      = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	)
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        string
		sentinel    *kestra.APIError
		message     string
		violations  []kestra.Violation
		errString   string
	}{
		{
			name: "Kestra JsonError with violations", status: 422, contentType: "application/json", body: jsonError,
			sentinel:   kestra.ErrInvalid,
			message:    "Invalid entity: flow.id: Flow id already exists",
			violations: []kestra.Violation{{Path: "flow.id", Message: "Flow id already exists"}},
			errString:  "kestra: GET /api/v1/main/executions/abc: 422 Unprocessable Entity: Invalid entity: flow.id: Flow id already exists",
		},
		{
			name: "Kestra 404", status: 404, contentType: "application/json", body: notFound,
			sentinel:  kestra.ErrNotFound,
			message:   "Not Found: Execution 'abc' not found",
			errString: "kestra: GET /api/v1/main/executions/abc: 404 Not Found: Execution 'abc' not found",
		},
		{
			name: "bare 404", status: 404, contentType: "application/json", body: `{"message":"Not Found","_links":{"self":{"href":"/x","templated":false}}}`,
			sentinel:  kestra.ErrNotFound,
			message:   "Not Found",
			errString: "kestra: GET /api/v1/main/executions/abc: 404 Not Found",
		},
		{
			name: "RFC 7807", status: 400, contentType: "application/problem+json", body: problem,
			sentinel:  kestra.ErrBadRequest,
			message:   "Bad Request: Tenant must be 'main' for OSS version",
			errString: "kestra: GET /api/v1/main/executions/abc: 400 Bad Request: Tenant must be 'main' for OSS version",
		},
		{
			name: "bulk error", status: 400, contentType: "application/json",
			body:       `{"message":"invalid bulk kill","invalids":[{"message":"execution not found","invalidValue":"nope","rootBean":"nope"},{"message":"execution already finished","invalidValue":"4kyHz9"}]}`,
			sentinel:   kestra.ErrBadRequest,
			message:    "invalid bulk kill",
			violations: []kestra.Violation{{Path: "nope", Message: "execution not found"}, {Path: "4kyHz9", Message: "execution already finished"}},
			errString:  "kestra: GET /api/v1/main/executions/abc: 400 Bad Request: invalid bulk kill",
		},
		{
			name: "bulk error of another shape", status: 400, contentType: "application/json",
			body:      `{"message":"invalid bulk delete","invalids":{"nope":"execution not found"}}`,
			sentinel:  kestra.ErrBadRequest,
			message:   "invalid bulk delete",
			errString: "kestra: GET /api/v1/main/executions/abc: 400 Bad Request: invalid bulk delete",
		},
		{
			name: "empty 401", status: 401, body: "",
			sentinel:  kestra.ErrUnauthorized,
			message:   "Unauthorized",
			errString: "kestra: GET /api/v1/main/executions/abc: 401 Unauthorized",
		},
		{
			name: "HTML from a proxy", status: 502, contentType: "text/html", body: html,
			message:   "Bad Gateway",
			errString: "kestra: GET /api/v1/main/executions/abc: 502 Bad Gateway",
		},
		{
			name: "plain text", status: 500, contentType: "text/plain", body: "boom\n",
			message:   "boom",
			errString: "kestra: GET /api/v1/main/executions/abc: 500 Internal Server Error: boom",
		},
		{
			name: "CSRF 403", status: 403, contentType: "application/json", body: `{"message":"Forbidden: invalid CSRF token"}`,
			sentinel:  kestra.ErrForbidden,
			message:   "Forbidden: invalid CSRF token",
			errString: "kestra: GET /api/v1/main/executions/abc: 403 Forbidden: invalid CSRF token",
		},
		{
			name: "conflict", status: 409, contentType: "application/json", body: `{"message":"Illegal state: execution is not running"}`,
			sentinel:  kestra.ErrConflict,
			message:   "Illegal state: execution is not running",
			errString: "kestra: GET /api/v1/main/executions/abc: 409 Conflict: Illegal state: execution is not running",
		},
		{
			name: "expired", status: 410, contentType: "application/json", body: `{"message":"Resource has expired: key"}`,
			sentinel:  kestra.ErrGone,
			message:   "Resource has expired: key",
			errString: "kestra: GET /api/v1/main/executions/abc: 410 Gone: Resource has expired: key",
		},
		{
			name: "unknown status", status: 599, body: "",
			message:   "status code 599",
			errString: "kestra: GET /api/v1/main/executions/abc: 599: status code 599",
		},
		{
			name: "multi-line text", status: 500, contentType: "text/plain", body: "upstream connect error\r\nor disconnect\treset",
			message:   "upstream connect error or disconnect reset",
			errString: "kestra: GET /api/v1/main/executions/abc: 500 Internal Server Error: upstream connect error or disconnect reset",
		},
		{
			name: "truncated JSON", status: 500, contentType: "application/json", body: `{"message":"Internal`,
			message:   `{"message":"Internal`,
			errString: `kestra: GET /api/v1/main/executions/abc: 500 Internal Server Error: {"message":"Internal`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := failWith(t, tc.status, tc.contentType, tc.body)
			c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(kestra.NoRetry))
			exec, err := c.Executions.Get(t.Context(), "abc")
			if err == nil {
				t.Fatalf("Get = %+v, want an error", exec)
			}
			var apiErr *kestra.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %T %v is not an *APIError", err, err)
			}
			equal(t, "StatusCode", apiErr.StatusCode, tc.status)
			equal(t, "Method", apiErr.Method, http.MethodGet)
			equal(t, "URL", apiErr.URL, srv.URL+"/api/v1/main/executions/abc")
			equal(t, "Message", apiErr.Message, tc.message)
			equal(t, "Body", string(apiErr.Body), tc.body)
			if !slices.Equal(apiErr.Violations, tc.violations) {
				t.Errorf("Violations = %+v, want %+v", apiErr.Violations, tc.violations)
			}
			equal(t, "Error()", err.Error(), tc.errString)
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), s == tc.sentinel; got != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v", s, got, want)
				}
			}
		})
	}
}

func TestAPIErrorHasNoCredentials(t *testing.T) {
	t.Parallel()
	srv := failWith(t, http.StatusUnauthorized, "", "")
	u := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1)

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, kestra.Config{URL: u}, kestra.WithLogger(logger))
	_, err := c.Executions.Get(t.Context(), "abc")
	if !errors.Is(err, kestra.ErrUnauthorized) {
		t.Fatalf("error = %v, want ErrUnauthorized", err)
	}
	var apiErr *kestra.APIError
	errors.As(err, &apiErr)
	equal(t, "URL", apiErr.URL, srv.URL+"/api/v1/main/executions/abc")
	basic := "YWxpY2U6czNjcmV0" // base64("alice:s3cret")
	noSecret(t, "error", err.Error(), "s3cret", basic)
	noSecret(t, "%+v of error", fmt.Sprintf("%+v", apiErr), "s3cret", basic)
	noSecret(t, "logs", logs.String(), "s3cret", basic)
}

func TestTransportErrorsAreWrapped(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	c := newClient(t, kestra.Config{URL: "http://alice:s3cret@" + addr, Token: ""}, kestra.WithRetry(kestra.NoRetry))
	_, err := c.Executions.Get(t.Context(), "abc")
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("error %v does not wrap the *net.OpError", err)
	}
	var apiErr *kestra.APIError
	if errors.As(err, &apiErr) {
		t.Errorf("a transport error is an *APIError: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "kestra: ") {
		t.Errorf("error %q lacks the kestra: prefix", err)
	}
	noSecret(t, "error", err.Error(), "s3cret", "YWxpY2U6czNjcmV0")
}

func TestContextErrorsAreWrapped(t *testing.T) {
	t.Parallel()
	srv := startServer(t, okExecution)
	c := newClient(t, kestra.Config{URL: srv.URL})

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Executions.Get(ctx, "abc")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: error = %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithTimeout(t.Context(), 0)
	defer cancel()
	_, err = c.Executions.Get(ctx, "abc")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired context: error = %v, want context.DeadlineExceeded", err)
	}
}

func TestSentinels(t *testing.T) {
	t.Parallel()
	for _, s := range sentinels {
		want := "kestra: " + strconv.Itoa(s.StatusCode) + " " + http.StatusText(s.StatusCode)
		equal(t, "Error()", s.Error(), want)
		for _, other := range sentinels {
			equal(t, s.Error()+" is "+other.Error(), errors.Is(s, other), s == other)
		}
	}
	// A plain APIError is not a sentinel: matching goes one way.
	e := &kestra.APIError{StatusCode: 404}
	equal(t, "errors.Is(e, ErrNotFound)", errors.Is(e, kestra.ErrNotFound), true)
	//lint:ignore SA1032 the reversed order is what this line checks
	equal(t, "errors.Is(ErrNotFound, e)", errors.Is(kestra.ErrNotFound, e), false)
	equal(t, "errors.Is(e, other 404)", errors.Is(e, &kestra.APIError{StatusCode: 404}), false)
	wrapped := fmt.Errorf("deploying: %w", e)
	equal(t, "wrapped", errors.Is(wrapped, kestra.ErrNotFound), true)
}

func TestAPIErrorBodyIsCapped(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("x", 100<<10)
	srv := failWith(t, http.StatusInternalServerError, "text/plain", body)
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(kestra.NoRetry))
	_, err := c.Executions.Get(t.Context(), "abc")
	var apiErr *kestra.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v", err)
	}
	equal(t, "len(Body)", len(apiErr.Body), 64<<10)
	if len(err.Error()) > 1024 {
		t.Errorf("Error() is %d bytes long", len(err.Error()))
	}
}
