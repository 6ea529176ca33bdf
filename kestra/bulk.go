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
)

// Bulk operations on executions. Kestra checks every execution before it
// acts: one it refuses (unknown, running for a deletion, ended for a
// kill) refuses the whole request with an *APIError of status 400
// ([ErrBadRequest]) whose Violations name each refused id, and nothing is
// done. The requests are sent once: a lost answer is not retried, since
// the same request sent again would be refused for what the first one
// did.

// errNoFilter refuses a query that would match every execution.
var errNoFilter = errors.New("kestra: the query has no filter: it would act on every execution of the tenant")

// BulkDeleteOptions say what [ExecutionsService.DeleteByIDs] and
// [ExecutionsService.DeleteByQuery] do. The zero value, like nil, is
// Kestra's default: ended executions only, each deleted with its logs,
// metrics and files.
type BulkDeleteOptions struct {
	// IncludeRunning deletes executions that have not ended too; without
	// it, one such execution refuses the whole request.
	IncludeRunning bool
	// KeepLogs, KeepMetrics and KeepStorage keep the executions' logs,
	// metrics, and files in internal storage (inputs and outputs).
	KeepLogs, KeepMetrics, KeepStorage bool
}

// query adds the query parameters of o to q; none for nil options, so
// that Kestra's defaults apply.
func (o *BulkDeleteOptions) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if o == nil {
		return q
	}
	q.Set("includeNonTerminated", strconv.FormatBool(o.IncludeRunning))
	q.Set("deleteLogs", strconv.FormatBool(!o.KeepLogs))
	q.Set("deleteMetrics", strconv.FormatBool(!o.KeepMetrics))
	q.Set("deleteStorage", strconv.FormatBool(!o.KeepStorage))
	return q
}

// bulk runs a bulk operation, sent once (see above), and returns its
// count: BulkResponse {count}, or on Kestra 2.0 for the queued ones
// {operationId, totalItems}.
func (s *ExecutionsService) bulk(ctx context.Context, cl *call) (int, error) {
	var out struct {
		Count      *int `json:"count"`
		TotalItems *int `json:"totalItems"`
	}
	cl.method, cl.out, cl.once = http.MethodDelete, &out, true
	if err := s.c.run(ctx, cl); err != nil {
		return 0, err
	}
	switch {
	case out.Count != nil:
		return *out.Count, nil
	case out.TotalItems != nil:
		return *out.TotalItems, nil
	}
	return 0, nil
}

// checkIDs refuses an empty id among ids.
func checkIDs(ids []string) error {
	for _, id := range ids {
		if id == "" {
			return errEmptyID
		}
	}
	return nil
}

// queryFilters returns the filters of query, refusing a query without any.
// Page, Size and Sort do not apply to bulk operations and are ignored.
func queryFilters(query *ExecutionSearchOptions) (url.Values, error) {
	if query == nil {
		return nil, errNoFilter
	}
	f := query.filters()
	if len(f) == 0 {
		return nil, errNoFilter
	}
	return url.Values(f), nil
}

// idsBody is the JSON list of ids a bulk operation by ids sends.
func idsBody(ids []string) (io.Reader, error) {
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("kestra: %w", err)
	}
	return bytes.NewReader(b), nil
}

// DeleteByIDs deletes the executions ids and returns how many Kestra
// deleted. With no ids it sends nothing and returns 0.
//
// Kestra API: DELETE /api/v1/{tenant}/executions/by-ids
func (s *ExecutionsService) DeleteByIDs(ctx context.Context, ids []string, opts *BulkDeleteOptions) (int, error) {
	if err := checkIDs(ids); err != nil || len(ids) == 0 {
		return 0, err
	}
	body, err := idsBody(ids)
	if err != nil {
		return 0, err
	}
	return s.bulk(ctx, &call{path: "executions/by-ids", query: opts.query(nil), body: body, contentType: "application/json"})
}

// DeleteByQuery deletes the executions that match query and returns how
// many Kestra deleted. query must filter on something: a query without a
// filter fails before any request. Its Page, Size and Sort are ignored.
//
// Kestra API: DELETE /api/v1/{tenant}/executions/by-query
func (s *ExecutionsService) DeleteByQuery(ctx context.Context, query *ExecutionSearchOptions, opts *BulkDeleteOptions) (int, error) {
	filters, err := queryFilters(query)
	if err != nil {
		return 0, err
	}
	return s.bulk(ctx, &call{path: "executions/by-query", query: opts.query(filters)})
}

// KillByIDs asks Kestra to kill the executions ids and returns how many
// it accepted. Kestra kills them afterwards: [ExecutionsService.Wait] on
// one returns once it is KILLED (with an [*ExecutionError]). An ended
// execution among ids refuses them all. With no ids it sends nothing and
// returns 0.
//
// Kestra API: DELETE /api/v1/{tenant}/executions/kill/by-ids
func (s *ExecutionsService) KillByIDs(ctx context.Context, ids []string) (int, error) {
	if err := checkIDs(ids); err != nil || len(ids) == 0 {
		return 0, err
	}
	body, err := idsBody(ids)
	if err != nil {
		return 0, err
	}
	return s.bulk(ctx, &call{path: "executions/kill/by-ids", body: body, contentType: "application/json"})
}

// KillByQuery asks Kestra to kill the executions that match query and
// returns how many it accepted; see [ExecutionsService.KillByIDs]. Filter
// on states that have not ended (for example StateRunning, StatePaused):
// an ended execution that matches refuses the request. A query without a
// filter fails before any request; its Page, Size and Sort are ignored.
//
// Kestra API: DELETE /api/v1/{tenant}/executions/kill/by-query
func (s *ExecutionsService) KillByQuery(ctx context.Context, query *ExecutionSearchOptions) (int, error) {
	filters, err := queryFilters(query)
	if err != nil {
		return 0, err
	}
	return s.bulk(ctx, &call{path: "executions/kill/by-query", query: filters})
}
