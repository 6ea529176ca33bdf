package kestra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/kestra-go/sdk/gen"
)

// Client talks to one Kestra server as one tenant. It is safe for
// concurrent use; create one and share it.
type Client struct {
	// Flows manages flows: create, update and deploy them from YAML.
	Flows *FlowsService
	// Executions starts, follows, waits on and manages executions.
	Executions *ExecutionsService
	// Logs reads and follows execution logs.
	Logs *LogsService
	// KV reads and writes the key-value store of namespaces.
	KV *KVService
	// Files manages namespace files.
	Files *FilesService
	// Triggers reads and changes the scheduler's state of triggers.
	Triggers *TriggersService

	cfg     *Config // a pointer: fmt prints a Client value's fields, not its secrets
	baseURL *url.URL
	tenant  string
	http    *http.Client
	api     *gen.ClientWithResponses
	raw     *gen.Client
	logger  *slog.Logger
	server  *serverInfoCache
}

type service struct{ c *Client }

// Option configures a [Client] in [New].
type Option func(*options)

type options struct {
	httpClient *http.Client
	editors    []gen.RequestEditorFn
	retry      RetryPolicy
	logger     *slog.Logger
	userAgent  string
}

// WithHTTPClient makes the client send its requests through hc. Its
// transport is wrapped with the client's retries, deadlines and logging, and
// its redirect policy with the removal of credentials on other hosts; hc
// itself is not modified. Leave hc.Timeout at zero: it would cut streams.
// Give its transport an ExpectContinueTimeout (the default one has 1s):
// file uploads ask the server to accept them first, and without it a
// server that refuses one at once may surface as a broken pipe.
// Without this option the client uses a transport tuned for many concurrent
// calls to one server.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) { o.httpClient = hc }
}

// WithRequestEditor adds fn to every request, after authentication and
// before it is sent: for extra headers, tracing, and so on.
func WithRequestEditor(fn func(ctx context.Context, req *http.Request) error) Option {
	return func(o *options) { o.editors = append(o.editors, fn) }
}

// WithRetry replaces [DefaultRetryPolicy]. WithRetry([NoRetry]) turns
// retries off.
func WithRetry(p RetryPolicy) Option {
	return func(o *options) { o.retry = p }
}

// WithLogger logs each HTTP attempt at debug level to l: method, URL,
// status, duration and attempt. Headers and bodies are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithUserAgent replaces the default User-Agent, kestra-go/VERSION (goX.Y).
func WithUserAgent(ua string) Option {
	return func(o *options) { o.userAgent = ua }
}

// DefaultUserAgent is the User-Agent a client sends without [WithUserAgent].
var DefaultUserAgent = fmt.Sprintf("kestra-go/%s (%s)", Version, runtime.Version())

// New returns a client for the server cfg describes. Empty fields take the
// defaults documented on [Config]. It makes no request.
func New(cfg Config, opts ...Option) (*Client, error) {
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if cfg.Tenant == "" {
		cfg.Tenant = DefaultTenant
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	base, err := parseBaseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("kestra: Config.URL: %w", err)
	}
	if u, _ := url.Parse(cfg.URL); u != nil && u.User != nil && cfg.Username == "" && cfg.Token == "" {
		// http://user:pass@host: the credentials move to basic auth and out
		// of every URL the client prints.
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	cfg.URL = base.String()
	if err := checkCredentials(cfg); err != nil {
		return nil, err
	}
	if cfg.Token != "" && !validHeaderValue(cfg.Token) {
		return nil, errors.New("kestra: Config.Token: not a valid token (spaces or control characters)")
	}

	o := options{retry: DefaultRetryPolicy, userAgent: DefaultUserAgent}
	for _, opt := range opts {
		opt(&o)
	}
	var hc http.Client
	if o.httpClient != nil {
		hc = *o.httpClient
	}
	baseRT := hc.Transport
	if baseRT == nil {
		baseRT = newTransport()
	}
	hc.Transport = &transport{base: baseRT, policy: o.retry.withDefaults(), timeout: cfg.Timeout, logger: o.logger}
	hc.CheckRedirect = stripCrossHostAuth(base, hc.CheckRedirect)

	ua := o.userAgent
	editors := []gen.ClientOption{
		gen.WithHTTPClient(&hc),
		gen.WithRequestEditorFn(authEditor(base, cfg)),
		gen.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if ua != "" {
				req.Header.Set("User-Agent", ua)
			}
			return nil
		}),
	}
	for _, e := range o.editors {
		editors = append(editors, gen.WithRequestEditorFn(e))
	}
	raw, err := gen.NewClient(base.String(), editors...)
	if err != nil {
		return nil, fmt.Errorf("kestra: %w", err)
	}
	c := &Client{
		cfg:     &cfg,
		baseURL: base,
		tenant:  cfg.Tenant,
		http:    &hc,
		api:     &gen.ClientWithResponses{ClientInterface: raw},
		raw:     raw,
		logger:  o.logger,
		server:  &serverInfoCache{},
	}
	c.initServices()
	return c, nil
}

// tenantURL is the URL of path under the client's tenant:
// <server>/api/v1/<tenant>/<path>, path already escaped.
func (c *Client) tenantURL(path string) string {
	return strings.TrimSuffix(c.raw.Server, "/") + "/api/v1/" + url.PathEscape(c.tenant) + "/" + path
}

// NewFromEnv is [LoadConfig] followed by [New].
func NewFromEnv(opts ...Option) (*Client, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	return New(cfg, opts...)
}

func (c *Client) initServices() {
	c.Flows = &FlowsService{c: c}
	c.Executions = &ExecutionsService{c: c}
	c.Logs = &LogsService{c: c}
	c.KV = &KVService{c: c}
	c.Files = &FilesService{c: c}
	c.Triggers = &TriggersService{c: c}
}

// newTransport is the default transport: HTTP/1.1 and HTTP/2 keep-alive
// with enough idle connections per host for many concurrent callers.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// API returns the generated client for the whole Kestra API, with this
// client's authentication, retries, deadlines, logging and User-Agent:
// the way to call an endpoint this package does not wrap. Its methods take
// the tenant as an argument; [Client.Tenant] is the configured one.
func (c *Client) API() *gen.ClientWithResponses { return c.api }

// Tenant returns the tenant of the client's calls.
func (c *Client) Tenant() string { return c.tenant }

// Config returns the client's configuration, defaults filled in.
func (c *Client) Config() Config { return *c.cfg }

// WithTenant returns a client for another tenant that shares this one's
// connections, credentials and options.
func (c *Client) WithTenant(tenant string) *Client {
	cc := *c
	cfg := *c.cfg
	cfg.Tenant = tenant
	cc.tenant = tenant
	cc.cfg = &cfg
	cc.initServices()
	return &cc
}

// String describes the client without its secrets.
func (c Client) String() string {
	return fmt.Sprintf("kestra.Client{URL:%q, Tenant:%q}", c.baseURL.String(), c.tenant)
}

// GoString is String, so that %#v redacts too.
func (c Client) GoString() string { return c.String() }

// Format makes every verb print the redacted form.
func (c Client) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// LogValue makes slog print the redacted form.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.baseURL.String()), slog.String("tenant", c.tenant))
}
