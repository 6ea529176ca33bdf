package kestra_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// flowsEnv is a client talking to a fresh emulator.
type flowsEnv struct{ *emuEnv }

func newFlowsEnv(t *testing.T, opts ...kestratest.Option) *flowsEnv {
	t.Helper()
	return &flowsEnv{newEmuEnv(t, emuSetup{server: opts, client: []kestra.Option{kestra.WithRetry(kestra.NoRetry)}})}
}

// requests returns the requests the emulator saw with this method whose
// path ends with suffix.
func (e *flowsEnv) requests(method, suffix string) []kestratest.Request {
	return e.requestsWhere(func(r kestratest.Request) bool {
		return r.Method == method && strings.HasSuffix(r.Path, suffix)
	})
}

// flowSource is a valid flow whose comment and message make each source
// distinct.
func flowSource(namespace, id, message string) string {
	return fmt.Sprintf(`# %s: kept by Kestra as written
id: %s
namespace: %s

tasks:
  - id: hello   # inline comment
    type: io.kestra.plugin.core.log.Log
    message: %q
`, id, id, namespace, message)
}

func TestFlowsLifecycle(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	ctx := t.Context()
	src1 := flowSource("company.team", "hello", "one")

	created, err := env.c.Flows.Create(ctx, src1)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if created.ID != "hello" || created.Namespace != "company.team" || created.Revision != 1 {
		t.Errorf("Create = %s/%s rev %d, want company.team/hello rev 1", created.Namespace, created.ID, created.Revision)
	}
	if created.Source != src1 {
		t.Errorf("Create: stored source differs from the one sent:\n%q\nwant\n%q", created.Source, src1)
	}

	src2 := flowSource("company.team", "hello", "two")
	updated, err := env.c.Flows.Update(ctx, src2)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.Revision != 2 {
		t.Errorf("Update: revision %d, want 2", updated.Revision)
	}
	puts := env.requests(http.MethodPut, "/flows/company.team/hello")
	if len(puts) != 1 || puts[0].Header.Get("Content-Type") != "application/x-yaml" {
		t.Errorf("Update: want one PUT with Content-Type application/x-yaml, got %+v", puts)
	}

	got, err := env.c.Flows.Get(ctx, "company.team", "hello", nil)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Revision != 2 || got.Source != src2 {
		t.Errorf("Get = rev %d source %q, want rev 2 and the updated source", got.Revision, got.Source)
	}
	if !strings.Contains(got.Source, "# inline comment") || !strings.HasPrefix(got.Source, "# hello: kept") {
		t.Errorf("Get: comments lost in the stored source: %q", got.Source)
	}

	first, err := env.c.Flows.Get(ctx, "company.team", "hello", &kestra.FlowGetOptions{Revision: 1})
	if err != nil {
		t.Fatalf("Get revision 1: %v", err)
	}
	if first.Revision != 1 || first.Source != src1 {
		t.Errorf("Get revision 1 = rev %d source %q", first.Revision, first.Source)
	}

	revs, err := env.c.Flows.Revisions(ctx, "company.team", "hello")
	if err != nil {
		t.Fatalf("Revisions: %v", err)
	}
	if len(revs) != 2 || revs[0].Revision != 1 || revs[1].Revision != 2 || revs[1].Source != src2 {
		t.Errorf("Revisions: got %d revisions %+v", len(revs), revs)
	}

	if err := env.c.Flows.Delete(ctx, "company.team", "hello"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := env.c.Flows.Get(ctx, "company.team", "hello", nil); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	deleted, err := env.c.Flows.Get(ctx, "company.team", "hello", &kestra.FlowGetOptions{AllowDeleted: true})
	if err != nil || !deleted.Deleted {
		t.Errorf("Get(FlowAllowDeleted) after Delete = %+v, %v; want the deleted flow", deleted, err)
	}
	if err := env.c.Flows.Delete(ctx, "company.team", "hello"); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if _, err := env.c.Flows.Update(ctx, src1); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("Update of a deleted flow: %v, want ErrNotFound", err)
	}
}

