package kestra

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strconv"
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
	// URL is the server's base URL, such as http://localhost:8080 or
	// https://example.com/kestra behind a reverse proxy. A trailing /api/v1
	// (what Kestra's UI and docs show as the API's address) is dropped, so
	// https://example.com/kestra/api/v1 is the same server.
	// Env: KESTRA_API_URL, else KESTRA_URL, else KESTRA_HOST.
	// Default: http://localhost:8080.
	URL string
	// Username and Password are sent as HTTP basic authentication. One
	// without the other is an error of [New] (unless Token is set).
	// Env: KESTRA_USERNAME, else KESTRA_USER; KESTRA_PASSWORD, else
	// KESTRA_PASS.
	Username string
	Password string
	// Token is sent as a bearer token (Kestra Enterprise service accounts and
	// API tokens). It wins over Username and Password when both are set.
	// Env: KESTRA_TOKEN, else KESTRA_API_TOKEN.
	Token string
	// Tenant is the tenant of every call. Env: KESTRA_TENANT, else
	// KESTRA_TENANT_ID. Default: main, the only tenant of Kestra OSS.
	Tenant string
	// Timeout bounds each call that does not stream or wait on the server,
	// retries included. Zero means the default; a negative value means no
	// limit but the context's.
	// Env: KESTRA_TIMEOUT, a Go duration such as 30s. Default: 30s.
	Timeout time.Duration
}

// envVars is what LoadConfig reads with envconfig, prefix KESTRA: the
// variables without fallbacks. Its fields carry no envconfig tag on
// purpose: with one, envconfig also reads the unprefixed name (TIMEOUT
// ...) when KESTRA_* is unset, and those belong to other programs.
type envVars struct {
	Timeout time.Duration `default:"30s"` // KESTRA_TIMEOUT
}

// Each setting read from several variables, in order: ours first, then the
// names of Kestra's Terraform provider (KESTRA_URL, KESTRA_API_TOKEN,
// KESTRA_TENANT_ID) and of kestra.io's SDK pages (KESTRA_HOST, KESTRA_USER,
// KESTRA_PASS). The first variable that is set wins, even when empty.
var (
	urlVars      = []string{"KESTRA_API_URL", "KESTRA_URL", "KESTRA_HOST"}
	usernameVars = []string{"KESTRA_USERNAME", "KESTRA_USER"}
	passwordVars = []string{"KESTRA_PASSWORD", "KESTRA_PASS"}
	tokenVars    = []string{"KESTRA_TOKEN", "KESTRA_API_TOKEN"}
	tenantVars   = []string{"KESTRA_TENANT", "KESTRA_TENANT_ID"}
)

// lookupFirst returns the value of the first of names that is set, and
// its name; ok is false when none is.
func lookupFirst(names []string) (value, name string, ok bool) {
	for _, n := range names {
		if v, set := os.LookupEnv(n); set {
			return v, n, true
		}
	}
	return "", "", false
}

// LoadConfig reads the configuration from KESTRA_* environment variables.
// A .env file in the working directory is read first when it exists; it
// never overrides a variable that is already set. Unset variables take the
// defaults documented on [Config]; so does an empty URL. An invalid value
// is an error that names the variable (and, in a .env file, its line).
func LoadConfig() (Config, error) {
	if err := loadDotEnv(); err != nil {
		return Config{}, err
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
	cfg := Config{URL: DefaultURL, Tenant: DefaultTenant, Timeout: env.Timeout}
	if v, name, ok := lookupFirst(urlVars); ok && v != "" {
		if _, err := parseBaseURL(v); err != nil {
			return Config{}, fmt.Errorf("kestra: %s: %w", name, err)
		}
		cfg.URL = v
	}
	cfg.Username, _, _ = lookupFirst(usernameVars)
	cfg.Password, _, _ = lookupFirst(passwordVars)
	cfg.Token, _, _ = lookupFirst(tokenVars)
	if v, _, ok := lookupFirst(tenantVars); ok {
		cfg.Tenant = v
	}
	return cfg, nil
}

// EnvURL returns the server URL the environment names, and the variable
// it comes from: the first of KESTRA_API_URL, KESTRA_URL and KESTRA_HOST
// that is set, a .env file in the working directory included, as
// [LoadConfig] reads them. Both are empty when none is set, or when the
// first one set is empty: LoadConfig then uses [DefaultURL]. Programs that
// fall back to an emulator (see package kestratest) when no server is
// named decide with it.
func EnvURL() (url, variable string) {
	_ = loadDotEnv() // LoadConfig reports its errors
	v, name, ok := lookupFirst(urlVars)
	if !ok || v == "" {
		return "", ""
	}
	return v, name
}

// loadDotEnv reads the .env file of the working directory, when there is
// one, into the variables that are not set.
func loadDotEnv() error {
	err := godotenv.Load()
	if err == nil || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return fmt.Errorf("kestra: read .env: %w", err)
	}
	// The parser's errors quote the file, secrets included: only the line
	// and the kind of error are kept.
	return fmt.Errorf("kestra: read .env: %s", dotEnvSyntaxError(err))
}

