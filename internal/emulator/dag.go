package emulator

import (
	"slices"
	"strings"
)

// The Dag task (core/.../plugin/core/flow/Dag.java,
// FlowableUtils#resolveDagNexts and #resolveParallelNexts,
// DagTaskValidator, 1.3.19 and 2.0.0-SNAPSHOT). Its tasks are items
// {task, dependsOn}; a task starts once every task it depends on has
// ended, at most concurrent at once (0, the default: no limit), in the
// order of the list. After a failure no task starts; those running end,
// then the errors branch runs. A flow whose dependsOn names a task that
// is not in the Dag, or whose dependencies loop, is refused.

// dagViolations checks the dependencies of the Dag task t at path p as
// DagTaskValidator does: unknown ids first, then cycles.
func dagViolations(t map[string]any, p string) []Violation {
	items := mapList(t["tasks"])
	ids := make([]string, len(items))
	deps := map[string][]string{}
	for i, it := range items {
		task, _ := it["task"].(map[string]any)
		ids[i] = stringify(task["id"])
		if _, ok := deps[ids[i]]; !ok {
			deps[ids[i]] = dependsOn(it)
		}
	}
	var unknown []string
	for _, it := range items {
		for _, d := range dependsOn(it) {
			if !slices.Contains(ids, d) {
				unknown = append(unknown, d)
			}
		}
	}
	if len(unknown) > 0 {
		return []Violation{{Path: p, Message: "Not existing task id in dependency: " + strings.Join(unknown, ", ")}}
	}
	var cyclic []string
	for i, it := range items {
		if it["dependsOn"] != nil && dagHasCycle(ids[i], deps) {
			cyclic = append(cyclic, ids[i])
		}
	}
	if len(cyclic) > 0 {
		return []Violation{{Path: p, Message: "Cyclic dependency detected: " + strings.Join(cyclic, ", ")}}
	}
	return nil
}

// dependsOn reads the dependsOn ids of a Dag item.
func dependsOn(item map[string]any) []string {
	l, _ := item["dependsOn"].([]any)
	out := make([]string, len(l))
	for i, d := range l {
		out[i] = stringify(d)
	}
	return out
}

// dagHasCycle reports whether start can reach itself through deps.
func dagHasCycle(start string, deps map[string][]string) bool {
	seen := map[string]bool{}
	stack := []string{start}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range deps[cur] {
			if d == start {
				return true
			}
			if !seen[d] {
				seen[d] = true
				stack = append(stack, d)
			}
		}
	}
	return false
}

// runDag runs the items of the Dag task under parent: each task once all
// it depends on ended, at most limit at once (0: all).
func (rn *runner) runDag(task map[string]any, limit int, parent *taskRunJSON) outcome {
	items := mapList(task["tasks"])
	type result struct {
		i   int
		out outcome
	}
	done := make(chan result)
	started := make([]bool, len(items))
	ended := map[string]bool{}
	running, worst := 0, outSuccess
	idOf := func(i int) string {
		t, _ := items[i]["task"].(map[string]any)
		return stringify(t["id"])
	}
	for {
		if worst == outSuccess {
			for i, it := range items {
				if started[i] || (limit > 0 && running >= limit) {
					continue
				}
				if !slices.ContainsFunc(dependsOn(it), func(d string) bool { return !ended[d] }) {
					started[i] = true
					running++
					t, _ := it["task"].(map[string]any)
					go func() { done <- result{i, rn.runTask(t, scope{parent: parent}, false)} }()
				}
			}
		}
		if running == 0 {
			break
		}
		r := <-done
		running--
		ended[idOf(r.i)] = true
		worst = max(worst, r.out)
	}
	return worst
}
