package emulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Flowable tasks (core/.../plugin/core/flow) and subflows. A flowable task
// is never sent to a worker: its task run goes CREATED → RUNNING when the
// executor reaches it, with an attempt in RUNNING (the "flowable attempt
// state transition to running" of ExecutionEventMessageHandler,
// 2.0.0-SNAPSHOT, and JdbcExecutor, 1.3.19, which replaces the attempts
// where 2.0 adds one), and ends, its attempt with it, in the state its
// children sum up (FlowableUtils#resolveState, Execution#guessFinalState):
// KILLED, else FAILED, else WARNING, else SUCCESS. Its children's task
// runs carry its task run id as parentTaskRunId.

const (
	typeSequential   = "io.kestra.plugin.core.flow.Sequential"
	typeParallel     = "io.kestra.plugin.core.flow.Parallel"
	typeIf           = "io.kestra.plugin.core.flow.If"
	typeSwitch       = "io.kestra.plugin.core.flow.Switch"
	typeForEach      = "io.kestra.plugin.core.flow.ForEach"
	typeAllowFailure = "io.kestra.plugin.core.flow.AllowFailure"
	typeSubflow      = "io.kestra.plugin.core.flow.Subflow"
)

// flowableTypes are the flowable tasks the emulator runs. Others
// (WorkingDirectory) run as no-ops.
var flowableTypes = map[string]bool{
	typeSequential: true, typeParallel: true, typeIf: true, typeSwitch: true, typeForEach: true, typeAllowFailure: true,
	typeLoop: true, typeDag: true, typeLoopUntil: true, typeEachSequential: true, typeEachParallel: true,
	typeWorkingDirectory: true,
}

const (
	typeEachSequential   = "io.kestra.plugin.core.flow.EachSequential"
	typeEachParallel     = "io.kestra.plugin.core.flow.EachParallel"
	typeWorkingDirectory = "io.kestra.plugin.core.flow.WorkingDirectory"
)

// startFlowableLocked moves the flowable task run tr to RUNNING with an
// attempt in RUNNING.
func (rn *runner) startFlowableLocked(tr *taskRunJSON) {
	t := now()
	tr.State.set(stateRunning, t)
	att := attemptJSON{State: newState(t)}
	att.State.set(stateRunning, t)
	if rn.en.cfg.version == Version13 {
		tr.Attempts = []attemptJSON{att}
	} else {
		tr.Attempts = append(tr.Attempts, att)
	}
}

// guessState sums up task runs: KILLED, else FAILED, else WARNING, else
// SUCCESS.
func guessState(runs []*taskRunJSON) string {
	final := stateSuccess
	for _, tr := range runs {
		switch tr.State.Current {
		case stateKilled:
			return stateKilled
		case stateFailed:
			final = stateFailed
		case stateWarning:
			if final == stateSuccess {
				final = stateWarning
			}
		}
	}
	return final
}

// truthy is Kestra's TruthUtils#isTruthy on a rendered condition: false
// only for "", "false", "0" and "-0".
func truthy(s string) bool {
	switch s {
	case "", "false", "0", "-0":
		return false
	}
	return true
}

// group is a list of tasks run one after the other, for a ForEach value
// (and its iteration: the value's index, FlowableUtils#resolveEachTasks,
// 1.3.19).
type group struct {
	tasks     []map[string]any
	value     string
	iteration *int
}

