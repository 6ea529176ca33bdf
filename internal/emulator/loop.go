package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// The Loop task of 2.0 (core/.../plugin/core/flow/Loop.java,
// ExecutorService#handleFlowableTasks, LoopExecutionEventMessageHandler,
// Execution#loopExecution, 2.0.0-SNAPSHOT). Each iteration runs as an
// execution of its own, of kind LOOP:
//   - a new id, the parent's namespace, flow, revision, labels, variables,
//     metadata and breakpoints, a copy of the parent's state, parentId the
//     parent's id, its outputs; no inputs, trigger nor originalId;
//   - loopRun: the parent execution as it was, the Loop's task id and task
//     run id, the iteration's index (from 0), key (for a map of values) and
//     value, and the enclosing loops' iterations (parents);
//   - the Loop's tasks run there one after the other, their task runs
//     having the Loop's task run (in the parent) as parentTaskRunId, no
//     value; its state sums up those task runs.
//
// The Loop's task run, in the parent, goes RUNNING with the outputs
// iterationCount, runningIterations (the iterations started) and
// terminatedIterations (0); each ended iteration moves one from running
// to terminated, and the next one starts, up to concurrencyLimit at once
// (default 1, 0: all). With the outputs property, each iteration renders
// them when it ends and the Loop's outputs list gets {item: {value,
// iteration, key}, outputs} in the order iterations ended. The Loop ends
// SUCCESS once all ended; with transmitFailed (the default) the first
// iteration that ends FAILED ends it FAILED at once, and one that ends
// KILLED or CANCELLED ends it SUCCESS (terminateLoop maps only FAILED to a
// failure), its outputs left as they were before that iteration ended.
// With no value, it ends SUCCESS at once.

const typeLoop = "io.kestra.plugin.core.flow.Loop"

// loopRunJSON is Kestra's LoopRun.
type loopRunJSON struct {
	Parent    *executionJSON   `json:"parent,omitempty"`
	TaskID    string           `json:"taskId"`
	TaskRunID string           `json:"taskRunId"`
	Index     int              `json:"index"`
	Key       *string          `json:"key,omitempty"`
	Value     string           `json:"value"`
	Parents   []loopParentJSON `json:"parents,omitempty"`
}

// loopParentJSON is Kestra's LoopRun.Parent.
type loopParentJSON struct {
	Index int     `json:"index"`
	Key   *string `json:"key,omitempty"`
	Value string  `json:"value"`
}

// loopItem is one value a Loop iterates on; key is set for a map.
type loopItem struct {
	key   *string
	value string
}

// loopVars is the item variable of an iteration (RunVariables#of(LoopRun)).
func loopVars(lr *loopRunJSON) map[string]any {
	item := map[string]any{"index": lr.Index, "value": lr.Value}
	if lr.Key != nil {
		item["key"] = *lr.Key
	}
	if lr.Parents != nil {
		parents := make([]any, len(lr.Parents))
		for i, p := range lr.Parents {
			m := map[string]any{"index": p.Index, "value": p.Value}
			if p.Key != nil {
				m["key"] = *p.Key
			}
			parents[i] = m
		}
		item["parents"] = parents
		item["parent"] = parents[len(parents)-1]
	}
	return item
}

