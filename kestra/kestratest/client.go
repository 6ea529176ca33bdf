package kestratest

import (
	"github.com/kestra-go/sdk/kestra"
)

// Client returns a client for the server, with its basic-auth user (or, in
// Enterprise mode, its first token) as credentials. Options are applied after the server's own; the
// client has no per-call timeout beyond the default and keeps the default
// retry policy.
func (s *Server) Client(opts ...kestra.Option) *kestra.Client {
	c, err := kestra.New(s.Config(), opts...)
	if err != nil {
		// The configuration is built from the server itself and is valid.
		panic("kestratest: " + err.Error())
	}
	return c
}

// Config returns a configuration that points at the server, with its
// credentials.
func (s *Server) Config() kestra.Config {
	return kestra.Config{
		URL:      s.URL,
		Username: s.Username,
		Password: s.Password,
		Token:    s.Token,
		Tenant:   s.Tenant,
	}
}
