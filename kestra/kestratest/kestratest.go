// Package kestratest runs an in-process emulation of the Kestra API for
// tests: flows, executions that really run core tasks (Log, Return, Fail,
// Pause, Sleep, the flow-control tasks Sequential, Parallel, If, Switch,
// Dag, LoopUntil, AllowFailure and WorkingDirectory, 2.0's Loop, 1.3's
// ForEach, EachSequential and EachParallel, and Subflow) through CREATED,
// RUNNING and a terminal state, stopping at breakpoints and queueing by
// their flow's concurrency limit; follow streams framed as Kestra frames them; logs,
// webhooks, trigger states, KV, namespace files, basic auth (bearer tokens
// in an Enterprise mode), tenants, and the 2.0 or 1.3 API generation. A flow
// may use the core task types of its version and the plugins declared with
// [WithPlugins]; other plugin types are refused, as Kestra refuses a plugin
// it does not have. Tasks of declared plugins run as no-ops, with a WARN log
// line saying they were not run, unless the test says what they do
// ([Server.HandleTask], which also declares the type).
//
// Like Kestra OSS, the server answers 401 to every /api/v1 call without
// basic credentials. Unless told otherwise ([WithBasicAuth]) its user is
// [DefaultUsername] / [DefaultPassword], the credentials of Kestra's own
// documentation; [Server.Client] and [Server.Config] carry them.
//
// Fault injection ([Server.InjectFault]) makes the server answer errors,
// add latency, drop follow streams or reset connections; inspection
// ([Server.Requests], [Server.ExecutionCount]) lets tests assert what the
// server saw.
//
//	srv := kestratest.Start(t)
//	c := srv.Client() // or point a client at srv.URL with srv.Username / srv.Password
package kestratest

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kestra-go/sdk/internal/emulator"
)

// Version selects the Kestra API generation the server speaks.
type Version = emulator.Version

// The API generations.
const (
	// Version20 is the 2.0 API (the default).
	Version20 = emulator.Version20
	// Version13 is the 1.3 API.
	Version13 = emulator.Version13
)

// Fault describes a misbehaviour applied to matching requests; see
// [Server.InjectFault].
type Fault = emulator.Fault

// Request is what the server saw of one request (everything but the body).
type Request = emulator.Request

// Task is what a task handler is given of one run of a task; see
// [Server.HandleTask].
type Task = emulator.Task

// TaskResult is what a handled task did: outputs, logs, simulated
// duration, failure.
type TaskResult = emulator.TaskResult

// TaskLog is one log line of a handled task.
type TaskLog = emulator.TaskLog

// Option configures a [Server].
type Option func(*settings)

type settings struct {
	emu        []emulator.Option
	username   string
	password   string
	token      string
	enterprise bool
}

// The basic-auth user of a server given no [WithBasicAuth] option, as in
// Kestra's documentation.
const (
	DefaultUsername = emulator.DefaultUsername
	DefaultPassword = emulator.DefaultPassword
)

// DefaultSpeed is the simulation speed of a kestratest server unless
// [WithSpeed] says otherwise: a task that takes 100ms in the simulation
// takes 1ms, a Sleep of PT1S takes 10ms.
const DefaultSpeed = 100

// WithBasicAuth adds a basic-auth user; the first one replaces the default
// user and is kept in [Server.Username] and [Server.Password].
func WithBasicAuth(username, password string) Option {
	return func(s *settings) {
		if s.username == "" {
			s.username, s.password = username, password
		}
		s.emu = append(s.emu, emulator.WithBasicAuth(username, password))
	}
}

// WithToken adds a bearer token the server accepts in Enterprise mode; the
// first one is kept in [Server.Token] and [Server.Client] sends it instead
// of basic credentials. It needs [WithEnterprise]: Kestra OSS refuses
// bearer tokens, and [NewServer] panics on a token without it.
func WithToken(token string) Option {
	return func(s *settings) {
		if s.token == "" {
			s.token = token
		}
		s.emu = append(s.emu, emulator.WithToken(token))
	}
}

// WithEnterprise makes the server accept bearer tokens ([WithToken]) as
// Kestra Enterprise Edition does, and report the EE edition in
// /api/v1/configs. No other Enterprise feature is emulated.
func WithEnterprise() Option {
	return func(s *settings) {
		s.enterprise = true
		s.emu = append(s.emu, emulator.WithEnterprise())
	}
}

// WithVersion selects the API generation; the default is [Version20].
func WithVersion(v Version) Option {
	return func(s *settings) { s.emu = append(s.emu, emulator.WithVersion(v)) }
}

// WithSpeed scales simulated time: every simulated duration is divided by
// speed. The default is [DefaultSpeed]; 1 is real time.
func WithSpeed(speed float64) Option {
	return func(s *settings) { s.emu = append(s.emu, emulator.WithSpeed(speed)) }
}

// WithTaskDuration sets the simulated time each task and each execution
// step takes, before speed scaling; the default is 100ms.
func WithTaskDuration(d time.Duration) Option {
	return func(s *settings) { s.emu = append(s.emu, emulator.WithTaskDuration(d)) }
}

// WithTenants sets the accepted tenants; the default is only "main", as in
// Kestra OSS (any other tenant gets 400).
func WithTenants(tenants ...string) Option {
	return func(s *settings) { s.emu = append(s.emu, emulator.WithTenants(tenants...)) }
}

