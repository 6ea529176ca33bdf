package emulator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

const maxBody = 64 << 20

func readBody(r *http.Request) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return "", errBadRequest("cannot read body: " + err.Error())
	}
	return string(b), nil
}

// flowJSON renders a flow revision as Kestra's Flow / FlowWithSource JSON.
func flowJSON(key flowKey, rev *flowRev, withSource bool) map[string]any {
	m := make(map[string]any, len(rev.pf.doc)+6)
	// Kestra's mapper writes no null (JacksonMapper: NON_NULL inclusion;
	// application.yml jackson.serialization-inclusion), and a property the
	// source leaves out is null in the model (AbstractFlow): neither is
	// written. So a flow without labels has no "labels" field.
	for k, v := range withoutNulls(rev.pf.doc) {
		m[k] = v
	}
	m["id"] = key.id
	m["namespace"] = key.namespace
	m["tenantId"] = key.tenant
	m["revision"] = rev.revision
	m["deleted"] = rev.deleted
	m["disabled"] = rev.pf.disabled
	if rev.pf.doc["labels"] != nil {
		m["labels"] = rev.pf.labels
	}
	m["updated"] = rev.updated
	if ins, ok := m["inputs"].([]any); ok {
		m["inputs"] = inputsJSON(ins)
	}
	if withSource {
		m["source"] = rev.source
	}
	return m
}

// inputsJSON renders a flow's inputs as Kestra writes them: an input's
// defaults and prefill are a Property, which Kestra always writes as its
// expression, a string, whatever YAML node it was read from: a scalar as its
// text, a map or a list as JSON text (Kestra 2.0
// core/src/main/java/io/kestra/core/models/property/Property.java,
// PropertySerializer and PropertyDeserializer); required defaults to true
// and, never null, is always written
// (core/src/main/java/io/kestra/core/models/flows/Input.java). The stored
// document keeps the parsed values, which runs use.
func inputsJSON(ins []any) []any {
	out := make([]any, len(ins))
	for i, in := range ins {
		decl, ok := in.(map[string]any)
		if !ok {
			out[i] = in
			continue
		}
		c := make(map[string]any, len(decl)+1)
		c["required"] = true
		for k, v := range decl {
			if (k == "defaults" || k == "prefill") && v != nil {
				v = propertyString(v)
			}
			c[k] = v
		}
		out[i] = c
	}
	return out
}

// propertyString is the expression text of a Property read from v.
func propertyString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any, []any:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

func flowUID(tenant, namespace, id string) string {
	return tenant + "_" + namespace + "_" + id + "_-1"
}

func (s *Server) createFlow(w http.ResponseWriter, r *http.Request) error {
	src, fromJSON, err := flowBody(r)
	if err != nil {
		return err
	}
	pf, aerr := s.parseFlow(src)
	if aerr != nil {
		return aerr
	}
	f, err := s.engine.createFlow(tenantOf(r), pf, src)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, flowJSON(f.key, f.rev, !fromJSON)) // the JSON endpoint answers a Flow
	return nil
}

func (s *Server) getFlow(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	withSource, err := boolParam(q, "source", false)
	if err != nil {
		return err
	}
	allowDeleted, err := boolParam(q, "allowDeleted", false)
	if err != nil {
		return err
	}
	f, err := s.flow(flowKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("id")}, q.Get("revision"), allowDeleted)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, flowJSON(f.key, f.rev, withSource))
	return nil
}

func (s *Server) updateFlow(w http.ResponseWriter, r *http.Request) error {
	key := flowKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("id")}
	if !s.flowExists(key) {
		return errNotFound("")
	}
	src, fromJSON, err := flowBody(r)
	if err != nil {
		return err
	}
	pf, aerr := s.parseFlow(src)
	if aerr != nil {
		return aerr
	}
	f, err := s.engine.updateFlow(key, pf, src)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, flowJSON(f.key, f.rev, !fromJSON))
	return nil
}