func TestFlowsCreateDuplicate(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	src := flowSource("company.team", "dup", "x")
	deploy(t, env.c, src)

	_, err := env.c.Flows.Create(t.Context(), src)
	if !errors.Is(err, kestra.ErrInvalid) {
		t.Fatalf("duplicate Create: %v, want ErrInvalid", err)
	}
	var ae *kestra.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("duplicate Create: %T is not an *APIError", err)
	}
	if ae.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("status %d, want 422", ae.StatusCode)
	}
	if !slices.ContainsFunc(ae.Violations, func(v kestra.Violation) bool {
		return v.Path == "flow.id" && strings.Contains(v.Message, "already exists")
	}) {
		t.Errorf("violations %+v lack flow.id: ... already exists", ae.Violations)
	}
}

func TestFlowsServerRejection(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	// Parses locally, but Kestra rejects the unknown task type.
	src := strings.Replace(flowSource("company.team", "bad", "x"), "io.kestra.plugin.core.log.Log", "io.kestra.invalid", 1)
	_, err := env.c.Flows.Create(t.Context(), src)
	var ae *kestra.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 422 {
		t.Fatalf("Create: %v, want a 422 *APIError", err)
	}
	if len(ae.Violations) == 0 || ae.Violations[0].Path == "" || !strings.Contains(ae.Violations[0].Message, "io.kestra.invalid") {
		t.Errorf("violations %+v: want path and message naming io.kestra.invalid", ae.Violations)
	}
}

func TestFlowsApply(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	ctx := t.Context()
	src := flowSource("company.team", "apply", "one")

	f, res, err := env.c.Flows.ApplyWithResult(ctx, src)
	if err != nil || res != kestra.FlowCreated || f.Revision != 1 {
		t.Fatalf("first apply = rev %v, %q, %v; want rev 1, created", f, res, err)
	}
	f, res, err = env.c.Flows.ApplyWithResult(ctx, src)
	if err != nil || res != kestra.FlowUnchanged || f.Revision != 1 || f.Source != src {
		t.Fatalf("identical apply = %+v, %q, %v; want rev 1, unchanged", f, res, err)
	}
	if n := len(env.requests(http.MethodPut, "/flows/company.team/apply")); n != 0 {
		t.Errorf("identical apply sent %d updates, want none", n)
	}
	src2 := flowSource("company.team", "apply", "two")
	f, res, err = env.c.Flows.ApplyWithResult(ctx, src2)
	if err != nil || res != kestra.FlowUpdated || f.Revision != 2 {
		t.Fatalf("changed apply = %+v, %q, %v; want rev 2, updated", f, res, err)
	}
	f, err = env.c.Flows.Apply(ctx, src2)
	if err != nil || f.Revision != 2 {
		t.Fatalf("Apply again = %+v, %v; want rev 2", f, err)
	}
	revs, err := env.c.Flows.Revisions(ctx, "company.team", "apply")
	if err != nil || len(revs) != 2 {
		t.Errorf("Revisions = %d, %v; want 2 revisions", len(revs), err)
	}

	// After a delete, apply creates the flow again.
	if err := env.c.Flows.Delete(ctx, "company.team", "apply"); err != nil {
		t.Fatal(err)
	}
	_, res, err = env.c.Flows.ApplyWithResult(ctx, src)
	if err != nil || res != kestra.FlowCreated {
		t.Errorf("apply after delete = %q, %v; want created", res, err)
	}
}

