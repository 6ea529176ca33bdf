package kestra_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

const (
	secUser      = "admin@example.com"
	secPassword  = "Pa55-w0rd-7f3c9e1a"
	secToken     = "tok-4b8e2d61c0a9f7e3"
	secWrongPass = "Wr0ng-pa55-93d1c7"
	secWrongTok  = "tok-wrong-5e0a7c2b9d"
)

// secrets are every credential the test hands to a client, and the forms
// they take on the wire.
var secrets = func() []string {
	s := []string{secPassword, secToken, secWrongPass, secWrongTok}
	for _, pw := range []string{secPassword, secWrongPass} {
		s = append(s,
			base64.StdEncoding.EncodeToString([]byte(secUser+":"+pw)),
			base64.URLEncoding.EncodeToString([]byte(secUser+":"+pw)))
	}
	return s
}()

// secretLog is a debug-level slog logger whose output the test reads, as
// text and as JSON.
type secretLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *secretLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *secretLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *secretLog) loggers() []*slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	return []*slog.Logger{slog.New(slog.NewTextHandler(l, opts)), slog.New(slog.NewJSONHandler(l, opts))}
}

// logger sends to both handlers.
func (l *secretLog) logger() *slog.Logger {
	ls := l.loggers()
	return slog.New(fanout{ls[0].Handler(), ls[1].Handler()})
}

type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, lv slog.Level) bool { return f[0].Enabled(ctx, lv) }
func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range f {
		if err := h.Handle(ctx, r.Clone()); err != nil {
			return err
		}
	}
	return nil
}
func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	g := make(fanout, len(f))
	for i, h := range f {
		g[i] = h.WithAttrs(as)
	}
	return g
}
func (f fanout) WithGroup(name string) slog.Handler {
	g := make(fanout, len(f))
	for i, h := range f {
		g[i] = h.WithGroup(name)
	}
	return g
}

// checkPrints checks the fmt verbs of v (%v, %+v, %#v, and verbs when
// given), and logs v with slog for the final check of the log.
func checkPrints(t *testing.T, log *slog.Logger, what string, v any, verbs ...string) {
	t.Helper()
	if verbs == nil {
		verbs = []string{"%v", "%+v", "%#v", "%s", "%q"}
	}
	for _, verb := range verbs {
		noSecret(t, fmt.Sprintf("%s printed with %s", what, verb), fmt.Sprintf(verb, v), secrets...)
	}
	log.Info("value", "what", what, "value", v)
}