func (s *Server) deleteFlow(w http.ResponseWriter, r *http.Request) error {
	if err := s.engine.deleteFlow(flowKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("id")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// flowsJSON renders flows as a list of Flow (with their sources when
// withSource).
func flowsJSON(flows []storedFlow, withSource bool) []map[string]any {
	out := make([]map[string]any, 0, len(flows))
	for _, f := range flows {
		out = append(out, flowJSON(f.key, f.rev, withSource))
	}
	return out
}

func (s *Server) listFlows(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	flows := s.liveFlows(tenantOf(r), func(fe *flowEntry) bool { return fe.key.namespace == ns })
	writeJSON(w, http.StatusOK, flowsJSON(flows, false))
	return nil
}

func (s *Server) flowRevisions(w http.ResponseWriter, r *http.Request) error {
	key := flowKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("id")}
	writeJSON(w, http.StatusOK, flowsJSON(s.engine.flowRevisions(key), true))
	return nil
}

var flowFilterFields = map[string]bool{"labels": true, "namespace": true, "q": true, "scope": true, "flowId": true}

var flowSorts = map[string]func(a, b *flowEntry) int{
	"id":        func(a, b *flowEntry) int { return cmp.Compare(a.key.id, b.key.id) },
	"namespace": func(a, b *flowEntry) int { return cmp.Compare(a.key.namespace, b.key.namespace) },
	"revision":  func(a, b *flowEntry) int { return cmp.Compare(a.current().revision, b.current().revision) },
	"updated":   func(a, b *flowEntry) int { return a.current().updated.Compare(b.current().updated) },
}

func (s *Server) searchFlows(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pp, err := parsePage(q, sortKeys(flowSorts))
	if err != nil {
		return err
	}
	fs, err := parseFilters(q, flowFilterFields)
	if err != nil {
		return err
	}
	if s.cfg.version == Version13 {
		if fs, err = legacyFlowFilters(q, fs); err != nil {
			return err
		}
	}
	leaf := func(fe *flowEntry) func(queryFilter) bool {
		return func(f queryFilter) bool {
			switch f.field {
			case "namespace":
				return matchString(f.op, fe.key.namespace, f.value)
			case "flowId":
				return matchString(f.op, fe.key.id, f.value)
			case "q":
				return matchString("CONTAINS", fe.key.id, f.value) || matchString("CONTAINS", fe.key.namespace, f.value)
			case "labels":
				return matchLabels(f.op, fe.current().pf.labels, f.key, f.value)
			case "scope":
				return true
			}
			return false
		}
	}
	page := s.flowPage(tenantOf(r), pp, func(fe *flowEntry) bool { return fs.match(leaf(fe)) })
	out := pagedResults[map[string]any]{Results: flowsJSON(page.Results, false), Total: page.Total}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// legacyFlowFilters adds the 1.3 q/namespace/labels parameters.
func legacyFlowFilters(q map[string][]string, fs filterSet) (filterSet, error) {
	if v := first(q["q"]); v != "" {
		fs.and = append(fs.and, queryFilter{field: "q", op: "EQUALS", value: v})
	}
	if v := first(q["namespace"]); v != "" {
		fs.and = append(fs.and, queryFilter{field: "namespace", op: "PREFIX", value: v})
	}
	return legacyLabelFilters(q, fs)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// validationResult is one element of the /flows/validate answer.
type validationResult struct {
	Index            int      `json:"index"`
	Filename         string   `json:"filename,omitempty"`
	Namespace        string   `json:"namespace,omitempty"`
	Flow             string   `json:"flow,omitempty"`
	Constraints      string   `json:"constraints,omitempty"`
	Outdated         bool     `json:"outdated"`
	DeprecationPaths []string `json:"deprecationPaths"`
	Warnings         []string `json:"warnings"`
	Infos            []string `json:"infos"`
}

type namedSource struct{ filename, source string }

func (s *Server) validateFlows(w http.ResponseWriter, r *http.Request) error {
	var docs []namedSource
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return errBadRequest(err.Error())
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return errBadRequest(err.Error())
			}
			if part.FormName() != "flows" {
				continue
			}
			b, err := io.ReadAll(io.LimitReader(part, maxBody))
			if err != nil {
				return errBadRequest(err.Error())
			}
			docs = append(docs, namedSource{filename: part.FileName(), source: string(b)})
		}
	} else {
		body, err := readBody(r)
		if err != nil {
			return err
		}
		for _, d := range splitYAMLDocs(body) {
			docs = append(docs, namedSource{source: d})
		}
	}
	tenant := tenantOf(r)
	out := make([]validationResult, 0, len(docs))
	for i, d := range docs {
		res := validationResult{Index: i, Filename: d.filename, DeprecationPaths: []string{}, Warnings: []string{}, Infos: []string{}}
		pf, aerr := s.parseFlow(d.source)
		if aerr != nil {
			res.Constraints = validateConstraints(aerr.message)
			if doc, perr := parseYAML(d.source); perr == nil {
				res.Namespace, _ = doc["namespace"].(string)
				res.Flow, _ = doc["id"].(string)
			}
		} else {
			res.Namespace, res.Flow = pf.namespace, pf.id
			if pf.revision != 0 {
				res.Outdated = pf.revision != s.lastRevision(flowKey{tenant, pf.namespace, pf.id})+1
			}
		}
		out = append(out, res)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// validateConstraints is the constraints text /flows/validate writes for a
// flow that create would refuse with message (FlowService#validate and
// #formatValidationError, 1.3.19 and 2.0.0-SNAPSHOT): the exception's own
// message after "Validation error: ", except a message that already starts
// "Illegal flow source:", kept as it is, and a leading ':' dropped. Validate
// parses through PluginDefaultService#parseFlowWithVersionDefaults, which
// names the YAML resource "Flow" where create's GenericFlow says
// "genericflow".
func validateConstraints(message string) string {
	m := strings.TrimPrefix(message, "Invalid entity: ")
	if rest, ok := strings.CutPrefix(m, yamlErrorPrefix); ok {
		m = "Illegal Flow source: " + rest
	}
	if strings.HasPrefix(m, "Illegal flow source:") {
		return m
	}
	return "Validation error: " + strings.TrimPrefix(m, ":")
}

// readFlowSources reads a bulk body: YAML split on ---, or multipart parts
// named flows.
func readFlowSources(r *http.Request) ([]string, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		return splitNaive(body), nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errBadRequest(err.Error())
	}
	var out []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, errBadRequest(err.Error())
		}
		if part.FormName() != "flows" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxBody))
		if err != nil {
			return nil, errBadRequest(err.Error())
		}
		out = append(out, string(b))
	}
}