// runFlowable runs the flowable task of tr; the lock is held on entry and
// released.
func (rn *runner) runFlowable(task map[string]any, typ string, tr *taskRunJSON) outcome {
	switch typ {
	case typeLoop:
		return rn.runLoop(task, tr)
	case typeLoopUntil:
		return rn.runLoopUntil(task, tr)
	}
	ex := rn.ex
	rn.startFlowableLocked(tr)
	vars := rn.en.varsLocked(ex, tr)
	groups, limit, outputs, failMsg := flowableChildren(task, typ, vars)
	if outputs != nil {
		tr.Outputs = outputs
	}
	if typ == typeWorkingDirectory {
		for _, p := range []string{"inputFiles", "outputFiles", "namespaceFiles", "cache"} {
			if task[p] != nil {
				rn.logLocked(tr, "WARN", "WorkingDirectory's "+p+" is not emulated by the Kestra emulator: its tasks ran without it")
			}
		}
	}
	rn.en.publishLocked(ex)
	if failMsg != "" {
		rn.logLocked(tr, "ERROR", failMsg)
		rn.finishLocked(tr, stateFailed)
		rn.en.mu.Unlock()
		return outFailed
	}
	rn.en.mu.Unlock()

	var out outcome
	if typ == typeDag {
		out = rn.runDag(task, limit, tr)
	} else {
		out = rn.runGroups(groups, limit, tr)
	}
	if out == outStopped {
		return outStopped
	}
	if out == outFailed {
		// The flowable's own errors branch, then its state, which the
		// branch does not change.
		if rn.runGroups([]group{{tasks: mapList(task["errors"])}}, 1, tr) == outStopped {
			return outStopped
		}
	}
	if !rn.lock() {
		return outStopped
	}
	defer rn.en.mu.Unlock()
	normal := map[string]bool{}
	for _, g := range groups {
		for _, t := range g.tasks {
			id, _ := t["id"].(string)
			normal[id] = true
		}
	}
	var children []*taskRunJSON
	for _, c := range ex.e.TaskRunList {
		if c.ParentTaskRunID == tr.ID && normal[c.TaskID] {
			children = append(children, c)
		}
	}
	state := guessState(children)
	if typ == typeAllowFailure && state == stateFailed {
		state = stateWarning
	}
	rn.finishLocked(tr, state)
	if state == stateFailed || state == stateKilled {
		return outFailed
	}
	return outSuccess
}

// flowableChildren returns what a flowable task runs: groups of tasks, how
// many groups may run at once (0: all), its outputs, or why it fails.
func flowableChildren(task map[string]any, typ string, vars map[string]any) ([]group, int, map[string]any, string) {
	tasks := mapList(task["tasks"])
	switch typ {
	case typeParallel:
		// Each child is started at once, up to concurrent (0: no limit).
		groups := make([]group, len(tasks))
		for i, t := range tasks {
			groups[i] = group{tasks: []map[string]any{t}}
		}
		return groups, intProp(task, "concurrent", 0), nil, ""
	case typeDag:
		items := subTasks(task["tasks"])
		groups := make([]group, len(items))
		for i, t := range items {
			groups[i] = group{tasks: []map[string]any{t}}
		}
		return groups, intProp(task, "concurrent", 0), nil, ""
	case typeIf:
		cond, err := render(stringify(task["condition"]), vars)
		if err != nil {
			return nil, 1, nil, err.Error()
		}
		branch := mapList(task["else"])
		if truthy(cond) {
			branch = mapList(task["then"])
		}
		return []group{{tasks: branch}}, 1, map[string]any{"evaluationResult": truthy(cond)}, ""
	case typeSwitch:
		value, err := render(stringify(task["value"]), vars)
		if err != nil {
			return nil, 1, nil, err.Error()
		}
		cases, _ := task["cases"].(map[string]any)
		branch, ok := cases[value]
		if !ok {
			branch = task["defaults"]
		}
		return []group{{tasks: mapList(branch)}}, 1, map[string]any{"value": value, "defaults": !ok}, ""
	case typeForEach, typeEachSequential:
		prop, limit := "values", intProp(task, "concurrencyLimit", 1)
		if typ == typeEachSequential {
			prop, limit = "value", 1
		}
		values, err := forEachValues(task[prop], vars)
		if err != nil {
			return nil, 1, nil, err.Error()
		}
		groups := make([]group, len(values))
		for i, v := range values {
			groups[i] = group{tasks: tasks, value: v, iteration: &i}
		}
		return groups, limit, nil, ""
	case typeEachParallel:
		// Each task of each value on its own, as Parallel runs them.
		values, err := forEachValues(task["value"], vars)
		if err != nil {
			return nil, 1, nil, err.Error()
		}
		var groups []group
		for i, v := range values {
			for _, t := range tasks {
				groups = append(groups, group{tasks: []map[string]any{t}, value: v, iteration: &i})
			}
		}
		return groups, intProp(task, "concurrent", 0), nil, ""
	}
	// Sequential, AllowFailure, WorkingDirectory.
	return []group{{tasks: tasks}}, 1, nil, ""
}