func TestFlowsValidate(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	ctx := t.Context()

	if err := env.c.Flows.Validate(ctx, flowSource("company.team", "ok", "x")); err != nil {
		t.Errorf("Validate(valid) = %v, want nil", err)
	}
	if env.emu.FlowCount() != 0 {
		t.Errorf("Validate saved a flow")
	}

	bad := strings.Replace(flowSource("company.team", "invalid", "x"), "io.kestra.plugin.core.log.Log", "io.kestra.invalid", 1)
	err := env.c.Flows.Validate(ctx, bad)
	var ve *kestra.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate(unknown type) = %v, want *ValidationError", err)
	}
	if !errors.Is(err, kestra.ErrInvalid) {
		t.Errorf("ValidationError does not match ErrInvalid")
	}
	var ae *kestra.APIError
	if errors.As(err, &ae) {
		t.Errorf("a server verdict is not an API failure: errors.As found %v", ae)
	}
	if ve.Namespace != "company.team" || ve.ID != "invalid" {
		t.Errorf("ValidationError names %s/%s", ve.Namespace, ve.ID)
	}
	if len(ve.Constraints) == 0 {
		t.Fatalf("no constraints in %v", ve)
	}
	for _, c := range ve.Constraints {
		if !strings.Contains(c, "Invalid type: io.kestra.invalid") {
			t.Errorf("constraint %q does not name the invalid type", c)
		}
		if strings.HasPrefix(c, ",") || strings.HasSuffix(c, ",") {
			t.Errorf("constraint %q badly split", c)
		}
	}
	if !strings.Contains(ve.Error(), "company.team/invalid") || !strings.Contains(ve.Error(), "io.kestra.invalid") {
		t.Errorf("Error() = %q", ve.Error())
	}

	// Missing tasks: rejected by Kestra's bean validation; two
	// constraints when the id is bad too.
	twoBad := "id: \"-bad\"\nnamespace: company.team\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: m\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
	err = env.c.Flows.Validate(ctx, twoBad)
	if !errors.As(err, &ve) || len(ve.Constraints) != 2 {
		t.Errorf("Validate(two violations) = %v, want a *ValidationError with 2 constraints", err)
	}
	// Kestra writes "Validation error: " before the violations; each
	// constraint is one violation, "path: message".
	for _, c := range ve.Constraints {
		if path, _, ok := strings.Cut(c, ": "); !ok || strings.Contains(path, " ") {
			t.Errorf("constraint %q is not \"path: message\"", c)
		}
	}

	// A source that does not parse is judged locally.
	before := len(env.emu.Requests())
	err = env.c.Flows.Validate(ctx, "id: x\nnamespace: [unclosed\ntasks: []\n")
	if !errors.As(err, &ve) || !errors.Is(err, kestra.ErrInvalid) {
		t.Fatalf("Validate(bad YAML) = %v, want *ValidationError", err)
	}
	var fe *kestra.FlowSourceError
	if !errors.As(err, &fe) || fe.Line < 2 || fe.Field != "" {
		t.Errorf("Validate(bad YAML): want the syntax *FlowSourceError unwrapped, got %v", err)
	}
	if after := len(env.emu.Requests()); after != before {
		t.Errorf("Validate(bad YAML) sent %d requests", after-before)
	}
}

func TestFlowsBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	ctx := t.Context()
	good := flowSource("company.team", "good", "x")
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"create bad yaml", func() error { _, err := env.c.Flows.Create(ctx, "id: a\nnamespace: [x\n"); return err }, "line 2"},
		{"create no namespace", func() error { _, err := env.c.Flows.Create(ctx, "id: a\ntasks: [{id: t}]\n"); return err }, `"namespace" is missing`},
		{"create no id", func() error { _, err := env.c.Flows.Create(ctx, "namespace: a\ntasks: [{id: t}]\n"); return err }, `"id" is missing`},
		{"create empty", func() error { _, err := env.c.Flows.Create(ctx, ""); return err }, "empty"},
		{"create two flows", func() error { _, err := env.c.Flows.Create(ctx, good+"---\n"+good); return err }, "2 YAML documents"},
		{"update no tasks", func() error { _, err := env.c.Flows.Update(ctx, "id: a\nnamespace: b\n"); return err }, `"tasks" is missing`},
		{"apply empty id", func() error { _, err := env.c.Flows.Apply(ctx, "id: ''\nnamespace: b\ntasks: [{id: t}]\n"); return err }, `"id" is empty`},
		{"get empty namespace", func() error { _, err := env.c.Flows.Get(ctx, "", "a", nil); return err }, "empty namespace"},
		{"get empty id", func() error { _, err := env.c.Flows.Get(ctx, "a", "", nil); return err }, "empty flow id"},
		{"delete empty id", func() error { return env.c.Flows.Delete(ctx, "a", "") }, "empty flow id"},
		{"revisions empty namespace", func() error { _, err := env.c.Flows.Revisions(ctx, "", "a"); return err }, "empty namespace"},
		{"list namespace empty", func() error { _, err := env.c.Flows.ListNamespace(ctx, ""); return err }, "empty namespace"},
		{"sync empty namespace", func() error { _, err := env.c.Flows.Sync(ctx, "", []string{good}, nil); return err }, "empty namespace"},
		{"sync no sources", func() error { _, err := env.c.Flows.Sync(ctx, "company.team", nil, nil); return err }, "no flows"},
		{"sync other namespace", func() error {
			_, err := env.c.Flows.Sync(ctx, "company.team", []string{good, flowSource("other", "x", "y")}, nil)
			return err
		}, "another namespace"},
		{"sync duplicate id", func() error { _, err := env.c.Flows.Sync(ctx, "company.team", []string{good, good}, nil); return err }, "twice"},
		{"sync bad yaml", func() error {
			_, err := env.c.Flows.Sync(ctx, "company.team", []string{good, "id: [x\n"}, nil)
			return err
		}, "source 1"},
		{"sync separator", func() error {
			_, err := env.c.Flows.Sync(ctx, "company.team", []string{"---\n" + good}, nil)
			return err
		}, `"---"`},
	} {
		err := tc.call()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if reqs := env.emu.Requests(); len(reqs) != 0 {
		t.Errorf("bad input reached the server: %d requests, first %s %s", len(reqs), reqs[0].Method, reqs[0].Path)
	}
}

