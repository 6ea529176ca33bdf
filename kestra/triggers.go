package kestra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"time"
)

// TriggersService reads and changes the state Kestra's scheduler keeps for
// the triggers it evaluates: schedules and polling triggers. Webhook and
// flow triggers, which nothing schedules, have none on Kestra 1.x and
// early 2.0 versions (newer ones list them too).
type TriggersService service

// TriggerState is the scheduler's state of one trigger. Kestra 2.0 and
// 1.x answer with different documents; both are read into it.
type TriggerState struct {
	Namespace, FlowID, TriggerID string
	// Type is the trigger's type, such as
	// io.kestra.plugin.core.trigger.Schedule, when the answer carries the
	// trigger's definition.
	Type string
	// Disabled is true when the scheduler does not evaluate the trigger.
	Disabled bool
	// Locked is true while an execution holds the trigger (ExecutionID) or
	// it is being evaluated; [TriggersService.Unlock] releases it.
	Locked bool
	// ExecutionID is the execution holding the trigger, if any.
	ExecutionID string
	// WorkerID is the worker evaluating the trigger, if any.
	WorkerID string
	// NextEvaluation is when the scheduler evaluates the trigger next;
	// zero when it is disabled or unknown.
	NextEvaluation time.Time
	// LastEvaluation is when it was last evaluated; zero when unknown.
	LastEvaluation time.Time
	// UpdatedAt is when the state last changed; zero when unknown.
	UpdatedAt time.Time
}

// triggerStateWire is a trigger state as either generation sends it:
// 2.0's ApiTriggerState or 1.x's Trigger (a TriggerContext).
type triggerStateWire struct {
	Namespace   string `json:"namespace"`
	FlowID      string `json:"flowId"`
	TriggerID   string `json:"triggerId"`
	Disabled    bool   `json:"disabled"`
	ExecutionID string `json:"executionId"`
	WorkerID    string `json:"workerId"`
	// 2.0
	Locked             *bool      `json:"locked"`
	NextEvaluationDate *time.Time `json:"nextEvaluationDate"`
	EvaluatedAt        *time.Time `json:"evaluatedAt"`
	UpdatedAt          *time.Time `json:"updatedAt"`
	// 1.x
	NextExecutionDate   *time.Time `json:"nextExecutionDate"`
	Date                *time.Time `json:"date"`
	EvaluateRunningDate *time.Time `json:"evaluateRunningDate"`
	UpdatedDate         *time.Time `json:"updatedDate"`
}

