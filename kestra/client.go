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

	// Pointers only: fmt prints a Client value's fields, not its secrets.
	cfg *Config
	*pipeline
}

// pipeline is what a client and its [Client.WithTenant] copies share to
// send requests.
type pipeline struct {
	hc          *http.Client // redirect policy and cookie jar of the user's client
	transport   *transport
	authHeader  string
	userAgent   string
	editors     []func(context.Context, *http.Request) error
	maxResponse int64
	api         *gen.ClientWithResponses
	server      *serverInfoCache
}

type service struct{ c *Client }

// Option configures a [Client] in [New].
type Option func(*options)

type options struct {
	httpClient  *http.Client
	editors     []func(context.Context, *http.Request) error
	retry       RetryPolicy
	logger      *slog.Logger
	userAgent   string
	maxResponse int64
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
// before it is sent: for extra headers, tracing, and so on. A redirect to
// another host (scheme, host or port) keeps only the headers known to be
// safe: Accept, Accept-Encoding, Accept-Language, Cache-Control,
// Content-Type, Content-Length, Expect and User-Agent; the others, the
// editors' included, are dropped.
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

// WithMaxResponseSize caps the size of an answer the client reads into
// memory (JSON answers, error bodies, webhook answers), counted after
// decompression; n ≤ 0 means [DefaultMaxResponseSize] (64 MiB). A larger
// answer fails with [ErrResponseTooLarge]; a Content-Length above the cap
// fails before the body is read. Streams and downloads are not capped:
// the caller reads them.
func WithMaxResponseSize(n int64) Option {
	return func(o *options) { o.maxResponse = n }
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
	if o.maxResponse <= 0 {
		o.maxResponse = DefaultMaxResponseSize
	}
	var hc http.Client
	if o.httpClient != nil {
		hc = *o.httpClient
	}
	baseRT := hc.Transport
	if baseRT == nil {
		baseRT = newTransport()
	}
	t := &transport{base: baseRT, policy: o.retry.withDefaults(), timeout: cfg.Timeout, logger: o.logger, maxResponse: o.maxResponse}
	hc.Transport = t
	hc.CheckRedirect = safeRedirect(base, hc.CheckRedirect)

	ua := o.userAgent
	genOpts := []gen.ClientOption{
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
		genOpts = append(genOpts, gen.WithRequestEditorFn(e))
	}
	raw, err := gen.NewClient(base.String(), genOpts...)
	if err != nil {
		return nil, fmt.Errorf("kestra: %w", err)
	}
	c := &Client{
		cfg: &cfg,
		pipeline: &pipeline{
			hc:          &hc,
			transport:   t,
			authHeader:  authHeader(cfg),
			userAgent:   ua,
			editors:     o.editors,
			maxResponse: o.maxResponse,
			api:         &gen.ClientWithResponses{ClientInterface: raw},
			server:      &serverInfoCache{},
		},
	}
	c.initServices()
	return c, nil
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
// the tenant as an argument; [Client.Tenant] is the configured one. Its
// calls are re-sent or not by their HTTP method (never a POST that may
// have reached the server), and bounded by Config.Timeout, body included,
// unless their operation answers a stream or a download (follow streams,
// file and log downloads, exports, webhooks): those are bounded by their
// context only.
func (c *Client) API() *gen.ClientWithResponses { return c.api }

// Tenant returns the tenant of the client's calls.
func (c *Client) Tenant() string { return c.cfg.Tenant }

// Config returns the client's configuration, defaults filled in.
func (c *Client) Config() Config { return *c.cfg }

// WithTenant returns a client for another tenant that shares this one's
// connections, credentials and options. A tenant that cannot be a path
// segment ("", ".", "..", a word of Kestra's routes) fails every call
// before any request.
func (c *Client) WithTenant(tenant string) *Client {
	cc := *c
	cfg := *c.cfg
	cfg.Tenant = tenant
	cc.cfg = &cfg
	cc.initServices()
	return &cc
}

// String describes the client without its secrets. The printing methods
// (String, GoString, Format, LogValue) take a Client value, so that a
// Client value prints as redacted as a *Client; every other method takes
// a *Client.
func (c Client) String() string {
	return fmt.Sprintf("kestra.Client{URL:%q, Tenant:%q}", c.cfg.URL, c.cfg.Tenant)
}

// GoString is String, so that %#v redacts too.
func (c Client) GoString() string { return c.String() }

// Format makes every verb print the redacted form.
func (c Client) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// LogValue makes slog print the redacted form.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.cfg.URL), slog.String("tenant", c.cfg.Tenant))
}
