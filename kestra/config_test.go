package kestra_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
)

// envNames are every variable LoadConfig might read, ours, the Terraform
// provider's, and the unprefixed names that must be ignored.
var envNames = []string{
	"KESTRA_API_URL", "KESTRA_USERNAME", "KESTRA_PASSWORD", "KESTRA_TOKEN", "KESTRA_TENANT", "KESTRA_TIMEOUT",
	"KESTRA_URL", "KESTRA_API_TOKEN", "KESTRA_TENANT_ID",
	"KESTRA_HOST", "KESTRA_USER", "KESTRA_PASS",
	"API_URL", "USERNAME", "PASSWORD", "TOKEN", "TENANT", "TIMEOUT",
}

// cleanEnv unsets every variable LoadConfig reads and moves the test to an
// empty working directory. The variables are restored after the test,
// including those a .env file sets during it.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range envNames {
		t.Setenv(k, "") // registers the restore
		os.Unsetenv(k)
	}
	t.Chdir(t.TempDir())
}

func writeDotEnv(t *testing.T, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(".", ".env"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func loadConfig(t *testing.T) kestra.Config {
	t.Helper()
	cfg, err := kestra.LoadConfig()
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	return cfg
}

func TestLoadConfigDefaults(t *testing.T) {
	cleanEnv(t)
	cfg := loadConfig(t)
	want := kestra.Config{URL: "http://localhost:8080", Tenant: "main", Timeout: 30 * time.Second}
	if cfg != want {
		t.Errorf("LoadConfig() = %#v, want %#v", cfg, want)
	}
}

func TestLoadConfigFromEnv(t *testing.T) {
	cleanEnv(t)
	t.Setenv("KESTRA_API_URL", "https://kestra.example.com/")
	t.Setenv("KESTRA_USERNAME", "alice@example.com")
	t.Setenv("KESTRA_PASSWORD", "s3cret")
	t.Setenv("KESTRA_TOKEN", "tok")
	t.Setenv("KESTRA_TENANT", "acme")
	t.Setenv("KESTRA_TIMEOUT", "1m30s")
	cfg := loadConfig(t)
	equal(t, "URL", cfg.URL, "https://kestra.example.com/")
	equal(t, "Username", cfg.Username, "alice@example.com")
	equal(t, "Password", cfg.Password, "s3cret")
	equal(t, "Token", cfg.Token, "tok")
	equal(t, "Tenant", cfg.Tenant, "acme")
	equal(t, "Timeout", cfg.Timeout, 90*time.Second)
}

func TestLoadConfigDotEnv(t *testing.T) {
	cleanEnv(t)
	writeDotEnv(t, `# written by a developer
KESTRA_API_URL=http://from-file:8080
KESTRA_USERNAME=file-user
KESTRA_PASSWORD="file pass"
export KESTRA_TENANT=file-tenant
`)
	t.Setenv("KESTRA_API_URL", "http://from-env:8080")
	t.Setenv("KESTRA_TENANT", "env-tenant")

	cfg := loadConfig(t)
	equal(t, "URL (process env wins)", cfg.URL, "http://from-env:8080")
	equal(t, "Tenant (process env wins)", cfg.Tenant, "env-tenant")
	equal(t, "Username (from .env)", cfg.Username, "file-user")
	equal(t, "Password (from .env)", cfg.Password, "file pass")
	equal(t, "Timeout (default)", cfg.Timeout, 30*time.Second)
}

func TestLoadConfigDotEnvEmptyValueWins(t *testing.T) {
	cleanEnv(t)
	writeDotEnv(t, "KESTRA_USERNAME=file-user\n")
	t.Setenv("KESTRA_USERNAME", "") // set, though empty: the .env file must not override it
	equal(t, "Username", loadConfig(t).Username, "")
}

func TestLoadConfigDotEnvUnreadable(t *testing.T) {
	cleanEnv(t)
	if err := os.Mkdir(".env", 0o700); err != nil { // unreadable as a file
		t.Fatal(err)
	}
	if _, err := kestra.LoadConfig(); err == nil || !strings.Contains(err.Error(), ".env") {
		t.Errorf("LoadConfig with a .env directory: error = %v, want one naming .env", err)
	}
}

// godotenv's syntax errors quote the file: they must not reach the caller.
func TestLoadConfigBadDotEnvHidesSecrets(t *testing.T) {
	for _, content := range []string{
		"KESTRA_USERNAME=alice\nKESTRA_PASSWORD=\"s3cret\n",
		"bad-name!=1\nKESTRA_PASSWORD=s3cret\n",
		"KESTRA_TOKEN='s3cret\n",
	} {
		cleanEnv(t)
		writeDotEnv(t, content)
		cfg, err := kestra.LoadConfig()
		if err == nil {
			t.Errorf(".env %q: LoadConfig() = %v, want an error", content, cfg)
			continue
		}
		if !strings.Contains(err.Error(), ".env") {
			t.Errorf(".env %q: error %q does not name .env", content, err)
		}
		noSecret(t, "error", err.Error(), "s3cret")
	}
}

func TestLoadConfigTerraformFallbacks(t *testing.T) {
	t.Run("used when ours are unset", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("KESTRA_URL", "http://terraform:8080")
		t.Setenv("KESTRA_API_TOKEN", "tf-token")
		t.Setenv("KESTRA_TENANT_ID", "tf-tenant")
		cfg := loadConfig(t)
		equal(t, "URL", cfg.URL, "http://terraform:8080")
		equal(t, "Token", cfg.Token, "tf-token")
		equal(t, "Tenant", cfg.Tenant, "tf-tenant")
	})
	t.Run("ours win", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("KESTRA_URL", "http://terraform:8080")
		t.Setenv("KESTRA_API_TOKEN", "tf-token")
		t.Setenv("KESTRA_TENANT_ID", "tf-tenant")
		t.Setenv("KESTRA_API_URL", "http://ours:8080")
		t.Setenv("KESTRA_TOKEN", "our-token")
		t.Setenv("KESTRA_TENANT", "our-tenant")
		cfg := loadConfig(t)
		equal(t, "URL", cfg.URL, "http://ours:8080")
		equal(t, "Token", cfg.Token, "our-token")
		equal(t, "Tenant", cfg.Tenant, "our-tenant")
	})
	t.Run("from .env", func(t *testing.T) {
		cleanEnv(t)
		writeDotEnv(t, "KESTRA_URL=http://terraform-file:8080\n")
		equal(t, "URL", loadConfig(t).URL, "http://terraform-file:8080")
	})
}