func firstTime(ts ...*time.Time) time.Time {
	for _, t := range ts {
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

func (w *triggerStateWire) state(def map[string]any) *TriggerState {
	st := &TriggerState{
		Namespace: w.Namespace, FlowID: w.FlowID, TriggerID: w.TriggerID, Disabled: w.Disabled,
		ExecutionID: w.ExecutionID, WorkerID: w.WorkerID,
		NextEvaluation: firstTime(w.NextEvaluationDate, w.NextExecutionDate),
		LastEvaluation: firstTime(w.EvaluatedAt, w.Date),
		UpdatedAt:      firstTime(w.UpdatedAt, w.UpdatedDate),
	}
	if w.Locked != nil {
		st.Locked = *w.Locked
	} else {
		// 1.x: held by an execution, or being evaluated.
		st.Locked = w.ExecutionID != "" || w.EvaluateRunningDate != nil
	}
	st.Type, _ = def["type"].(string)
	return st
}

// triggerItem is one search result: 2.0's {trigger, state} or 1.x's
// {abstractTrigger, triggerContext}.
type triggerItem struct {
	Trigger         map[string]any    `json:"trigger"`
	State           *triggerStateWire `json:"state"`
	AbstractTrigger map[string]any    `json:"abstractTrigger"`
	TriggerContext  *triggerStateWire `json:"triggerContext"`
}

func (it *triggerItem) state() (*TriggerState, error) {
	switch {
	case it.State != nil:
		return it.State.state(it.Trigger), nil
	case it.TriggerContext != nil:
		return it.TriggerContext.state(it.AbstractTrigger), nil
	}
	return nil, errors.New("kestra: a trigger search result without a state")
}

// TriggerSearchOptions filter and page a search of trigger states. Zero
// fields do not filter.
type TriggerSearchOptions struct {
	// Namespace keeps the triggers of flows of this namespace (exactly).
	Namespace string
	// FlowID keeps the triggers of this flow.
	FlowID string
	// TriggerID keeps the triggers of this id.
	TriggerID string
	// Query is Kestra's free-text search.
	Query string
	// Sort orders the results: "field:asc" or "field:desc", such as
	// "flowId:asc".
	Sort []string
	ListOptions
}

// List returns one page of the trigger states that match opts (nil: all,
// first page). The page's Total counts the triggers of deleted flows,
// which Kestra leaves out of its Items.
//
// Kestra API: GET /api/v1/{tenant}/triggers/search
func (s *TriggersService) List(ctx context.Context, opts *TriggerSearchOptions) (*Page[TriggerState], error) {
	var o TriggerSearchOptions
	if opts != nil {
		o = *opts
	}
	q, err := o.ListOptions.query("TriggerSearchOptions", o.Sort)
	if err != nil {
		return nil, err
	}
	f := filters{}
	f.add("namespace", "EQUALS", o.Namespace)
	f.add("flowId", "EQUALS", o.FlowID)
	f.add("triggerId", "EQUALS", o.TriggerID)
	f.add("q", "EQUALS", o.Query)
	var page Page[triggerItem]
	if err := s.c.run(ctx, &call{method: http.MethodGet, path: "triggers/search", query: f.into(q), out: &page}); err != nil {
		return nil, err
	}
	out := &Page[TriggerState]{Total: page.Total, Items: make([]*TriggerState, 0, len(page.Items))}
	for _, it := range page.Items {
		if it == nil {
			return nil, errors.New("kestra: a trigger search result without a state")
		}
		st, err := it.state()
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, st)
	}
	return out, nil
}

// All iterates over every trigger state that matches opts, fetching pages
// as the loop needs them. opts is copied. An error is yielded once, with
// a nil state, and ends the iteration.
//
// Kestra API: GET /api/v1/{tenant}/triggers/search
func (s *TriggersService) All(ctx context.Context, opts *TriggerSearchOptions) iter.Seq2[*TriggerState, error] {
	return all(ctx, opts, s.List)
}

func (o *TriggerSearchOptions) own() { o.Sort = slices.Clone(o.Sort) }

// checkTriggerKey refuses an empty part of a trigger's key.
func checkTriggerKey(namespace, flowID, triggerID string) error {
	if err := checkFlowKey(namespace, flowID); err != nil {
		return err
	}
	if triggerID == "" {
		return errors.New("kestra: empty trigger id")
	}
	return nil
}

// Get returns the state of the trigger triggerID of the flow
// namespace/flowID; [ErrNotFound] when Kestra keeps none (an unknown
// trigger, or on most versions a webhook or flow trigger).
//
// Kestra API: GET /api/v1/{tenant}/triggers/search
func (s *TriggersService) Get(ctx context.Context, namespace, flowID, triggerID string) (*TriggerState, error) {
	if err := checkTriggerKey(namespace, flowID, triggerID); err != nil {
		return nil, err
	}
	page, err := s.List(ctx, &TriggerSearchOptions{Namespace: namespace, FlowID: flowID, TriggerID: triggerID, ListOptions: ListOptions{Size: DefaultPageSize}})
	if err != nil {
		return nil, err
	}
	for _, st := range page.Items {
		if st.Namespace == namespace && st.FlowID == flowID && st.TriggerID == triggerID {
			return st, nil
		}
	}
	return nil, fmt.Errorf("kestra: no state for trigger %s.%s.%s: %w", namespace, flowID, triggerID, ErrNotFound)
}

// SetDisabled disables (or, with false, enables) the trigger triggerID of
// the flow namespace/flowID and returns its new state. A trigger that
// Kestra keeps no state for is [ErrNotFound].
//
// Kestra API: PUT /api/v1/{tenant}/triggers/set-disabled
// (1.x: PUT /api/v1/{tenant}/triggers)
func (s *TriggersService) SetDisabled(ctx context.Context, namespace, flowID, triggerID string, disabled bool) (*TriggerState, error) {
	if err := checkTriggerKey(namespace, flowID, triggerID); err != nil {
		return nil, err
	}
	// The generated request body drops a false disabled (omitempty): the
	// body is written here, with every field.
	body, err := json.Marshal(struct {
		Namespace string `json:"namespace"`
		FlowID    string `json:"flowId"`
		TriggerID string `json:"triggerId"`
		Disabled  bool   `json:"disabled"`
	}{namespace, flowID, triggerID, disabled})
	if err != nil {
		return nil, err
	}
	return s.stateCall(ctx, &call{
		method: http.MethodPut, path: "triggers/set-disabled", path1x: "triggers",
		body: bytes.NewReader(body), contentType: "application/json",
	}, namespace, flowID, triggerID)
}

// Unlock releases the trigger triggerID of the flow namespace/flowID, held
// by an execution or a stuck evaluation, and returns its new state. A
// trigger that is not locked is [ErrConflict].
//
// Kestra API: POST /api/v1/{tenant}/triggers/{namespace}/{flowId}/{triggerId}/unlock
func (s *TriggersService) Unlock(ctx context.Context, namespace, flowID, triggerID string) (*TriggerState, error) {
	return s.action(ctx, "triggers/{namespace}/{flowId}/{triggerId}/unlock", namespace, flowID, triggerID)
}

// Restart resets the evaluation of the trigger triggerID of the flow
// namespace/flowID, as the UI's restart does: the execution or the worker
// holding it lets go, and the scheduler evaluates it again. It returns the
// new state.
//
// Kestra API: POST /api/v1/{tenant}/triggers/{namespace}/{flowId}/{triggerId}/restart
func (s *TriggersService) Restart(ctx context.Context, namespace, flowID, triggerID string) (*TriggerState, error) {
	return s.action(ctx, "triggers/{namespace}/{flowId}/{triggerId}/restart", namespace, flowID, triggerID)
}

// action posts to path, a template of the trigger's key, and returns the
// trigger's new state.
func (s *TriggersService) action(ctx context.Context, path, namespace, flowID, triggerID string) (*TriggerState, error) {
	if err := checkTriggerKey(namespace, flowID, triggerID); err != nil {
		return nil, err
	}
	return s.stateCall(ctx, &call{method: http.MethodPost, path: path, args: []string{namespace, flowID, triggerID}}, namespace, flowID, triggerID)
}

// stateCall runs a trigger call that answers the trigger's state; an
// answer without a body (some 2.0 versions) is completed by reading the
// state.
func (s *TriggersService) stateCall(ctx context.Context, cl *call, namespace, flowID, triggerID string) (*TriggerState, error) {
	ctx, cancel := s.c.bound(ctx)
	defer cancel()
	var w triggerStateWire
	cl.out, cl.optional = &w, true
	if err := s.c.run(ctx, cl); err != nil {
		return nil, err
	}
	if !cl.found {
		return s.Get(ctx, namespace, flowID, triggerID)
	}
	return w.state(nil), nil
}
