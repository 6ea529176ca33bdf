package kestra

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kestra-go/sdk/gen"
)

// FlowsService manages flows. Flows are written as YAML sources, which
// Kestra stores as they are sent: comments and formatting survive. Every
// method that takes a source checks it with [ParseFlow] first, so a source
// that does not parse, or lacks an id, a namespace or tasks, fails before
// any request.
type FlowsService service

// yamlContentType is the media type of flow sources (Micronaut's
// MediaType.APPLICATION_YAML).
const yamlContentType = "application/x-yaml"

var (
	errEmptyNamespace = errors.New("kestra: empty namespace")
	errEmptyFlowID    = errors.New("kestra: empty flow id")
)

// checkFlowKey refuses an empty namespace or flow id before any request.
func checkFlowKey(namespace, id string) error {
	if err := nonEmptyNamespace(namespace); err != nil {
		return err
	}
	if id == "" {
		return errEmptyFlowID
	}
	return nil
}

// runFlow runs cl, whose answer is a flow.
func (s *FlowsService) runFlow(ctx context.Context, cl *call) (*Flow, error) {
	var f Flow
	cl.out = &f
	if err := s.c.run(ctx, cl); err != nil {
		return nil, err
	}
	return &f, nil
}

// Create creates the flow that source declares and returns it, at revision
// 1 (or the next one after a deleted flow of the same id). A flow that
// already exists is a 422 [*APIError] with the violation "flow.id".
//
// Kestra API: POST /api/v1/{tenant}/flows
func (s *FlowsService) Create(ctx context.Context, source string) (*Flow, error) {
	if _, err := ParseFlow(source); err != nil {
		return nil, err
	}
	return s.runFlow(ctx, &call{method: http.MethodPost, path: "flows", body: strings.NewReader(source), contentType: yamlContentType})
}

// Update replaces the flow that source declares, read from its namespace
// and id, and returns it. Kestra creates a new revision only when the
// source differs from the current one. A missing flow is [ErrNotFound].
//
// Kestra API: PUT /api/v1/{tenant}/flows/{namespace}/{id}
func (s *FlowsService) Update(ctx context.Context, source string) (*Flow, error) {
	ref, err := ParseFlow(source)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, ref, source)
}

func (s *FlowsService) update(ctx context.Context, ref FlowRef, source string) (*Flow, error) {
	return s.runFlow(ctx, &call{
		method: http.MethodPut, path: "flows/{namespace}/{id}", args: []string{ref.Namespace, ref.ID},
		body: strings.NewReader(source), contentType: yamlContentType,
	})
}

// ApplyResult tells what [FlowsService.ApplyWithResult] did.
type ApplyResult string

// The outcomes of an apply.
const (
	// FlowCreated: the flow did not exist and was created.
	FlowCreated ApplyResult = "created"
	// FlowUpdated: the flow existed and has a new revision.
	FlowUpdated ApplyResult = "updated"
	// FlowUnchanged: the flow existed with this source; no revision was
	// created.
	FlowUnchanged ApplyResult = "unchanged"
)

// Apply creates the flow that source declares, or updates it when it
// exists, and returns it. Applying the source a flow already has changes
// nothing: no new revision. [FlowsService.ApplyWithResult] also tells
// which of these happened.
//
// Kestra API: GET /api/v1/{tenant}/flows/{namespace}/{id}, then
// POST /api/v1/{tenant}/flows or PUT /api/v1/{tenant}/flows/{namespace}/{id}
func (s *FlowsService) Apply(ctx context.Context, source string) (*Flow, error) {
	f, _, err := s.ApplyWithResult(ctx, source)
	return f, err
}

// ApplyWithResult is [FlowsService.Apply], and reports whether the flow
// was created, updated or left unchanged. Unchanged is decided by the
// stored source (no update is sent when it is the same) and, after an
// update, by the revision, which Kestra keeps when it sees no change.
//
// Kestra API: GET /api/v1/{tenant}/flows/{namespace}/{id}, then
// POST /api/v1/{tenant}/flows or PUT /api/v1/{tenant}/flows/{namespace}/{id}
func (s *FlowsService) ApplyWithResult(ctx context.Context, source string) (*Flow, ApplyResult, error) {
	ref, err := ParseFlow(source)
	if err != nil {
		return nil, "", err
	}
	cur, err := s.Get(ctx, ref.Namespace, ref.ID, nil)
	switch {
	case errors.Is(err, ErrNotFound):
		f, err := s.Create(ctx, source)
		if err == nil {
			return f, FlowCreated, nil
		}
		if !isFlowExists(err) {
			return nil, "", err
		}
		// Created by someone else since the Get: update it instead.
		if cur, err = s.Get(ctx, ref.Namespace, ref.ID, nil); err != nil {
			return nil, "", err
		}
	case err != nil:
		return nil, "", err
	}
	if cur.Source == source {
		return cur, FlowUnchanged, nil
	}
	f, err := s.update(ctx, ref, source)
	if err != nil {
		return nil, "", err
	}
	if f.Revision == cur.Revision {
		return f, FlowUnchanged, nil
	}
	return f, FlowUpdated, nil
}

