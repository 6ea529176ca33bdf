package kestra_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

const hookFlow = `id: hook
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello
triggers:
  - id: incoming
    type: io.kestra.plugin.core.trigger.Webhook
    key: s3cr3t-KEY
`

const (
	hookUser = "admin@example.com"
	hookPass = "Secret123"
)

// newHookEnv is an emulator that requires basic auth, a client holding
// the credentials, and the flow company.team/hook with a webhook trigger.
func newHookEnv(t *testing.T) *storeEnv {
	t.Helper()
	return &storeEnv{newEmuEnv(t, emuSetup{
		server: []kestratest.Option{kestratest.WithBasicAuth(hookUser, hookPass)},
		cfg:    kestra.Config{Username: hookUser, Password: hookPass},
		client: []kestra.Option{kestra.WithRetry(kestra.NoRetry)},
		flows:  []string{hookFlow},
	})}
}

func TestTriggerWebhookBodyNoAuth(t *testing.T) {
	t.Parallel()
	env := newHookEnv(t)
	ctx := t.Context()
	res, err := env.c.TriggerWebhook(ctx, "company.team", "hook", "s3cr3t-KEY",
		strings.NewReader(`{"name":"gopher","tags":["a","b"]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Triggered || res.StatusCode != http.StatusOK || res.Execution == nil {
		t.Fatalf("response = %+v, want triggered with an execution", res)
	}
	ex := res.Execution
	if ex.ID == "" || ex.Namespace != "company.team" || ex.FlowID != "hook" || ex.URL == "" {
		t.Errorf("execution = %+v", ex)
	}

	reqs := env.requestsTo("/executions/webhook/")
	if len(reqs) != 1 {
		t.Fatalf("%d webhook requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/api/v1/main/executions/webhook/company.team/hook/s3cr3t-KEY" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if h, ok := r.Header["Authorization"]; ok {
		t.Errorf("webhook carried Authorization %q", h)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}

	// The execution (read with credentials) carries the body as parsed JSON.
	got, err := env.c.Executions.Get(ctx, ex.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "gopher", "tags": []any{"a", "b"}}
	if body := got.Trigger.Variables["body"]; !reflect.DeepEqual(body, want) {
		t.Errorf("trigger.variables.body = %#v, want %#v", body, want)
	}
	if got.Trigger.ID != "incoming" {
		t.Errorf("trigger.id = %q", got.Trigger.ID)
	}
	gets := env.requestsTo("/executions/" + ex.ID)
	if len(gets) == 0 || gets[len(gets)-1].Header.Get("Authorization") == "" {
		t.Error("the authenticated Get carried no Authorization header")
	}
}

func TestTriggerWebhookOptions(t *testing.T) {
	t.Parallel()
	env := newHookEnv(t)
	ctx := t.Context()
	res, err := env.c.TriggerWebhook(ctx, "company.team", "hook", "s3cr3t-KEY", nil, &kestra.WebhookOptions{
		Method:       "get",
		Query:        url.Values{"q": {"x y"}, "n": {"1"}},
		Header:       http.Header{"X-Source": {"tests"}},
		Authenticate: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := env.requestsTo("/executions/webhook/")
	if len(reqs) != 1 {
		t.Fatalf("%d webhook requests, want 1", len(reqs))
	}
	if r := reqs[0]; r.Method != http.MethodGet || r.Header.Get("Authorization") == "" || r.Header.Get("X-Source") != "tests" {
		t.Errorf("request %s, headers %v: want GET with Authorization and X-Source", r.Method, r.Header)
	}
	ex, err := env.c.Executions.Get(ctx, res.Execution.ID)
	if err != nil {
		t.Fatal(err)
	}
	params := ex.Trigger.Variables["parameters"]
	want := map[string]any{"q": []any{"x y"}, "n": []any{"1"}}
	if !reflect.DeepEqual(params, want) {
		t.Errorf("trigger.variables.parameters = %#v, want %#v", params, want)
	}
	if _, ok := ex.Trigger.Variables["body"]; ok {
		t.Errorf("a GET without body has trigger.body %v", ex.Trigger.Variables["body"])
	}

	// PUT with a text body.
	res, err = env.c.TriggerWebhook(ctx, "company.team", "hook", "s3cr3t-KEY", bytes.NewReader([]byte("plain words")),
		&kestra.WebhookOptions{Method: http.MethodPut, ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	ex, err = env.c.Executions.Get(ctx, res.Execution.ID)
	if err != nil {
		t.Fatal(err)
	}
	if body := ex.Trigger.Variables["body"]; body != "plain words" {
		t.Errorf("trigger.variables.body = %#v", body)
	}
}

func TestTriggerWebhookErrors(t *testing.T) {
	t.Parallel()
	env := newHookEnv(t)
	ctx := t.Context()
	for name, call := range map[string][3]string{
		"unknown key":  {"company.team", "hook", "wrong"},
		"unknown flow": {"company.team", "nope", "s3cr3t-KEY"},
	} {
		_, err := env.c.TriggerWebhook(ctx, call[0], call[1], call[2], nil, nil)
		if !errors.Is(err, kestra.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	env.emu.ClearRequests()
	for name, opts := range map[string]*kestra.WebhookOptions{
		"DELETE":        {Method: http.MethodDelete},
		"GET with body": {Method: http.MethodGet},
	} {
		var body io.Reader
		if opts.Method == http.MethodGet {
			body = strings.NewReader("{}")
		}
		if _, err := env.c.TriggerWebhook(ctx, "company.team", "hook", "s3cr3t-KEY", body, opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for _, args := range [][3]string{{"", "hook", "k"}, {"ns", "", "k"}, {"ns", "hook", ""}} {
		if _, err := env.c.TriggerWebhook(ctx, args[0], args[1], args[2], nil, nil); err == nil {
			t.Errorf("TriggerWebhook%q: no error", args)
		}
	}
	if n := len(env.emu.Requests()); n != 0 {
		t.Errorf("invalid calls made %d requests", n)
	}
}

// TestTriggerWebhookResponses covers answers from a scripted server: 204
// (conditions not met), custom bodies (returnOutputs, responseCode and
// responseContentType) and 500s, with and without Wait.
func TestTriggerWebhookResponses(t *testing.T) {
	t.Parallel()
	var mode atomic.Value
	var sawAuth atomic.Bool
	srv := startServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sawAuth.Store(true)
		}
		switch mode.Load() {
		case "204":
			w.WriteHeader(http.StatusNoContent)
		case "outputs":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, "done: 42")
		case "json-outputs":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"result":42}`)
		case "failed":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"id":"x","namespace":"ns","flowId":"f","state":{"current":"FAILED"}}`)
		case "error":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"message":"Internal server error: boom"}`)
		}
	})
	c := newClient(t, kestra.Config{URL: srv.URL, Token: "tok"}, kestra.WithRetry(kestra.NoRetry),
		kestra.WithRequestEditor(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer from-editor")
			return nil
		}))
	ctx := t.Context()

	mode.Store("204")
	res, err := c.TriggerWebhook(ctx, "ns", "f", "k", strings.NewReader("{}"), nil)
	if err != nil || res.Triggered || res.StatusCode != http.StatusNoContent || res.Execution != nil {
		t.Errorf("204: %+v, %v; want not triggered, no error", res, err)
	}

	mode.Store("outputs")
	res, err = c.TriggerWebhook(ctx, "ns", "f", "k", nil, nil)
	if err != nil || !res.Triggered || res.StatusCode != http.StatusCreated || res.Execution != nil ||
		string(res.Body) != "done: 42" || res.ContentType != "text/plain" {
		t.Errorf("custom outputs: %+v, %v", res, err)
	}

	mode.Store("json-outputs")
	res, err = c.TriggerWebhook(ctx, "ns", "f", "k", nil, nil)
	if err != nil || res.Execution != nil || string(res.Body) != `{"result":42}` {
		t.Errorf("JSON outputs: %+v, %v; want the raw body and no execution", res, err)
	}

	mode.Store("failed")
	_, err = c.TriggerWebhook(ctx, "ns", "f", "k", nil, nil)
	var apiErr *kestra.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusInternalServerError || !bytes.Contains(apiErr.Body, []byte("FAILED")) {
		t.Errorf("500: %v, want an *APIError with the body", err)
	}
	// With Wait, the same answer is the flow's: a response, not an error.
	res, err = c.TriggerWebhook(ctx, "ns", "f", "k", nil, &kestra.WebhookOptions{Wait: true})
	if err != nil || res.StatusCode != http.StatusInternalServerError || res.Execution == nil || res.Execution.State.Current != kestra.StateFailed {
		t.Errorf("500 with Wait: %+v, %v; want the failed execution and no error", res, err)
	}
	mode.Store("error")
	if _, err := c.TriggerWebhook(ctx, "ns", "f", "k", nil, &kestra.WebhookOptions{Wait: true}); !errors.As(err, &apiErr) {
		t.Errorf("an error body with Wait: %v, want an *APIError", err)
	}
	if sawAuth.Load() {
		t.Error("a webhook call carried an Authorization header")
	}
}

