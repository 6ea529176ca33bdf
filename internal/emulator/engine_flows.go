package emulator

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

type flowKey struct{ tenant, namespace, id string }

type flowRev struct {
	revision int
	source   string
	pf       *parsedFlow
	deleted  bool
	updated  time.Time
}

type flowEntry struct {
	key  flowKey
	revs []*flowRev // oldest first; the last is current
}

func (fe *flowEntry) current() *flowRev { return fe.revs[len(fe.revs)-1] }

func (fe *flowEntry) revision(n int) *flowRev {
	for _, r := range fe.revs {
		if r.revision == n {
			return r
		}
	}
	return nil
}

// saveFlowLocked stores pf as a new revision of its flow unless the source
// is the same as the current one; it returns the revision in force.
func (en *engine) saveFlowLocked(tenant string, pf *parsedFlow, src string) (flowKey, *flowRev) {
	key := flowKey{tenant, pf.namespace, pf.id}
	fe := en.flows[key]
	if fe == nil {
		fe = &flowEntry{key: key}
		en.flows[key] = fe
	}
	if len(fe.revs) > 0 {
		cur := fe.current()
		if !cur.deleted && sourceWithoutRevision(cur.source) == sourceWithoutRevision(src) {
			return key, cur
		}
	}
	next := 1
	if len(fe.revs) > 0 {
		next = fe.current().revision + 1
	}
	rev := &flowRev{revision: next, source: src, pf: pf, updated: now()}
	fe.revs = append(fe.revs, rev)
	return key, rev
}

// deleteFlowLocked writes the deleted revision of a flow.
func (en *engine) deleteFlowLocked(fe *flowEntry) *flowRev {
	cur := fe.current()
	rev := &flowRev{revision: cur.revision + 1, source: cur.source, pf: cur.pf, deleted: true, updated: now()}
	fe.revs = append(fe.revs, rev)
	return rev
}

// liveFlowLocked returns the current, non-deleted flow or nil.
func (en *engine) liveFlowLocked(key flowKey) *flowEntry {
	fe := en.flows[key]
	if fe == nil || fe.current().deleted {
		return nil
	}
	return fe
}

// liveFlowsLocked returns the current, non-deleted flows of a tenant
// matching keep, sorted by namespace and id.
func (en *engine) liveFlowsLocked(tenant string, keep func(*flowEntry) bool) []*flowEntry {
	var out []*flowEntry
	for k, fe := range en.flows {
		if k.tenant == tenant && !fe.current().deleted && (keep == nil || keep(fe)) {
			out = append(out, fe)
		}
	}
	slices.SortFunc(out, func(a, b *flowEntry) int {
		return cmp.Or(cmp.Compare(a.key.namespace, b.key.namespace), cmp.Compare(a.key.id, b.key.id))
	})
	return out
}

// storedFlow is one revision of a flow as the engine answers it; a
// revision never changes once stored.
type storedFlow struct {
	key flowKey
	rev *flowRev
}

// createFlow stores the first revision of a flow, or the next one of a
// deleted flow; an existing flow is refused.
func (en *engine) createFlow(tenant string, pf *parsedFlow, src string) (storedFlow, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	if en.liveFlowLocked(flowKey{tenant, pf.namespace, pf.id}) != nil {
		return storedFlow{}, errInvalidEntity(Violation{Path: "flow.id", Message: "Flow id already exists"})
	}
	key, rev := en.saveFlowLocked(tenant, pf, src)
	return storedFlow{key, rev}, nil
}

// flow returns the current revision of a flow, or the given one; a
// deleted flow only with allowDeleted.
func (en *engine) flow(key flowKey, revision string, allowDeleted bool) (storedFlow, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	fe := en.flows[key]
	if fe == nil {
		return storedFlow{}, errNotFound("")
	}
	rev := fe.current()
	if revision != "" {
		n, err := strconv.Atoi(revision)
		if err != nil {
			return storedFlow{}, conversionError("revision", revision)
		}
		if rev = fe.revision(n); rev == nil {
			return storedFlow{}, errNotFound("")
		}
	}
	if rev.deleted && !allowDeleted {
		return storedFlow{}, errNotFound("")
	}
	return storedFlow{key, rev}, nil
}

