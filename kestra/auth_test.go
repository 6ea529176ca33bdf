package kestra_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kestra-go/sdk/kestra"
)

func TestAuthorizationHeader(t *testing.T) {
	t.Parallel()
	basic := func(userpass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))
	}
	for _, tc := range []struct {
		name string
		cfg  kestra.Config
		want string
	}{
		{"none", kestra.Config{}, ""},
		{"basic", kestra.Config{Username: "alice@example.com", Password: "s3cret:with colon"}, basic("alice@example.com:s3cret:with colon")},
		{"bearer", kestra.Config{Token: "tok.en-1"}, "Bearer tok.en-1"},
		{"bearer wins over basic", kestra.Config{Username: "alice", Password: "s3cret", Token: "tok"}, "Bearer tok"},
		{"token with a username only", kestra.Config{Username: "alice", Token: "tok"}, "Bearer tok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got atomic.Pointer[[]string]
			srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
				v := r.Header.Values("Authorization")
				got.Store(&v)
				okExecution(w, r)
			})
			cfg := tc.cfg
			cfg.URL = srv.URL
			c := newClient(t, cfg)
			if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
				t.Fatal(err)
			}
			if g := *got.Load(); len(g) > 1 || strings.Join(g, "") != tc.want {
				t.Errorf("Authorization = %q, want %q", g, tc.want)
			}
			resp, err := c.API().GetConfiguration(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if g := *got.Load(); len(g) > 1 || strings.Join(g, "") != tc.want {
				t.Errorf("API(): Authorization = %q, want %q", g, tc.want)
			}
		})
	}
}

// Credentials in the URL become basic authentication and leave the URL.
func TestAuthFromURLUserInfo(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		okExecution(w, r)
	})
	u := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1)
	c := newClient(t, kestra.Config{URL: u})
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	if user, pass, ok := rec.get(0).BasicAuth(); !ok || user != "alice" || pass != "s3cret" {
		t.Errorf("basic auth = %q %q %v", user, pass, ok)
	}
	equal(t, "Config().URL", c.Config().URL, srv.URL)

	// Explicit credentials win over the URL's.
	c = newClient(t, kestra.Config{URL: u, Token: "tok"})
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	equal(t, "Authorization", rec.get(1).Header.Get("Authorization"), "Bearer tok")
}

// redirectTarget records the credentials a redirect brings it.
type redirectTarget struct {
	srv  *httptest.Server
	hits atomic.Int32
	auth atomic.Value
}

func newRedirectTarget(t *testing.T) *redirectTarget {
	rt := &redirectTarget{}
	rt.srv = startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rt.hits.Add(1)
		rt.auth.Store(r.Header.Get("Authorization"))
		okExecution(w, r)
	})
	return rt
}

func TestNoAuthAfterRedirectElsewhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  kestra.Config
		// target turns the redirect target's URL into the Location.
		target func(targetURL string) string
	}{
		{"other host, basic", kestra.Config{Username: "alice", Password: "s3cret"}, func(u string) string {
			return strings.Replace(u, "127.0.0.1", "localhost", 1)
		}},
		{"other host, bearer", kestra.Config{Token: "tok"}, func(u string) string {
			return strings.Replace(u, "127.0.0.1", "localhost", 1)
		}},
		{"other port, basic", kestra.Config{Username: "alice", Password: "s3cret"}, func(u string) string { return u }},
		{"other port, bearer", kestra.Config{Token: "tok"}, func(u string) string { return u }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := newRedirectTarget(t)
			var originAuth atomic.Value
			origin := startServer(t, func(w http.ResponseWriter, r *http.Request) {
				originAuth.Store(r.Header.Get("Authorization"))
				http.Redirect(w, r, tc.target(target.srv.URL)+r.URL.Path, http.StatusFound)
			})
			cfg := tc.cfg
			cfg.URL = origin.URL
			c := newClient(t, cfg)
			if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
				t.Fatal(err)
			}
			if originAuth.Load() == "" {
				t.Error("the configured server got no Authorization")
			}
			equal(t, "redirect target hits", target.hits.Load(), 1)
			equal(t, "Authorization at the redirect target", target.auth.Load(), "")
		})
	}
}

func TestAuthKeptOnSameOriginRedirect(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		if r.URL.Path != "/moved" {
			http.Redirect(w, r, "/moved", http.StatusTemporaryRedirect)
			return
		}
		okExecution(w, r)
	})
	c := newClient(t, kestra.Config{URL: srv.URL, Token: "tok"})
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	equal(t, "requests", rec.count(), 2)
	equal(t, "Authorization after the redirect", rec.get(1).Header.Get("Authorization"), "Bearer tok")
}

// A caller's redirect policy still runs, and credentials still stay home.
func TestRedirectPolicyOfOwnHTTPClient(t *testing.T) {
	t.Parallel()
	target := newRedirectTarget(t)
	origin := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(target.srv.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusFound)
	})
	var called atomic.Int32
	hc := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		called.Add(1)
		return nil
	}}
	c := newClient(t, kestra.Config{URL: origin.URL, Username: "alice", Password: "s3cret"}, kestra.WithHTTPClient(hc))
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	equal(t, "caller's CheckRedirect calls", called.Load(), 1)
	equal(t, "Authorization at the redirect target", target.auth.Load(), "")
	if hc.Transport != nil {
		t.Error("New modified the caller's http.Client")
	}
}

func TestRedirectLimit(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	})
	c := newClient(t, kestra.Config{URL: srv.URL})
	if _, err := c.Executions.Get(t.Context(), "abc"); err == nil {
		t.Error("endless redirects: no error")
	}
	equal(t, "requests", hits.Load(), int32(10)) // Go stops after 10 redirects
}
