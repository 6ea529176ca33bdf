package kestra

import (
	"io"
	"net/http"
)

// checkStatus returns an *APIError, with at most maxErrorBody of the body
// read, when resp is not 2xx: for the streams, which read their answers
// themselves. The caller still closes the body.
func checkStatus(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var method, u string
	if resp.Request != nil {
		method = resp.Request.Method
		if resp.Request.URL != nil {
			u = sanitizeURL(resp.Request.URL)
		}
	}
	return newAPIError(method, u, resp.StatusCode, body)
}