// WithPlugins declares plugin types installed on the emulated server, so
// that flows may use them: a type ("io.kestra.plugin.scripts.shell.Commands")
// or, ending with a dot, every type of a package ("io.kestra.plugin.jdbc.").
// As on Kestra, a type that is neither a core type nor installed is
// refused with 422 "Invalid type". Installed plugin tasks run as no-ops
// that succeed.
func WithPlugins(types ...string) Option {
	return func(s *settings) { s.emu = append(s.emu, emulator.WithPlugins(types...)) }
}

// WithRequestLogSize bounds how many requests [Server.Requests] keeps; the
// default is 10000.
func WithRequestLogSize(n int) Option {
	return func(s *settings) { s.emu = append(s.emu, emulator.WithRequestLogSize(n)) }
}

// Server is a running emulated Kestra server.
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:41234, without the
	// /api/v1 prefix.
	URL string
	// Username and Password are the first basic-auth user configured, or
	// the default user.
	Username, Password string
	// Token is the first bearer token configured, if any (Enterprise mode).
	Token string
	// Tenant is the tenant clients should use: "main".
	Tenant string

	emu *emulator.Server
	ts  *httptest.Server
}

// NewServer starts a server; Close it when done (or use [Start]). It
// panics when a token is given without [WithEnterprise].
func NewServer(opts ...Option) *Server {
	st := settings{emu: []emulator.Option{emulator.WithSpeed(DefaultSpeed)}}
	for _, o := range opts {
		o(&st)
	}
	if st.token != "" && !st.enterprise {
		panic("kestratest: WithToken needs WithEnterprise: Kestra OSS refuses bearer tokens")
	}
	if st.username == "" {
		st.username, st.password = DefaultUsername, DefaultPassword
	}
	emu := emulator.New(st.emu...)
	ts := httptest.NewServer(emu)
	emu.SetURL(ts.URL)
	return &Server{
		URL: ts.URL, Username: st.username, Password: st.password, Token: st.token, Tenant: "main",
		emu: emu, ts: ts,
	}
}

// Start starts a server that is closed when the test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Close stops running executions, ends open streams and shuts the server
// down; no goroutine of the server outlives it.
func (s *Server) Close() {
	s.emu.Close()
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// InjectFault adds a fault and returns a function that removes it. Faults
// are checked in the order they were added. Examples:
//
//	// The next two flow searches get 503 with Retry-After: 1.
//	srv.InjectFault(kestratest.Fault{Method: "GET", Path: "*/flows/search", Times: 2, Status: 503, RetryAfter: "1"})
//	// The next follow stream is dropped after its first two frames.
//	srv.InjectFault(kestratest.Fault{Path: "*/follow", Times: 1, DropAfterFrames: 2})
//	// Every request is 200ms slower.
//	srv.InjectFault(kestratest.Fault{Latency: 200 * time.Millisecond})
func (s *Server) InjectFault(f Fault) (remove func()) { return s.emu.InjectFault(f) }

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() { s.emu.ClearFaults() }

// Requests returns the requests the server received, oldest first.
func (s *Server) Requests() []Request { return s.emu.Requests() }

// ClearRequests forgets the recorded requests.
func (s *Server) ClearRequests() { s.emu.ClearRequests() }

// ExecutionCount returns how many executions exist (deleted ones are
// gone).
func (s *Server) ExecutionCount() int { return s.emu.ExecutionCount() }

// ExecutionsCreated returns how many executions were ever created,
// deleted ones included.
func (s *Server) ExecutionsCreated() int { return s.emu.ExecutionsCreated() }

// FlowCount returns how many flows exist and are not deleted.
func (s *Server) FlowCount() int { return s.emu.FlowCount() }

// LogCount returns how many log lines are stored for an execution.
func (s *Server) LogCount(executionID string) int { return s.emu.LogCount(executionID) }

// Version reports the API generation the server speaks.
func (s *Server) Version() Version { return s.emu.Version() }

// HandleTask says what tasks of type typ do, for tasks the emulator does
// not run itself (plugin tasks such as
// io.kestra.plugin.scripts.shell.Commands, which otherwise succeed as
// no-ops with a WARN log line saying they were not run) or to replace the
// behaviour of a core task. fn runs once per task run, in the execution's
// goroutine; its result gives the task run's outputs, its log lines, how
// long it takes in simulated time and whether it fails:
//
//	srv.HandleTask("io.kestra.plugin.scripts.shell.Commands", func(t kestratest.Task) kestratest.TaskResult {
//		if t.Inputs["fail"] == true {
//			return kestratest.TaskResult{Err: errors.New("Command failed with exit code 1")}
//		}
//		return kestratest.TaskResult{
//			Outputs: map[string]any{"exitCode": 0},
//			Logs:    []kestratest.TaskLog{{Message: "done"}},
//		}
//	})
//
// Flow-control tasks, Subflow and Pause cannot be handled. A nil fn
// removes the handler.
func (s *Server) HandleTask(typ string, fn func(Task) TaskResult) { s.emu.HandleTask(typ, fn) }

// LockTrigger makes the trigger triggerID of the flow namespace/flowID look
// held by the execution executionID, as when Kestra's scheduler is stuck
// on it, so that code that unlocks triggers can be tested. The server
// schedules nothing by itself. It returns false when no flow declares that
// schedule or polling trigger.
func (s *Server) LockTrigger(namespace, flowID, triggerID, executionID string) bool {
	return s.emu.LockTrigger(s.Tenant, namespace, flowID, triggerID, executionID)
}