// isFlowExists reports whether err is Kestra's answer to the creation of
// a flow that exists.
func isFlowExists(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || !errors.Is(err, ErrInvalid) {
		return false
	}
	for _, v := range ae.Violations {
		if v.Path == "flow.id" && strings.Contains(v.Message, "already exists") {
			return true
		}
	}
	return false
}

// FlowGetOptions change what [FlowsService.Get] returns. The zero value
// (or nil) asks for the current revision of a flow that is not deleted.
type FlowGetOptions struct {
	// Revision is the revision to return instead of the current one; zero
	// means the current one. Revisions are int here as in every option of
	// the package (the models, generated from Kestra's API, carry them as
	// int32); one beyond Kestra's 32-bit range fails before any request.
	Revision int
	// AllowDeleted returns a deleted flow (its last revision, with
	// Deleted set) instead of [ErrNotFound].
	AllowDeleted bool
}

// Get returns the flow namespace/id with its source. A missing or deleted
// flow is [ErrNotFound]. opts may be nil.
//
// Kestra API: GET /api/v1/{tenant}/flows/{namespace}/{id}
func (s *FlowsService) Get(ctx context.Context, namespace, id string, opts *FlowGetOptions) (*Flow, error) {
	if err := checkFlowKey(namespace, id); err != nil {
		return nil, err
	}
	var o FlowGetOptions
	if opts != nil {
		o = *opts
	}
	q := url.Values{"source": {"true"}}
	if o.Revision != 0 {
		rev, err := int32Arg("FlowGetOptions.Revision", o.Revision)
		if err != nil {
			return nil, err
		}
		q.Set("revision", rev)
	}
	if o.AllowDeleted {
		q.Set("allowDeleted", "true")
	}
	return s.runFlow(ctx, &call{method: http.MethodGet, path: "flows/{namespace}/{id}", args: []string{namespace, id}, query: q})
}

// Delete deletes the flow namespace/id. Kestra keeps its revisions, the
// last one marked deleted. A missing flow is [ErrNotFound]; a delete sent
// again after a lost answer that finds the flow gone reports success.
//
// Kestra API: DELETE /api/v1/{tenant}/flows/{namespace}/{id}
func (s *FlowsService) Delete(ctx context.Context, namespace, id string) error {
	if err := checkFlowKey(namespace, id); err != nil {
		return err
	}
	return s.c.run(ctx, &call{method: http.MethodDelete, path: "flows/{namespace}/{id}", args: []string{namespace, id}, goneOK: true})
}

// Revisions returns every revision of the flow namespace/id, oldest
// first, with their sources. Kestra answers an empty list for a flow it
// does not know.
//
// Kestra API: GET /api/v1/{tenant}/flows/{namespace}/{id}/revisions
func (s *FlowsService) Revisions(ctx context.Context, namespace, id string) ([]*Flow, error) {
	if err := checkFlowKey(namespace, id); err != nil {
		return nil, err
	}
	var out []*Flow
	if err := s.c.run(ctx, &call{method: http.MethodGet, path: "flows/{namespace}/{id}/revisions", args: []string{namespace, id}, out: &out}); err != nil {
		return nil, err
	}
	return out, noNil(out, "flow")
}

// ListNamespace returns the flows of namespace (not of its
// sub-namespaces), without their sources.
//
// Kestra API: GET /api/v1/{tenant}/flows/{namespace}
func (s *FlowsService) ListNamespace(ctx context.Context, namespace string) ([]*Flow, error) {
	if namespace == "" {
		return nil, errEmptyNamespace
	}
	var out []*Flow
	if err := s.c.run(ctx, &call{method: http.MethodGet, path: "flows/{namespace}", args: []string{namespace}, out: &out}); err != nil {
		return nil, err
	}
	return out, noNil(out, "flow")
}

