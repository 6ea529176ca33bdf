package emulator

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

const parentFlow = `id: parent
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.other
    flowId: child
`

const listenerFlow = `id: listener
namespace: company.ops
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: after
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: done
      flows:
        - namespace: company.team
          flowId: parent
`

// POST /flows/import (FlowController#importFlows, HasSource.readSourceFile;
// 1.3.25 and 2.0): a YAML file's refused documents are named by index, an
// archive's by file name; the others are created. It used to fall into
// POST /flows/{namespace} and import nothing.
func TestImportFlows_FlowController(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	bad := "id: broken\nnamespace: company.team\n"
	body, ct := multipartBody(t, nil, map[string][2]string{"fileUpload": {"flows.yml", helloFlow + "\n---\n" + bad + "---\n" + parentFlow}})
	r := ts.do("POST", "/api/v1/main/flows/import", body, header{"Content-Type": ct})
	if r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	if got := r.jsonArray(t); len(got) != 1 || got[0] != "1" {
		t.Errorf("refused = %v, want [1]", got)
	}
	for _, f := range []string{"company.team/hello", "company.team/parent"} {
		if r := ts.get("/api/v1/main/flows/" + f); r.status != 200 {
			t.Errorf("%s not imported: %d", f, r.status)
		}
	}

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for name, src := range map[string]string{"ok.yml": listenerFlow, "bad.yml": bad} {
		fw, _ := zw.Create(name)
		_, _ = fw.Write([]byte(src))
	}
	_ = zw.Close()
	body, ct = multipartBody(t, nil, map[string][2]string{"fileUpload": {"flows.zip", zbuf.String()}})
	r = ts.do("POST", "/api/v1/main/flows/import", body, header{"Content-Type": ct})
	if got := r.jsonArray(t); r.status != 200 || len(got) != 1 || got[0] != "bad.yml" {
		t.Errorf("zip import: %d %v", r.status, got)
	}
	if r := ts.get("/api/v1/main/flows/company.ops/listener"); r.status != 200 {
		t.Errorf("zip flow not imported: %d", r.status)
	}
}

// GET /flows/distinct-namespaces and /flows/{ns}/{id}/dependencies
// (FlowController#listDistinctNamespaces, #getFlowDependencies;
// FlowTopologyService: FLOW_TASK for a Subflow, FLOW_TRIGGER for a Flow
// trigger's preconditions).
func TestDistinctNamespacesAndDependencies_FlowController(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(helloFlow)
	ts.createFlow(parentFlow)
	ts.createFlow(listenerFlow)
	r := ts.get("/api/v1/main/flows/distinct-namespaces")
	if got := r.jsonArray(t); len(got) != 2 || got[0] != "company.ops" || got[1] != "company.team" {
		t.Errorf("distinct namespaces = %v", got)
	}
	if got := ts.get("/api/v1/main/flows/distinct-namespaces?q=ops").jsonArray(t); len(got) != 1 {
		t.Errorf("distinct namespaces q=ops = %v", got)
	}

	type graph struct {
		Nodes []struct{ UID, Namespace, ID string }
		Edges []struct{ Source, Target, Relation string }
	}
	get := func(q string) graph {
		var g graph
		r := ts.get("/api/v1/main/flows/company.team/parent/dependencies" + q)
		if err := json.Unmarshal(r.body, &g); err != nil || r.status != 200 {
			t.Fatalf("dependencies: %d %s", r.status, r.body)
		}
		return g
	}
	g := get("")
	edges := map[string]bool{}
	for _, e := range g.Edges {
		edges[e.Source+">"+e.Target+":"+e.Relation] = true
	}
	if len(g.Edges) != 2 || !edges["main_company.team_parent>main_company.other_child:FLOW_TASK"] ||
		!edges["main_company.team_parent>main_company.ops_listener:FLOW_TRIGGER"] || len(g.Nodes) != 3 {
		t.Errorf("graph = %+v", g)
	}
	var uids []string
	for _, n := range g.Nodes {
		uids = append(uids, n.UID)
	}
	if !strings.Contains(strings.Join(uids, ","), "main_company.team_parent") {
		t.Errorf("nodes = %v", uids)
	}
	// From the listener, destinationOnly keeps only edges leaving it: none.
	r = ts.get("/api/v1/main/flows/company.ops/listener/dependencies?destinationOnly=true")
	var lg graph
	_ = json.Unmarshal(r.body, &lg)
	if len(lg.Edges) != 0 {
		t.Errorf("listener destinationOnly edges = %+v", lg.Edges)
	}
}