// flowExists says whether a flow exists and is not deleted.
func (en *engine) flowExists(key flowKey) bool {
	en.mu.Lock()
	defer en.mu.Unlock()
	return en.liveFlowLocked(key) != nil
}

// updateFlow stores a new revision of an existing flow (none when the
// source did not change but for its revision).
func (en *engine) updateFlow(key flowKey, pf *parsedFlow, src string) (storedFlow, error) {
	var vs []Violation
	if pf.id != key.id {
		vs = append(vs, Violation{Path: "flow.id", Message: "Illegal flow id update"})
	}
	if pf.namespace != key.namespace {
		vs = append(vs, Violation{Path: "flow.namespace", Message: "Illegal namespace update"})
	}
	if len(vs) > 0 {
		return storedFlow{}, errInvalidEntity(vs...)
	}
	en.mu.Lock()
	defer en.mu.Unlock()
	if en.liveFlowLocked(key) == nil {
		return storedFlow{}, errNotFound("")
	}
	_, rev := en.saveFlowLocked(key.tenant, pf, src)
	return storedFlow{key, rev}, nil
}

// deleteFlow deletes a flow: a last, deleted revision.
func (en *engine) deleteFlow(key flowKey) error {
	en.mu.Lock()
	defer en.mu.Unlock()
	fe := en.liveFlowLocked(key)
	if fe == nil {
		return errNotFound("")
	}
	en.deleteFlowLocked(fe)
	return nil
}

// liveFlows returns the current revision of the tenant's flows that keep
// accepts (all when nil), by namespace and id.
func (en *engine) liveFlows(tenant string, keep func(*flowEntry) bool) []storedFlow {
	en.mu.Lock()
	defer en.mu.Unlock()
	var out []storedFlow
	for _, fe := range en.liveFlowsLocked(tenant, keep) {
		out = append(out, storedFlow{fe.key, fe.current()})
	}
	return out
}

// flowRevisions returns every revision of a flow, oldest first.
func (en *engine) flowRevisions(key flowKey) []storedFlow {
	en.mu.Lock()
	defer en.mu.Unlock()
	var out []storedFlow
	if fe := en.flows[key]; fe != nil {
		for _, rev := range fe.revs {
			out = append(out, storedFlow{key, rev})
		}
	}
	return out
}

// flowPage returns a page of the tenant's live flows that keep accepts.
func (en *engine) flowPage(tenant string, pp pageParams, keep func(*flowEntry) bool) pagedResults[storedFlow] {
	en.mu.Lock()
	defer en.mu.Unlock()
	page := paginate(en.liveFlowsLocked(tenant, keep), pp, flowSorts)
	out := pagedResults[storedFlow]{Results: make([]storedFlow, len(page.Results)), Total: page.Total}
	for i, fe := range page.Results {
		out.Results[i] = storedFlow{fe.key, fe.current()}
	}
	return out
}

// lastRevision is the current revision number of a flow, 0 when none.
func (en *engine) lastRevision(key flowKey) int {
	en.mu.Lock()
	defer en.mu.Unlock()
	if fe := en.flows[key]; fe != nil {
		return fe.current().revision
	}
	return 0
}

// parsedSource is a parsed flow and its source.
type parsedSource struct {
	pf  *parsedFlow
	src string
}