// FlowValidation is Kestra's report on one flow source.
type FlowValidation struct {
	// Namespace and ID are those the source declares, when Kestra could
	// read them.
	Namespace string
	ID        string
	// Constraints are the reasons the flow is invalid, one per violated
	// constraint; empty when it is valid.
	Constraints []string
	// Outdated reports a source that declares a revision other than the
	// next one.
	Outdated bool
	// Warnings, DeprecationPaths (properties that use deprecated features)
	// and Infos are Kestra's remarks, given for valid flows too.
	Warnings         []string
	DeprecationPaths []string
	Infos            []string
}

// ValidationError is a flow source that does not validate. errors.Is
// matches it with [ErrInvalid].
type ValidationError struct {
	FlowValidation
	// err is the local error, when the source was rejected before any
	// request.
	err error
}

// Error returns "kestra: flow NAMESPACE/ID is invalid: constraint; ...".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("kestra: flow ")
	if e.Namespace != "" || e.ID != "" {
		b.WriteString(e.Namespace)
		b.WriteByte('/')
		b.WriteString(e.ID)
		b.WriteByte(' ')
	}
	b.WriteString("is invalid")
	if len(e.Constraints) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Constraints, "; "))
	}
	return b.String()
}

// Is reports whether target is [ErrInvalid].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the [*FlowSourceError] of a source rejected before any
// request, else nil.
func (e *ValidationError) Unwrap() error { return e.err }

// Validate asks Kestra whether source is a valid flow, without saving it.
// It returns nil for a valid flow, a [*ValidationError] listing each
// violated constraint (with Kestra's warnings, deprecations and infos) for
// an invalid one, and another error when the question could not be asked.
// A source that does not parse, or lacks id, namespace or tasks, is a
// *ValidationError built without a request.
//
// Kestra API: POST /api/v1/{tenant}/flows/validate
func (s *FlowsService) Validate(ctx context.Context, source string) error {
	ref, err := ParseFlow(source)
	if err != nil {
		ve := &ValidationError{err: err}
		ve.Namespace, ve.ID = ref.Namespace, ref.ID
		var each []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			each = j.Unwrap()
		} else {
			each = []error{err}
		}
		for _, e := range each {
			var fe *FlowSourceError
			if errors.As(e, &fe) {
				c := *fe
				c.File = ""
				ve.Constraints = append(ve.Constraints, strings.TrimPrefix(c.Error(), "kestra: flow source: "))
			}
		}
		return ve
	}
	var results []gen.ValidateConstraintViolation
	if err := s.c.run(ctx, &call{
		method: http.MethodPost, path: "flows/validate", body: strings.NewReader(source), contentType: yamlContentType,
		out: &results,
	}); err != nil {
		return err
	}
	if len(results) != 1 {
		return fmt.Errorf("kestra: validate: Kestra read %d flows in a source of one", len(results))
	}
	r := results[0]
	if r.Constraints == "" {
		return nil
	}
	return &ValidationError{FlowValidation: FlowValidation{
		Namespace:        r.Namespace,
		ID:               r.Flow,
		Constraints:      splitConstraints(r.Constraints),
		Outdated:         r.Outdated,
		Warnings:         r.Warnings,
		DeprecationPaths: r.DeprecationPaths,
		Infos:            r.Infos,
	}}
}

