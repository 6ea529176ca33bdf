package kestra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// call describes one request of this package: what it sends, how it may be
// sent, and where its answer goes. Every method fills one and hands it to
// [Client.run], the only place that builds, authenticates, sends and
// decodes a request. The policy is plain fields of the call: run turns
// them into a deadline and into the [sendPolicy] of the transport that
// sends this call, so nothing is steered through the context or sniffed
// from headers.
type call struct {
	method string
	// path is the spec's path template below /api/v1/{tenant}/ (below
	// /api/v1/ when root is set), such as "executions/{executionId}". Each
	// {name} takes the next of args, escaped into its own segment.
	path string
	// path1x is the template on Kestra 1.x where it differs from path. The
	// server's version chooses; when it is unknown, path is tried first,
	// then path1x when path has no route (a bare 404, or a 405).
	path1x string
	args   []string
	root   bool
	query  url.Values
	// query1x is the query on Kestra 1.x where it differs from query; the
	// server's version chooses (query when it is unknown).
	query1x url.Values
	// body is sent as it is; a *bytes.Reader or *strings.Reader can be
	// sent again (retry, 1.x path), another reader only once.
	body        io.Reader
	contentType string
	header      http.Header
	// secretArg names the argument that is a secret (a webhook key): it is
	// replaced by "REDACTED" in errors and logs.
	secretArg string

	// Policy.

	// untimed: bounded by ctx only, not by Config.Timeout (streams,
	// downloads, uploads, calls Kestra holds open).
	untimed bool
	// unread: the answer is handed over in resp, whatever its status, for
	// the caller to read and close.
	unread bool
	// once: the call may start or move something (an execution, a
	// webhook, a move, a bulk operation, any POST): it is never re-sent
	// once it may have reached the server.
	once bool
	// noAuth: sent without credentials, even those a request editor adds.
	noAuth bool
	// goneOK: a 404 after a retry is the first attempt's success (a delete
	// whose answer was lost).
	goneOK bool
	// optional: an empty answer is not an error (found stays false).
	optional bool

	// Answer.

	out     any            // JSON target; nil discards the body
	found   bool           // a body was decoded into out
	retried bool           // the transport sent the call again after an attempt that may have reached the server
	answer  []byte         // the 2xx answer the transport read in full, when it did
	req     *http.Request  // the request last sent
	resp    *http.Response // unread calls: the answer
}

// ErrResponseTooLarge is returned when an answer is larger than the
// client's response cap ([WithMaxResponseSize], 64 MiB by default).
var ErrResponseTooLarge = errors.New("kestra: response larger than the client's cap (see WithMaxResponseSize)")

// DefaultMaxResponseSize is the response cap of a client created without
// [WithMaxResponseSize]: far above Kestra's largest realistic answer (an
// execution with thousands of task runs is a few MB).
const DefaultMaxResponseSize = 64 << 20

// run sends cl and reads its answer: an error before any request for an
// argument that cannot be a path segment, the transport's error wrapped,
// an *APIError for a status that is not 2xx, or the JSON answer decoded
// into cl.out. Config.Timeout bounds the whole call (version probe, 1.x
// fallback and retries included) unless cl.untimed.
func (c *Client) run(ctx context.Context, cl *call) error {
	if !cl.root {
		if err := checkSegment("tenant", c.cfg.Tenant, tenantWords); err != nil {
			return err
		}
	}
	words := routeWords[cl.method][cl.path]
	for i, a := range cl.args {
		var w map[string]bool
		if i < len(words) {
			w = words[i]
		}
		if err := checkSegment(argName(cl.path, i), a, w); err != nil {
			return err
		}
	}
	if cl.untimed {
		return c.exchange(ctx, cl)
	}
	ctx, cancel := c.bound(ctx)
	err := c.exchange(ctx, cl)
	if cl.resp != nil {
		cl.resp.Body = &cancelBody{ReadCloser: cl.resp.Body, cancel: cancel}
	} else {
		cancel()
	}
	return err
}

