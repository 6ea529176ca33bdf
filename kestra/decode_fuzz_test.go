package kestra_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kestra-go/sdk/kestra"
)

// FuzzAnswer sends every kind of answer a server or a RoundTripper can
// give (any status, content type and body, with or without its request)
// through the decode path of the calls: none may panic, and none may
// return a nil result with a nil error. The seed corpus runs with go test.
func FuzzAnswer(f *testing.F) {
	for _, seed := range []struct {
		status      int
		contentType string
		body        string
		noRequest   bool
	}{
		{200, "application/json", `{"id":"e1","state":{"current":"RUNNING"}}`, false},
		{200, "application/json", `null`, false},
		{200, "application/json", `[null]`, false},
		{200, "application/json", `{"results":[null],"total":1}`, false},
		{200, "application/json", ``, true},
		{200, "text/html", `<html>`, true},
		{204, "", ``, false},
		{404, "application/json", `{"message":"Not Found: x","_embedded":{"errors":[null]}}`, false},
		{400, "application/json", `{"invalids":[null,{"message":1}]}`, true},
		{422, "application/problem+json", `{"title":"t","detail":"d","errors":[{"path":1}]}`, false},
		{500, "application/json", `{"id":"e1","namespace":"ns","flowId":"f"}`, false},
		{0, "", "\x00\xff", true},
		{-1, "application/json", `{`, false},
		{999, "application/json", `"`, true},
	} {
		f.Add(seed.status, seed.contentType, []byte(seed.body), seed.noRequest)
	}
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte, noRequest bool) {
		rt := fakeRT(func(r *http.Request) (*http.Response, error) {
			if r.Body != nil {
				_, _ = io.Copy(io.Discard, r.Body)
			}
			resp := &http.Response{
				StatusCode: status,
				Header:     http.Header{"Content-Type": {contentType}},
				Body:       io.NopCloser(bytes.NewReader(body)),
				Request:    r,
			}
			if noRequest {
				resp.Request = nil
			}
			return resp, nil
		})
		c := fakeClient(t, rt)
		ctx := context.Background()
		check := func(what string, isNil bool, err error) {
			if err == nil && isNil {
				t.Fatalf("%s: nil result with a nil error", what)
			}
		}
		e, err := c.Executions.Get(ctx, "e1")
		check("Executions.Get", e == nil, err)
		e, err = c.Executions.Kill(ctx, "e1")
		check("Executions.Kill", e == nil, err)
		e, err = c.Executions.Restart(ctx, "e1", nil)
		check("Executions.Restart", e == nil, err)
		ev, err := c.Executions.Eval(ctx, "e1", "tr1", "{{ 1 }}")
		check("Executions.Eval", ev == nil, err)
		ep, err := c.Executions.List(ctx, nil)
		check("Executions.List", ep == nil, err)
		if err == nil {
			for _, x := range ep.Items {
				check("Executions.List result", x == nil, nil)
			}
		}
		fp, err := c.Flows.List(ctx, nil)
		check("Flows.List", fp == nil, err)
		if err == nil {
			for _, x := range fp.Items {
				check("Flows.List flow", x == nil, nil)
			}
		}
		revs, err := c.Flows.Revisions(ctx, "company.team", "flow")
		if err == nil {
			for _, x := range revs {
				check("Flows.Revisions flow", x == nil, nil)
			}
		}
		plan, err := c.Flows.Sync(ctx, "company.team", []string{"id: flow\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"}, nil)
		check("Flows.Sync", plan == nil, err)
		_ = c.Flows.Validate(ctx, "id: flow\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n")
		kv, err := c.KV.Get(ctx, "company.team", "key")
		check("KV.Get", kv == nil, err)
		_, _ = c.KV.Delete(ctx, "company.team", "key")
		logs, err := c.Logs.List(ctx, "e1", nil)
		_ = logs
		_ = err
		tp, err := c.Triggers.List(ctx, nil)
		check("Triggers.List", tp == nil, err)
		if err == nil {
			for _, x := range tp.Items {
				check("Triggers.List state", x == nil, nil)
			}
		}
		wr, err := c.TriggerWebhook(ctx, "company.team", "flow", "key", strings.NewReader(`{}`), &kestra.WebhookOptions{Wait: true})
		check("TriggerWebhook", wr == nil, err)
		_, _ = c.Executions.DeleteByIDs(ctx, []string{"e1"}, nil)
		if rc, err := c.Files.Download(ctx, "company.team", "a.txt"); err == nil {
			_, _ = io.Copy(io.Discard, rc)
			rc.Close()
		}
		for x, err := range c.Executions.All(ctx, nil) {
			check("Executions.All", x == nil, err)
			break
		}
	})
}
