package kestra_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
)

// fastRetry retries quickly, so that retry tests stay fast.
var fastRetry = kestra.RetryPolicy{MaxAttempts: 3, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}

// startServer serves h on 127.0.0.1 for the test's duration.
func startServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client of cfg, failing the test when New does.
func newClient(t testing.TB, cfg kestra.Config, opts ...kestra.Option) *kestra.Client {
	t.Helper()
	c, err := kestra.New(cfg, opts...)
	if err != nil {
		t.Fatalf("New(%v): %v", cfg, err)
	}
	return c
}

// closedAddr returns host:port where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// requests records what a test server received.
type requests struct {
	mu   sync.Mutex
	reqs []*http.Request
	body []string
}

func (r *requests) add(req *http.Request, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	r.body = append(r.body, body)
}

func (r *requests) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func (r *requests) get(i int) *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[i]
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func noSecret(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			t.Errorf("%s reveals %q: %s", what, secret, s)
		}
	}
}

// okExecution answers every request with a small execution.
func okExecution(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":"abc","namespace":"company.team","flowId":"hello"}`))
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	c := newClient(t, kestra.Config{})
	cfg := c.Config()
	equal(t, "URL", cfg.URL, kestra.DefaultURL)
	equal(t, "Tenant", cfg.Tenant, "main")
	equal(t, "Timeout", cfg.Timeout, 30*time.Second)
	equal(t, "Tenant()", c.Tenant(), "main")
	if c.Flows == nil || c.Executions == nil || c.Logs == nil || c.KV == nil || c.Files == nil {
		t.Error("a service is nil")
	}
}

func TestNewNormalizesURL(t *testing.T) {
	t.Parallel()
	c := newClient(t, kestra.Config{URL: "https://kestra.example.com/base/?q=1#frag"})
	equal(t, "URL", c.Config().URL, "https://kestra.example.com/base")
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  kestra.Config
		want string
	}{
		{"no scheme", kestra.Config{URL: "localhost:8080"}, "Config.URL"},
		{"ftp", kestra.Config{URL: "ftp://alice:s3cret@example.com"}, "Config.URL"},
		{"no host", kestra.Config{URL: "http://"}, "Config.URL"},
		{"unparsable", kestra.Config{URL: "http://alice:s3cret@exa mple.com:port"}, "Config.URL"},
		{"token with space", kestra.Config{Token: "s3cret token"}, "Config.Token"},
		{"token with newline", kestra.Config{Token: "s3cret\r\nX-Evil: 1"}, "Config.Token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := kestra.New(tc.cfg)
			if err == nil {
				t.Fatalf("New = %v, want an error", c)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
			noSecret(t, "error", err.Error(), "s3cret")
		})
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.UserAgent())
		okExecution(w, r)
	})

	c := newClient(t, kestra.Config{URL: srv.URL})
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^kestra-go/` + regexp.QuoteMeta(kestra.Version) + ` \(go[0-9][^)]*\)$`)
	if ua := got.Load().(string); !want.MatchString(ua) {
		t.Errorf("default User-Agent = %q, want %s", ua, want)
	}
	if !strings.Contains(got.Load().(string), runtime.Version()) {
		t.Errorf("default User-Agent %q lacks %s", got.Load(), runtime.Version())
	}

	c = newClient(t, kestra.Config{URL: srv.URL}, kestra.WithUserAgent("my-app/1.2"))
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	equal(t, "User-Agent", got.Load().(string), "my-app/1.2")
}

func TestWithRequestEditor(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		okExecution(w, r)
	})

	var sawAuth atomic.Bool
	c := newClient(t, kestra.Config{URL: srv.URL, Token: "tok"},
		kestra.WithRequestEditor(func(_ context.Context, req *http.Request) error {
			sawAuth.Store(req.Header.Get("Authorization") != "")
			req.Header.Set("X-Trace", "trace-1")
			return nil
		}),
		kestra.WithRequestEditor(func(_ context.Context, req *http.Request) error {
			req.Header.Add("X-Trace", "trace-2")
			return nil
		}))
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	equal(t, "X-Trace", strings.Join(rec.get(0).Header.Values("X-Trace"), ","), "trace-1,trace-2")
	if !sawAuth.Load() {
		t.Error("the editor ran before authentication")
	}

	// An editor's error stops the call before the network.
	errEditor := errors.New("no tracing today")
	c = newClient(t, kestra.Config{URL: srv.URL},
		kestra.WithRequestEditor(func(context.Context, *http.Request) error { return errEditor }))
	_, err := c.Executions.Get(t.Context(), "abc")
	if !errors.Is(err, errEditor) {
		t.Errorf("error = %v, want the editor's", err)
	}
	equal(t, "requests", rec.count(), 1)
}

func TestWithTenant(t *testing.T) {
	t.Parallel()
	var rec requests
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		okExecution(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	c := newClient(t, kestra.Config{URL: srv.URL, Username: "alice", Password: "s3cret"}, kestra.WithUserAgent("ua/1"))
	acme := c.WithTenant("acme")
	equal(t, "Tenant()", acme.Tenant(), "acme")
	equal(t, "Config().Tenant", acme.Config().Tenant, "acme")
	equal(t, "original Tenant()", c.Tenant(), "main")
	equal(t, "original Config().Tenant", c.Config().Tenant, "main")

	for _, cl := range []*kestra.Client{acme, c, acme} {
		if _, err := cl.Executions.Get(t.Context(), "abc"); err != nil {
			t.Fatal(err)
		}
	}
	equal(t, "path", rec.get(0).URL.Path, "/api/v1/acme/executions/abc")
	equal(t, "path", rec.get(1).URL.Path, "/api/v1/main/executions/abc")
	equal(t, "path", rec.get(2).URL.Path, "/api/v1/acme/executions/abc")
	for i := range 3 {
		equal(t, "User-Agent", rec.get(i).UserAgent(), "ua/1")
		if u, p, ok := rec.get(i).BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			t.Errorf("request %d: basic auth = %q %q %v", i, u, p, ok)
		}
	}
	// Both clients share one transport: sequential calls reuse one connection.
	equal(t, "connections", conns.Load(), 1)
}

func TestAPICarriesAuthUserAgentAndRetries(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		if rec.count() == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"version":"1.0.0"}`))
	})

	c := newClient(t, kestra.Config{URL: srv.URL, Token: "tok"}, kestra.WithRetry(fastRetry), kestra.WithUserAgent("ua/2"))
	resp, err := c.API().GetConfigurationWithResponse(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "status", resp.StatusCode(), http.StatusOK)
	if resp.JSON200 == nil || resp.JSON200.Version != "1.0.0" {
		t.Errorf("JSON200 = %+v", resp.JSON200)
	}
	equal(t, "requests", rec.count(), 2)
	for i := range rec.count() {
		equal(t, "Authorization", rec.get(i).Header.Get("Authorization"), "Bearer tok")
		equal(t, "User-Agent", rec.get(i).UserAgent(), "ua/2")
		equal(t, "path", rec.get(i).URL.Path, "/api/v1/configs")
	}
}