// loopValues reads a Loop's values (FlowableUtils#resolveValues,
// 2.0.0-SNAPSHOT): a string is rendered and read as JSON, an array giving
// its items (strings as they are, others as JSON, duplicates dropped), an
// object its entries; a list gives its items rendered (maps as JSON,
// duplicates dropped); a map its entries. Entries of a map keep their key.
func loopValues(v any, vars map[string]any) ([]loopItem, error) {
	elem := func(x any) (string, error) {
		switch y := x.(type) {
		case string:
			return render(y, vars)
		case int, int64, uint64, float64:
			return render(fmt.Sprint(y), vars)
		case map[string]any:
			r, err := renderValue(y, vars)
			if err != nil {
				return "", err
			}
			b, _ := json.Marshal(r)
			return string(b), nil
		case nil:
			b, _ := json.Marshal(v)
			return "", fmt.Errorf("Found a null value inside the iteration values=%s", b)
		}
		return "", fmt.Errorf("Unknown value element type: %s", javaClass(x))
	}
	distinct := func(vals []string) []loopItem {
		var out []loopItem
		for _, s := range vals {
			if !slices.ContainsFunc(out, func(it loopItem) bool { return it.value == s }) {
				out = append(out, loopItem{value: s})
			}
		}
		return out
	}
	entries := func(m map[string]any, keys []string, conv func(any) (string, error)) ([]loopItem, error) {
		var out []loopItem
		for _, k := range keys {
			s, err := conv(m[k])
			if err != nil {
				return nil, err
			}
			out = append(out, loopItem{key: &k, value: s})
		}
		return out, nil
	}
	switch x := v.(type) {
	case string:
		r, err := render(x, vars)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(strings.NewReader(r))
		dec.UseNumber()
		var node any
		if err := dec.Decode(&node); err != nil {
			return nil, fmt.Errorf("Unable to parse values %q as JSON", r)
		}
		switch n := node.(type) {
		case []any:
			vals := make([]string, len(n))
			for i, it := range n {
				switch s := it.(type) {
				case string:
					vals[i] = s
				case nil:
					b, _ := json.Marshal(v)
					return nil, fmt.Errorf("Found a null value inside the iteration values=%s", b)
				default:
					b, _ := json.Marshal(s)
					vals[i] = string(b)
				}
			}
			return distinct(vals), nil
		case map[string]any:
			// A JSON object's entries, in the order the object writes them.
			keys, err := jsonObjectKeys(r)
			if err != nil {
				return nil, err
			}
			return entries(n, keys, func(it any) (string, error) {
				if s, ok := it.(json.Number); ok {
					return s.String(), nil
				}
				if it != nil {
					if _, ok := it.(map[string]any); !ok {
						if _, ok := it.(string); !ok {
							return "", fmt.Errorf("Unknown value element type: %s", javaClass(it))
						}
					}
				}
				return elem(it)
			})
		}
		return nil, fmt.Errorf("Unknown value type: %s", jsonNodeType(node))
	case []any:
		vals := make([]string, len(x))
		for i, it := range x {
			s, err := elem(it)
			if err != nil {
				return nil, err
			}
			vals[i] = s
		}
		return distinct(vals), nil
	case map[string]any:
		// The YAML map's key order is not kept by the flow parser: the
		// emulator iterates on the keys sorted.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return entries(x, keys, elem)
	}
	return nil, fmt.Errorf("Unknown value type: %s", javaClass(v))
}

// javaClass names the Java class Jackson reads a YAML or JSON value as,
// as Kestra's messages print it (Class#toString).
func javaClass(v any) string {
	switch v.(type) {
	case string:
		return "class java.lang.String"
	case bool:
		return "class java.lang.Boolean"
	case int, int64, uint64:
		return "class java.lang.Integer"
	case float64:
		return "class java.lang.Double"
	case []any:
		return "class java.util.ArrayList"
	case map[string]any:
		return "class java.util.LinkedHashMap"
	}
	return fmt.Sprintf("class %T", v)
}

// jsonNodeType is Jackson's JsonNodeType of a decoded JSON value.
func jsonNodeType(v any) string {
	switch v.(type) {
	case string:
		return "STRING"
	case json.Number, float64:
		return "NUMBER"
	case bool:
		return "BOOLEAN"
	case nil:
		return "NULL"
	}
	return "OBJECT"
}