// replaceFlows stores every flow of items and, with del and a namespace,
// deletes the other flows of the namespace (and of its children with
// allowChild). It returns the deleted flows, then the stored ones. A flow
// outside the namespace, or two flows with one id, refuse the lot.
func (en *engine) replaceFlows(tenant, namespace string, allowChild, del bool, items []parsedSource) ([]storedFlow, error) {
	if namespace != "" {
		var vs []Violation
		for _, it := range items {
			ns := it.pf.namespace
			if ns != namespace && !(allowChild && strings.HasPrefix(ns, namespace+".")) {
				vs = append(vs, Violation{Path: "flow.namespace", Message: flowUID(tenant, ns, it.pf.id) + " - flow namespace is invalid"})
			}
		}
		if len(vs) > 0 {
			return nil, errInvalidEntity(vs...)
		}
	}
	seen := map[string]bool{}
	for _, it := range items {
		k := it.pf.namespace + "/" + it.pf.id
		if seen[k] {
			return nil, errInvalidEntity(Violation{Path: "flow.id", Message: "Duplicate flow id"})
		}
		seen[k] = true
	}
	en.mu.Lock()
	defer en.mu.Unlock()
	var out []storedFlow
	if del && namespace != "" {
		for _, fe := range en.liveFlowsLocked(tenant, func(fe *flowEntry) bool {
			ns := fe.key.namespace
			return ns == namespace || (allowChild && strings.HasPrefix(ns, namespace+"."))
		}) {
			if !seen[fe.key.namespace+"/"+fe.key.id] {
				out = append(out, storedFlow{fe.key, en.deleteFlowLocked(fe)})
			}
		}
	}
	for _, it := range items {
		key, rev := en.saveFlowLocked(tenant, it.pf, it.src)
		out = append(out, storedFlow{key, rev})
	}
	return out, nil
}

// saveFlow stores pf as the next revision of its flow, created or not.
func (en *engine) saveFlow(tenant string, pf *parsedFlow, src string) storedFlow {
	en.mu.Lock()
	defer en.mu.Unlock()
	key, rev := en.saveFlowLocked(tenant, pf, src)
	return storedFlow{key, rev}
}

// flowDependencies returns the flows around a flow and the edges between
// them: to the flows its Subflow tasks start (FLOW_TASK) and from the
// flows its Flow triggers wait on (FLOW_TRIGGER), among the tenant's live
// flows. destOnly keeps the edges leaving the flow; expand follows edges
// transitively. Nodes come by uid, edges as found.
func (en *engine) flowDependencies(tenant, namespace, flowID string, destOnly, expand bool) ([]flowNode, []flowEdge) {
	uid := func(ns, id string) string { return tenant + "_" + ns + "_" + id }
	var all []flowEdge
	nodes := map[string]flowNode{}
	for _, f := range en.liveFlows(tenant, nil) {
		pf := f.rev.pf
		from := uid(pf.namespace, pf.id)
		nodes[from] = flowNode{from, pf.namespace, pf.id}
		for _, t := range allTaskDefs(pf.tasks) {
			if c, _ := canonicalType(stringify(t["type"])); c == typeSubflow {
				ns, id := stringify(t["namespace"]), stringify(t["flowId"])
				all = append(all, flowEdge{from, uid(ns, id), "FLOW_TASK"})
				nodes[uid(ns, id)] = flowNode{uid(ns, id), ns, id}
			}
		}
		for _, tg := range pf.triggers {
			if c, _ := canonicalType(stringify(tg["type"])); c != "io.kestra.plugin.core.trigger.Flow" {
				continue
			}
			for _, up := range upstreamFlows(tg) {
				src := uid(up[0], up[1])
				all = append(all, flowEdge{src, from, "FLOW_TRIGGER"})
				nodes[src] = flowNode{src, up[0], up[1]}
			}
		}
	}
	self := uid(namespace, flowID)
	keep := map[string]bool{self: true}
	edges := []flowEdge{}
	seen := map[flowEdge]bool{}
	for frontier := []string{self}; len(frontier) > 0; {
		var next []string
		for _, n := range frontier {
			for _, e := range all {
				var other string
				switch {
				case e.Source == n:
					other = e.Target
				case e.Target == n && !destOnly:
					other = e.Source
				default:
					continue
				}
				if !seen[e] {
					seen[e] = true
					edges = append(edges, e)
				}
				if !keep[other] {
					keep[other] = true
					next = append(next, other)
				}
			}
		}
		if !expand {
			break
		}
		frontier = next
	}
	outNodes := []flowNode{}
	ids := make([]string, 0, len(keep))
	for id := range keep {
		if _, ok := nodes[id]; ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		outNodes = append(outNodes, nodes[id])
	}
	return outNodes, edges
}