func (s *Server) bulkNamespaceFlows(w http.ResponseWriter, r *http.Request) error {
	return s.bulkUpdate(w, r, r.PathValue("namespace"), false)
}

func (s *Server) bulkFlows(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	child, err := boolParam(q, "allowNamespaceChild", false)
	if err != nil {
		return err
	}
	return s.bulkUpdate(w, r, q.Get("namespace"), child)
}

// bulkUpdate creates or updates every flow of the body and, with delete
// (default true) and a namespace, deletes the namespace's other flows.
func (s *Server) bulkUpdate(w http.ResponseWriter, r *http.Request, namespace string, allowChild bool) error {
	q := r.URL.Query()
	del, err := boolParam(q, "delete", true)
	if err != nil {
		return err
	}
	sources, err := readFlowSources(r)
	if err != nil {
		return err
	}
	tenant := tenantOf(r)
	var items []parsedSource
	override := q.Get("override")
	for _, src := range sources {
		src = strings.TrimLeft(src, "\n")
		if override != "" {
			src = replaceNamespace(src, override)
		}
		pf, aerr := s.parseFlow(src)
		if aerr != nil {
			return aerr
		}
		items = append(items, parsedSource{pf, src})
	}
	flows, err := s.replaceFlows(tenant, namespace, allowChild, del, items)
	if err != nil {
		return err
	}
	out := flowsJSON(flows, false)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func replaceNamespace(src, ns string) string {
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "namespace:") {
			lines[i] = fmt.Sprintf("namespace: %s", ns)
		}
	}
	return strings.Join(lines, "\n")
}
