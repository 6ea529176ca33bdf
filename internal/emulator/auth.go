package emulator

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// authRequired reports whether at least one credential is configured. With
// none, the emulator is open (a convenience; real Kestra then answers 401).
func (s *Server) authRequired() bool {
	return len(s.cfg.users) > 0 || len(s.cfg.tokens) > 0
}

// isOpenPath reports the paths Kestra serves without credentials.
func isOpenPath(path string) bool {
	if !strings.HasPrefix(path, "/api/v1/") {
		return true // /ping, swagger, anything outside the API
	}
	return path == "/api/v1/configs" ||
		strings.HasPrefix(path, "/api/v1/executions/webhook/") ||
		strings.HasPrefix(path, "/api/v1/main/executions/webhook/")
}

// authorized checks the Authorization header against the configured users
// and tokens.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok {
		return false
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return false
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return false
		}
		want, found := s.cfg.users[user]
		return found && subtle.ConstantTimeCompare([]byte(want), []byte(pass)) == 1
	case "bearer":
		for t := range s.cfg.tokens {
			if subtle.ConstantTimeCompare([]byte(t), []byte(cred)) == 1 {
				return true
			}
		}
	}
	return false
}

// unauthorized writes Kestra's 401: empty body and WWW-Authenticate: Basic,
// omitted when the Referer ends in /login.
func unauthorized(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.Header.Get("Referer"), "/login") {
		w.Header().Set("WWW-Authenticate", "Basic")
	}
	w.WriteHeader(http.StatusUnauthorized)
}

// getConfigs serves GET /api/v1/configs.
func (s *Server) getConfigs(w http.ResponseWriter, r *http.Request) error {
	version := "2.0.0"
	if s.cfg.version == Version13 {
		version = "1.3.25"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"uuid":                      "00000000-0000-0000-0000-000000000000",
		"version":                   version,
		"edition":                   "OSS",
		"commitId":                  "emulator",
		"isBasicAuthInitialized":    len(s.cfg.users) > 0,
		"url":                       s.publicURL(),
		"isTaskRunEnabled":          false,
		"isAnonymousUsageEnabled":   false,
		"isTemplateEnabled":         false,
		"isUiAnonymousUsageEnabled": false,
		"systemNamespace":           "system",
	})
	return nil
}
