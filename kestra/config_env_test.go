package kestra_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/kestra-go/sdk/kestra"
)

// Each setting is read from its variables in the documented order: the
// first one set wins, the next ones are fallbacks.
func TestLoadConfigFallbackOrder(t *testing.T) {
	for _, tc := range []struct {
		field string
		names []string
		get   func(kestra.Config) string
	}{
		{"URL", []string{"KESTRA_API_URL", "KESTRA_URL", "KESTRA_HOST"}, func(c kestra.Config) string { return c.URL }},
		{"Username", []string{"KESTRA_USERNAME", "KESTRA_USER"}, func(c kestra.Config) string { return c.Username }},
		{"Password", []string{"KESTRA_PASSWORD", "KESTRA_PASS"}, func(c kestra.Config) string { return c.Password }},
		{"Token", []string{"KESTRA_TOKEN", "KESTRA_API_TOKEN"}, func(c kestra.Config) string { return c.Token }},
		{"Tenant", []string{"KESTRA_TENANT", "KESTRA_TENANT_ID"}, func(c kestra.Config) string { return c.Tenant }},
	} {
		// With names[i:] set, names[i] wins.
		for i, winner := range tc.names {
			t.Run(tc.field+"/"+winner, func(t *testing.T) {
				cleanEnv(t)
				value := func(name string) string {
					if tc.field == "URL" {
						return "http://" + strings.ToLower(strings.ReplaceAll(name, "_", "-")) + ":8080"
					}
					return "value-of-" + name
				}
				for _, n := range tc.names[i:] {
					t.Setenv(n, value(n))
				}
				equal(t, tc.field, tc.get(loadConfig(t)), value(winner))
			})
		}
	}
}

// A .env file may use the fallback names too.
func TestLoadConfigFallbacksFromDotEnv(t *testing.T) {
	cleanEnv(t)
	writeDotEnv(t, "KESTRA_HOST=http://python-style:8080\nKESTRA_USER=ada\nKESTRA_PASS=s3cret\n")
	cfg := loadConfig(t)
	equal(t, "URL", cfg.URL, "http://python-style:8080")
	equal(t, "Username", cfg.Username, "ada")
	equal(t, "Password", cfg.Password, "s3cret")
}

// An empty URL variable means the default, as an empty Config.URL does;
// being the first one set, it hides the fallbacks.
func TestLoadConfigEmptyURLIsTheDefault(t *testing.T) {
	cleanEnv(t)
	t.Setenv("KESTRA_API_URL", "")
	t.Setenv("KESTRA_HOST", "http://ignored:8080")
	equal(t, "URL", loadConfig(t).URL, kestra.DefaultURL)
	if u, name := kestra.EnvURL(); u != "" || name != "" {
		t.Errorf("EnvURL() = %q, %q, want nothing", u, name)
	}
}

// EnvURL names the variable LoadConfig takes the URL from, and nothing when
// LoadConfig uses the default.
func TestEnvURLAgreesWithLoadConfig(t *testing.T) {
	cleanEnv(t)
	if u, name := kestra.EnvURL(); u != "" || name != "" {
		t.Errorf("EnvURL() with no variable = %q, %q", u, name)
	}
	for _, name := range []string{"KESTRA_HOST", "KESTRA_URL", "KESTRA_API_URL"} {
		u := "http://" + strings.ToLower(strings.ReplaceAll(name, "_", "-")) + ":8080"
		t.Setenv(name, u)
		gotURL, gotName := kestra.EnvURL()
		equal(t, "EnvURL variable", gotName, name)
		equal(t, "EnvURL url", gotURL, u)
		equal(t, "LoadConfig URL", loadConfig(t).URL, gotURL)
	}

	cleanEnv(t)
	writeDotEnv(t, "KESTRA_URL=http://from-file:8080\n")
	gotURL, gotName := kestra.EnvURL()
	equal(t, "EnvURL variable (.env)", gotName, "KESTRA_URL")
	equal(t, "EnvURL url (.env)", gotURL, "http://from-file:8080")
}

// A syntax error in .env names its line, never the text around it.
func TestLoadConfigDotEnvErrorLine(t *testing.T) {
	for _, tc := range []struct {
		content string
		line    string
	}{
		{"# comment\nKESTRA_USERNAME=alice\nbad-name!=s3cret\nKESTRA_TENANT=t\n", "line 3:"},
		{"KESTRA_USERNAME=alice\n\nKESTRA_PASSWORD=\"s3cret\nKESTRA_TENANT=t\n", "line 3:"},
		{"KESTRA_PASSWORD='s3cret\n", "line 1:"},
		{"KESTRA_USERNAME=\"multi\nline\"\r\nKESTRA_TOKEN='s3cret\r\n", "line 3:"},
	} {
		cleanEnv(t)
		writeDotEnv(t, tc.content)
		_, err := kestra.LoadConfig()
		if err == nil {
			t.Errorf(".env %q: no error", tc.content)
			continue
		}
		if !strings.Contains(err.Error(), ".env: "+tc.line) {
			t.Errorf(".env %q: error %q does not say %q", tc.content, err, tc.line)
		}
		noSecret(t, "error", err.Error(), "s3cret")
	}
}