// runGroups runs groups under parent, at most limit at once (0: all), each
// one task after the other. A failure starts no group after it; groups
// already running are let finish.
func (rn *runner) runGroups(groups []group, limit int, parent *taskRunJSON) outcome {
	runGroup := func(g group) outcome {
		for _, t := range g.tasks {
			if out := rn.runTask(t, scope{parent: parent, value: g.value, iteration: g.iteration}, false); out != outSuccess {
				return out
			}
		}
		return outSuccess
	}
	if limit == 1 || len(groups) <= 1 {
		for _, g := range groups {
			if out := runGroup(g); out != outSuccess {
				return out
			}
		}
		return outSuccess
	}
	if limit <= 0 {
		limit = len(groups)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		worst = outSuccess
		slots = make(chan struct{}, limit)
	)
	for _, g := range groups {
		slots <- struct{}{}
		mu.Lock()
		failed := worst != outSuccess
		mu.Unlock()
		if failed {
			break // no new child after a failure
		}
		wg.Go(func() {
			defer func() { <-slots }()
			out := runGroup(g)
			mu.Lock()
			worst = max(worst, out)
			mu.Unlock()
		})
	}
	wg.Wait()
	return worst
}

// forEachValues reads ForEach values (FlowableUtils#resolveEachTasks): a
// string is rendered and read as a JSON array; in a list, strings and
// numbers are rendered, maps rendered and written as JSON. Each value is
// the item if it is a string, else its JSON text; duplicates are dropped.
func forEachValues(v any, vars map[string]any) ([]string, error) {
	var items []any
	switch x := v.(type) {
	case string:
		r, err := render(x, vars)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(r), &items); err != nil {
			return nil, fmt.Errorf("Unable to parse values %q as a JSON array", r)
		}
	case []any:
		for _, it := range x {
			switch it.(type) {
			case string, int, int64, uint64, float64, map[string]any:
			default:
				return nil, fmt.Errorf("Unknown value element type: %s", javaClass(it))
			}
			r, err := renderValue(it, vars)
			if err != nil {
				return nil, err
			}
			items = append(items, r)
		}
	default:
		return nil, fmt.Errorf("Unknown value type: %s", javaClass(v))
	}
	var out []string
	for _, it := range items {
		if it == nil {
			// Duplicates are dropped first: at most one null is counted.
			return nil, fmt.Errorf("Found '1' null values on Each, with values=%s", javaString(items))
		}
		s := stringify(it)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// javaString writes a decoded value as Java's toString writes the
// objects Jackson reads (lists [a, b], maps {k=v} in key order here).
func javaString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = javaString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, k+"="+javaString(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// intProp reads an integer property, def when absent or not a number.
func intProp(task map[string]any, name string, def int) int {
	switch x := task[name].(type) {
	case int:
		return x
	case int64:
		return int(x)
	case uint64:
		return int(x)
	case float64:
		return int(x)
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n
		}
	}
	return def
}

// boolProp reads a boolean property, def when absent.
func boolProp(task map[string]any, name string, def bool) bool {
	switch x := task[name].(type) {
	case bool:
		return x
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b
		}
	}
	return def
}