// Variables without the KESTRA_ prefix belong to other programs (Windows
// sets USERNAME): they must not configure the client.
func TestLoadConfigIgnoresUnprefixedNames(t *testing.T) {
	cleanEnv(t)
	t.Setenv("API_URL", "http://other-program:9999")
	t.Setenv("USERNAME", "windows-user")
	t.Setenv("PASSWORD", "other-secret")
	t.Setenv("TOKEN", "other-token")
	t.Setenv("TENANT", "other-tenant")
	t.Setenv("TIMEOUT", "not-a-duration")
	cfg := loadConfig(t)
	want := kestra.Config{URL: "http://localhost:8080", Tenant: "main", Timeout: 30 * time.Second}
	if cfg != want {
		t.Errorf("LoadConfig() = %#v, want %#v", cfg, want)
	}
}

func TestLoadConfigInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"duration", map[string]string{"KESTRA_TIMEOUT": "soon"}, "KESTRA_TIMEOUT"},
		{"number without unit", map[string]string{"KESTRA_TIMEOUT": "30"}, "KESTRA_TIMEOUT"},
		{"URL without scheme", map[string]string{"KESTRA_API_URL": "localhost:8080"}, "KESTRA_API_URL"},
		{"URL with another scheme", map[string]string{"KESTRA_API_URL": "ftp://alice:s3cret@example.com"}, "KESTRA_API_URL"},
		{"unparsable URL", map[string]string{"KESTRA_API_URL": "http://alice:s3cret@exa mple.com:port"}, "KESTRA_API_URL"},
		{"fallback URL", map[string]string{"KESTRA_URL": "://nope"}, "KESTRA_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := kestra.LoadConfig()
			if err == nil {
				t.Fatalf("LoadConfig() = %v, want an error", cfg)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not name %s", msg, tc.want)
			}
			if strings.Contains(msg, "KESTRA_KESTRA") {
				t.Errorf("error %q names the variable wrongly", msg)
			}
			noSecret(t, "error", msg, "s3cret")
			if _, err := kestra.NewFromEnv(); err == nil {
				t.Error("NewFromEnv: no error")
			}
		})
	}
}

func TestNewFromEnv(t *testing.T) {
	cleanEnv(t)
	var rec requests
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r, "")
		okExecution(w, r)
	})
	writeDotEnv(t, "KESTRA_API_URL="+srv.URL+"\nKESTRA_PASSWORD=s3cret\n")
	t.Setenv("KESTRA_USERNAME", "alice")
	t.Setenv("KESTRA_TENANT", "acme")

	c, err := kestra.NewFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Executions.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	req := rec.get(0)
	equal(t, "path", req.URL.Path, "/api/v1/acme/executions/abc")
	if u, p, ok := req.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
		t.Errorf("basic auth = %q %q %v", u, p, ok)
	}
}

func TestConfigPrintsWithoutSecrets(t *testing.T) {
	t.Parallel()
	cfg := kestra.Config{
		URL:      "https://bob:url-s3cret@kestra.example.com",
		Username: "alice",
		Password: "pass-s3cret",
		Token:    "tok-s3cret",
		Tenant:   "acme",
		Timeout:  time.Minute,
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{cfg, &cfg, []kestra.Config{cfg}, struct{ C kestra.Config }{cfg}} {
			s := fmt.Sprintf(verb, v)
			noSecret(t, verb, s, "s3cret")
		}
	}
	s := cfg.String()
	noSecret(t, "String", s, "s3cret")
	for _, want := range []string{"kestra.example.com", "alice", "acme", "1m0s", "[redacted]"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %s, lacks %q", s, want)
		}
	}

	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", cfg)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg)
	noSecret(t, "slog", buf.String(), "s3cret")
	if !strings.Contains(buf.String(), "alice") {
		t.Errorf("slog output lacks the username: %s", buf.String())
	}

	// An unset secret prints empty, so that a missing password is visible.
	s = kestra.Config{Username: "alice"}.String()
	if !strings.Contains(s, `Password:""`) {
		t.Errorf("String() of a config without password = %s", s)
	}
}
