package kestra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/kestra-go/sdk/gen"
)

// WebhookOptions are the optional settings of [Client.TriggerWebhook].
type WebhookOptions struct {
	// Method is GET, POST or PUT, as the caller of the webhook would send
	// it. Empty means POST.
	Method string
	// ContentType of the body. Empty means application/json when there is
	// a body. Kestra parses any body into trigger.body: a JSON object or
	// array becomes a map or list, anything else a string.
	ContentType string
	// Header holds extra headers, which the flow sees as trigger.headers.
	Header http.Header
	// Query holds query parameters, which the flow sees as
	// trigger.parameters.
	Query url.Values
	// Authenticate sends the client's credentials. Kestra serves webhooks
	// without authentication, the key being the secret, so by default the
	// call carries no Authorization header (nor cookies).
	Authenticate bool
	// Wait says the trigger has wait: true, so Kestra holds the response
	// until the execution ends: the call is then bounded by ctx only, not
	// by [Config.Timeout]. The answer is then the flow's: an execution that
	// ended FAILED answers 500 with the execution, which TriggerWebhook
	// returns as a response, not as an error (see
	// [WebhookResult].Execution's state).
	Wait bool
}

// WebhookExecution is the execution a webhook call created, as Kestra
// answers it: its id, flow, state at creation, trigger and UI URL. It is
// a model of Kestra's API (its schema WebhookResponse), like [Execution].
type WebhookExecution = gen.WebhookResponse

// WebhookResult is the outcome of a webhook call that Kestra accepted.
type WebhookResult struct {
	// StatusCode is the HTTP status: 200, 204 when the trigger's
	// conditions were not met, and with [WebhookOptions].Wait the trigger's
	// responseCode, or 500 for an execution that ended FAILED.
	StatusCode int
	// Triggered is false when Kestra answered 204: the call was valid but
	// the trigger's conditions were not met, so no execution was created.
	Triggered bool
	// Execution is the execution created, when the body is one. It is
	// nil when no execution was created, and when the trigger sets
	// returnOutputs, in which case Body holds the flow's outputs.
	Execution *WebhookExecution
	// ContentType and Body are the raw response, whatever its form.
	ContentType string
	Body        []byte
}

// TriggerWebhook calls the webhook trigger key of the flow namespace/flowID,
// with body (nil: none) as its payload, as an outside system would: by
// default without credentials. opts may be nil.
//
// An unknown flow or key answers [ErrNotFound], a disabled flow
// [ErrConflict], inputs that cannot be rendered [ErrInvalid]. A call whose
// trigger conditions are not met is not an error: it returns a response
// with Triggered false. The call is never retried once it may have
// reached Kestra, whatever its method. [WebhookOptions].Method selects
// GET or PUT instead of POST. The key is a secret: errors and logs print
// REDACTED in its place.
//
// Kestra API: POST /api/v1/{tenant}/executions/webhook/{namespace}/{id}/{key}
func (c *Client) TriggerWebhook(ctx context.Context, namespace, flowID, key string, body io.Reader, opts *WebhookOptions) (*WebhookResult, error) {
	if namespace == "" || flowID == "" || key == "" {
		return nil, errors.New("kestra: TriggerWebhook needs a namespace, a flow id and a key")
	}
	var o WebhookOptions
	if opts != nil {
		o = *opts
	}
	method := strings.ToUpper(o.Method)
	if method == "" {
		method = http.MethodPost
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut:
	default:
		return nil, fmt.Errorf("kestra: TriggerWebhook: method %q: a webhook takes GET, POST or PUT", o.Method)
	}
	if body != nil && method == http.MethodGet {
		return nil, errors.New("kestra: TriggerWebhook: a GET webhook call takes no body")
	}
	cl := &call{
		method: method, path: "executions/webhook/{namespace}/{id}/{key}", args: []string{namespace, flowID, key},
		secretArg: "key", query: o.Query, header: o.Header, body: body,
		// Any method may start an execution.
		once: true, noAuth: !o.Authenticate, untimed: o.Wait, unread: true,
	}
	if body != nil {
		cl.contentType = o.ContentType
		if cl.contentType == "" {
			cl.contentType = "application/json"
		}
	}
	if err := c.run(ctx, cl); err != nil {
		return nil, err
	}
	resp := cl.resp
	defer resp.Body.Close()
	failed := resp.StatusCode < 200 || resp.StatusCode >= 300
	if failed && !o.Wait {
		return nil, c.apiError(cl, cl.req, resp)
	}
	out := &WebhookResult{
		StatusCode:  resp.StatusCode,
		Triggered:   resp.StatusCode != http.StatusNoContent,
		ContentType: resp.Header.Get("Content-Type"),
	}
	var err error
	if out.Body, err = readCapped(resp.Body, resp.ContentLength, c.maxResponse); errors.Is(err, ErrResponseTooLarge) {
		return nil, tooLarge(cl.req, cl, c)
	} else if err != nil {
		return nil, fmt.Errorf("kestra: %s %s: read response: %w", method, cl.printedPath(c, cl.req), err)
	}
	if out.Triggered && webhookJSON(out.ContentType) {
		var ex WebhookExecution
		if json.Unmarshal(out.Body, &ex) == nil && ex.ID != "" && ex.Namespace == namespace && ex.FlowID == flowID {
			out.Execution = &ex
		}
	}
	if failed && out.Execution == nil {
		// Not the flow's answer: Kestra's error.
		return nil, newAPIError(method, cl.printedURL(c, cl.req), resp.StatusCode, out.Body)
	}
	return out, nil
}

// webhookJSON reports whether a Content-Type is JSON (or unset, which Kestra
// never sends for an execution, but a proxy might strip).
func webhookJSON(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