// bound bounds ctx by Config.Timeout, unless its own deadline comes
// first. Methods that make more than one request (an action completed by
// a read) bound them all at once.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.cfg.Timeout <= 0 {
		return ctx, noCancel
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= c.cfg.Timeout {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

func noCancel() {}

func (c *Client) exchange(ctx context.Context, cl *call) error {
	major := 0
	if cl.path1x != "" || cl.query1x != nil {
		major = c.serverMajor(ctx)
	}
	req, err := c.newRequest(ctx, cl, major == 1)
	if err != nil {
		return err
	}
	resp, err := c.send(req, cl)
	if err != nil {
		return err
	}
	if cl.path1x != "" && major == 0 && noRoute(resp) && (req.Body == nil || req.GetBody != nil) {
		first := c.apiError(cl, req, resp)
		resp.Body.Close()
		if first.Message != http.StatusText(first.StatusCode) && first.Message != "" {
			return first // the route exists: Kestra says why
		}
		if req, err = c.resendRequest(ctx, cl, req); err != nil {
			return err
		}
		if resp, err = c.send(req, cl); err != nil {
			return err
		}
		if noRoute(resp) {
			resp.Body.Close()
			return first
		}
	}
	cl.req = req
	if cl.unread {
		cl.resp = resp
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if cl.goneOK && cl.retried && resp.StatusCode == http.StatusNotFound {
			return nil
		}
		return c.apiError(cl, req, resp)
	}
	if cl.out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, c.maxResponse))
		return nil
	}
	body := cl.answer // read by the transport already
	if body == nil {
		body, err = readCapped(resp.Body, resp.ContentLength, c.maxResponse)
	}
	if errors.Is(err, ErrResponseTooLarge) {
		return tooLarge(req, cl, c)
	}
	if err != nil {
		return fmt.Errorf("kestra: %s %s: read response: %w", req.Method, cl.printedPath(c, req), err)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || string(body) == "null" {
		if cl.optional {
			return nil
		}
		return fmt.Errorf("kestra: %s %s: the server answered %d without a body", req.Method, cl.printedPath(c, req), resp.StatusCode)
	}
	if err := json.Unmarshal(body, cl.out); err != nil {
		return fmt.Errorf("kestra: %s %s: decode response: %w", req.Method, cl.printedPath(c, req), err)
	}
	cl.found = true
	return nil
}

func noRoute(r *http.Response) bool {
	return r.StatusCode == http.StatusNotFound || r.StatusCode == http.StatusMethodNotAllowed
}

// newRequest builds the request of cl, on its 1.x path when legacy is set:
// URL, body, headers, credentials, User-Agent, then the user's editors.
func (c *Client) newRequest(ctx context.Context, cl *call, legacy bool) (*http.Request, error) {
	tmpl, q := cl.path, cl.query
	if legacy && cl.path1x != "" {
		tmpl = cl.path1x
	}
	if legacy && cl.query1x != nil {
		q = cl.query1x
	}
	u := c.url(cl, tmpl, q, false)
	req, err := http.NewRequestWithContext(ctx, cl.method, u, cl.body)
	if err != nil {
		return nil, fmt.Errorf("kestra: %w", err)
	}
	for k, vs := range cl.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	if c.authHeader != "" && !cl.noAuth {
		req.Header.Set("Authorization", c.authHeader)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	for _, edit := range c.editors {
		if err := edit(ctx, req); err != nil {
			return nil, err
		}
	}
	if cl.noAuth {
		// Also undo what a request editor may have added.
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
	}
	return req, nil
}

// resendRequest builds the request of cl on its 1.x path, with the body
// of the first request sent again.
func (c *Client) resendRequest(ctx context.Context, cl *call, first *http.Request) (*http.Request, error) {
	body := cl.body
	if first.GetBody != nil {
		b, err := first.GetBody()
		if err != nil {
			return nil, fmt.Errorf("kestra: %w", err)
		}
		body = b
	}
	saved := cl.body
	cl.body = body
	req, err := c.newRequest(ctx, cl, true)
	cl.body = saved
	if err == nil && first.GetBody != nil {
		req.GetBody, req.ContentLength = first.GetBody, first.ContentLength
	}
	return req, err
}

// url is the URL of cl on template tmpl; with redact, its secret argument
// is replaced by "REDACTED".
func (c *Client) url(cl *call, tmpl string, q url.Values, redact bool) string {
	var b strings.Builder
	b.Grow(len(c.cfg.URL) + len("/api/v1/") + len(c.cfg.Tenant) + len(tmpl) + 32)
	b.WriteString(c.cfg.URL)
	b.WriteString("/api/v1/")
	if !cl.root {
		b.WriteString(url.PathEscape(c.cfg.Tenant))
		b.WriteByte('/')
	}
	arg := 0
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		b.WriteString(tmpl[:i])
		name := tmpl[i+1 : i+j]
		switch {
		case redact && name == cl.secretArg:
			b.WriteString("REDACTED")
		case arg < len(cl.args):
			b.WriteString(url.PathEscape(cl.args[arg]))
		}
		arg++
		tmpl = tmpl[i+j+1:]
	}
	if len(q) > 0 {
		b.WriteByte('?')
		b.WriteString(q.Encode())
	}
	return b.String()
}