func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	srv := kestratest.Start(t, kestratest.WithBasicAuth(secUser, secPassword), kestratest.WithToken(secToken), kestratest.WithEnterprise())
	var sink secretLog
	log := sink.logger()
	retry := kestra.WithRetry(kestra.RetryPolicy{MaxAttempts: 2, MinDelay: time.Millisecond, MaxDelay: time.Millisecond})

	newClient := func(t *testing.T, cfg kestra.Config) *kestra.Client {
		t.Helper()
		c := newClient(t, cfg, kestra.WithLogger(log), retry)
		checkPrints(t, log, "Config", cfg)
		checkPrints(t, log, "*Config", &cfg)
		checkPrints(t, log, "Client", c)
		checkPrints(t, log, "Client.Config()", c.Config())
		// A Client value (not the pointer New returns) prints as the
		// pointer does, with every verb.
		checkPrints(t, log, "Client value", *c)
		return c
	}
	basic := kestra.Config{URL: srv.URL, Username: secUser, Password: secPassword}
	bearer := kestra.Config{URL: srv.URL, Token: secToken}
	wrongBasic := kestra.Config{URL: srv.URL, Username: secUser, Password: secWrongPass}
	wrongBearer := kestra.Config{URL: srv.URL, Token: secWrongTok}
	inURL := kestra.Config{URL: strings.Replace(srv.URL, "://", "://"+strings.Replace(secUser, "@", "%40", 1)+":"+secPassword+"@", 1)}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	closed.Close()

	// A configured server that redirects to another host, which records
	// what it was sent.
	var (
		seenMu sync.Mutex
		seen   []string
	)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenMu.Lock()
		seen = append(seen, fmt.Sprint(r.Header, r.URL, r.Cookies()))
		seenMu.Unlock()
		http.Error(w, `{"message":"Not Found: elsewhere"}`, http.StatusNotFound)
	}))
	t.Cleanup(other.Close)
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherURL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	// Same host, another port: net/http keeps the credentials there, the
	// client must not.
	portRedirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(portRedirector.Close)

	type call struct {
		name    string
		cfg     kestra.Config
		wantErr error // nil: success; errAny: any error
		run     func(ctx context.Context, c *kestra.Client) (any, error)
	}
	errAny := errors.New("any error")
	getFlow := func(ctx context.Context, c *kestra.Client) (any, error) {
		return c.Flows.Get(ctx, "demo.secrets", "hello", nil)
	}
	calls := []call{
		{"create flow with basic auth", basic, nil, func(ctx context.Context, c *kestra.Client) (any, error) {
			return c.Flows.Apply(ctx, "id: hello\nnamespace: demo.secrets\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n")
		}},
		{"get flow with a token", bearer, nil, getFlow},
		{"credentials in the URL", inURL, nil, getFlow},
		{"execute and wait", basic, nil, func(ctx context.Context, c *kestra.Client) (any, error) {
			return c.Executions.Create(ctx, "demo.secrets", "hello", &kestra.ExecuteOptions{Wait: true, Labels: map[string]string{"k": "v"}})
		}},
		{"401 wrong password", wrongBasic, kestra.ErrUnauthorized, getFlow},
		{"401 wrong token", wrongBearer, kestra.ErrUnauthorized, getFlow},
		{"404", bearer, kestra.ErrNotFound, func(ctx context.Context, c *kestra.Client) (any, error) {
			return c.Flows.Get(ctx, "demo.secrets", "missing", nil)
		}},
		{"422 invalid flow", basic, kestra.ErrInvalid, func(ctx context.Context, c *kestra.Client) (any, error) {
			return c.Flows.Create(ctx, "id: broken\nnamespace: demo.secrets\ntasks:\n  - id: x\n    type: io.kestra.invalid\n")
		}},
		{"422 invalid flow with a token", bearer, kestra.ErrInvalid, func(ctx context.Context, c *kestra.Client) (any, error) {
			return nil, c.Flows.Validate(ctx, "id: broken\nnamespace: demo.secrets\ntasks: 3\n")
		}},
		{"transport error to a closed port", kestra.Config{URL: closedURL, Username: secUser, Password: secPassword}, errAny, getFlow},
		{"transport error to a closed port with a token", kestra.Config{URL: closedURL, Token: secToken}, errAny, getFlow},
		{"503 then 404", basic, kestra.ErrNotFound, func(ctx context.Context, c *kestra.Client) (any, error) {
			remove := srv.InjectFault(kestratest.Fault{Path: "*/flows/demo.secrets/storm", Times: 1, Status: 503, Message: "busy"})
			defer remove()
			return c.Flows.Get(ctx, "demo.secrets", "storm", nil)
		}},
		{"cross-host redirect with basic auth", kestra.Config{URL: redirector.URL, Username: secUser, Password: secPassword}, kestra.ErrNotFound, getFlow},
		{"cross-host redirect with a token", kestra.Config{URL: redirector.URL, Token: secToken}, kestra.ErrNotFound, getFlow},
		{"redirect to another port with basic auth", kestra.Config{URL: portRedirector.URL, Username: secUser, Password: secPassword}, kestra.ErrNotFound, getFlow},
		{"redirect to another port with a token", kestra.Config{URL: portRedirector.URL, Token: secToken}, kestra.ErrNotFound, getFlow},
		{"follow an unknown execution", bearer, kestra.ErrNotFound, func(ctx context.Context, c *kestra.Client) (any, error) {
			var last error
			for _, err := range c.Executions.Follow(ctx, "0000000000000000000000", nil) {
				last = err
			}
			return nil, last
		}},
		{"follow an unknown execution with basic auth", basic, kestra.ErrNotFound, func(ctx context.Context, c *kestra.Client) (any, error) {
			var last error
			for _, err := range c.Executions.Follow(ctx, "0000000000000000000000", nil) {
				last = err
			}
			return nil, last
		}},
		{"context deadline", basic, context.DeadlineExceeded, func(ctx context.Context, c *kestra.Client) (any, error) {
			remove := srv.InjectFault(kestratest.Fault{Path: "*/flows/demo.secrets/slow", Latency: time.Hour})
			defer remove()
			ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			return c.Flows.Get(ctx, "demo.secrets", "slow", nil)
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.cfg)
			v, err := tc.run(t.Context(), c)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr == errAny && err == nil, tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				noSecret(t, "error string", err.Error(), secrets...)
				checkPrints(t, log, "error", err)
				for e := err; e != nil; e = errors.Unwrap(e) {
					checkPrints(t, log, fmt.Sprintf("wrapped error %T", e), e)
				}
				var apiErr *kestra.APIError
				if errors.As(err, &apiErr) {
					checkPrints(t, log, "*APIError", apiErr)
					checkPrints(t, log, "APIError", *apiErr)
					noSecret(t, "APIError.Body", string(apiErr.Body), secrets...)
				}
			}
			if v != nil {
				checkPrints(t, log, "result", v)
			}
		})
	}

	if !strings.Contains(sink.String(), `msg="kestra request"`) {
		t.Fatalf("no debug record of the requests was logged:\n%s", sink.String())
	}
	noSecret(t, "the slog output", sink.String(), secrets...)
	seenMu.Lock()
	defer seenMu.Unlock()
	if len(seen) != 4 {
		t.Fatalf("the other host got %d requests, want the 4 redirected ones", len(seen))
	}
	for _, s := range seen {
		noSecret(t, "the request to another host", s, secrets...)
		if strings.Contains(s, "Authorization") {
			t.Errorf("the request to another host carried an Authorization header: %s", s)
		}
	}
}