// jsonObjectKeys returns the keys of the JSON object s in order.
func jsonObjectKeys(s string) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// runLoop runs the Loop task of tr, each iteration in an execution of kind
// LOOP; the lock is held on entry and released. A restarted Loop restarts
// its last failed iteration instead (ExecutorService#handleFlowableTasks,
// ExecutionService#findLastFailingLoopSubExecution) and goes on from the
// counts its outputs kept.
func (rn *runner) runLoop(task map[string]any, tr *taskRunJSON) outcome {
	ex := rn.ex
	items, err := loopValues(task["values"], rn.en.varsLocked(ex, tr))
	if err != nil {
		// ExecutorService#handleFlowableTasks fails the task run.
		rn.logLocked(tr, "ERROR", fmt.Sprintf("Failed to process flowable task %s: %s", tr.ID, err.Error()))
		rn.finishLocked(tr, stateFailed)
		rn.en.mu.Unlock()
		return outFailed
	}
	count := len(items)
	limit := intProp(task, "concurrencyLimit", 1)
	if limit <= 0 || limit > count {
		limit = count
	}
	var (
		running, terminated int
		results             []any
		first               int        // the first index to start
		restart             *execution // the iteration to restart first
	)
	if tr.State.Current == stateRestarted {
		restart = rn.en.lastFailedIterationLocked(ex, tr)
		if restart == nil {
			rn.logLocked(tr, "ERROR", fmt.Sprintf("No restartable loop sub-execution found for task run %s — marking loop as FAILED", tr.ID))
			rn.finishLocked(tr, stateFailed)
			rn.en.mu.Unlock()
			return outFailed
		}
		// Each ended iteration starts at most one other.
		running = intProp(tr.Outputs, "runningIterations", 1)
		terminated = intProp(tr.Outputs, "terminatedIterations", 0)
		results, _ = tr.Outputs["outputs"].([]any)
		results = slices.Clone(results)
		first, limit = running+terminated, 1
	} else {
		tr.Outputs = map[string]any{"iterationCount": count, "runningIterations": limit, "terminatedIterations": 0}
		if count == 0 {
			rn.finishLocked(tr, stateSuccess)
			rn.en.mu.Unlock()
			return outSuccess
		}
	}
	rn.startFlowableLocked(tr)
	rn.en.publishLocked(ex)
	rn.en.mu.Unlock()

	transmit := boolProp(task, "transmitFailed", true)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		next     = first
		endState string // set when the Loop ended
		stopped  bool
		slots    = make(chan struct{}, limit)
	)
	iterate := func(i int, item loopItem, again *execution) {
		defer func() { <-slots }()
		state, itOuts, ok := rn.runLoopIteration(task, tr, i, item, again)
		mu.Lock()
		defer mu.Unlock()
		running--
		if !ok {
			stopped = true
			return
		}
		if !rn.lock() {
			stopped = true
			return
		}
		defer rn.en.mu.Unlock()
		if endState != "" {
			return // the Loop already ended
		}
		if transmit && isTerminatedInError(state) {
			// Ended at once, the outputs as they were (the failed
			// iteration is not counted).
			endState = stateSuccess
			if state == stateFailed {
				endState = stateFailed
			}
			rn.finishLocked(tr, endState)
			return
		}
		terminated++
		if len(itOuts) > 0 {
			it := map[string]any{"value": item.value, "iteration": i}
			if item.key != nil {
				it["key"] = *item.key
			}
			results = append(results, map[string]any{"item": it, "outputs": itOuts})
		}
		nextRunning := running
		if next < count {
			nextRunning++ // the next iteration starts in its place
		}
		outs := map[string]any{"iterationCount": count, "runningIterations": nextRunning, "terminatedIterations": terminated}
		if len(results) > 0 {
			outs["outputs"] = slices.Clone(results)
		}
		tr.Outputs = outs
		rn.en.publishLocked(rn.ex)
	}
	if restart != nil {
		slots <- struct{}{}
		lr := restart.e.LoopRun
		wg.Go(func() { iterate(lr.Index, loopItem{key: lr.Key, value: lr.Value}, restart) })
	}
	for i := first; i < count; i++ {
		slots <- struct{}{}
		mu.Lock()
		done := endState != "" || stopped
		if !done {
			next = i + 1
			running++
		}
		mu.Unlock()
		if done {
			<-slots
			break
		}
		wg.Go(func() { iterate(i, items[i], nil) })
	}
	wg.Wait()
	if stopped {
		return outStopped
	}
	if !rn.lock() {
		return outStopped
	}
	defer rn.en.mu.Unlock()
	switch endState {
	case "":
		// Every iteration ended.
		rn.finishLocked(tr, stateSuccess)
	case stateFailed:
		return outFailed
	}
	return outSuccess
}

// lastFailedIterationLocked returns the iteration of the Loop task run tr
// of ex with the highest index among those FAILED or PAUSED
// (State#canBeRestarted), or nil.
func (en *engine) lastFailedIterationLocked(ex *execution, tr *taskRunJSON) *execution {
	var last *execution
	for _, sub := range en.execs {
		lr := sub.e.LoopRun
		if sub.e.Kind != "LOOP" || sub.e.ParentID != ex.e.ID || lr == nil || lr.TaskRunID != tr.ID {
			continue
		}
		if st := sub.e.State.Current; (st == stateFailed || st == statePaused) && (last == nil || lr.Index > last.e.LoopRun.Index) {
			last = sub
		}
	}
	return last
}

