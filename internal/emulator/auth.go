package emulator

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

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
// (webserver/.../services/BasicAuthService.java: the scheme is compared
// without case) and, in Enterprise mode only, the bearer tokens: Kestra OSS
// 1.3.25 and 2.0 take nothing but Basic.
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
		if !s.cfg.enterprise {
			return false
		}
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
	edition := "OSS"
	if s.cfg.enterprise {
		edition = "EE"
	}
	version := "2.0.0"
	if s.cfg.version == Version13 {
		version = "1.3.25"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"uuid":                      "00000000-0000-0000-0000-000000000000",
		"version":                   version,
		"edition":                   edition,
		"commitId":                  "emulator",
		"isBasicAuthInitialized":    true,
		"url":                       s.publicURL(),
		"isTaskRunEnabled":          false,
		"isAnonymousUsageEnabled":   false,
		"isTemplateEnabled":         false,
		"isUiAnonymousUsageEnabled": false,
		"systemNamespace":           "system",
	})
	return nil
}
