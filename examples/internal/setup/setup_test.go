package setup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var kestraVars = []string{
	"KESTRA_API_URL", "KESTRA_URL", "KESTRA_HOST", "KESTRA_USERNAME", "KESTRA_USER",
	"KESTRA_PASSWORD", "KESTRA_PASS", "KESTRA_TOKEN", "KESTRA_API_TOKEN", "KESTRA_TENANT",
	"KESTRA_TENANT_ID", "KESTRA_TIMEOUT",
}

// cleanEnv unsets every KESTRA_ variable and moves to an empty directory.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range kestraVars {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Chdir(t.TempDir())
}

// The examples run on a real server exactly when kestra.LoadConfig would
// read its URL from the environment: any of the documented variables, in
// the process environment or in .env, selects it.
func TestClientChoosesAsLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		dotEnv  string
		wantURL string // empty: the emulator
	}{
		{"nothing set", nil, "", ""},
		{"KESTRA_API_URL", map[string]string{"KESTRA_API_URL": "http://api-url.example:8080"}, "", "http://api-url.example:8080"},
		{"KESTRA_URL, a fallback", map[string]string{"KESTRA_URL": "http://url.example:8080"}, "", "http://url.example:8080"},
		{"KESTRA_HOST, a fallback", map[string]string{"KESTRA_HOST": "http://host.example:8080/api/v1"}, "", "http://host.example:8080"},
		{"in .env", nil, "KESTRA_URL=http://dotenv.example:8080\n", "http://dotenv.example:8080"},
		{"empty: the default, so the emulator", map[string]string{"KESTRA_API_URL": ""}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if tc.dotEnv != "" {
				if err := os.WriteFile(filepath.Join(".", ".env"), []byte(tc.dotEnv), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var msg strings.Builder
			c, done, err := client(&msg)
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			if tc.wantURL == "" {
				if !strings.HasPrefix(msg.String(), "KESTRA_API_URL not set: using the built-in Kestra emulator") {
					t.Errorf("message %q does not announce the emulator", msg.String())
				}
				if _, err := c.Flows.Get(t.Context(), "company.team", "none", nil); err == nil || !strings.Contains(err.Error(), "404") {
					t.Errorf("the emulator does not answer: %v", err)
				}
				return
			}
			if got := c.Config().URL; got != tc.wantURL {
				t.Errorf("URL = %q, want %q", got, tc.wantURL)
			}
			if !strings.Contains(msg.String(), "using the Kestra server at "+tc.wantURL) {
				t.Errorf("message %q does not name the server", msg.String())
			}
		})
	}
}

// A broken configuration is an error, not a silent switch to the emulator.
func TestClientRefusesBadConfig(t *testing.T) {
	for _, env := range []map[string]string{
		{"KESTRA_URL": "localhost:8080"},
		{"KESTRA_TIMEOUT": "soon"},
		{"KESTRA_HOST": "http://h:8080", "KESTRA_USER": "ada"},
	} {
		cleanEnv(t)
		for k, v := range env {
			t.Setenv(k, v)
		}
		if c, done, err := client(&strings.Builder{}); err == nil {
			done()
			t.Errorf("env %v: client %v, want an error", env, c.Config())
		}
	}
}
