package kestra

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
)

// authEditor returns the request editor that authenticates requests to the
// configured server: a bearer token when one is set, else basic
// authentication when a username is set, else nothing. Requests to any
// other host (a redirect, an absolute URL given to the raw client) carry no
// credentials.
func authEditor(base *url.URL, cfg Config) func(context.Context, *http.Request) error {
	var header string
	switch {
	case cfg.Token != "":
		header = "Bearer " + cfg.Token
	case cfg.Username != "" || cfg.Password != "":
		header = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password))
	}
	return func(ctx context.Context, req *http.Request) error {
		if ctx.Value(noAuthKey) != nil {
			req.Header.Del("Authorization")
			return nil
		}
		if header == "" || !sameOrigin(req.URL, base) {
			return nil
		}
		req.Header.Set("Authorization", header)
		return nil
	}
}

const noAuthKey ctxKey = 100

// withoutAuth marks a context whose calls must not carry credentials
// (webhooks, which are open by design).
func withoutAuth(ctx context.Context) context.Context {
	return context.WithValue(ctx, noAuthKey, true)
}

func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host
}

// stripCrossHostAuth is the client's redirect policy: Go already drops the
// Authorization header when a redirect leaves the domain; this also drops
// it for another port or scheme of the same host, and keeps the standard
// limit of 10 redirects.
func stripCrossHostAuth(base *url.URL, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, base) {
			req.Header.Del("Authorization")
			req.Header.Del("Cookie")
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