// dotEnvSyntaxError describes a syntax error of the .env file by its line
// and kind, without the text the parser quotes.
func dotEnvSyntaxError(err error) string {
	msg := err.Error()
	kind := "invalid syntax"
	switch {
	case strings.HasPrefix(msg, "unexpected character"):
		kind = "invalid character in a variable name"
	case strings.HasPrefix(msg, "unterminated quoted value"):
		kind = "quoted value without its closing quote"
	}
	b, rerr := os.ReadFile(".env")
	if rerr != nil {
		return kind
	}
	if line := dotEnvErrorLine(string(b), msg); line > 0 {
		return fmt.Sprintf("line %d: %s", line, kind)
	}
	return kind
}

// dotEnvErrorLine finds the line of the parser error msg in the .env file
// content, 0 when it cannot tell.
func dotEnvErrorLine(content, msg string) int {
	content = strings.ReplaceAll(content, "\r\n", "\n") // as the parser reads it
	// "unexpected character ... near REST": REST, quoted, is the file from
	// the statement at fault to its end.
	if i := strings.Index(msg, " near "); i >= 0 {
		if rest, err := strconv.Unquote(msg[i+len(" near "):]); err == nil && strings.HasSuffix(content, rest) {
			return strings.Count(content[:len(content)-len(rest)], "\n") + 1
		}
	}
	// Otherwise the first lines that fail alike hold the error. Files are
	// small; a large one is not searched.
	if len(content) > 1<<20 {
		return 0
	}
	lines := strings.SplitAfter(content, "\n")
	for n := 1; n <= len(lines); n++ {
		if _, err := godotenv.Unmarshal(strings.Join(lines[:n], "")); err != nil && err.Error() == msg {
			return n
		}
	}
	return 0
}

// parseBaseURL checks that s is an absolute http(s) URL and returns it
// without user information, query, fragment, trailing slash or trailing
// /api/v1 (any path before it, a reverse proxy's prefix, is kept).
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
	u.Path = strings.TrimSuffix(u.Path, "/api/v1")
	u.RawPath = ""
	return u, nil
}

// redactURL hides the user information of a URL that carries one. It does
// not rely on the URL parsing: a URL without a scheme, or with a mistyped
// one (admin:pw@host, http//admin:pw@host, http:/admin:pw@host), loses
// everything before its last '@' but the scheme.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err == nil && u.Opaque == "" && u.Host != "" && !strings.Contains(u.Host, "@") {
		// A well-formed URL: Redacted keeps the user name, hides the
		// password.
		if !strings.Contains(u.Path+u.RawQuery+u.Fragment, "@") {
			return u.Redacted()
		}
	}
	i := strings.LastIndex(s, "@")
	if i < 0 {
		return s
	}
	return schemePrefix(s[:i]) + redacted + s[i:]
}

// schemePrefix returns the leading scheme of s and the slashes after it,
// written right or mistyped ("http://", "http:/", "http//"), or "".
func schemePrefix(s string) string {
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == 0 || i > 10 {
		return ""
	}
	j := i
	if j < len(s) && s[j] == ':' {
		j++
	}
	k := j
	for k < len(s) && s[k] == '/' {
		k++
	}
	if k == j { // no slash: "admin:pw" is a user and password, not a scheme
		return ""
	}
	return s[:k]
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

// checkCredentials refuses half of a basic authentication: Kestra would
// answer every call with a bare 401. With a token, basic authentication
// is not used, so it is not checked.
func checkCredentials(cfg Config) error {
	if cfg.Token != "" {
		return nil
	}
	switch {
	case cfg.Username != "" && cfg.Password == "":
		return errors.New("kestra: Config.Username is set but Config.Password is empty (KESTRA_PASSWORD): basic authentication needs both")
	case cfg.Password != "" && cfg.Username == "":
		return errors.New("kestra: Config.Password is set but Config.Username is empty (KESTRA_USERNAME): basic authentication needs both")
	}
	return nil
}