func TestFlowsSync(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	ctx := t.Context()
	const ns = "company.sync"
	a := flowSource(ns, "a", "a")
	b1 := flowSource(ns, "b", "b1")
	deploy(t, env.c, a)
	deploy(t, env.c, b1)
	deploy(t, env.c, flowSource(ns, "old", "old"))
	deploy(t, env.c, flowSource(ns+".child", "child", "c"))
	deploy(t, env.c, flowSource("company.other", "a", "elsewhere"))

	b2 := flowSource(ns, "b", "b2")
	d := flowSource(ns, "d", "d")
	sources := []string{d, a, b2}

	plan, err := env.c.Flows.Sync(ctx, ns, sources, &kestra.SyncOptions{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	// "a" is the same source: unchanged.
	wantPlan := kestra.SyncPlan{Namespace: ns, Created: []string{"d"}, Updated: []string{"b"}, Unchanged: []string{"a"}, Kept: []string{"old"}}
	checkPlan(t, "dry run", plan, wantPlan)
	if plan.Applied || plan.Flows != nil {
		t.Errorf("dry run: Applied %v, %d flows", plan.Applied, len(plan.Flows))
	}
	if n := len(env.requests(http.MethodPost, "/flows/"+ns)); n != 0 {
		t.Errorf("dry run sent %d namespace updates", n)
	}
	if _, err := env.c.Flows.Get(ctx, ns, "d", nil); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("dry run created d: %v", err)
	}

	plan, err = env.c.Flows.Sync(ctx, ns, sources, nil)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	// Kestra trims each synced source, so "a", created with a final
	// newline, gets a revision with the same content: the applied plan
	// tells, from the revisions.
	checkPlan(t, "sync", plan, kestra.SyncPlan{Namespace: ns, Created: []string{"d"}, Updated: []string{"a", "b"}, Kept: []string{"old"}, Applied: true})
	if len(plan.Flows) != 3 {
		t.Errorf("sync: %d flows returned, want 3", len(plan.Flows))
	}
	posts := env.requests(http.MethodPost, "/flows/"+ns)
	if len(posts) != 1 {
		t.Fatalf("sync: %d namespace updates, want 1", len(posts))
	}
	q, _ := url.ParseQuery(posts[0].RawQuery)
	if q.Get("delete") != "false" {
		t.Errorf("sync without Delete sent delete=%q, want false", q.Get("delete"))
	}
	if ct := posts[0].Header.Get("Content-Type"); ct != "application/x-yaml" {
		t.Errorf("sync Content-Type %q", ct)
	}
	for id, want := range map[string]int32{"a": 2, "b": 2, "d": 1, "old": 1} {
		f, err := env.c.Flows.Get(ctx, ns, id, nil)
		if err != nil {
			t.Errorf("after sync, Get %s: %v", id, err)
			continue
		}
		if f.Revision != want {
			t.Errorf("after sync, %s at revision %d, want %d", id, f.Revision, want)
		}
		if id == "b" && !strings.Contains(f.Source, "# b: kept by Kestra") {
			t.Errorf("synced source lost its comment: %q", f.Source)
		}
	}

	// The same sources again: nothing changes, as planned.
	plan, err = env.c.Flows.Sync(ctx, ns, sources, &kestra.SyncOptions{DryRun: true})
	if err != nil {
		t.Fatalf("second dry run: %v", err)
	}
	checkPlan(t, "second dry run", plan, kestra.SyncPlan{Namespace: ns, Unchanged: []string{"a", "b", "d"}, Kept: []string{"old"}})
	plan, err = env.c.Flows.Sync(ctx, ns, sources, nil)
	if err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	checkPlan(t, "second sync", plan, kestra.SyncPlan{Namespace: ns, Unchanged: []string{"a", "b", "d"}, Kept: []string{"old"}, Applied: true})

	// Delete removes the flow missing from the sources, and only from
	// this namespace.
	plan, err = env.c.Flows.Sync(ctx, ns, sources, &kestra.SyncOptions{Delete: true})
	if err != nil {
		t.Fatalf("Sync with Delete: %v", err)
	}
	checkPlan(t, "sync with delete", plan, kestra.SyncPlan{Namespace: ns, Unchanged: []string{"a", "b", "d"}, Deleted: []string{"old"}, Applied: true})
	if _, err := env.c.Flows.Get(ctx, ns, "old", nil); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("after Sync with Delete, Get old: %v, want ErrNotFound", err)
	}
	for _, k := range [][2]string{{ns + ".child", "child"}, {"company.other", "a"}} {
		if _, err := env.c.Flows.Get(ctx, k[0], k[1], nil); err != nil {
			t.Errorf("Sync with Delete touched %s/%s: %v", k[0], k[1], err)
		}
	}
}

