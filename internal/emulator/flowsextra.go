package emulator

import (
	"archive/zip"
	"bytes"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
)

// importFlows serves POST /flows/import (FlowController#importFlows): a
// multipart part fileUpload holding a multi-document YAML file or a ZIP
// archive of YAML files. Each flow is created or updated; the answer lists
// what could not be imported: the index of each refused document of a
// YAML file, the name of each refused file of an archive.
func (s *Server) importFlows(w http.ResponseWriter, r *http.Request) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return &apiError{status: http.StatusUnsupportedMediaType, message: "Unsupported Media Type: Content Type [" + mt + "] not allowed. Allowed types: [multipart/form-data]"}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return errBadRequest(err.Error())
	}
	var (
		data     []byte
		filename string
		found    bool
	)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errBadRequest(err.Error())
		}
		if part.FormName() == "fileUpload" {
			if data, err = io.ReadAll(io.LimitReader(part, maxBody)); err != nil {
				return errBadRequest(err.Error())
			}
			filename, found = part.FileName(), true
		}
	}
	if !found {
		return errBadRequest("Required Part [fileUpload] not specified")
	}
	type doc struct{ name, src string }
	var docs []doc
	if strings.HasSuffix(strings.ToLower(filename), ".zip") {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			// readSourceFile's IOException: a bare 400.
			w.WriteHeader(http.StatusBadRequest)
			return nil
		}
		for _, f := range zr.File {
			if f.FileInfo().IsDir() {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				docs = append(docs, doc{f.Name, ""})
				continue
			}
			b, err := io.ReadAll(io.LimitReader(rc, maxBody))
			rc.Close()
			if err != nil {
				b = nil
			}
			docs = append(docs, doc{f.Name, string(b)})
		}
	} else {
		for i, src := range splitNaive(string(data)) {
			docs = append(docs, doc{strconv.Itoa(i), strings.TrimLeft(src, "\n")})
		}
	}
	tenant := tenantOf(r)
	wrong := []string{}
	for _, d := range docs {
		pf, aerr := s.parseFlow(d.src)
		if aerr != nil {
			wrong = append(wrong, d.name)
			continue
		}
		s.saveFlow(tenant, pf, d.src)
	}
	writeJSON(w, http.StatusOK, wrong)
	return nil
}

// distinctNamespaces serves GET /flows/distinct-namespaces?q=: the sorted
// namespaces of the tenant's flows, those containing q when given.
func (s *Server) distinctNamespaces(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query().Get("q")
	set := map[string]bool{}
	for _, f := range s.liveFlows(tenantOf(r), nil) {
		if q == "" || strings.Contains(f.key.namespace, q) {
			set[f.key.namespace] = true
		}
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	slices.Sort(out)
	writeJSON(w, http.StatusOK, out)
	return nil
}

type flowNode struct {
	UID       string `json:"uid"`
	Namespace string `json:"namespace"`
	ID        string `json:"id"`
}

type flowEdge struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	Relation string `json:"relation"`
}

// flowDependencies serves GET /flows/{namespace}/{id}/dependencies
// (FlowController#getFlowDependencies, FlowTopologyService): edges from a
// flow to the flows its Subflow tasks start (FLOW_TASK) and to the flows
// whose Flow trigger waits on it (FLOW_TRIGGER). destinationOnly keeps the
// edges leaving the flow; expandAll follows edges transitively.
func (s *Server) flowDependencies(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	destOnly, err := boolParam(q, "destinationOnly", false)
	if err != nil {
		return err
	}
	expand, err := boolParam(q, "expandAll", false)
	if err != nil {
		return err
	}
	nodes, edges := s.engine.flowDependencies(tenantOf(r), r.PathValue("namespace"), r.PathValue("id"), destOnly, expand)
	out := struct {
		Nodes []flowNode `json:"nodes"`
		Edges []flowEdge `json:"edges"`
	}{Nodes: nodes, Edges: edges}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// allTaskDefs returns every task definition, those inside flowable tasks
// included.
func allTaskDefs(tasks []map[string]any) []map[string]any {
	var out []map[string]any
	for _, t := range tasks {
		out = append(out, t)
		var nested []map[string]any
		for _, k := range []string{"tasks", "then", "else", "errors", "finally"} {
			nested = append(nested, mapList(t[k])...)
		}
		if cases, ok := t["cases"].(map[string]any); ok {
			for _, c := range cases {
				nested = append(nested, mapList(c)...)
			}
		}
		out = append(out, allTaskDefs(nested)...)
	}
	return out
}

// upstreamFlows returns the namespace and id of each flow a Flow trigger
// names: preconditions.flows and ExecutionFlowCondition conditions.
func upstreamFlows(tg map[string]any) [][2]string {
	var out [][2]string
	if pre, ok := tg["preconditions"].(map[string]any); ok {
		for _, f := range mapList(pre["flows"]) {
			out = append(out, [2]string{stringify(f["namespace"]), stringify(f["flowId"])})
		}
	}
	for _, c := range mapList(tg["conditions"]) {
		if path.Ext(stringify(c["type"])) == ".ExecutionFlowCondition" || stringify(c["type"]) == "io.kestra.plugin.core.condition.ExecutionFlow" {
			out = append(out, [2]string{stringify(c["namespace"]), stringify(c["flowId"])})
		}
	}
	return out
}
