package kestra_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kestra-go/sdk/internal/emulator"
	"github.com/kestra-go/sdk/kestra"
)

// emuEnv is an in-process emulator behind a loopback HTTP server, and a
// client of it. The service tests build their environments on it.
type emuEnv struct {
	emu *emulator.Server
	srv *httptest.Server
	c   *kestra.Client
}

// emuSetup says how newEmuEnv builds an environment.
type emuSetup struct {
	emu    []emulator.Option               // emulator options
	wrap   func(http.Handler) http.Handler // wraps the emulator's handler when set
	cfg    kestra.Config                   // client configuration; URL is filled in
	client []kestra.Option                 // client options
}

// newEmuEnv starts an emulator for the test's duration and a client of it.
func newEmuEnv(t testing.TB, s emuSetup) *emuEnv {
	t.Helper()
	emu := emulator.New(s.emu...)
	var h http.Handler = emu
	if s.wrap != nil {
		h = s.wrap(emu)
	}
	srv := httptest.NewServer(h)
	emu.SetURL(srv.URL)
	t.Cleanup(func() {
		emu.Close()
		srv.Close()
	})
	cfg := s.cfg
	cfg.URL = srv.URL
	if cfg.Username == "" && cfg.Token == "" {
		// Like Kestra OSS, the emulator needs basic auth: its default user.
		cfg.Username, cfg.Password = emulator.DefaultUsername, emulator.DefaultPassword
	}
	c, err := kestra.New(cfg, s.client...)
	if err != nil {
		t.Fatal(err)
	}
	return &emuEnv{emu: emu, srv: srv, c: c}
}

// requestsWhere returns the requests the emulator saw that match keep.
func (e *emuEnv) requestsWhere(keep func(emulator.Request) bool) []emulator.Request {
	var out []emulator.Request
	for _, r := range e.emu.Requests() {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// emuAuth adds the emulator's default user to cfg: like Kestra OSS, the
// emulator answers 401 without basic credentials.
func emuAuth(cfg kestra.Config) kestra.Config {
	cfg.Username, cfg.Password = emulator.DefaultUsername, emulator.DefaultPassword
	return cfg
}
