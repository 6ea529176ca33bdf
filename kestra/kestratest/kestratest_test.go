package kestratest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const flow = `id: hello
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
`

func do(t *testing.T, srv *kestratest.Server, method, path, ct string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if srv.Username != "" {
		req.SetBasicAuth(srv.Username, srv.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestServer(t *testing.T) {
	t.Parallel()
	srv := kestratest.Start(t, kestratest.WithBasicAuth("admin@example.com", "Secret123"), kestratest.WithToken("tok"), kestratest.WithEnterprise())
	if srv.Username != "admin@example.com" || srv.Password != "Secret123" || srv.Token != "tok" || srv.Tenant != "main" || srv.Version() != kestratest.Version20 {
		t.Fatalf("server = %+v", srv)
	}
	if code, _ := do(t, srv, "POST", "/api/v1/main/flows", "application/x-yaml", strings.NewReader(flow)); code != 200 {
		t.Fatalf("create flow: %d", code)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.Close()
	code, body := do(t, srv, "POST", "/api/v1/main/executions/company.team/hello?labels=a:b", mw.FormDataContentType(), &buf)
	if code != 200 {
		t.Fatalf("execute: %d %s", code, body)
	}
	var e struct{ ID string }
	_ = json.Unmarshal(body, &e)
	if srv.ExecutionCount() != 1 || srv.ExecutionsCreated() != 1 || srv.FlowCount() != 1 {
		t.Errorf("counts: %d %d %d", srv.ExecutionCount(), srv.ExecutionsCreated(), srv.FlowCount())
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.RawQuery != "labels=a:b" || last.Method != "POST" {
		t.Errorf("last request = %+v", last)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.LogCount(e.ID) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if srv.LogCount(e.ID) != 1 {
		t.Errorf("LogCount = %d", srv.LogCount(e.ID))
	}

	remove := srv.InjectFault(kestratest.Fault{Path: "*/flows/search", Status: 503, RetryAfter: "2"})
	if code, _ := do(t, srv, "GET", "/api/v1/main/flows/search", "", nil); code != 503 {
		t.Errorf("fault: %d", code)
	}
	remove()
	srv.ClearFaults()
	srv.ClearRequests()
	if code, _ := do(t, srv, "GET", "/api/v1/main/flows/search", "", nil); code != 200 {
		t.Errorf("after remove: %d", code)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("requests after clear = %d", n)
	}
	// The execution is paused: Close must still stop its goroutines
	// (goleak checks it in TestMain).
}

func TestVersion13AndOptions(t *testing.T) {
	t.Parallel()
	srv := kestratest.NewServer(kestratest.WithVersion(kestratest.Version13), kestratest.WithSpeed(1000),
		kestratest.WithTaskDuration(10*time.Millisecond), kestratest.WithTenants("main", "t2"), kestratest.WithRequestLogSize(1))
	defer srv.Close()
	if code, _ := do(t, srv, "GET", "/api/v1/t2/flows/search", "", nil); code != 200 {
		t.Errorf("tenant t2: %d", code)
	}
	code, body := do(t, srv, "GET", "/api/v1/configs", "", nil)
	if code != 200 || !strings.Contains(string(body), `"version":"1.3`) {
		t.Errorf("configs: %d %s", code, body)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("request log size %d", n)
	}
}

// A plugin type is refused unless its plugin is declared installed, as a
// Kestra server without the plugin refuses it.
func TestWithPlugins(t *testing.T) {
	t.Parallel()
	const shell = "id: sh\nnamespace: company.team\ntasks:\n  - id: run\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: [echo hi]\n"
	bare := kestratest.Start(t)
	if code, body := do(t, bare, "POST", "/api/v1/main/flows", "application/x-yaml", strings.NewReader(shell)); code != 422 || !strings.Contains(string(body), "Invalid type: io.kestra.plugin.scripts.shell.Commands") {
		t.Errorf("plugin not installed: %d %s", code, body)
	}
	srv := kestratest.Start(t, kestratest.WithPlugins("io.kestra.plugin.scripts."))
	if code, body := do(t, srv, "POST", "/api/v1/main/flows", "application/x-yaml", strings.NewReader(shell)); code != 200 {
		t.Errorf("installed plugin: %d %s", code, body)
	}
}

// Kestra OSS 1.3.25 and 2.0 answer 401 to /api/v1/** without basic
// credentials and refuse bearer tokens
// (webserver/.../filter/AuthenticationFilter.java): the server has a
// default user, which Client carries, and takes tokens in Enterprise mode
// only.
func TestDefaultUserAndEnterpriseTokens_AuthenticationFilter(t *testing.T) {
	t.Parallel()
	srv := kestratest.Start(t)
	if srv.Username != "root@root.com" || srv.Password != "Root!1234" {
		t.Fatalf("default user = %q / %q", srv.Username, srv.Password)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/api/v1/main/flows/search", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no credentials: %d, want 401", resp.StatusCode)
	}
	if _, err := srv.Client().Flows.List(t.Context(), nil); err != nil {
		t.Errorf("Client() without credentials? %v", err)
	}

	ee := kestratest.Start(t, kestratest.WithEnterprise(), kestratest.WithToken("tok"))
	if c := ee.Config(); c.Token != "tok" {
		t.Errorf("Config().Token = %q", c.Token)
	}
	if _, err := ee.Client().Flows.List(t.Context(), nil); err != nil {
		t.Errorf("enterprise token refused: %v", err)
	}

	defer func() {
		if recover() == nil {
			t.Error("WithToken without WithEnterprise did not panic")
		}
	}()
	kestratest.NewServer(kestratest.WithToken("tok")).Close()
}

// A test says what a plugin task does: here a shell task that reads an
// input, logs, returns an exit code, and fails on demand.
func TestHandleTask(t *testing.T) {
	t.Parallel()
	srv := kestratest.Start(t)
	srv.HandleTask("io.kestra.plugin.scripts.shell.Commands", func(tk kestratest.Task) kestratest.TaskResult {
		if tk.Inputs["code"] == "1" {
			return kestratest.TaskResult{Err: errors.New("Command failed with exit code 1")}
		}
		return kestratest.TaskResult{
			Outputs: map[string]any{"exitCode": 0},
			Logs:    []kestratest.TaskLog{{Message: "hello from " + tk.TaskID}},
		}
	})
	c := srv.Client()
	ctx := t.Context()
	src := "id: sh\nnamespace: company.team\ninputs:\n  - id: code\n    type: STRING\n    defaults: \"0\"\ntasks:\n  - id: run\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: [\"exit {{ inputs.code }}\"]\n"
	if _, err := c.Flows.Create(ctx, src); err != nil {
		t.Fatal(err)
	}
	ex, err := c.Executions.Create(ctx, "company.team", "sh", &kestra.ExecuteOptions{Wait: true})
	if err != nil || ex.CurrentState() != kestra.StateSuccess {
		t.Fatalf("run: %v %v", ex, err)
	}
	var out struct{ ExitCode int }
	if err := ex.TaskOutputs("run", &out); err != nil || out.ExitCode != 0 {
		t.Errorf("outputs: %+v %v", out, err)
	}
	logs, err := c.Logs.List(ctx, ex.ID, nil)
	if err != nil || len(logs) != 1 || logs[0].Message != "hello from run" {
		t.Errorf("logs: %+v %v", logs, err)
	}
	ex, err = c.Executions.Create(ctx, "company.team", "sh", &kestra.ExecuteOptions{Wait: true, Inputs: map[string]any{"code": "1"}})
	if err != nil || ex.CurrentState() != kestra.StateFailed {
		t.Fatalf("failing run: %v %v", ex, err)
	}
}
