package kestra

import (
	"context"
	"errors"
	"net/http"

	"github.com/kestra-go/sdk/gen"
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

// params returns the query parameters of o; all nil for nil options, so
// that Kestra's defaults apply.
func (o *BulkDeleteOptions) params() (includeNonTerminated, deleteLogs, deleteMetrics, deleteStorage *bool) {
	if o == nil {
		return nil, nil, nil, nil
	}
	return pointerTo(o.IncludeRunning), pointerTo(!o.KeepLogs), pointerTo(!o.KeepMetrics), pointerTo(!o.KeepStorage)
}

// decodeCount reads the answer of a bulk operation: BulkResponse {count},
// or on Kestra 2.0 for the queued ones {operationId, totalItems}.
func decodeCount(resp *http.Response, err error) (int, error) {
	var out struct {
		Count      *int `json:"count"`
		TotalItems *int `json:"totalItems"`
	}
	if err := decode(resp, err, &out); err != nil {
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
func queryFilters(query *ExecutionSearchOptions) (*map[string]any, error) {
	if query == nil {
		return nil, errNoFilter
	}
	f := query.filters()
	if len(f) == 0 {
		return nil, errNoFilter
	}
	return &f, nil
}

// DeleteByIDs deletes the executions ids and returns how many Kestra
// deleted. With no ids it sends nothing and returns 0.
//
// Kestra API: DELETE /api/v1/{tenant}/executions/by-ids
func (s *ExecutionsService) DeleteByIDs(ctx context.Context, ids []string, opts *BulkDeleteOptions) (int, error) {
	if err := checkIDs(ids); err != nil || len(ids) == 0 {
		return 0, err
	}
	params := &gen.DeleteExecutionsByIdsParams{}
	params.IncludeNonTerminated, params.DeleteLogs, params.DeleteMetrics, params.DeleteStorage = opts.params()
	return decodeCount(s.c.raw.DeleteExecutionsByIds(notIdempotent(ctx), s.c.tenant, params, ids))
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
	params := &gen.DeleteExecutionsByQueryParams{Filters: filters}
	params.IncludeNonTerminated, params.DeleteLogs, params.DeleteMetrics, params.DeleteStorage = opts.params()
	return decodeCount(s.c.raw.DeleteExecutionsByQuery(notIdempotent(ctx), s.c.tenant, params))
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
	return decodeCount(s.c.raw.KillExecutionsByIds(notIdempotent(ctx), s.c.tenant, ids))
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
	return decodeCount(s.c.raw.KillExecutionsByQuery(notIdempotent(ctx), s.c.tenant, &gen.KillExecutionsByQueryParams{Filters: filters}))
}