// splitConstraints splits Kestra's constraints text, the violations
// joined as "path: message, path: message" after "Validation error: "
// (FlowService#formatValidationError), at each ", " that starts another
// "path: ".
func splitConstraints(s string) []string {
	s = strings.TrimSpace(strings.TrimPrefix(s, "Validation error: "))
	var out []string
	start := 0
	for i := 0; i+2 <= len(s); i++ {
		if s[i] == ',' && i+1 < len(s) && s[i+1] == ' ' && startsWithPath(s[i+2:]) {
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 2
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// startsWithPath reports whether s begins with a property path followed by
// ": ", such as `tasks[0].id: ` or
// `io.kestra.core.models.flows.FlowWithSource["tasks"]->java.util.ArrayList[0]: `.
func startsWithPath(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			return i > 0 && i+1 < len(s) && s[i+1] == ' '
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == '[', c == ']', c == '"', c == '-', c == '>', c == '$':
		default:
			return false
		}
	}
	return false
}

// FlowSearchOptions selects flows for [FlowsService.List] and
// [FlowsService.All]. The zero value selects every flow. The filters
// combine with AND.
type FlowSearchOptions struct {
	// Namespace keeps the flows of this namespace; with
	// IncludeSubNamespaces, those of its sub-namespaces too.
	Namespace            string
	IncludeSubNamespaces bool
	// FlowID keeps the flow of this id.
	FlowID string
	// Query keeps the flows whose id or namespace contain it.
	Query string
	// Labels keeps the flows that have every one of these labels.
	Labels map[string]string
	// Sort orders the results, each "field:asc" or "field:desc" (such as
	// "id:asc"); Kestra rejects an unknown field with a 422.
	Sort []string
	ListOptions
}

// query returns the search as Kestra's query: page, size, sort and
// filters[field][OP]=value.
func (o *FlowSearchOptions) query() (url.Values, error) {
	if o == nil {
		return url.Values{}, nil
	}
	q, err := o.ListOptions.query("FlowSearchOptions", o.Sort)
	if err != nil {
		return nil, err
	}
	f := filters{}
	op := "EQUALS"
	if o.IncludeSubNamespaces {
		op = "PREFIX"
	}
	f.add("namespace", op, o.Namespace)
	f.add("flowId", "EQUALS", o.FlowID)
	f.add("q", "EQUALS", o.Query)
	f.labels(o.Labels)
	return f.into(q), nil
}

// List returns one page of the flows opts selects (nil: all flows),
// without their sources.
//
// Kestra API: GET /api/v1/{tenant}/flows/search
func (s *FlowsService) List(ctx context.Context, opts *FlowSearchOptions) (*Page[Flow], error) {
	q, err := opts.query()
	if err != nil {
		return nil, err
	}
	return list[Flow](ctx, s.c, "flows/search", q, "flow")
}

// All iterates over the flows opts selects (nil: all flows), without their
// sources, fetching pages as the loop needs them. opts is copied: changing
// it afterwards has no effect. An error is yielded once, with a nil flow,
// and ends the iteration.
//
//	for f, err := range c.Flows.All(ctx, &kestra.FlowSearchOptions{Namespace: "company.team"}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(f.ID)
//	}
//
// Kestra API: GET /api/v1/{tenant}/flows/search
func (s *FlowsService) All(ctx context.Context, opts *FlowSearchOptions) iter.Seq2[*Flow, error] {
	return all(ctx, opts, s.List)
}

func (o *FlowSearchOptions) own() {
	o.Labels = maps.Clone(o.Labels)
	o.Sort = slices.Clone(o.Sort)
}

// SyncOptions changes what [FlowsService.Sync] does.
type SyncOptions struct {
	// Delete deletes the flows of the namespace that are not among the
	// sources. Without it they are kept (Kestra's own default is to delete
	// them).
	Delete bool
	// DryRun computes the plan and sends nothing.
	DryRun bool
}

// SyncPlan is what [FlowsService.Sync] does, or would do, to a namespace.
// Each list holds flow ids, sorted.
type SyncPlan struct {
	// Namespace is the namespace synchronised.
	Namespace string
	// Created are the flows that did not exist.
	Created []string
	// Updated are the flows whose source changed.
	Updated []string
	// Unchanged are the flows whose source is the one stored.
	Unchanged []string
	// Deleted are the flows of the namespace missing from the sources,
	// deleted because SyncOptions.Delete was set.
	Deleted []string
	// Kept are the flows of the namespace missing from the sources, kept
	// because SyncOptions.Delete was not set.
	Kept []string
	// Applied is false for a dry run. Once applied, Updated and Unchanged
	// are corrected by the revisions Kestra returned.
	Applied bool
	// Flows are the created, updated and unchanged flows as Kestra
	// returned them, nil for a dry run.
	Flows []*Flow
}

// Sync deploys sources, the complete set of flows of namespace, in one
// request, and returns what it did. Every source is checked first, without
// a request: each must parse, declare namespace (a flow of another
// namespace is an error) and a distinct id. The plan is computed before
// sending by comparing the sources with the stored ones of the namespace's
// flows; with opts.DryRun it is returned without sending anything.
//
// The plan compares sources apart from leading and trailing blank space,
// which Kestra trims from each source of a namespace update (Create,
// Update and Apply store the source as it is). So the first Sync of a flow
// created with a final newline may still write a revision with the same
// content: the plan returned once applied reports it, as it reports every
// flow by the revisions Kestra returned.
//
// Flows of the namespace missing from sources are kept unless opts.Delete
// is set. Kestra splits the body on every "---", so a source containing
// "---" anywhere (a document marker, a comment, a script) cannot be synced
// and is an error: deploy it with [FlowsService.Apply]. opts may be nil.
//
// Kestra API: POST /api/v1/{tenant}/flows/{namespace}
func (s *FlowsService) Sync(ctx context.Context, namespace string, sources []string, opts *SyncOptions) (*SyncPlan, error) {
	var o SyncOptions
	if opts != nil {
		o = *opts
	}
	if namespace == "" {
		return nil, errEmptyNamespace
	}
	// Checked now: the plan reads the namespace's flows before it posts.
	if err := checkSegment("namespace", namespace, routeWords[http.MethodPost]["flows/{namespace}"][0]); err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("kestra: sync %s: no flows (delete flows one by one to empty a namespace)", namespace)
	}
	bySource := make(map[string]string, len(sources)) // id → source
	for i, src := range sources {
		ref, err := ParseFlow(src)
		if err != nil {
			return nil, fmt.Errorf("kestra: sync %s: source %d: %w", namespace, i, err)
		}
		if ref.Namespace != namespace {
			return nil, fmt.Errorf("kestra: sync %s: source %d: flow %s/%s is in another namespace", namespace, i, ref.Namespace, ref.ID)
		}
		if _, dup := bySource[ref.ID]; dup {
			return nil, fmt.Errorf("kestra: sync %s: source %d: flow id %q appears twice", namespace, i, ref.ID)
		}
		if strings.Contains(src, "---") {
			return nil, fmt.Errorf("kestra: sync %s: source %d: flow %s contains \"---\", on which Kestra splits the body; deploy it with Apply", namespace, i, ref.ID)
		}
		bySource[ref.ID] = src
	}

	existing, err := s.ListNamespace(ctx, namespace)
	if err != nil {
		return nil, err
	}
	before := make(map[string]int32, len(existing))
	var common []string
	plan := &SyncPlan{Namespace: namespace}
	for _, f := range existing {
		before[f.ID] = f.Revision
		if _, ok := bySource[f.ID]; ok {
			common = append(common, f.ID)
		} else if o.Delete {
			plan.Deleted = append(plan.Deleted, f.ID)
		} else {
			plan.Kept = append(plan.Kept, f.ID)
		}
	}
	for id := range bySource {
		if _, ok := before[id]; !ok {
			plan.Created = append(plan.Created, id)
		}
	}
	stored, err := s.sources(ctx, namespace, common)
	if err != nil {
		return nil, err
	}
	for _, id := range common {
		if javaTrim(stored[id]) == javaTrim(bySource[id]) {
			plan.Unchanged = append(plan.Unchanged, id)
		} else {
			plan.Updated = append(plan.Updated, id)
		}
	}
	plan.sort()
	if o.DryRun {
		return plan, nil
	}

	var result []*Flow
	if err := s.c.run(ctx, &call{
		method: http.MethodPost, path: "flows/{namespace}", args: []string{namespace},
		query: url.Values{"delete": {strconv.FormatBool(o.Delete)}},
		body:  strings.NewReader(strings.Join(sources, "\n---\n")), contentType: yamlContentType,
		out: &result,
	}); err != nil {
		return nil, err
	}
	if err := noNil(result, "flow"); err != nil {
		return nil, err
	}
	plan.Applied = true
	plan.Created, plan.Updated, plan.Unchanged, plan.Deleted = nil, nil, nil, nil
	for _, f := range result {
		rev, existed := before[f.ID]
		switch {
		case f.Deleted:
			plan.Deleted = append(plan.Deleted, f.ID)
			continue
		case !existed:
			plan.Created = append(plan.Created, f.ID)
		case f.Revision == rev:
			plan.Unchanged = append(plan.Unchanged, f.ID)
		default:
			plan.Updated = append(plan.Updated, f.ID)
		}
		plan.Flows = append(plan.Flows, f)
	}
	plan.sort()
	return plan, nil
}

// javaTrim is Java's String.trim, which Kestra applies to each source of
// a namespace update: it removes the characters up to U+0020 at both ends.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

func (p *SyncPlan) sort() {
	for _, l := range [][]string{p.Created, p.Updated, p.Unchanged, p.Deleted, p.Kept} {
		slices.Sort(l)
	}
}

// sources returns the stored sources of the flows ids of namespace,
// fetched a few at a time.
func (s *FlowsService) sources(ctx context.Context, namespace string, ids []string) (map[string]string, error) {
	const workers = 4
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		out      = make(map[string]string, len(ids))
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan string)
	)
	for range min(workers, len(ids)) {
		wg.Go(func() {
			for id := range next {
				f, err := s.Get(ctx, namespace, id, nil)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				} else if err == nil {
					out[id] = f.Source
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, id := range ids {
		select {
		case next <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("kestra: %w", context.Cause(ctx))
	}
	return out, firstErr
}
