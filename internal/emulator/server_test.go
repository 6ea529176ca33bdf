package emulator

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithBasicAuth("admin@example.com", "Secret123"), WithToken("tok"), WithEnterprise())
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@example.com:Secret123"))
	wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@example.com:nope"))
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"no credentials", "/api/v1/main/flows/search", "", 401},
		{"wrong password", "/api/v1/main/flows/search", wrong, 401},
		{"basic", "/api/v1/main/flows/search", basic, 200},
		{"basic lower-case scheme", "/api/v1/main/flows/search", "basic " + strings.TrimPrefix(basic, "Basic "), 200},
		{"bearer", "/api/v1/main/flows/search", "Bearer tok", 200},
		{"bad bearer", "/api/v1/main/flows/search", "Bearer other", 401},
		{"configs open", "/api/v1/configs", "", 200},
		{"ping open", "/ping", "", 200},
		{"webhook open", "/api/v1/main/executions/webhook/ns/f/k", "", 404},
		{"legacy webhook open", "/api/v1/executions/webhook/ns/f/k", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do("GET", tt.path, nil, header{"Authorization": tt.auth})
			if r.status != tt.want {
				t.Fatalf("status = %d, want %d (%s)", r.status, tt.want, r.body)
			}
			if tt.want == 401 {
				if got := r.header.Get("WWW-Authenticate"); got != "Basic" {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				if len(r.body) != 0 {
					t.Errorf("401 body = %q, want empty", r.body)
				}
			}
		})
	}
	r := ts.do("GET", "/api/v1/main/flows/search", nil, header{"Referer": "http://x/ui/login", "Authorization": ""})
	if r.status != 401 || r.header.Get("WWW-Authenticate") != "" {
		t.Errorf("login referer: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
}

// Kestra OSS takes basic auth only, on every /api/v1/** route but the open
// ones (webserver/.../filter/AuthenticationFilter.java and
// services/BasicAuthService.java, 1.3.25 and 2.0.0-SNAPSHOT): a server given
// no user has the default one, and a bearer token is refused unless the
// server plays Enterprise.
func TestAuthOSSDefaultUserAndNoBearer_AuthenticationFilter(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		ts := newTestServer(t, WithVersion(v), WithToken("tok"))
		def := "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultUsername+":"+DefaultPassword))
		for _, tc := range []struct {
			auth string
			want int
		}{{"", 401}, {def, 200}, {"Bearer tok", 401}} {
			if r := ts.do("GET", "/api/v1/main/flows/search", nil, header{"Authorization": tc.auth}); r.status != tc.want {
				t.Errorf("%s %q: status %d, want %d", v, tc.auth, r.status, tc.want)
			}
		}
		if m := ts.get("/api/v1/configs").json(t); m["edition"] != "OSS" {
			t.Errorf("edition %v", m["edition"])
		}
	}
	ee := newTestServer(t, WithToken("tok"), WithEnterprise())
	if r := ee.do("GET", "/api/v1/main/flows/search", nil, header{"Authorization": "Bearer tok"}); r.status != 200 {
		t.Errorf("EE bearer: %d", r.status)
	}
	if m := ee.get("/api/v1/configs").json(t); m["edition"] != "EE" {
		t.Errorf("EE edition %v", m["edition"])
	}
	// A configured user replaces the default one.
	own := newTestServer(t, WithBasicAuth("a@b.c", "Secret123"))
	def := "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultUsername+":"+DefaultPassword))
	if r := own.do("GET", "/api/v1/main/flows/search", nil, header{"Authorization": def}); r.status != 401 {
		t.Errorf("default user still accepted: %d", r.status)
	}
}

func TestConfigs(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version20, Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, WithVersion(v), WithBasicAuth("a", "b"))
			m := ts.get("/api/v1/configs").json(t)
			if m["edition"] != "OSS" || m["isBasicAuthInitialized"] != true || m["url"] != ts.url {
				t.Errorf("configs = %v", m)
			}
			if !strings.HasPrefix(m["version"].(string), string(v)) {
				t.Errorf("version = %v", m["version"])
			}
			if _, ok := m["commitId"]; !ok {
				t.Error("no commitId")
			}
		})
	}
}

func TestTenants(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	r := ts.get("/api/v1/other/flows/company.team/hello")
	m := assertJSONError(t, r, 400, "Bad Request: Tenant must be 'main' for OSS version")
	if href := m["_links"].(map[string]any)["self"].(map[string]any)["href"]; href != "/api/v1/other/flows/company.team/hello" {
		t.Errorf("href = %v", href)
	}
	// Legacy paths without tenant are the main tenant.
	if r := ts.get("/api/v1/flows/company.team/hello"); r.status != 200 || r.json(t)["tenantId"] != "main" {
		t.Errorf("legacy path: %d %s", r.status, r.body)
	}

	multi := newTestServer(t, WithTenants("main", "acme"))
	multi.createFlow(helloFlow)
	r = multi.do("POST", "/api/v1/acme/flows", strings.NewReader(helloFlow), yamlHeader())
	if r.status != 200 || r.json(t)["tenantId"] != "acme" {
		t.Fatalf("acme create: %d %s", r.status, r.body)
	}
	assertJSONError(t, multi.get("/api/v1/nope/flows/search"), 400, "Bad Request: ")
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	m := assertJSONError(t, ts.get("/api/v1/main/nothing/here"), 404, "Not Found")
	if m["message"] != "Not Found" {
		t.Errorf("message = %v", m["message"])
	}
	r := ts.do("PATCH", "/api/v1/main/flows/ns/id", nil, nil)
	assertJSONError(t, r, http.StatusMethodNotAllowed, "Method Not Allowed")
	if r.header.Get("Allow") == "" {
		t.Error("no Allow header")
	}
}

func TestVersionPaths(t *testing.T) {
	t.Parallel()
	v2 := newTestServer(t)
	v13 := newTestServer(t, WithVersion(Version13))
	for _, ts := range []*testServer{v2, v13} {
		ts.createFlow(helloFlow)
	}
	id2 := v2.execute("company.team", "hello", "", nil).json(t)["id"].(string)
	id13 := v13.execute("company.team", "hello", "", nil).json(t)["id"].(string)
	v2.waitState(id2, "SUCCESS")
	v13.waitState(id13, "SUCCESS")

	// 2.0 has /actions/kill, 1.3 has /kill; the other path does not exist.
	r := v2.do("DELETE", "/api/v1/main/executions/"+id2+"/kill", nil, nil)
	if r.status != 405 && r.status != 404 {
		t.Errorf("2.0 /kill: %d", r.status)
	}
	if r := v2.do("DELETE", "/api/v1/main/executions/"+id2+"/actions/kill", nil, nil); r.status != 200 {
		t.Errorf("2.0 /actions/kill: %d %s", r.status, r.body)
	}
	if r := v13.do("DELETE", "/api/v1/main/executions/"+id13+"/actions/kill", nil, nil); r.status != 404 && r.status != 405 {
		t.Errorf("1.3 /actions/kill: %d", r.status)
	}
	if r := v13.do("DELETE", "/api/v1/main/executions/"+id13+"/kill", nil, nil); r.status != 202 || len(r.body) != 0 {
		t.Errorf("1.3 /kill: %d %q", r.status, r.body)
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	if r := ts.get("/ping"); r.status != 200 || string(r.body) != "pong" {
		t.Errorf("ping: %d %q", r.status, r.body)
	}
}