// printedPath is the path of req as errors print it: without a secret.
func (cl *call) printedPath(c *Client, req *http.Request) string {
	if cl.secretArg == "" {
		return req.URL.Path
	}
	if u, err := url.Parse(c.url(cl, cl.path, cl.query, true)); err == nil {
		return u.Path
	}
	return "(redacted)"
}

// printedURL is the URL of req as errors and logs print it: without user
// information or a secret.
func (cl *call) printedURL(c *Client, req *http.Request) string {
	if cl.secretArg != "" {
		return c.url(cl, cl.path, cl.query, true)
	}
	return sanitizeURL(req.URL)
}

// send sends req through the transport with cl's policy and records
// whether it was sent again after an attempt that may have reached the
// server. A transport error is wrapped, without the secret of the URL.
func (c *Client) send(req *http.Request, cl *call) (*http.Response, error) {
	// One allocation: a copy of the user's http.Client (redirect policy,
	// cookie jar) whose transport is bound to this call's policy.
	x := &struct {
		hc http.Client
		ct callTransport
	}{hc: *c.hc}
	x.ct = callTransport{t: c.transport, policy: sendPolicy{once: cl.once || !idempotentMethod(req.Method), buffer: cl.out != nil && !cl.unread}}
	if cl.secretArg != "" {
		x.ct.logURL = cl.printedURL(c, req)
	}
	x.hc.Transport = &x.ct
	resp, err := x.hc.Do(req)
	cl.retried = cl.retried || x.ct.resent
	cl.answer = x.ct.answer
	if errors.Is(err, ErrResponseTooLarge) {
		return nil, tooLarge(req, cl, c)
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = cl.printedURL(c, req)
		}
		return nil, fmt.Errorf("kestra: %w", err)
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// tooLarge is the error of an answer past the response cap.
func tooLarge(req *http.Request, cl *call, c *Client) error {
	return fmt.Errorf("%w: %s %s: the cap is %d bytes", ErrResponseTooLarge, req.Method, cl.printedPath(c, req), c.maxResponse)
}

// apiError reads the error body of resp (up to the response cap, so that
// every violation of a long refusal is kept) into an *APIError.
func (c *Client) apiError(cl *call, req *http.Request, resp *http.Response) *APIError {
	// An answer past the cap cannot be whole JSON: its head is kept.
	body, _ := readCapped(resp.Body, min(resp.ContentLength, c.maxResponse), c.maxResponse)
	return newAPIError(req.Method, cl.printedURL(c, req), resp.StatusCode, body)
}

// openEvents opens the Server-Sent Events stream of cl (a GET): bounded by
// ctx only, the answer handed over whatever its status. The streams check
// the status and read the frames themselves.
func (c *Client) openEvents(ctx context.Context, cl *call) (*http.Response, error) {
	cl.method, cl.unread, cl.untimed = http.MethodGet, true, true
	cl.header = http.Header{"Accept": {"text/event-stream"}}
	if err := c.run(ctx, cl); err != nil {
		return nil, err
	}
	return cl.resp, nil
}

// openStream runs an unread call that the caller reads as a stream (a
// download): the body of a 2xx answer, or the error of another.
func (c *Client) openStream(ctx context.Context, cl *call) (io.ReadCloser, error) {
	cl.unread, cl.untimed = true, true
	if err := c.run(ctx, cl); err != nil {
		return nil, err
	}
	resp := cl.resp
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, c.apiError(cl, cl.req, resp)
	}
	return resp.Body, nil
}

// readCapped reads r to its end into one slice, at most limit bytes: past
// it, ErrResponseTooLarge with the first 64 KiB read. hint (Content-Length, -1 when unknown) sizes the
// first buffer up to 32 KiB only, and a hint above limit fails at once; the
// rest grows with what arrives, in chunks joined at the end, so that a
// hostile server costs at most limit plus a chunk.
func readCapped(r io.Reader, hint, limit int64) ([]byte, error) {
	if hint > limit {
		// Nothing read: the body is left to the caller to close.
		return nil, ErrResponseTooLarge
	}
	size := int64(512)
	if hint >= 0 {
		size = min(hint+1, 32<<10)
	}
	size = min(size, limit+1)
	buf := make([]byte, 0, size)
	var chunks [][]byte
	var total int64
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if total+int64(len(buf)) > limit {
			return head(chunks, buf), ErrResponseTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			chunks = append(chunks, buf)
			total += int64(len(buf))
			next := min(int64(cap(buf))*2, 1<<20, limit-total+1)
			buf = make([]byte, 0, next)
		}
	}
	if len(chunks) == 0 {
		return buf, nil
	}
	out := make([]byte, 0, total+int64(len(buf)))
	for _, ch := range chunks {
		out = append(out, ch...)
	}
	return append(out, buf...), nil
}