// A URL ending in /api/v1, as Kestra shows its API's address, is the
// server's URL: the suffix is dropped, a reverse proxy's prefix is kept.
func TestNewDropsTrailingAPIv1(t *testing.T) {
	t.Parallel()
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		okExecution(w, r)
	})
	for i, tc := range []struct{ url, wantBase, wantPath string }{
		{srv.URL + "/api/v1", srv.URL, "/api/v1/main/executions/abc"},
		{srv.URL + "/api/v1/", srv.URL, "/api/v1/main/executions/abc"},
		{srv.URL + "/kestra/api/v1", srv.URL + "/kestra", "/kestra/api/v1/main/executions/abc"},
		{srv.URL + "/kestra/api/v1/", srv.URL + "/kestra", "/kestra/api/v1/main/executions/abc"},
		{srv.URL + "/kestra", srv.URL + "/kestra", "/kestra/api/v1/main/executions/abc"},
		// Only the exact segments go.
		{srv.URL + "/my/api/v10", srv.URL + "/my/api/v10", "/my/api/v10/api/v1/main/executions/abc"},
	} {
		c := newClient(t, kestra.Config{URL: tc.url})
		equal(t, tc.url+": Config().URL", c.Config().URL, tc.wantBase)
		if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		equal(t, tc.url+": path", rec.get(i).URL.Path, tc.wantPath)
	}
}

// Half of a basic authentication fails at New, before Kestra answers a
// bare 401.
func TestNewRefusesHalfCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  kestra.Config
		want string
	}{
		{"username only", kestra.Config{Username: "alice"}, "Config.Password is empty"},
		{"password only", kestra.Config{Password: "s3cret"}, "Config.Username is empty"},
		{"user in the URL without password", kestra.Config{URL: "http://alice@localhost:8080"}, "Config.Password is empty"},
	} {
		c, err := kestra.New(tc.cfg)
		if err == nil {
			t.Errorf("%s: New = %v, want an error", tc.name, c)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not say %q", tc.name, err, tc.want)
		}
		noSecret(t, tc.name, err.Error(), "s3cret")
	}
	// Both, or a token (basic authentication is then unused), are fine.
	for _, cfg := range []kestra.Config{
		{Username: "alice", Password: "s3cret"},
		{Username: "alice", Token: "tok"},
		{Password: "s3cret", Token: "tok"},
		{},
	} {
		if _, err := kestra.New(cfg); err != nil {
			t.Errorf("New(%v): %v", cfg, err)
		}
	}
}

// The same, from the environment: the error comes from NewFromEnv.
func TestNewFromEnvRefusesHalfCredentials(t *testing.T) {
	cleanEnv(t)
	t.Setenv("KESTRA_USER", "alice")
	if _, err := kestra.NewFromEnv(); err == nil || !strings.Contains(err.Error(), "KESTRA_PASSWORD") {
		t.Errorf("NewFromEnv with a user only: error = %v, want one naming KESTRA_PASSWORD", err)
	}
}

// malformedURLs carry a password where url.Parse sees none, or fails.
var malformedURLs = []string{
	"admin:pw-s3cret@host:8080",
	"http//admin:pw-s3cret@host",
	"http:/admin:pw-s3cret@host",
	"http:admin:pw-s3cret@host",
	"http:///admin:pw-s3cret@host",
	"//admin:pw-s3cret@host",
	"admin:pw-s3cret@",
	"ftp://admin:pw-s3cret@host",
	"http://admin:pw-s3cret@exa mple.com",
	"http://admin:pw-s3cret@host/path@x",
	"HTTP:/admin:pw-s3cret@host?q=1",
}

// The password of a URL without a scheme or with a mistyped one stays out
// of New's and LoadConfig's errors, of Config's printed forms and of slog.
func TestMalformedURLSecretsStayOut(t *testing.T) {
	for _, u := range malformedURLs {
		t.Run(u, func(t *testing.T) {
			cfg := kestra.Config{URL: u, Username: "alice"}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				noSecret(t, verb, fmt.Sprintf(verb, cfg), "s3cret")
				noSecret(t, verb+" pointer", fmt.Sprintf(verb, &cfg), "s3cret")
			}
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", cfg)
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg)
			noSecret(t, "slog", buf.String(), "s3cret")

			c, err := kestra.New(kestra.Config{URL: u})
			if err == nil {
				// A URL New accepts must not print its password either.
				noSecret(t, "client", fmt.Sprintf("%v %+v", c, c.Config()), "s3cret")
			} else {
				noSecret(t, "New error", err.Error(), "s3cret")
			}

			cleanEnv(t)
			t.Setenv("KESTRA_HOST", u)
			if _, err := kestra.LoadConfig(); err != nil {
				noSecret(t, "LoadConfig error", err.Error(), "s3cret")
				if !strings.Contains(err.Error(), "KESTRA_HOST") {
					t.Errorf("LoadConfig error %q does not name KESTRA_HOST", err)
				}
			}
		})
	}
}