func checkPlan(t *testing.T, what string, got *kestra.SyncPlan, want kestra.SyncPlan) {
	t.Helper()
	for _, l := range []struct {
		name      string
		got, want []string
	}{
		{"Created", got.Created, want.Created},
		{"Updated", got.Updated, want.Updated},
		{"Unchanged", got.Unchanged, want.Unchanged},
		{"Deleted", got.Deleted, want.Deleted},
		{"Kept", got.Kept, want.Kept},
	} {
		if !slices.Equal(l.got, l.want) {
			t.Errorf("%s: %s = %q, want %q", what, l.name, l.got, l.want)
		}
	}
	if got.Namespace != want.Namespace || got.Applied != want.Applied {
		t.Errorf("%s: Namespace %q Applied %v, want %q %v", what, got.Namespace, got.Applied, want.Namespace, want.Applied)
	}
}

func TestFlowsAllPages(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	ctx := t.Context()
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("f%d", i)
		want = append(want, id)
		deploy(t, env.c, flowSource("company.paging", id, id))
	}
	deploy(t, env.c, flowSource("company.other", "x", "x"))
	searches := func() int { return len(env.requests(http.MethodGet, "/flows/search")) }

	opts := &kestra.FlowSearchOptions{Namespace: "company.paging", ListOptions: kestra.ListOptions{Size: 2}, Sort: []string{"id:asc"}}
	seq := env.c.Flows.All(ctx, opts)
	opts.Namespace = "changed after the call" // All copied opts
	var got []string
	for f, err := range seq {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		got = append(got, f.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("All = %q, want %q", got, want)
	}
	if n := searches(); n != 4 {
		t.Errorf("All over 7 flows by 2 made %d requests, want 4", n)
	}

	// break after 3 flows: two pages fetched, no more.
	before := searches()
	got = nil
	for f, err := range seq {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		got = append(got, f.ID)
		if len(got) == 3 {
			break
		}
	}
	if !slices.Equal(got, want[:3]) {
		t.Errorf("All with break = %q, want %q (each range starts over)", got, want[:3])
	}
	if n := searches() - before; n != 2 {
		t.Errorf("All with break after 3 made %d requests, want 2", n)
	}

	// The filter reaches the server as filters[namespace][EQUALS].
	last := env.requests(http.MethodGet, "/flows/search")
	q, _ := url.ParseQuery(last[len(last)-1].RawQuery)
	if q.Get("filters[namespace][EQUALS]") != "company.paging" || q.Get("size") != "2" || q.Get("page") != "2" {
		t.Errorf("search query %q", last[len(last)-1].RawQuery)
	}

	page, err := env.c.Flows.List(ctx, &kestra.FlowSearchOptions{Namespace: "company.paging", ListOptions: kestra.ListOptions{Size: 3, Page: 3}, Sort: []string{"id:asc"}})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if page.Total != 7 || len(page.Items) != 1 || page.Items[0].ID != "f6" {
		t.Errorf("List page 3 by 3 = total %d, %d flows", page.Total, len(page.Items))
	}
}

