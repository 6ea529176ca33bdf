package emulator

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// Label is a key/value label of a flow or an execution.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// parsedFlow is a flow source that parsed and validated.
type parsedFlow struct {
	doc       map[string]any
	id        string
	namespace string
	revision  int // the revision the YAML carries, 0 if none
	disabled  bool
	labels    []Label
	tasks     []map[string]any
	inputs    []map[string]any
	triggers  []map[string]any
	outputs   []map[string]any
	variables map[string]any
	// concurrency is the flow's concurrency limit; limit 0 means none.
	concurrency struct {
		limit    int
		behavior string // QUEUE (the default), CANCEL or FAIL
	}
}

var (
	flowIDRe      = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)
	namespaceRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	taskIDRe      = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`)
	flowIDPattern = `^[a-zA-Z0-9][a-zA-Z0-9._-]*`
	nsPattern     = `^[a-z0-9][a-z0-9._-]*`
	taskIDPattern = `^[a-zA-Z0-9][a-zA-Z0-9_-]*`
)

// flowProperties are the top-level properties Kestra's FlowWithSource
// knows; any other one is an "Unrecognized field".
var flowProperties = map[string]bool{
	"id": true, "namespace": true, "revision": true, "description": true, "labels": true,
	"inputs": true, "outputs": true, "variables": true, "tasks": true, "errors": true,
	"finally": true, "afterExecution": true, "listeners": true, "triggers": true,
	"pluginDefaults": true, "taskDefaults": true, "disabled": true, "deleted": true,
	"concurrency": true, "retry": true, "sla": true, "checks": true, "workerGroup": true,
	"tenantId": true,
}

// Canonical task types the runner simulates.
const (
	typeLog    = "io.kestra.plugin.core.log.Log"
	typeReturn = "io.kestra.plugin.core.debug.Return"
	typeFail   = "io.kestra.plugin.core.execution.Fail"
	typePause  = "io.kestra.plugin.core.flow.Pause"
	typeSleep  = "io.kestra.plugin.core.flow.Sleep"

	typeWebhook = "io.kestra.plugin.core.trigger.Webhook"

	typeDag = "io.kestra.plugin.core.flow.Dag"
)

// typeAliases maps legacy class names to the canonical ones.
var typeAliases = map[string]string{
	"io.kestra.core.tasks.log.Log":                    typeLog,
	"io.kestra.core.tasks.debugs.Return":              typeReturn,
	"io.kestra.core.tasks.debugs.Echo":                typeLog,
	"io.kestra.plugin.core.debug.Echo":                typeLog,
	"io.kestra.core.tasks.executions.Fail":            typeFail,
	"io.kestra.core.tasks.flows.Pause":                typePause,
	"io.kestra.core.tasks.flows.Sleep":                typeSleep,
	"io.kestra.core.models.triggers.types.Webhook":    typeWebhook,
	"io.kestra.core.models.triggers.types.Schedule":   "io.kestra.plugin.core.trigger.Schedule",
	"io.kestra.core.models.triggers.types.Flow":       "io.kestra.plugin.core.trigger.Flow",
	"io.kestra.core.tasks.flows.Sequential":           "io.kestra.plugin.core.flow.Sequential",
	"io.kestra.core.tasks.flows.Parallel":             "io.kestra.plugin.core.flow.Parallel",
	"io.kestra.core.tasks.flows.Dag":                  typeDag,
	"io.kestra.plugin.core.flow.WaitFor":              typeLoopUntil,
	"io.kestra.core.tasks.flows.EachSequential":       typeEachSequential,
	"io.kestra.core.tasks.flows.EachParallel":         typeEachParallel,
	"io.kestra.core.tasks.flows.WorkingDirectory":     typeWorkingDirectory,
	"io.kestra.core.tasks.flows.Worker":               typeWorkingDirectory,
	"io.kestra.core.tasks.flows.If":                   typeIf,
	"io.kestra.core.tasks.flows.Switch":               typeSwitch,
	"io.kestra.core.tasks.flows.AllowFailure":         typeAllowFailure,
	"io.kestra.core.tasks.flows.Subflow":              typeSubflow,
	"io.kestra.core.tasks.flows.Flow":                 typeSubflow,
	"io.kestra.plugin.core.flow.EachSequential":       typeEachSequential,
	"io.kestra.plugin.core.flow.EachParallel":         typeEachParallel,
	"io.kestra.core.tasks.executions.Counts":          "io.kestra.plugin.core.execution.Count",
	"io.kestra.core.tasks.storages.LocalFiles":        "io.kestra.plugin.core.storage.LocalFiles",
	"io.kestra.plugin.scripts.shell.Commands":         "io.kestra.plugin.scripts.shell.Commands",
	"io.kestra.core.tasks.scripts.Bash":               "io.kestra.plugin.scripts.shell.Commands",
	"io.kestra.plugin.core.execution.SetVariables":    "io.kestra.plugin.core.execution.SetVariables",
	"io.kestra.plugin.core.output.OutputValues":       "io.kestra.plugin.core.output.OutputValues",
	"io.kestra.plugin.core.execution.Labels":          "io.kestra.plugin.core.execution.Labels",
	"io.kestra.plugin.core.execution.Exit":            "io.kestra.plugin.core.execution.Exit",
	"io.kestra.plugin.core.execution.Assert":          "io.kestra.plugin.core.execution.Assert",
	"io.kestra.plugin.core.http.Request":              "io.kestra.plugin.core.http.Request",
	"io.kestra.plugin.core.http.Download":             "io.kestra.plugin.core.http.Download",
	"io.kestra.plugin.core.kv.Set":                    "io.kestra.plugin.core.kv.Set",
	"io.kestra.plugin.core.kv.Get":                    "io.kestra.plugin.core.kv.Get",
	"io.kestra.plugin.core.kv.Delete":                 "io.kestra.plugin.core.kv.Delete",
	"io.kestra.plugin.core.log.Fetch":                 "io.kestra.plugin.core.log.Fetch",
	"io.kestra.plugin.core.storage.Write":             "io.kestra.plugin.core.storage.Write",
	"io.kestra.plugin.core.storage.Delete":            "io.kestra.plugin.core.storage.Delete",
	"io.kestra.plugin.core.storage.LocalFiles":        "io.kestra.plugin.core.storage.LocalFiles",
	"io.kestra.plugin.core.flow.Subflow":              "io.kestra.plugin.core.flow.Subflow",
	"io.kestra.plugin.core.flow.WorkingDirectory":     "io.kestra.plugin.core.flow.WorkingDirectory",
	"io.kestra.plugin.core.flow.Sequential":           "io.kestra.plugin.core.flow.Sequential",
	"io.kestra.plugin.core.flow.Parallel":             "io.kestra.plugin.core.flow.Parallel",
	"io.kestra.plugin.core.flow.If":                   "io.kestra.plugin.core.flow.If",
	"io.kestra.plugin.core.flow.Switch":               "io.kestra.plugin.core.flow.Switch",
	"io.kestra.plugin.core.flow.ForEach":              "io.kestra.plugin.core.flow.ForEach",
	"io.kestra.plugin.core.flow.AllowFailure":         "io.kestra.plugin.core.flow.AllowFailure",
	"io.kestra.plugin.core.trigger.Schedule":          "io.kestra.plugin.core.trigger.Schedule",
	"io.kestra.plugin.core.trigger.Flow":              "io.kestra.plugin.core.trigger.Flow",
	"io.kestra.plugin.core.condition.ExecutionStatus": "io.kestra.plugin.core.condition.ExecutionStatus",
}

// inputTypes are the input types: Kestra's Type enum as the 2.0 spec lists
// it. The older BOOLEAN and ENUM are accepted by 1.3 only: the 2.0 spec,
// generated from the server's own enum, no longer lists them.
var inputTypes = map[string]bool{
	"STRING": true, "INT": true, "FLOAT": true, "BOOL": true, "DATETIME": true,
	"DATE": true, "TIME": true, "DURATION": true, "JSON": true, "ARRAY": true, "FILE": true,
	"SELECT": true, "MULTISELECT": true, "URI": true, "SECRET": true, "EMAIL": true, "YAML": true,
	"FORM": true, "REUSABLE_INPUTS": true,
}

var legacyInputTypes = map[string]bool{"BOOLEAN": true, "ENUM": true}

// canonicalType returns the class the runner simulates for a task or
// trigger type (an alias resolved), and whether it is one the emulator
// knows by name; any other type is returned as is.
func canonicalType(t string) (string, bool) {
	switch t {
	case typeLog, typeReturn, typeFail, typePause, typeSleep, typeWebhook:
		return t, true
	}
	if c, ok := typeAliases[t]; ok {
		return c, true
	}
	return t, false
}

// typeSets are the core types of each version, as sets.
var typeSets = map[Version]map[string]bool{
	Version13: setOf(coreTypesBoth, coreTypes13Only),
	// 2.0.0-SNAPSHOT removed ForEach (develop commit e03e3de9e, in favour
	// of Loop): a 2.0 flow using it is refused as any unknown type.
	Version20: setOf(coreTypesBoth, coreTypes20Only),
}

func setOf(lists ...[]string) map[string]bool {
	m := map[string]bool{}
	for _, l := range lists {
		for _, t := range l {
			m[t] = true
		}
	}
	return m
}

// typeKnown reports whether Kestra v with the plugins installed accepts
// the type t: a core type (or core alias) of v, or an installed plugin's.
// Kestra refuses any other type, as it cannot resolve its class ("Invalid
// type").
func typeKnown(t string, v Version, plugins []string) bool {
	if typeSets[v][t] {
		return true
	}
	for _, p := range plugins {
		if t == p || (strings.HasSuffix(p, ".") && strings.HasPrefix(t, p)) {
			return true
		}
	}
	return false
}

// parseFlow parses and validates a flow source as this server's Kestra
// version, with its installed plugins, would.
func (en *engine) parseFlow(src string) (*parsedFlow, *apiError) {
	en.pluginsMu.RLock()
	plugins := en.cfg.plugins
	en.pluginsMu.RUnlock()
	return parseFlowAs(src, en.cfg.version, plugins)
}

// yamlErrorPrefix starts the message of a flow source that does not parse,
// on create and update (GenericFlow#fromYaml).
const yamlErrorPrefix = "Illegal genericflow source: "

// yamlError is the refusal of a source that does not parse: the
// exception's message says "Illegal genericflow source: ", its one
// violation (path yaml) does not (YamlParser#toConstraintViolationException,
// 1.3.19 and 2.0.0-SNAPSHOT).
func yamlError(msg string, line int) *apiError {
	m := fmt.Sprintf("YAML parsing error: %s (at line %d)", msg, line)
	return errInvalidEntityMsg(yamlErrorPrefix+m, Violation{Path: "yaml", Message: m})
}

// parseYAML parses one YAML document into a map.
func parseYAML(src string) (map[string]any, *apiError) {
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) {
			line := 1
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				line = tk.Position.Line
			}
			return nil, yamlError(ye.GetMessage(), line)
		}
		return nil, yamlError(err.Error(), 1)
	}
	switch m := v.(type) {
	case map[string]any:
		return m, nil
	case nil:
		return nil, yamlError("No content to map due to end-of-input", 1)
	default:
		return nil, yamlError(fmt.Sprintf("Cannot deserialize value of type `FlowWithSource` from %T", v), 1)
	}
}

const flowClass = "io.kestra.core.models.flows.FlowWithSource"

// parseFlowAs parses and validates a flow source the way the create
// endpoint of Kestra v with plugins installed does: YAML syntax, then
// unknown properties and types, then bean validation.
func parseFlowAs(src string, v Version, plugins []string) (*parsedFlow, *apiError) {
	doc, aerr := parseYAML(src)
	if aerr != nil {
		return nil, aerr
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !flowProperties[k] {
			m := fmt.Sprintf(`Unrecognized field "%s" (class %s), not marked as ignorable`, k, flowClass)
			return nil, errInvalidEntityMsg(m, Violation{Path: fmt.Sprintf(`%s["%s"]`, flowClass, k), Message: m})
		}
	}
	// Jackson coerces a scalar to a String property: id: 2024 is "2024".
	coerceString(doc, "id")
	coerceString(doc, "namespace")
	pf := &parsedFlow{doc: doc}
	pf.id, _ = doc["id"].(string)
	pf.namespace, _ = doc["namespace"].(string)
	pf.disabled, _ = doc["disabled"].(bool)
	pf.revision = intOf(doc["revision"])
	pf.tasks = mapList(doc["tasks"])
	pf.inputs = mapList(doc["inputs"])
	pf.triggers = mapList(doc["triggers"])
	pf.outputs = mapList(doc["outputs"])
	pf.variables, _ = doc["variables"].(map[string]any)
	pf.labels = labelsOf(doc["labels"])
	if c, ok := doc["concurrency"].(map[string]any); ok {
		pf.concurrency.limit = intProp(c, "limit", 0)
		pf.concurrency.behavior = strings.ToUpper(stringify(c["behavior"]))
		if pf.concurrency.behavior == "" {
			pf.concurrency.behavior = "QUEUE"
		}
	}

	// Jackson's polymorphic type resolution fails first.
	for _, list := range []string{"tasks", "errors", "finally", "afterExecution", "triggers"} {
		if aerr := checkTypes(mapList(doc[list]), fmt.Sprintf(`%s["%s"]`, flowClass, list), v, plugins); aerr != nil {
			return nil, aerr
		}
	}
	for i, in := range pf.inputs {
		t, _ := in["type"].(string)
		if t != "" {
			in["type"] = strings.ToUpper(t) // enums are case-insensitive, written upper-case
		}
		if u := strings.ToUpper(t); t != "" && !inputTypes[u] && !(v == Version13 && legacyInputTypes[u]) {
			path := fmt.Sprintf(`%s["inputs"]->java.util.ArrayList[%d]`, flowClass, i)
			return nil, errInvalidEntityMsg("Invalid type: "+t,
				Violation{Path: path, Message: "Invalid type: " + t},
				Violation{Path: path + `->io.kestra.core.models.flows.Input["type"]`, Message: "Invalid type: " + t},
			)
		}
	}

	var vs []Violation
	switch {
	case doc["id"] == nil:
		vs = append(vs, Violation{Path: "id", Message: "must not be null"})
	case !flowIDRe.MatchString(pf.id):
		vs = append(vs, Violation{Path: "id", Message: fmt.Sprintf("must match %q", flowIDPattern)})
	case len(pf.id) > 100:
		vs = append(vs, Violation{Path: "id", Message: "size must be between 1 and 100"})
	}
	switch {
	case doc["namespace"] == nil:
		vs = append(vs, Violation{Path: "namespace", Message: "must not be null"})
	case !namespaceRe.MatchString(pf.namespace):
		vs = append(vs, Violation{Path: "namespace", Message: fmt.Sprintf("must match %q", nsPattern)})
	case len(pf.namespace) > 150:
		// @Size(min = 1, max = 150) (AbstractFlow, 1.3.19 and 2.0.0-SNAPSHOT).
		vs = append(vs, Violation{Path: "namespace", Message: "size must be between 1 and 150"})
	}
	if len(pf.tasks) == 0 {
		vs = append(vs, Violation{Path: "tasks", Message: "must not be empty"})
	}
	seen := map[string]bool{}
	var dups []string
	// checkTasks checks tasks at prefix[i]; a Dag's tasks are at
	// prefix[i].task.
	var checkTasks func(prefix string, tasks []map[string]any, suffix string)
	checkTasks = func(prefix string, tasks []map[string]any, suffix string) {
		for i, t := range tasks {
			p := fmt.Sprintf("%s[%d]%s", prefix, i, suffix)
			coerceString(t, "id")
			id, _ := t["id"].(string)
			vs = append(vs, missingProps(t, p, v)...)
			if typ, _ := canonicalType(stringify(t["type"])); typ == typeDag {
				vs = append(vs, dagViolations(t, p)...)
			}
			switch {
			case t["id"] == nil:
				vs = append(vs, Violation{Path: p + ".id", Message: "must not be null"})
			case !taskIDRe.MatchString(id):
				vs = append(vs, Violation{Path: p + ".id", Message: fmt.Sprintf("must match %q", taskIDPattern)})
			case seen[id]:
				dups = append(dups, id)
			default:
				seen[id] = true
			}
			for _, sub := range []string{"tasks", "then", "else", "errors"} {
				suffix := ""
				if typ, _ := t["type"].(string); sub == "tasks" && typ == typeDag {
					suffix = ".task"
				}
				checkTasks(p+"."+sub, subTasks(t[sub]), suffix)
			}
			if cases, ok := t["cases"].(map[string]any); ok {
				for k, c := range cases {
					checkTasks(p+".cases."+k, mapList(c), "")
				}
			}
		}
	}
	checkTasks("tasks", pf.tasks, "")
	checkTasks("errors", mapList(doc["errors"]), "")
	checkTasks("finally", mapList(doc["finally"]), "")
	if len(dups) > 0 {
		vs = append(vs, Violation{Path: "tasks", Message: "Duplicate task id with name [" + strings.Join(dups, ", ") + "]"})
	}
	for i, in := range pf.inputs {
		p := fmt.Sprintf("inputs[%d]", i)
		id, _ := in["id"].(string)
		if in["id"] == nil {
			vs = append(vs, Violation{Path: p + ".id", Message: "must not be null"})
		} else if !taskIDRe.MatchString(id) {
			vs = append(vs, Violation{Path: p + ".id", Message: fmt.Sprintf("must match %q", taskIDPattern)})
		}
		if in["type"] == nil {
			vs = append(vs, Violation{Path: p + ".type", Message: "must not be null"})
		}
	}
	for i, tr := range pf.triggers {
		p := fmt.Sprintf("triggers[%d]", i)
		coerceString(tr, "id")
		if tr["id"] == nil {
			vs = append(vs, Violation{Path: p + ".id", Message: "must not be null"})
		}
		vs = append(vs, missingProps(tr, p, v)...)
	}
	if len(vs) > 0 {
		return nil, errInvalidEntity(vs...)
	}
	return pf, nil
}

// revisionLineRe is FlowInterface's YAML_REVISION_MATCHER (1.3.19 and
// 2.0.0-SNAPSHOT).
var revisionLineRe = regexp.MustCompile(`(?m)^revision: \d+\n?`)

// sourceWithoutRevision drops the first "revision: N" line of a source,
// as Kestra does before it compares an update with the stored source
// (FlowInterface#isSameWithSource).
func sourceWithoutRevision(src string) string {
	if loc := revisionLineRe.FindStringIndex(src); loc != nil {
		return src[:loc[0]] + src[loc[1]:]
	}
	return src
}

// coerceString turns a scalar property into its text, as Jackson does
// for a String property given a number or a boolean.
func coerceString(m map[string]any, key string) {
	switch x := m[key].(type) {
	case int, int64, uint64, float64, bool:
		m[key] = fmt.Sprint(x)
	}
}

// missingProps reports the required properties of a core task or
// trigger t (at path p) that are absent, null or, for @NotEmpty, empty.
func missingProps(t map[string]any, p string, v Version) []Violation {
	typ, _ := t["type"].(string)
	typ, _ = canonicalType(typ)
	req := requiredProps20
	if v == Version13 {
		req = requiredProps13
	}
	var vs []Violation
	for _, rp := range req[typ] {
		val, ok := t[rp.name]
		switch {
		case !ok || val == nil:
			msg := "must not be null"
			if rp.nonEmpty {
				msg = "must not be empty"
			}
			vs = append(vs, Violation{Path: p + "." + rp.name, Message: msg})
		case rp.nonEmpty && isEmptyValue(val):
			vs = append(vs, Violation{Path: p + "." + rp.name, Message: "must not be empty"})
		}
	}
	return vs
}

func isEmptyValue(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// checkTypes reports the first task (recursively) whose type Kestra v
// with plugins installed cannot resolve.
func checkTypes(tasks []map[string]any, path string, v Version, plugins []string) *apiError {
	for i, t := range tasks {
		p := fmt.Sprintf("%s->java.util.ArrayList[%d]", path, i)
		typ, _ := t["type"].(string)
		if !typeKnown(typ, v, plugins) {

			if t["type"] == nil {
				typ = "null"
			}
			return errInvalidEntityMsg("Invalid type: "+typ,
				Violation{Path: p, Message: "Invalid type: " + typ},
				Violation{Path: p + `->io.kestra.core.models.tasks.Task["type"]`, Message: "Invalid type: " + typ},
			)
		}
		for _, sub := range []string{"tasks", "then", "else", "errors"} {
			if aerr := checkTypes(subTasks(t[sub]), fmt.Sprintf(`%s->%s["%s"]`, p, typ, sub), v, plugins); aerr != nil {
				return aerr
			}
		}
		if cases, ok := t["cases"].(map[string]any); ok {
			for k, c := range cases {
				if aerr := checkTypes(mapList(c), fmt.Sprintf(`%s->%s["cases"]["%s"]`, p, typ, k), v, plugins); aerr != nil {
					return aerr
				}
			}
		}
	}
	return nil
}

// subTasks reads a list of child tasks; a Dag's items ({task, dependsOn})
// give their task.
func subTasks(v any) []map[string]any {
	l := mapList(v)
	for i, m := range l {
		if t, ok := m["task"].(map[string]any); ok && m["type"] == nil {
			l[i] = t
		}
	}
	return l
}

func mapList(v any) []map[string]any {
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		} else {
			out = append(out, map[string]any{})
		}
	}
	return out
}

func intOf(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case uint64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}

// labelsOf reads flow labels written as a map or as a list of key/value.
func labelsOf(v any) []Label {
	out := []Label{}
	switch l := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(l))
		for k := range l {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			out = append(out, Label{Key: k, Value: fmt.Sprint(l[k])})
		}
	case []any:
		for _, x := range l {
			if m, ok := x.(map[string]any); ok {
				k, _ := m["key"].(string)
				out = append(out, Label{Key: k, Value: fmt.Sprint(m["value"])})
			}
		}
	}
	return out
}

// splitYAMLDocs splits a multi-flow body on a line of ---, as
// /flows/validate does (regex \n+---\n*?).
func splitYAMLDocs(body string) []string {
	re := regexp.MustCompile(`\n+---\n*?`)
	return re.Split(body, -1)
}

// splitNaive splits on the string ---, as the bulk endpoints do, dropping
// blank documents.
func splitNaive(body string) []string {
	var out []string
	for _, p := range strings.Split(body, "---") {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}