// head returns the first maxErrorBody bytes of what readCapped read, for
// the error of an answer past the cap.
func head(chunks [][]byte, last []byte) []byte {
	var out []byte
	for _, ch := range append(chunks, last) {
		n := min(len(ch), maxErrorBody-len(out))
		out = append(out, ch[:n]...)
		if len(out) == maxErrorBody {
			break
		}
	}
	return out
}

// argName is the name of the i-th {parameter} of a path template.
func argName(tmpl string, i int) string {
	for n := 0; ; n++ {
		a := strings.IndexByte(tmpl, '{')
		if a < 0 {
			return "argument " + strconv.Itoa(i+1)
		}
		b := strings.IndexByte(tmpl[a:], '}')
		if b < 0 {
			return "argument " + strconv.Itoa(i+1)
		}
		if n == i {
			return tmpl[a+1 : a+b]
		}
		tmpl = tmpl[a+b+1:]
	}
}

// routeWords are, for each call of this package (method, then path
// template) and each of its path arguments, the fixed segments of
// Kestra's tenant routes (openapi.yaml) that sit in that argument's place
// in another route of the same method and length: a value equal to one
// of them would reach that other route (DELETE /executions/{executionId}
// with the id "by-query" deletes every ended execution). tenantWords are
// the fixed first segments of the routes without a tenant. A test derives
// both from the spec.
var (
	routeWords = routeTable(map[string][]string{
		"DELETE executions/{executionId}":                        {"by-ids by-query"},
		"DELETE flows/{namespace}/{id}":                          {"delete", "by-ids by-query"},
		"GET executions/{executionId}":                           {"distinct-field-values namespaces search"},
		"GET flows/{namespace}":                                  {"deprecated distinct-namespaces search source"},
		"GET flows/{namespace}/{id}":                             {"export", "by-query"},
		"GET logs/{executionId}":                                 {"search"},
		"GET namespaces/{namespace}/kv/{key}":                    {"", "inheritance"},
		"POST executions/{executionId}/actions/eval/{taskRunId}": {"webhook", ""},
		"POST executions/{namespace}/{id}":                       {"change-status force-run labels pause replay restart resume unqueue", "by-ids by-query"},
		"POST flows/{namespace}":                                 {"bulk expressions graph import validate"},
		"POST executions/webhook/{namespace}/{id}/{key}":         {"actions", "eval resume", "validate"},
	})
	tenantWords = wordSet(`auditlogs banners instance kill-switches notifications plugins request-code
		service-accounts tenants users`)
)

func routeTable(table map[string][]string) map[string]map[string][]map[string]bool {
	out := map[string]map[string][]map[string]bool{}
	for k, perArg := range table {
		method, tmpl, _ := strings.Cut(k, " ")
		if out[method] == nil {
			out[method] = map[string][]map[string]bool{}
		}
		for _, words := range perArg {
			out[method][tmpl] = append(out[method][tmpl], wordSet(words))
		}
	}
	return out
}

func wordSet(list string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(list) {
		m[w] = true
	}
	return m
}

// argError is an argument refused before any request.
type argError struct{ name, value, why string }

func (e *argError) Error() string {
	if e.value == "" {
		return "kestra: empty " + e.name
	}
	return fmt.Sprintf("kestra: %s %q: %s", e.name, e.value, e.why)
}

// checkSegment refuses a value that cannot be a path segment of its own:
// empty, "." or ".." (which URL resolution removes), or a word of another
// route.
func checkSegment(name, v string, words map[string]bool) error {
	switch {
	case v == "":
		return &argError{name: name}
	case v == "." || v == "..":
		return &argError{name, v, "not a valid path segment"}
	case words[v]:
		return &argError{name, v, "a word of Kestra's routes, which would reach another endpoint"}
	}
	return nil
}

// int32Arg refuses a value Kestra reads as a 32-bit integer that does not
// fit in one, instead of letting it wrap.
func int32Arg(name string, v int) (string, error) {
	if v < -1<<31 || v > 1<<31-1 {
		return "", &argError{name, strconv.Itoa(v), fmt.Sprintf("out of range (at most %d)", 1<<31-1)}
	}
	return strconv.Itoa(v), nil
}