func TestFlowsAllFilters(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	ctx := t.Context()
	labelled := "id: tagged\nnamespace: company.team.sub\nlabels:\n  env: prod\n  owner: data\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
	deploy(t, env.c, labelled)
	deploy(t, env.c, flowSource("company.team", "plain", "p"))
	deploy(t, env.c, flowSource("company.teamwork", "near", "n"))
	deploy(t, env.c, flowSource("other", "plainly", "p"))

	ids := func(opts *kestra.FlowSearchOptions) []string {
		t.Helper()
		var out []string
		for f, err := range env.c.Flows.All(ctx, opts) {
			if err != nil {
				t.Fatalf("All(%+v): %v", opts, err)
			}
			out = append(out, f.ID)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		opts *kestra.FlowSearchOptions
		want []string
	}{
		{nil, []string{"near", "plain", "plainly", "tagged"}},
		{&kestra.FlowSearchOptions{Namespace: "company.team"}, []string{"plain"}},
		{&kestra.FlowSearchOptions{Namespace: "company.team", IncludeSubNamespaces: true}, []string{"plain", "tagged"}},
		{&kestra.FlowSearchOptions{Labels: map[string]string{"env": "prod"}}, []string{"tagged"}},
		{&kestra.FlowSearchOptions{Labels: map[string]string{"env": "dev"}}, nil},
		{&kestra.FlowSearchOptions{Query: "plain"}, []string{"plain", "plainly"}},
		{&kestra.FlowSearchOptions{FlowID: "plain"}, []string{"plain"}},
		{&kestra.FlowSearchOptions{FlowID: "plain", Namespace: "other"}, nil},
	} {
		if got := ids(tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("All(%+v) = %q, want %q", tc.opts, got, tc.want)
		}
	}
}

func TestFlowsAllError(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	for i := range 3 {
		deploy(t, env.c, flowSource("company.err", fmt.Sprintf("f%d", i), "x"))
	}
	var flows, errs int
	for f, err := range env.c.Flows.All(t.Context(), &kestra.FlowSearchOptions{ListOptions: kestra.ListOptions{Size: 2}}) {
		if flows == 1 {
			// The second page fails.
			env.emu.InjectFault(kestratest.Fault{Method: http.MethodGet, Path: "/api/v1/main/flows/search", Status: http.StatusInternalServerError, Message: "boom"})
		}
		if err != nil {
			errs++
			if f != nil {
				t.Errorf("error yielded with flow %v", f)
			}
			var ae *kestra.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 500 {
				t.Errorf("error %v, want a 500 *APIError", err)
			}
			continue
		}
		flows++
	}
	if flows != 2 || errs != 1 {
		t.Errorf("got %d flows and %d errors, want 2 and 1", flows, errs)
	}
}

func TestFlowsListNamespace(t *testing.T) {
	t.Parallel()
	env := newFlowsEnv(t)
	deploy(t, env.c, flowSource("company.ls", "b", "b"))
	deploy(t, env.c, flowSource("company.ls", "a", "a"))
	deploy(t, env.c, flowSource("company.ls.child", "c", "c"))
	flows, err := env.c.Flows.ListNamespace(t.Context(), "company.ls")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range flows {
		ids = append(ids, f.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"a", "b"}) {
		t.Errorf("ListNamespace = %q, want [a b]", ids)
	}
	if flows, err := env.c.Flows.ListNamespace(t.Context(), "nobody"); err != nil || len(flows) != 0 {
		t.Errorf("ListNamespace(empty namespace) = %v, %v", flows, err)
	}
}

func ExampleFlowsService_Sync() {
	srv := kestratest.NewServer(kestratest.WithSpeed(1))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	flow := func(id, message string) string {
		return "id: " + id + "\nnamespace: company.team\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: " + message + "\n"
	}
	if _, err := c.Flows.Sync(ctx, "company.team", []string{flow("a", "one"), flow("legacy", "old")}, nil); err != nil {
		panic(err)
	}

	// "legacy" is no longer among the sources: a dry run shows it would be
	// kept, since Delete is not set.
	plan, err := c.Flows.Sync(ctx, "company.team", []string{flow("a", "two"), flow("b", "new")}, &kestra.SyncOptions{DryRun: true})
	if err != nil {
		panic(err)
	}
	fmt.Println("created", plan.Created, "updated", plan.Updated, "kept", plan.Kept, "applied", plan.Applied)
	// Output:
	// created [b] updated [a] kept [legacy] applied false
}
