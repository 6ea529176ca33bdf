package kestra

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/joho/godotenv"
	"github.com/kelseyhightower/envconfig"
)

// Default configuration values.
const (
	DefaultURL     = "http://localhost:8080"
	DefaultTenant  = "main"
	DefaultTimeout = 30 * time.Second
)

const redacted = "[redacted]"

// Config is how a [Client] reaches a Kestra server. [LoadConfig] fills it
// from the environment; every field can also be set in code.
//
// Config prints with its secrets redacted, with %v, %+v, %#v and in slog.
type Config struct {
	// URL is the server's base URL, without /api/v1.
	// Env: KESTRA_API_URL (fallback KESTRA_URL). Default: http://localhost:8080.
	URL string
	// Username and Password are sent as HTTP basic authentication.
	// Env: KESTRA_USERNAME, KESTRA_PASSWORD.
	Username string
	Password string
	// Token is sent as a bearer token (Kestra Enterprise service accounts and
	// API tokens). It wins over Username and Password when both are set.
	// Env: KESTRA_TOKEN (fallback KESTRA_API_TOKEN).
	Token string
	// Tenant is the tenant of every call. Env: KESTRA_TENANT (fallback
	// KESTRA_TENANT_ID). Default: main, the only tenant of Kestra OSS.
	Tenant string
	// Timeout bounds each call that does not stream or wait on the server,
	// retries included. Zero means the default; a negative value means no
	// limit but the context's.
	// Env: KESTRA_TIMEOUT, a Go duration such as 30s. Default: 30s.
	Timeout time.Duration
}

// envVars is what LoadConfig reads with envconfig, prefix KESTRA. Its fields
// carry no envconfig tag on purpose: with one, envconfig also reads the
// unprefixed name (USERNAME, TOKEN, TIMEOUT ...) when KESTRA_* is unset,
// and those belong to other programs.
type envVars struct {
	APIUrl   string        `split_words:"true" default:"http://localhost:8080"` // KESTRA_API_URL
	Username string        // KESTRA_USERNAME
	Password string        // KESTRA_PASSWORD
	Token    string        // KESTRA_TOKEN
	Tenant   string        `default:"main"` // KESTRA_TENANT
	Timeout  time.Duration `default:"30s"`  // KESTRA_TIMEOUT
}

// fallbacks are the variable names used by Kestra's Terraform provider, read
// when ours are unset.
var fallbacks = map[string]string{
	"KESTRA_API_URL": "KESTRA_URL",
	"KESTRA_TOKEN":   "KESTRA_API_TOKEN",
	"KESTRA_TENANT":  "KESTRA_TENANT_ID",
}

// LoadConfig reads the configuration from KESTRA_* environment variables.
// A .env file in the working directory is read first when it exists; it
// never overrides a variable that is already set. Unset variables take the
// defaults documented on [Config]. An invalid value is an error that names
// the variable.
func LoadConfig() (Config, error) {
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return Config{}, fmt.Errorf("kestra: read .env: %w", err)
		}
		// The parser's errors quote the file, secrets included.
		return Config{}, errors.New("kestra: read .env: invalid syntax")
	}
	var env envVars
	if err := envconfig.Process("KESTRA", &env); err != nil {
		var pe *envconfig.ParseError
		if errors.As(err, &pe) {
			// KeyName is the whole name, KESTRA_TIMEOUT.
			return Config{}, fmt.Errorf("kestra: %s: %w", pe.KeyName, pe.Err)
		}
		return Config{}, fmt.Errorf("kestra: %w", err)
	}
	cfg := Config{URL: env.APIUrl, Username: env.Username, Password: env.Password,
		Token: env.Token, Tenant: env.Tenant, Timeout: env.Timeout}
	for ours, theirs := range fallbacks {
		if _, set := os.LookupEnv(ours); set {
			continue
		}
		v, ok := os.LookupEnv(theirs)
		if !ok {
			continue
		}
		switch ours {
		case "KESTRA_API_URL":
			cfg.URL = v
		case "KESTRA_TOKEN":
			cfg.Token = v
		case "KESTRA_TENANT":
			cfg.Tenant = v
		}
	}
	if _, err := parseBaseURL(cfg.URL); err != nil {
		name := "KESTRA_API_URL"
		if _, set := os.LookupEnv(name); !set {
			name = "KESTRA_URL"
		}
		return Config{}, fmt.Errorf("kestra: %s: %w", name, err)
	}
	return cfg, nil
}

// parseBaseURL checks that s is an absolute http(s) URL and returns it
// without user information, query or fragment.
func parseBaseURL(s string) (*url.URL, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q", redactURL(s))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid URL %q: the scheme must be http or https", redactURL(s))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid URL %q: no host", redactURL(s))
	}
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// redactURL hides the password of a URL that carries one.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			return redacted + s[i:]
		}
		return s
	}
	return u.Redacted()
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// String returns the configuration with its secrets redacted.
func (c Config) String() string {
	return fmt.Sprintf("kestra.Config{URL:%q, Username:%q, Password:%q, Token:%q, Tenant:%q, Timeout:%s}",
		redactURL(c.URL), c.Username, redact(c.Password), redact(c.Token), c.Tenant, c.Timeout)
}

// GoString is String, so that %#v redacts too.
func (c Config) GoString() string { return c.String() }

// Format makes every verb print the redacted form.
func (c Config) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// LogValue makes slog print the redacted form.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactURL(c.URL)),
		slog.String("username", c.Username),
		slog.String("password", redact(c.Password)),
		slog.String("token", redact(c.Token)),
		slog.String("tenant", c.Tenant),
		slog.Duration("timeout", c.Timeout),
	)
}
