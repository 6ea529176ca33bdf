package kestra

import (
	"context"
	"errors"
)

// ExecutionsService starts executions of flows and manages them.
type ExecutionsService service

// errEmptyID is returned before any request when an execution id is empty.
var errEmptyID = errors.New("kestra: empty execution id")

// Get returns the execution id.
//
// Kestra API: GET /api/v1/{tenant}/executions/{executionId}
func (s *ExecutionsService) Get(ctx context.Context, id string) (*Execution, error) {
	if id == "" {
		return nil, errEmptyID
	}
	var e Execution
	resp, err := s.c.raw.GetExecution(ctx, s.c.tenant, id)
	if err := decode(resp, err, &e); err != nil {
		return nil, err
	}
	return &e, nil
}