const hookWaitFlow = `id: hookwait
namespace: company.team
inputs:
  - id: name
    type: STRING
triggers:
  - id: sync
    type: io.kestra.plugin.core.trigger.Webhook
    key: sync
    wait: true
    inputs:
      name: "{{ trigger.body.name }}"
  - id: outputs
    type: io.kestra.plugin.core.trigger.Webhook
    key: outputs
    wait: true
    returnOutputs: true
    inputs:
      name: "{{ trigger.body.name }}"
  - id: guarded
    type: io.kestra.plugin.core.trigger.Webhook
    key: guarded
    when: "{{ trigger.body.go == 'yes' }}"
    inputs:
      name: guarded
tasks:
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.name == 'boom' }}"
    then:
      - id: fail
        type: io.kestra.plugin.core.execution.Fail
outputs:
  - id: greeting
    type: STRING
    value: "hello {{ inputs.name }}"
`

// TestTriggerWebhookWait drives the answers of waiting webhooks end to end:
// the final execution, a failed one, the outputs alone, and a condition
// not met.
func TestTriggerWebhookWait(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	deploy(t, env.c, hookWaitFlow)
	hook := func(key, body string, wait bool) (*kestra.WebhookResult, error) {
		return env.c.TriggerWebhook(ctx, "company.team", "hookwait", key, strings.NewReader(body), &kestra.WebhookOptions{Wait: wait})
	}

	res, err := hook("sync", `{"name":"ada"}`, true)
	if err != nil || res.Execution == nil || res.Execution.State.Current != kestra.StateSuccess || res.Execution.Outputs["greeting"] != "hello ada" {
		t.Fatalf("waited webhook: %+v, %v", res, err)
	}
	res, err = hook("sync", `{"name":"boom"}`, true)
	if err != nil || res.StatusCode != http.StatusInternalServerError || res.Execution == nil || res.Execution.State.Current != kestra.StateFailed {
		t.Errorf("waited webhook of a failing execution: %+v, %v", res, err)
	}
	res, err = hook("outputs", `{"name":"bob"}`, true)
	if err != nil || res.Execution != nil || string(res.Body) != `{"greeting":"hello bob"}` {
		t.Errorf("returnOutputs: %+v, %v", res, err)
	}
	res, err = hook("guarded", `{"go":"no"}`, false)
	if err != nil || res.Triggered {
		t.Errorf("when not met: %+v, %v; want not triggered", res, err)
	}
	res, err = hook("guarded", `{"go":"yes"}`, false)
	if err != nil || !res.Triggered || res.Execution == nil {
		t.Errorf("when met: %+v, %v", res, err)
	}
	if _, err := hook("sync", `{}`, true); !errors.Is(err, kestra.ErrInvalid) {
		t.Errorf("inputs that cannot be read: %v, want ErrInvalid", err)
	}
}