func TestServerIsCached(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		if rec.count() == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{"version":"1.3.2","edition":"OSS"}`))
	})
	c := newClient(t, kestra.Config{URL: srv.URL}, kestra.WithRetry(kestra.NoRetry))
	if _, err := c.Server(t.Context()); err == nil {
		t.Fatal("Server after a 500: no error")
	}
	for range 2 {
		info, err := c.Server(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "Version", info.Version, "1.3.2")
	}
	equal(t, "requests", rec.count(), 2)
}

func TestClientPrintsWithoutSecrets(t *testing.T) {
	t.Parallel()
	for _, cfg := range []kestra.Config{
		{URL: "https://kestra.example.com", Username: "alice", Password: "s3cret"},
		{URL: "https://kestra.example.com", Token: "tok3n-s3cret"},
		{URL: "https://alice:s3cret@kestra.example.com"},
	} {
		c := newClient(t, cfg)
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			s := fmt.Sprintf(verb, c)
			noSecret(t, verb+" of Client", s, "s3cret", "tok3n")
			if !strings.Contains(s, "kestra.example.com") {
				t.Errorf("%s of Client = %s, want the URL", verb, s)
			}
		}
		noSecret(t, "String of Client", c.String(), "s3cret", "tok3n")
		noSecret(t, "%+v of a Client value", fmt.Sprintf("%+v", *c), "s3cret", "tok3n")
		noSecret(t, "%#v of a Client value", fmt.Sprintf("%#v", *c), "s3cret", "tok3n")
		noSecret(t, "Config of Client", fmt.Sprintf("%+v", c.Config()), "s3cret", "tok3n")
	}
}

// TestGetBuildsTheGeneratedPath checks that Executions.Get, which builds
// its request itself, sends the path the generated client builds: under a
// base path, with the tenant and the id escaped.
func TestGetBuildsTheGeneratedPath(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		okExecution(w, r)
	})
	c := newClient(t, kestra.Config{URL: srv.URL + "/kestra", Tenant: "t 1"})
	const id = "a b/c?d%e"
	if _, err := c.Executions.Get(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	resp, err := c.API().GetExecution(t.Context(), c.Tenant(), id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got, want := rec.get(0).URL.EscapedPath(), rec.get(1).URL.EscapedPath()
	if got != want || !strings.HasPrefix(got, "/kestra/api/v1/t%201/executions/") {
		t.Errorf("Get sent %s, the generated client %s", got, want)
	}
}
