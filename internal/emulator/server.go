// Package emulator is an in-process emulation of the Kestra REST API, built
// from the documented behaviour of the real server (2.0 API, or the 1.3 API
// with [WithVersion]). It is an [http.Handler]; package kestratest and
// cmd/kestra-emulator serve it.
//
// Flows, executions, logs, KV pairs and namespace files live in memory.
// Executions really run a set of core task types (Log, Return, Fail,
// Pause, Sleep, the flowable Sequential, Parallel, If, Switch, Dag,
// LoopUntil, AllowFailure and WorkingDirectory, 2.0's Loop, 1.3's ForEach,
// EachSequential and EachParallel, and Subflow) through CREATED, RUNNING
// and a terminal state, and every step is broadcast to follow streams.
// Fault injection ([Server.InjectFault]) and request inspection
// ([Server.Requests]) serve reliability tests.
package emulator

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Version selects which Kestra API generation the emulator speaks.
type Version string

// The API generations the emulator speaks.
const (
	// Version20 is the 2.0 API: execution actions under /actions/<verb>,
	// GET returns ApiExecution, logs filter with filters[...].
	Version20 Version = "2.0"
	// Version13 is the 1.3 API: /kill (202), /resume (204), full
	// executions everywhere, logs filter with minLevel.
	Version13 Version = "1.3"
)

// Option configures a [Server].
type Option func(*config)

type config struct {
	users      map[string]string
	tokens     map[string]bool
	enterprise bool
	version    Version
	speed      float64
	tenants    map[string]bool
	url        string
	logger     *slog.Logger
	maxReqLog  int
	taskTime   time.Duration
	plugins    []string // installed plugin types (WithPlugins)
}

// The basic-auth user of a server given no [WithBasicAuth] option: the
// credentials Kestra's own documentation uses.
const (
	DefaultUsername = "root@root.com"
	DefaultPassword = "Root!1234"
)

// WithBasicAuth adds a user accepted with HTTP basic auth; the first one
// replaces the default user ([DefaultUsername]). As Kestra OSS does
// (webserver/.../filter/AuthenticationFilter.java, 1.3.25 and 2.0), every
// /api/v1 call except the open ones (/api/v1/configs, webhooks) needs
// credentials: without them the answer is 401.
func WithBasicAuth(username, password string) Option {
	return func(c *config) { c.users[username] = password }
}

// WithToken adds a bearer token accepted in Enterprise mode
// ([WithEnterprise]) only: Kestra OSS refuses bearer tokens with 401, and so
// does the emulator unless it plays Kestra EE.
func WithToken(token string) Option {
	return func(c *config) { c.tokens[token] = true }
}

// WithEnterprise makes the server play Kestra Enterprise Edition as far as
// authentication goes: bearer tokens given with [WithToken] are accepted
// besides basic auth, and /api/v1/configs reports the EE edition. Nothing
// else of EE is emulated.
func WithEnterprise() Option {
	return func(c *config) { c.enterprise = true }
}

// WithVersion selects the API generation; the default is [Version20]. Only
// the selected generation's paths exist.
func WithVersion(v Version) Option {
	return func(c *config) { c.version = v }
}

// WithSpeed scales simulated time: every simulated duration (task run time,
// Sleep, Pause timeouts, schedule dates, the 10 s wait of a follow on an
// unknown execution) is divided by speed. The default is 1; tests use 50
// to 1000.
func WithSpeed(speed float64) Option {
	return func(c *config) {
		if speed > 0 {
			c.speed = speed
		}
	}
}

// WithTaskDuration sets the simulated time one task (and each state step of
// an execution) takes before speed scaling; the default is 100ms.
func WithTaskDuration(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.taskTime = d
		}
	}
}

// WithTenants sets the tenants the server accepts in /api/v1/{tenant}/
// paths; the default is only "main", as in Kestra OSS.
func WithTenants(tenants ...string) Option {
	return func(c *config) {
		c.tenants = map[string]bool{}
		for _, t := range tenants {
			c.tenants[t] = true
		}
	}
}

// WithURL sets the public URL of the server (Kestra's kestra.url); it is
// used to build the url field of created executions and /api/v1/configs.
func WithURL(url string) Option {
	return func(c *config) { c.url = strings.TrimSuffix(url, "/") }
}

// WithLogger sets the logger used for internal diagnostics.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithRequestLogSize bounds how many requests [Server.Requests] keeps (the
// most recent ones); the default is 10000.
func WithRequestLogSize(n int) Option {
	return func(c *config) { c.maxReqLog = n }
}

// Server is the emulated Kestra API. Create it with [New], serve it as an
// [http.Handler], and Close it to stop running executions and streams.
//
// Server is the HTTP layer: it decodes requests, calls its engine and
// renders Kestra's answers. The engine (engine.go) holds the state and its
// lock; the embedding is the seam between the two while handlers move to
// engine calls area by area.
type Server struct {
	*engine

	handler http.Handler
	mux     *http.ServeMux

	// httpMu guards what the HTTP layer records of its traffic.
	httpMu   sync.Mutex
	requests []Request
	faults   []*faultEntry

	patterns   []string                // the routes registered, as ServeMux patterns
	specRoutes map[string][]*specRoute // operations of openapi.yaml by specKey
	specRoots  map[string]bool         // first segments after /api/v1/ of routes without tenant
}

// New returns a Server configured by opts.
func New(opts ...Option) *Server {
	cfg := config{
		users:     map[string]string{},
		tokens:    map[string]bool{},
		version:   Version20,
		speed:     1,
		tenants:   map[string]bool{"main": true},
		logger:    slog.New(slog.DiscardHandler),
		maxReqLog: 10000,
		taskTime:  100 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.users) == 0 {
		cfg.users[DefaultUsername] = DefaultPassword
	}
	s := &Server{engine: newEngine(cfg)}
	s.mux = http.NewServeMux()
	s.routes()
	s.buildSpecRoutes()
	s.handler = s.middleware(s.mux)
	return s
}

// Version reports the API generation the server speaks.
func (s *Server) Version() Version { return s.cfg.version }

// SetURL sets the public URL after construction (kestratest learns it only
// once its listener is up). It is the same as [WithURL].
func (s *Server) SetURL(url string) { s.engine.setURL(url) }

// Close stops every running execution and ends every open stream. It
// returns once all simulation goroutines have exited. The server answers
// 503 afterwards.
func (s *Server) Close() { s.engine.close() }

// ServeHTTP implements [http.Handler].
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns a 22-character base62 identifier like Kestra's IdUtils.
func newID() string {
	var b [22]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b[:])
}

func now() time.Time { return time.Now().UTC() }
