package kestra

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
)

// authHeader is the Authorization header of cfg: a bearer token when one
// is set, else basic authentication when a username or password is set,
// else none.
func authHeader(cfg Config) string {
	switch {
	case cfg.Token != "":
		return "Bearer " + cfg.Token
	case cfg.Username != "" || cfg.Password != "":
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password))
	}
	return ""
}

// authEditor returns the request editor of the generated client
// ([Client.API]) that authenticates requests to the configured server.
// Requests to any other host (an absolute URL given to the raw client)
// carry no credentials.
func authEditor(base *url.URL, cfg Config) func(context.Context, *http.Request) error {
	header := authHeader(cfg)
	return func(_ context.Context, req *http.Request) error {
		if header == "" || !sameOrigin(req.URL, base) {
			return nil
		}
		req.Header.Set("Authorization", header)
		return nil
	}
}

func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host
}

// safeRedirectHeaders are the headers a redirect to another origin keeps:
// they describe the request, never who sends it.
var safeRedirectHeaders = map[string]bool{
	"Accept":          true,
	"Accept-Encoding": true,
	"Accept-Language": true,
	"Cache-Control":   true,
	"Content-Type":    true,
	"Content-Length":  true,
	"Expect":          true,
	"User-Agent":      true,
}

// safeRedirect is the client's redirect policy: a redirect that leaves the
// configured origin (scheme, host and port) keeps only the headers of
// safeRedirectHeaders, so that credentials and whatever a request editor
// added (API keys, tenant headers) stay with the configured server. It
// keeps the standard limit of 10 redirects.
func safeRedirect(base *url.URL, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, base) {
			for k := range req.Header {
				if !safeRedirectHeaders[http.CanonicalHeaderKey(k)] {
					delete(req.Header, k)
				}
			}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}
