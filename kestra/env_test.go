package kestra_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// The tests of this package run against one of two servers, each set up by
// one function that returns a client of it and stops it when the test
// ends:
//
//   - newEmuEnv: an emulated Kestra server (kestratest), for behaviour
//     that needs a server that runs flows;
//   - newRawEnv: a plain HTTP server whose handler the test writes, for
//     exact wire formats and misbehaving servers.

// emuEnv is an emulated Kestra server and a client of it.
type emuEnv struct {
	emu *kestratest.Server
	c   *kestra.Client
}

// emuSetup says how newEmuEnv builds an environment. The zero value is a
// server that runs in real time and a client with the default retry
// policy.
type emuSetup struct {
	server []kestratest.Option // server options, after WithSpeed(1)
	cfg    kestra.Config       // client configuration; URL is filled in, and the server's user unless credentials are set
	client []kestra.Option     // client options
	flows  []string            // flows deployed before the test; the request log is cleared afterwards
}

// newEmuEnv starts an emulated server for the test's duration, deploys
// s.flows and returns it with a client of it.
func newEmuEnv(t testing.TB, s emuSetup) *emuEnv {
	t.Helper()
	srv := kestratest.Start(t, append([]kestratest.Option{kestratest.WithSpeed(1)}, s.server...)...)
	env := &emuEnv{emu: srv}
	env.c = env.client(t, s.cfg, s.client...)
	if len(s.flows) > 0 {
		setup := srv.Client(kestra.WithRetry(kestra.NoRetry))
		for _, src := range s.flows {
			deploy(t, setup, src)
		}
		srv.ClearRequests()
	}
	return env
}

// client returns another client of the server, with cfg (URL filled in,
// and the server's user unless credentials are set) and opts.
func (e *emuEnv) client(t testing.TB, cfg kestra.Config, opts ...kestra.Option) *kestra.Client {
	t.Helper()
	cfg.URL = e.emu.URL
	if cfg.Username == "" && cfg.Token == "" {
		// Like Kestra OSS, the server needs basic auth: its default user.
		cfg.Username, cfg.Password = e.emu.Username, e.emu.Password
	}
	c, err := kestra.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requestsWhere returns the requests the server saw that match keep.
func (e *emuEnv) requestsWhere(keep func(kestratest.Request) bool) []kestratest.Request {
	var out []kestratest.Request
	for _, r := range e.emu.Requests() {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// deploy creates the flow src with c, failing the test if it cannot.
func deploy(t testing.TB, c *kestra.Client, src string) *kestra.Flow {
	t.Helper()
	f, err := c.Flows.Create(t.Context(), src)
	if err != nil {
		t.Fatalf("deploy flow: %v", err)
	}
	return f
}

// newRawEnv serves h on a loopback port for the test's duration and
// returns the server with a client of it, without credentials, that does
// not retry unless opts say otherwise.
func newRawEnv(t testing.TB, h http.HandlerFunc, opts ...kestra.Option) (*httptest.Server, *kestra.Client) {
	t.Helper()
	srv := startServer(t, h)
	return srv, newClient(t, kestra.Config{URL: srv.URL}, append([]kestra.Option{kestra.WithRetry(kestra.NoRetry)}, opts...)...)
}
