package kestra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// maxResponse bounds a JSON response read into memory (an execution with
// thousands of task runs is a few MB).
const maxResponse = 256 << 20

// decode finishes a call made with the raw generated client: it returns
// the transport error wrapped, an *APIError for a status that is not 2xx,
// or decodes the JSON body into out (nil: the body is discarded). The body
// is always closed.
func decode(resp *http.Response, err error, out any) error {
	if err != nil {
		return fmt.Errorf("kestra: %w", err)
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return err
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return nil
	}
	body, err := responseBody(resp)
	if err != nil {
		return err
	}
	return decodeBody(resp, body, out)
}

// decodeIfAny is decode for calls that Kestra answers with a body on some
// versions and without one on others: found is false, and out untouched,
// when the body is empty.
func decodeIfAny(resp *http.Response, err error, out any) (found bool, _ error) {
	if err != nil {
		return false, fmt.Errorf("kestra: %w", err)
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return false, err
	}
	body, err := responseBody(resp)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return false, err
	}
	return true, decodeBody(resp, body, out)
}

// responseBody reads the body of a successful answer, or takes it from the
// transport when the transport read it already.
func responseBody(resp *http.Response) ([]byte, error) {
	if bb, ok := resp.Body.(*bufferedBody); ok {
		return bb.buf, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("kestra: %s %s: read response: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	return body, nil
}

func decodeBody(resp *http.Response, body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("kestra: %s %s: decode response: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	return nil
}

// checkStatus returns an *APIError, with the body read, when resp is not
// 2xx. The caller still closes the body.
func checkStatus(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var method string
	var u *url.URL
	if resp.Request != nil {
		method, u = resp.Request.Method, resp.Request.URL
	}
	return newAPIError(method, u, resp.StatusCode, body)
}