func isTerminatedInError(state string) bool {
	return state == stateFailed || state == stateKilled || state == stateCancelled
}

// runLoopIteration runs iteration i of the Loop task run tr in a new
// execution of kind LOOP, or again in the execution again; it returns that execution's final state and
// outputs, or false when the parent's runner was stopped.
func (rn *runner) runLoopIteration(task map[string]any, tr *taskRunJSON, i int, item loopItem, again *execution) (string, map[string]any, bool) {
	if !rn.lock() {
		return "", nil, false
	}
	en, parent := rn.en, rn.ex
	sub := again
	if sub == nil {
		sub = en.newLoopExecutionLocked(parent, tr, i, item)
	} else {
		// Restarted as the restart action restarts an execution.
		t := now()
		for _, c := range sub.e.TaskRunList {
			switch c.State.Current {
			case stateFailed, stateKilled, statePaused:
				c.State.set(stateRestarted, t)
			}
		}
		sub.e.State.set(stateRestarted, t)
		sub.e.Metadata.AttemptNumber++
		sub.gen++
		sub.e.State.set(stateRunning, t)
	}
	ctx, cancel := context.WithCancel(rn.ctx)
	defer cancel()
	sub.cancel = cancel
	srn := &runner{en: en, ex: sub, gen: sub.gen, ctx: ctx}
	en.publishLocked(sub)
	en.mu.Unlock()

	tasks := mapList(task["tasks"])
	out := srn.runGroups([]group{{tasks: tasks}}, 1, tr)
	if out == outFailed {
		out = max(out, srn.runGroups([]group{{tasks: mapList(task["errors"])}}, 1, tr))
	}
	if !rn.lock() {
		return "", nil, false
	}
	defer en.mu.Unlock()
	if out == outStopped || sub.gen != srn.gen {
		// Killed or deleted on its own: its state as it is.
		st := sub.e.State.Current
		if !isTerminal(st) {
			st = stateKilled
		}
		return st, nil, true
	}
	ids := map[string]bool{}
	for _, t := range tasks {
		id, _ := t["id"].(string)
		ids[id] = true
	}
	var children []*taskRunJSON
	for _, c := range sub.e.TaskRunList {
		if c.ParentTaskRunID == tr.ID && ids[c.TaskID] {
			children = append(children, c)
		}
	}
	final := guessState(children)
	var itOuts map[string]any
	if defs := mapList(task["outputs"]); len(defs) > 0 {
		vars := en.varsLocked(sub, nil)
		itOuts = map[string]any{}
		for _, o := range defs {
			id, _ := o["id"].(string)
			v, err := renderValue(o["value"], vars)
			if err != nil {
				en.appendLogLocked(sub, nil, "ERROR", "Failed to render output values: "+err.Error())
				final, itOuts = stateFailed, nil
				break
			}
			itOuts[id] = v
		}
	}
	sub.e.State.set(final, now())
	en.publishLocked(sub)
	return final, itOuts, true
}

// newLoopExecutionLocked registers the execution of iteration i of the
// Loop task run tr of parent (Execution#loopExecution).
func (en *engine) newLoopExecutionLocked(parent *execution, tr *taskRunJSON, i int, item loopItem) *execution {
	sub := en.newExecutionLocked(parent.key, parent.rev, newID(), nil, nil, "", nil)
	p := parent.e
	e := sub.e
	e.Labels = slices.Clone(p.Labels)
	e.Variables = p.Variables
	e.State = p.State.clone()
	e.ParentID = p.ID
	e.OriginalID = "" // null in Execution#loopExecution, so left out
	e.Outputs = p.Outputs
	if p.Metadata != nil {
		m := *p.Metadata
		e.Metadata = &m
	}
	e.Kind = "LOOP"
	e.Breakpoints = slices.Clone(p.Breakpoints)
	lr := &loopRunJSON{Parent: p.render(viewFull), TaskID: tr.TaskID, TaskRunID: tr.ID, Index: i, Key: item.key, Value: item.value}
	if pl := p.LoopRun; pl != nil {
		lr.Parents = append(slices.Clone(pl.Parents), loopParentJSON{Index: pl.Index, Key: pl.Key, Value: pl.Value})
	}
	e.LoopRun = lr
	return sub
}
