package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/speakeasy-api/openapi/overlay"
	"gopkg.in/yaml.v3"
)

// upstreamPath is the upstream Kestra document, beside the repository (CI
// checks it out as ../shared of the repository root). It is data for tests
// and never part of the project.
const upstreamPath = "../../../shared/kestra-openapi/kestra-ee.yml"

// The overlay and the committed output, relative to this package.
const (
	overlayPath   = "../overlay.yaml"
	committedPath = "../../openapi.yaml"
)

// upstream returns the upstream document's bytes, or skips the test.
func upstream(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(upstreamPath)
	if os.IsNotExist(err) {
		t.Skipf("upstream document %s is absent", upstreamPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func projectOverlay(t testing.TB) *overlay.Overlay {
	t.Helper()
	ov, err := LoadOverlay(overlayPath)
	if err != nil {
		t.Fatal(err)
	}
	return ov
}

var normalized = sync.OnceValues(func() ([]byte, error) {
	src, err := os.ReadFile(upstreamPath)
	if err != nil {
		return nil, err
	}
	ov, err := LoadOverlay(overlayPath)
	if err != nil {
		return nil, err
	}
	return Normalize(src, ov)
})

// normalizedDoc is the upstream document, normalized with the project's
// overlay, decoded into plain maps and slices.
// Tests only read it.
func normalizedDoc(t *testing.T) m {
	t.Helper()
	upstream(t)
	doc, err := normalizedDecoded()
	if err != nil {
		t.Fatalf("Normalize(upstream): %v", err)
	}
	return doc
}

var normalizedDecoded = sync.OnceValues(func() (m, error) {
	out, err := normalized()
	if err != nil {
		return nil, err
	}
	var doc m
	return doc, yaml.Unmarshal(out, &doc)
})

// upstreamDoc is the upstream document decoded; tests only read it.
func upstreamDoc(t *testing.T) m {
	t.Helper()
	upstream(t)
	doc, err := upstreamDecoded()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

var upstreamDecoded = sync.OnceValues(func() (m, error) {
	src, err := os.ReadFile(upstreamPath)
	if err != nil {
		return nil, err
	}
	var doc m
	return doc, yaml.Unmarshal(src, &doc)
})

type m = map[string]any

func decode(t testing.TB, b []byte) m {
	t.Helper()
	var doc m
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// at walks a path of map keys and slice indexes; it fails the test when a
// step is missing.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for i, p := range path {
		switch k := p.(type) {
		case string:
			mm, ok := v.(m)
			if !ok {
				t.Fatalf("%v: not a map at %q", path[:i], k)
			}
			if v, ok = mm[k]; !ok {
				t.Fatalf("%v: no key %q", path[:i], k)
			}
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				t.Fatalf("%v: no index %d", path[:i], k)
			}
			v = s[k]
		}
	}
	return v
}

func atMap(t *testing.T, v any, path ...any) m {
	t.Helper()
	mm, ok := at(t, v, path...).(m)
	if !ok {
		t.Fatalf("%v is not a map", path)
	}
	return mm
}

// operation is one operation of a document, with its path and method.
type operation struct {
	path, method string
	op           m
}

// operations lists every operation of a document, in path and method order.
func operations(doc m) []operation {
	var out []operation
	paths, _ := doc["paths"].(m)
	for _, p := range sortedKeys(paths) {
		item, _ := paths[p].(m)
		for _, meth := range sortedKeys(item) {
			if op, ok := item[meth].(m); ok && isMethod(meth) {
				out = append(out, operation{p, meth, op})
			}
		}
	}
	return out
}

func isMethod(s string) bool {
	switch s {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

func sortedKeys(mm m) []string {
	keys := make([]string, 0, len(mm))
	for k := range mm {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// params returns an operation's parameters, path-level ones included.
func params(doc m, path string, op m) []m {
	var out []m
	item := doc["paths"].(m)[path].(m)
	for _, src := range []any{item["parameters"], op["parameters"]} {
		s, _ := src.([]any)
		for _, p := range s {
			if pm, ok := p.(m); ok {
				out = append(out, pm)
			}
		}
	}
	return out
}

// walk calls fn for every map in v with the key under which it sits.
func walk(v any, key string, fn func(key string, mm m)) {
	switch x := v.(type) {
	case m:
		fn(key, x)
		for _, k := range sortedKeys(x) {
			walk(x[k], k, fn)
		}
	case []any:
		for _, e := range x {
			walk(e, key, fn)
		}
	}
}

// Overlay fixes, checked on the normalized upstream document (facts §8).

func TestPathVariablesArePathParameters(t *testing.T) {
	doc := normalizedDoc(t)
	vars := regexp.MustCompile(`\{([^}]+)\}`)
	n := 0
	for _, o := range operations(doc) {
		path, method, op := o.path, o.method, o.op
		inPath := map[string]bool{}
		for _, p := range params(doc, path, op) {
			if p["in"] == "path" {
				inPath[p["name"].(string)] = true
				if p["required"] != true {
					t.Errorf("%s %s: path parameter %v is not required", method, path, p["name"])
				}
			}
		}
		for _, v := range vars.FindAllStringSubmatch(path, -1) {
			if !inPath[v[1]] {
				t.Errorf("%s %s: {%s} has no path parameter", method, path, v[1])
			}
		}
		n++
	}
	if n == 0 {
		t.Fatal("no operations")
	}
	op := atMap(t, doc, "paths", "/api/v1/instance/metrics/{serviceType}", "get")
	for _, p := range params(doc, "/api/v1/instance/metrics/{serviceType}", op) {
		if p["name"] == "serviceType" && p["in"] != "path" {
			t.Errorf("serviceType is in %v", p["in"])
		}
	}
}

func TestStateHasNoLeakedGetters(t *testing.T) {
	doc := normalizedDoc(t)
	state := atMap(t, doc, "components", "schemas", "State")
	props := atMap(t, state, "properties")
	for _, getter := range []string{"getDuration", "getStartDate", "getEndDate"} {
		if _, ok := props[getter]; ok {
			t.Errorf("State.%s is still declared", getter)
		}
	}
	for _, field := range []string{"current", "histories", "startDate", "endDate", "duration"} {
		if _, ok := props[field]; !ok {
			t.Errorf("State.%s is gone", field)
		}
	}
	req := at(t, state, "required").([]any)
	if !slices.Equal(req, []any{"current", "histories"}) {
		t.Errorf("State.required = %v, want [current histories]", req)
	}

	// No schema anywhere requires a leaked getX/isX name (AssertionResult.isSuccess, Role.isManaged).
	getter := regexp.MustCompile(`^(get|is)[A-Z]`)
	walk(at(t, doc, "components", "schemas"), "", func(_ string, mm m) {
		req, _ := mm["required"].([]any)
		for _, r := range req {
			if s, ok := r.(string); ok && getter.MatchString(s) {
				t.Errorf("a schema requires the leaked getter %q", s)
			}
		}
	})
}

func TestNoSchemaRequiresDraft(t *testing.T) {
	up := upstreamDoc(t)
	doc := normalizedDoc(t)
	count := func(doc m) (n int) {
		walk(doc["components"].(m)["schemas"], "", func(_ string, mm m) {
			req, _ := mm["required"].([]any)
			if slices.Contains(req, any("draft")) {
				n++
			}
		})
		return n
	}
	if count(up) == 0 {
		t.Fatal("upstream no longer requires draft: drop the overlay action and this test")
	}
	if n := count(doc); n != 0 {
		t.Errorf("%d schemas still require draft", n)
	}
	// The property itself stays: Enterprise servers send it.
	if _, ok := atMap(t, doc, "components", "schemas", "AbstractFlow", "properties")["draft"]; !ok {
		t.Error("AbstractFlow.draft was removed")
	}
}

func TestFlowLabelsAreArraysOfLabel(t *testing.T) {
	doc := normalizedDoc(t)
	n := 0
	walk(at(t, doc, "components", "schemas"), "", func(key string, mm m) {
		if key != "properties" {
			return
		}
		labels, ok := mm["labels"].(m)
		if !ok {
			return
		}
		if _, ok := labels["oneOf"]; ok {
			t.Errorf("a labels property still has oneOf: %v", labels)
		}
		if ap, _ := labels["additionalProperties"].(m); ap["type"] == "string" {
			return // a map of strings (dashboard chart filters), not a Kestra label list
		}
		if labels["type"] != "array" {
			t.Errorf("a labels property is %v, want an array", labels)
			return
		}
		if ref := labels["items"].(m)["$ref"]; ref != "#/components/schemas/Label" {
			t.Errorf("labels items are %v, want Label", ref)
		}
		n++
	})
	if n == 0 {
		t.Fatal("no labels property found")
	}
	for _, name := range []string{"Flow", "FlowWithSource", "AbstractFlow"} {
		found := false
		walk(atMap(t, doc, "components", "schemas", name), "", func(key string, mm m) {
			if key == "properties" && mm["labels"] != nil {
				found = true
				if at(t, mm, "labels", "type") != "array" {
					t.Errorf("%s.labels is not an array", name)
				}
			}
		})
		if !found {
			t.Errorf("%s declares no labels", name)
		}
	}
	label := atMap(t, doc, "components", "schemas", "Label", "properties")
	if label["key"] == nil || label["value"] == nil {
		t.Errorf("Label = %v, want key and value", label)
	}
}

func TestTaskRunHasOutputs(t *testing.T) {
	doc := normalizedDoc(t)
	if got := at(t, doc, "components", "schemas", "TaskRun", "properties", "outputs", "type"); got != "object" {
		t.Errorf("TaskRun.outputs type = %v, want object", got)
	}
}

func TestObjectValuesAreUntyped(t *testing.T) {
	doc := normalizedDoc(t)
	for _, schema := range []string{"KVController.KvDetail", "QueryFilter"} {
		v := atMap(t, doc, "components", "schemas", schema, "properties", "value")
		if len(v) != 0 {
			t.Errorf("%s.value = %v, want {} (any JSON)", schema, v)
		}
	}
	// Map<String, Object>: values are any JSON, not objects (facts §10).
	for _, p := range []string{"inputs", "outputs", "variables"} {
		ap := at(t, doc, "components", "schemas", "ApiExecution", "properties", p, "additionalProperties")
		if mm, ok := ap.(m); !ok || len(mm) != 0 {
			t.Errorf("ApiExecution.%s.additionalProperties = %v, want {}", p, ap)
		}
	}
}

func TestTenantIDIsDeclared(t *testing.T) {
	doc := normalizedDoc(t)
	for _, schema := range []string{"Execution", "AbstractFlow", "LogEntry"} {
		if got := at(t, doc, "components", "schemas", schema, "properties", "tenantId", "type"); got != "string" {
			t.Errorf("%s.tenantId type = %v, want string", schema, got)
		}
	}
}

func TestPluginPropertiesAreKept(t *testing.T) {
	doc := normalizedDoc(t)
	for _, schema := range []string{"Task", "AbstractTrigger", "Input_Object_"} {
		if got := at(t, doc, "components", "schemas", schema, "additionalProperties"); got != true {
			t.Errorf("%s.additionalProperties = %v, want true", schema, got)
		}
	}
	// Property<T> schemas hold any JSON value; upstream has eight.
	n := 0
	for name, s := range atMap(t, doc, "components", "schemas") {
		if strings.HasPrefix(name, "Property_") {
			n++
			if len(s.(m)) != 0 {
				t.Errorf("%s = %v, want {}", name, s)
			}
		}
	}
	if n != 8 {
		t.Errorf("%d Property_ schemas, want 8", n)
	}
	if got := at(t, doc, "components", "schemas", "Task", "properties", "timeout", "$ref"); got != "#/components/schemas/Property_Duration_" {
		t.Errorf("Task.timeout = %v", got)
	}
}

func TestNoObjectIsClosed(t *testing.T) {
	// additionalProperties: false only ever stood for a Java map (flow
	// variables); no Kestra object rejects extra members.
	if n := strings.Count(string(mustNormalized(t)), "additionalProperties: false"); n != 0 {
		t.Errorf("%d closed objects", n)
	}
	if !strings.Contains(string(upstream(t)), "additionalProperties: false") {
		t.Fatal("upstream has no closed object any more: drop the overlay action and this test")
	}
}

func mustNormalized(t *testing.T) []byte {
	t.Helper()
	upstream(t)
	out, err := normalized()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestServerSentEventsAreStrings(t *testing.T) {
	doc := normalizedDoc(t)
	n := 0
	for _, o := range operations(doc) {
		path, method, op := o.path, o.method, o.op
		responses, _ := op["responses"].(m)
		for code, r := range responses {
			content, _ := r.(m)["content"].(m)
			sse, ok := content["text/event-stream"].(m)
			if !ok {
				continue
			}
			n++
			if s, _ := sse["schema"].(m); len(s) != 1 || s["type"] != "string" {
				t.Errorf("%s %s %s: text/event-stream schema = %v, want {type: string}", method, path, code, sse["schema"])
			}
		}
	}
	if n < 3 {
		t.Errorf("only %d event streams", n)
	}
	follow := at(t, doc, "paths", "/api/v1/{tenant}/executions/{executionId}/follow", "get", "responses", "200", "content", "text/event-stream", "schema", "type")
	if follow != "string" {
		t.Errorf("follow schema type = %v", follow)
	}
}

func TestFiltersAreDeepObjects(t *testing.T) {
	up, doc := upstreamDoc(t), normalizedDoc(t)
	count := func(doc m, check func(string, string, m)) (n int) {
		for _, o := range operations(doc) {
			path, method, op := o.path, o.method, o.op
			for _, p := range params(doc, path, op) {
				if p["name"] == "filters" && p["in"] == "query" {
					n++
					if check != nil {
						check(path, method, p)
					}
				}
			}
		}
		return n
	}
	want := count(up, nil)
	got := count(doc, func(path, method string, p m) {
		if p["style"] != "deepObject" || p["explode"] != true {
			t.Errorf("%s %s: filters style=%v explode=%v, want deepObject, true", method, path, p["style"], p["explode"])
		}
		if s, _ := p["schema"].(m); s["type"] != "object" || s["items"] != nil {
			t.Errorf("%s %s: filters schema = %v, want an object", method, path, p["schema"])
		}
	})
	if got != want || got == 0 {
		t.Errorf("%d filters parameters, upstream has %d", got, want)
	}
}

func TestMultipartBodiesAreObjects(t *testing.T) {
	doc := normalizedDoc(t)
	n := 0
	for _, o := range operations(doc) {
		path, method, op := o.path, o.method, o.op
		body, _ := op["requestBody"].(m)
		content, _ := body["content"].(m)
		s, ok := content["multipart/form-data"].(m)
		if !ok {
			continue
		}
		n++
		schema, _ := s["schema"].(m)
		if schema["type"] != "object" || schema["items"] != nil {
			t.Errorf("%s %s: multipart schema = %v, want an object", method, path, schema)
		}
	}
	if n == 0 {
		t.Fatal("no multipart bodies")
	}
	for _, path := range []string{"/api/v1/{tenant}/flows/validate", "/api/v1/{tenant}/flows/{namespace}"} {
		flows := atMap(t, doc, "paths", path, "post", "requestBody", "content", "multipart/form-data", "schema", "properties", "flows")
		if flows["type"] != "array" || at(t, flows, "items", "format") != "binary" {
			t.Errorf("%s: multipart flows = %v, want an array of files", path, flows)
		}
	}
	// The namespace deploy keeps its YAML body beside the multipart one.
	if _, ok := atMap(t, doc, "paths", "/api/v1/{tenant}/flows/{namespace}", "post", "requestBody", "content")["application/x-yaml"]; !ok {
		t.Error("POST /flows/{namespace} lost its application/x-yaml body")
	}
	create := atMap(t, doc, "paths", "/api/v1/{tenant}/executions/{namespace}/{id}", "post", "requestBody", "content", "multipart/form-data", "schema")
	if create["additionalProperties"] != true {
		t.Errorf("create execution multipart = %v, want any parts", create)
	}
}

func TestKVPutHeaders(t *testing.T) {
	doc := normalizedDoc(t)
	path := "/api/v1/{tenant}/namespaces/{namespace}/kv/{key}"
	headers := map[string]bool{}
	for _, p := range params(doc, path, atMap(t, doc, "paths", path, "put")) {
		if p["in"] == "header" {
			headers[p["name"].(string)] = true
		}
	}
	if !headers["ttl"] || !headers["description"] {
		t.Errorf("KV PUT headers = %v, want ttl and description", headers)
	}
}

func TestResponses(t *testing.T) {
	doc := normalizedDoc(t)
	kill := atMap(t, doc, "paths", "/api/v1/{tenant}/executions/{executionId}/actions/kill", "delete", "responses", "200", "content")
	if ref := at(t, kill, "application/json", "schema", "$ref"); ref != "#/components/schemas/Execution" {
		t.Errorf("kill application/json = %v", ref)
	}
	for _, path := range []string{"/api/v1/{tenant}/flows/{namespace}/{id}", "/api/v1/{tenant}/executions/{executionId}"} {
		codes := sortedKeys(atMap(t, doc, "paths", path, "delete", "responses"))
		if !slices.Equal(codes, []string{"204", "default"}) {
			t.Errorf("DELETE %s responses = %v, want [204 default]", path, codes)
		}
	}
	byIDs := atMap(t, doc, "paths", "/api/v1/{tenant}/executions/by-ids", "delete", "responses")
	if _, ok := byIDs["422"]; ok {
		t.Error("DELETE by-ids still declares 422")
	}
	if ref := at(t, byIDs, "400", "content", "application/json", "schema", "$ref"); ref != "#/components/schemas/BulkErrorResponse" {
		t.Errorf("DELETE by-ids 400 = %v", ref)
	}
	byQuery := atMap(t, doc, "paths", "/api/v1/{tenant}/executions/by-query", "delete", "responses")
	if _, ok := byQuery["422"]; ok {
		t.Error("DELETE by-query still declares 422")
	}
	if ref := at(t, byQuery, "400", "content", "application/json", "schema", "$ref"); ref != "#/components/schemas/BulkErrorResponse" {
		t.Errorf("DELETE by-query 400 = %v", ref)
	}
	if typ := at(t, doc, "components", "schemas", "BulkErrorResponse", "properties", "invalids", "type"); typ != "array" {
		t.Errorf("BulkErrorResponse.invalids type = %v, want array", typ)
	}
}

func TestJsonErrorIsTheDefaultResponse(t *testing.T) {
	doc := normalizedDoc(t)
	je := atMap(t, doc, "components", "schemas", "JsonError")
	if !slices.Equal(at(t, je, "required").([]any), []any{"message"}) {
		t.Errorf("JsonError.required = %v", je["required"])
	}
	if at(t, je, "properties", "_embedded", "properties", "errors", "type") != "array" {
		t.Error("JsonError._embedded.errors is not an array")
	}
	if at(t, je, "properties", "_links", "properties", "self", "$ref") != "#/components/schemas/JsonError.Link" {
		t.Error("JsonError._links.self is not a single link")
	}
	n := 0
	for _, o := range operations(doc) {
		path, method, op := o.path, o.method, o.op
		n++
		if strings.Contains(path, "/executions/webhook/") {
			// A webhook's other statuses may be the flow's answer too.
			schema := atMap(t, op, "responses", "default", "content", "application/json", "schema")
			if !slices.ContainsFunc(schema["anyOf"].([]any), func(s any) bool {
				return s.(map[string]any)["$ref"] == "#/components/schemas/JsonError"
			}) {
				t.Errorf("%s %s: default response = %v, want JsonError among its anyOf", method, path, schema)
			}
			continue
		}
		ref := at(t, op, "responses", "default", "content", "application/json", "schema", "$ref")
		if ref != "#/components/schemas/JsonError" {
			t.Errorf("%s %s: default response = %v", method, path, ref)
		}
	}
	if n == 0 {
		t.Fatal("no operations")
	}
}

func TestWebhookAnswers(t *testing.T) {
	doc := normalizedDoc(t)
	for _, path := range []string{"/api/v1/{tenant}/executions/webhook/{namespace}/{id}/{key}", "/api/v1/{tenant}/executions/webhook/{namespace}/{id}/{key}/{path}"} {
		for _, method := range []string{"get", "post", "put"} {
			rs := atMap(t, doc, "paths", path, method, "responses")
			if ref := at(t, rs, "200", "content", "application/json", "schema", "$ref"); ref != "#/components/schemas/WebhookAnswer" {
				t.Errorf("%s %s 200 = %v", method, path, ref)
			}
			if at(t, rs, "200", "content", "text/plain", "schema", "type") != "string" {
				t.Errorf("%s %s 200 has no text/plain", method, path)
			}
			for _, code := range []string{"204", "422"} {
				if r, ok := rs[code].(map[string]any); !ok || r["content"] != nil {
					t.Errorf("%s %s %s = %v, want a response without content", method, path, code, rs[code])
				}
			}
		}
	}
	answer := atMap(t, doc, "components", "schemas", "WebhookAnswer")
	if len(answer["anyOf"].([]any)) != 2 {
		t.Errorf("WebhookAnswer = %v", answer)
	}
}

func TestLoopRunParentIsAPointer(t *testing.T) {
	doc := normalizedDoc(t)
	parent := atMap(t, doc, "components", "schemas", "LoopRun", "properties", "parent")
	if parent["x-go-type-skip-optional-pointer"] != false {
		t.Errorf("LoopRun.parent = %v, want x-go-type-skip-optional-pointer: false", parent)
	}
	if at(t, parent, "allOf", 0, "$ref") != "#/components/schemas/Execution" {
		t.Errorf("LoopRun.parent = %v, want an Execution", parent)
	}
}

func TestProseIsGone(t *testing.T) {
	doc := normalizedDoc(t)
	for _, key := range []string{"description", "summary", "example", "examples", "externalDocs"} {
		n := 0
		walk(doc, "", func(parent string, mm m) {
			if _, ok := mm[key]; ok && parent != "properties" && parent != "headers" {
				n++
			}
		})
		if n > 0 {
			t.Errorf("%d %q keys left outside properties and headers", n, key)
		}
	}
	// A property called description survives.
	if _, ok := atMap(t, doc, "components", "schemas", "Task", "properties")["description"]; !ok {
		t.Error("Task.description (a property) was dropped")
	}
	if got := at(t, doc, "info", "title"); got == "" {
		t.Error("info.title was dropped")
	}
}

func TestEveryOperationIsKept(t *testing.T) {
	up, doc := upstreamDoc(t), normalizedDoc(t)
	ids := func(doc m) []string {
		var out []string
		for _, o := range operations(doc) {
			op := o.op
			out = append(out, op["operationId"].(string))
		}
		slices.Sort(out)
		return out
	}
	want, got := ids(up), ids(doc)
	if !slices.Equal(got, want) {
		t.Errorf("normalized has %d operationIds, upstream %d", len(got), len(want))
	}
	if len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Error("duplicate operationIds")
	}
	// The upstream document of this test has 523 operations (its 524th
	// "operationId:" line is a property of ApiAsyncOperationResponse).
	if len(got) != 523 {
		t.Errorf("%d operations, want 523", len(got))
	}
}

// Determinism.

func TestNormalizeIsDeterministic(t *testing.T) {
	src := upstream(t)
	ov := projectOverlay(t)
	before, err := ov.ToString()
	if err != nil {
		t.Fatal(err)
	}
	a, err := Normalize(src, ov)
	if err != nil {
		t.Fatal(err)
	}
	// What the other tests check came from another run and overlay value.
	if b, err := normalized(); err != nil || !bytes.Equal(a, b) {
		t.Fatalf("two runs differ (%v)", err)
	}
	// Applying the overlay leaves it as it was, so it can serve again.
	if after, err := ov.ToString(); err != nil || after != before {
		t.Errorf("Normalize changed the overlay (%v)", err)
	}
}

func TestNormalizedIsAFixedPoint(t *testing.T) {
	upstream(t)
	if testing.Short() {
		t.Skip("normalizes the whole document again")
	}
	a, err := normalized()
	if err != nil {
		t.Fatal(err)
	}
	// Without the overlay (its actions cannot apply twice), normalizing the
	// output changes nothing: no prose left, keys and styles canonical.
	again, err := Normalize(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, again) {
		t.Error("normalizing the normalized document changes it")
	}
}

func TestCommittedSpecIsUpToDate(t *testing.T) {
	upstream(t)
	want, err := normalized()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(committedPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("openapi.yaml is not the normalized upstream document: run `make spec generate` and commit")
	}
}

// Generic rules, on small documents.

func normalizeInline(t *testing.T, src string) m {
	t.Helper()
	out, err := Normalize([]byte(src), nil)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	return decode(t, out)
}

func TestLeakedGetters(t *testing.T) {
	doc := normalizeInline(t, `
openapi: 3.0.1
paths: {}
components:
  schemas:
    State:
      type: object
      required: [current, getDuration, duration, isOk]
      properties:
        current: {type: string}
        duration: {type: string}
        getDuration: {type: string}
        isOk: {type: boolean}
        getaway: {type: string}
        getOnly: {type: string}
`)
	s := atMap(t, doc, "components", "schemas", "State")
	props := sortedKeys(atMap(t, s, "properties"))
	// getDuration duplicates duration: gone. getOnly has no twin and
	// getaway is no getter: kept. isOk is kept as a property but never
	// required.
	if want := []string{"current", "duration", "getOnly", "getaway", "isOk"}; !slices.Equal(props, want) {
		t.Errorf("properties = %v, want %v", props, want)
	}
	if req := at(t, s, "required").([]any); !slices.Equal(req, []any{"current", "duration"}) {
		t.Errorf("required = %v, want [current duration]", req)
	}
}

func TestRequiredCleanup(t *testing.T) {
	doc := normalizeInline(t, `
openapi: 3.0.1
paths: {}
components:
  schemas:
    Ghost:
      type: object
      required: [missing]
      properties:
        here: {type: string}
    Composed:
      allOf:
        - $ref: '#/components/schemas/Ghost'
      required: [here]
      properties:
        other: {type: string}
`)
	if _, ok := atMap(t, doc, "components", "schemas", "Ghost")["required"]; ok {
		t.Error("a required list naming only missing properties was kept")
	}
	// With allOf, a required name may come from another part: kept.
	if req := at(t, doc, "components", "schemas", "Composed", "required").([]any); !slices.Equal(req, []any{"here"}) {
		t.Errorf("Composed.required = %v, want [here]", req)
	}
}

func TestMapOfObjectBecomesMapOfAny(t *testing.T) {
	doc := normalizeInline(t, `
openapi: 3.0.1
paths: {}
components:
  schemas:
    Exec:
      type: object
      properties:
        inputs:
          type: object
          additionalProperties: {type: object}
        typed:
          type: object
          additionalProperties: {type: object, properties: {a: {type: string}}}
        strings:
          type: object
          additionalProperties: {type: string}
`)
	p := atMap(t, doc, "components", "schemas", "Exec", "properties")
	if ap := atMap(t, p, "inputs", "additionalProperties"); len(ap) != 0 {
		t.Errorf("inputs.additionalProperties = %v, want {}", ap)
	}
	if ap := atMap(t, p, "typed", "additionalProperties"); len(ap) != 2 {
		t.Errorf("typed.additionalProperties = %v, want it kept", ap)
	}
	if ap := atMap(t, p, "strings", "additionalProperties"); ap["type"] != "string" {
		t.Errorf("strings.additionalProperties = %v, want it kept", ap)
	}
}

func TestProseKeptAsNames(t *testing.T) {
	doc := normalizeInline(t, `
openapi: 3.0.1
info:
  title: Kestra
  description: words
  version: "1"
tags:
  - name: Flows
    description: words
paths:
  /kv/{key}:
    put:
      summary: words
      description: words
      tags: [KV]
      operationId: setKV
      parameters:
        - name: description
          in: header
          description: words
          example: x
          schema: {type: string, description: words}
      responses:
        "200":
          description: ok
          headers:
            summary:
              description: words
              schema: {type: string}
components:
  schemas:
    Task:
      type: object
      description: words
      title: Task
      example: {id: x}
      externalDocs: {url: "http://x"}
      properties:
        description: {type: string, description: words}
        summary: {type: string}
        example: {type: string}
        title: {type: string, title: T}
`)
	if got := sortedKeys(atMap(t, doc, "info")); !slices.Equal(got, []string{"title", "version"}) {
		t.Errorf("info = %v, want [title version]", got)
	}
	if _, ok := doc["tags"]; ok {
		t.Error("top-level tags kept")
	}
	op := atMap(t, doc, "paths", "/kv/{key}", "put")
	if got := sortedKeys(op); !slices.Equal(got, []string{"operationId", "parameters", "responses"}) {
		t.Errorf("operation keys = %v", got)
	}
	param := atMap(t, op, "parameters", 0)
	if param["name"] != "description" || len(param) != 3 || len(atMap(t, param, "schema")) != 1 {
		t.Errorf("parameter = %v, want name, in and schema {type}", param)
	}
	if h := atMap(t, op, "responses", "200", "headers", "summary"); len(h) != 1 {
		t.Errorf("header summary = %v, want its schema only", h)
	}
	if r := atMap(t, op, "responses", "200"); r["description"] != nil {
		t.Error("response description kept")
	}
	task := atMap(t, doc, "components", "schemas", "Task")
	if got := sortedKeys(task); !slices.Equal(got, []string{"properties", "type"}) {
		t.Errorf("Task keys = %v, want [properties type]", got)
	}
	props := atMap(t, task, "properties")
	if got := sortedKeys(props); !slices.Equal(got, []string{"description", "example", "summary", "title"}) {
		t.Errorf("Task properties = %v", got)
	}
	if d := atMap(t, props, "description"); len(d) != 1 || d["type"] != "string" {
		t.Errorf("Task.description = %v, want {type: string}", d)
	}
}

func TestKeysAreSorted(t *testing.T) {
	out, err := Normalize([]byte(`{"openapi":"3.0.1","paths":{"/b":{"post":{"responses":{}},"get":{"responses":{}}},"/a":{}},"info":{"version":"1","title":"t"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `openapi: 3.0.1
paths:
  /a: {}
  /b:
    get:
      responses: {}
    post:
      responses: {}
info:
  title: t
  version: "1"
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestNormalizeRejects(t *testing.T) {
	for name, src := range map[string]string{
		"empty":      "",
		"not yaml":   "{",
		"plain map":  "foo: bar",
		"list":       "- openapi: 3.0.1",
		"swagger 2":  "swagger: '2.0'\npaths: {}",
		"no paths":   "openapi: 3.0.1",
		"paths list": "openapi: 3.0.1\npaths: []",
	} {
		t.Run(name, func(t *testing.T) {
			if out, err := Normalize([]byte(src), nil); err == nil {
				t.Errorf("Normalize(%q) = %q, want an error", src, out)
			}
		})
	}
}

func TestOverlayMustMatch(t *testing.T) {
	// A document that lacks what the overlay fixes is an error, not a
	// silent no-op: the overlay needs review when upstream changes.
	_, err := Normalize([]byte("openapi: 3.0.1\npaths: {}\n"), projectOverlay(t))
	if err == nil || !strings.Contains(err.Error(), "overlay") {
		t.Errorf("err = %v, want an overlay error", err)
	}
}

// The command.

var buildCmd = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "normalize-test-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "normalize")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &exec.ExitError{Stderr: out}
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := buildCmd(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

func TestCommandBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin, err := buildCmd()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	dir := t.TempDir()
	notOpenAPI := filepath.Join(dir, "foo.yaml")
	if err := os.WriteFile(notOpenAPI, []byte("foo: bar\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badOverlay := filepath.Join(dir, "overlay.yaml")
	if err := os.WriteFile(badOverlay, []byte("foo: bar\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	absOverlay, err := filepath.Abs(overlayPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		mention string
	}{
		{"missing file", []string{"-in", filepath.Join(dir, "nope.yml")}, "nope.yml"},
		{"not OpenAPI", []string{"-in", notOpenAPI}, "not an OpenAPI"},
		{"unreachable URL", []string{"-in", "http://127.0.0.1:1/swagger/kestra.yml", "-timeout", "5s"}, "127.0.0.1:1"},
		{"bad overlay", []string{"-in", notOpenAPI, "-overlay", badOverlay}, ""},
		{"no input", nil, "-in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "openapi.yaml")
			const before = "pre-existing output\n"
			if err := os.WriteFile(out, []byte(before), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"-out", out}, tc.args...)
			if !slices.Contains(args, "-overlay") {
				args = append(args, "-overlay", absOverlay)
			}
			cmd := exec.Command(bin, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			if _, ok := err.(*exec.ExitError); !ok {
				t.Fatalf("exit: %v, want a non-zero exit", err)
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") || !strings.HasPrefix(msg, "normalize: ") {
				t.Errorf("stderr = %q, want one line starting with \"normalize: \"", msg)
			}
			if !strings.Contains(msg, tc.mention) {
				t.Errorf("stderr = %q, want it to mention %q", msg, tc.mention)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q", stdout.String())
			}
			got, err := os.ReadFile(out)
			if err != nil || string(got) != before {
				t.Errorf("output file changed: %q, %v", got, err)
			}
			entries, _ := os.ReadDir(filepath.Dir(out))
			if len(entries) != 1 {
				t.Errorf("output directory holds %d entries, want only the output", len(entries))
			}
		})
	}
}

func TestRunWritesOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.yaml")
	if err := os.WriteFile(in, []byte("openapi: 3.0.1\npaths: {}\ninfo: {title: t, version: '1', description: d}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyOverlay := filepath.Join(dir, "overlay.yaml")
	if err := os.WriteFile(emptyOverlay, []byte("overlay: 1.1.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $.info\n    update: {version: '2'}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.yaml")
	if err := run(in, out, emptyOverlay, time.Second); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "openapi: 3.0.1\npaths: {}\ninfo:\n  title: t\n  version: \"2\"\n"; string(got) != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

// Fuzzing: Normalize never panics, whatever the input, with the real overlay.

func FuzzNormalize(f *testing.F) {
	ov, err := LoadOverlay(overlayPath)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"",
		"foo: bar",
		"openapi: 3.0.1\npaths: {}",
		"openapi: 3.0.1\npaths:\n  /a/{x}:\n    get:\n      parameters: [{name: x, in: query}]\n",
		"openapi: 3.0.1\npaths: {}\ncomponents:\n  schemas:\n    State:\n      required: [getDuration]\n      properties: {getDuration: {}, duration: {}}\n",
		"openapi: 3.0.1\npaths: {}\ncomponents: {schemas: {X: {additionalProperties: {type: object}}}}",
		"openapi: 3.0.1\npaths: &a {x: *a}",
		"openapi: '3'\npaths: {a: [1, {description: x}]}\ndescription: y",
		`{"openapi":"3.1.0","paths":{"/f":{"get":{"parameters":[{"name":"filters","in":"query","schema":{"type":"array"}}]}}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 4096 {
			return
		}
		// With the overlay, every action runs (most find no target, which
		// is an error here): it must not panic.
		Normalize(src, ov) //nolint:errcheck
		out, err := Normalize(src, nil)
		if err != nil {
			return
		}
		// Whatever comes out is an OpenAPI document that normalizes again
		// and, short of YAML's exotic features (anchors, aliases, tags,
		// complex keys, directives, whose rendering the encoder may change
		// once), normalizes to itself.
		again, err := Normalize(out, nil)
		if err != nil {
			t.Fatalf("output does not normalize again: %v\n%s", err, out)
		}
		if bytes.ContainsAny(src, "&*!?%") {
			return
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("not stable:\n%s\n---\n%s", out, again)
		}
	})
}
