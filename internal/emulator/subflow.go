package emulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Subflows (core/.../plugin/core/flow/Subflow.java, ExecutableUtils,
// ExecutorService#handleExecutableTask). The Subflow task creates an
// execution of another flow:
//   - its trigger is {id: the task id, type: the Subflow type, variables:
//     executionId, namespace, flowId, flowRevision of the parent, taskRunId,
//     taskId}; the parent is linked by the trigger only;
//   - it gets the parent's system labels (system.correlationId among them),
//     or all the parent's labels but those the child flow defines when
//     inheritLabels, then the task's labels; and the parent's kind;
//   - the parent logs "Created new execution [[link …]]" on its task run.
//
// With wait (the default) the task run stays RUNNING, without attempts or
// outputs, until the child ends; then its outputs are executionId, state
// and the child's outputs, its state the child's when transmitFailed (the
// default) and the child ended FAILED, KILLED, WARNING or PAUSED, else
// SUCCESS, with one attempt in that state. Without wait it ends SUCCESS at
// once, its outputs executionId and the child's state.

// runSubflow runs the Subflow task of tr; the lock is held on entry and
// released.
func (rn *runner) runSubflow(task map[string]any, tr *taskRunJSON) outcome {
	en, parent := rn.en, rn.ex
	tr.State.set(stateRunning, now())
	en.publishLocked(parent)
	child, err := rn.createSubflowLocked(task, tr)
	if err != nil {
		rn.logLocked(tr, "ERROR", err.Error())
		rn.endSubflowLocked(tr, stateFailed)
		en.mu.Unlock()
		return outFailed
	}
	if !boolProp(task, "wait", true) {
		tr.Outputs = map[string]any{"executionId": child.e.ID, "state": child.e.State.Current}
		rn.endSubflowLocked(tr, stateSuccess)
		en.mu.Unlock()
		return outSuccess
	}
	sub := en.subscribeLocked(child, true)
	en.mu.Unlock()

	final, ok := en.waitFinal(rn.ctx, child, sub)
	if !rn.lock() {
		return outStopped
	}
	defer en.mu.Unlock()
	if !ok {
		// The child was deleted while the parent waited.
		rn.logLocked(tr, "ERROR", "Subflow execution "+child.e.ID+" was deleted")
		rn.endSubflowLocked(tr, stateFailed)
		return outFailed
	}
	outputs := map[string]any{"executionId": final.ID, "state": final.State.Current}
	if len(final.Outputs) > 0 {
		outputs["outputs"] = final.Outputs
	}
	tr.Outputs = outputs
	state := stateSuccess
	if boolProp(task, "transmitFailed", true) {
		switch final.State.Current {
		case stateFailed, stateKilled, stateWarning, statePaused:
			state = final.State.Current
		}
	}
	rn.endSubflowLocked(tr, state)
	switch state {
	case stateFailed, stateKilled:
		return outFailed
	}
	return outSuccess
}

// endSubflowLocked ends the Subflow task run tr with one attempt in its
// final state.
func (rn *runner) endSubflowLocked(tr *taskRunJSON, state string) {
	att := attemptJSON{State: newState(now())}
	att.State.set(state, now())
	tr.Attempts = append(tr.Attempts, att)
	rn.finishLocked(tr, state)
}

// createSubflowLocked creates and starts the execution a Subflow task asks
// for, or says why it cannot.
func (rn *runner) createSubflowLocked(task map[string]any, tr *taskRunJSON) (*execution, error) {
	en, parent := rn.en, rn.ex
	vars := en.varsLocked(parent, tr)
	ns, err := render(stringify(task["namespace"]), vars)
	if err != nil {
		return nil, err
	}
	flowID, err := render(stringify(task["flowId"]), vars)
	if err != nil {
		return nil, err
	}
	key := flowKey{tenant: parent.e.TenantID, namespace: ns, id: flowID}
	var rev *flowRev
	if fe := en.flows[key]; fe != nil {
		rev = fe.current()
		if n := intProp(task, "revision", 0); n > 0 {
			rev = fe.revision(n)
		}
	}
	if rev == nil || rev.deleted {
		return nil, fmt.Errorf("Unable to find flow '%s'.'%s'", ns, flowID)
	}
	if rev.pf.disabled {
		return nil, fmt.Errorf("Cannot execute a flow which is disabled: '%s'.'%s'", ns, flowID)
	}

	id := newID()
	files := map[string][]byte{}
	inputs, err := givenInputs(rev.pf, key, id, task["inputs"], vars, files)
	if err != nil {
		return nil, err
	}

	labels, err := subflowLabels(task, parent, rev, vars)
	if err != nil {
		return nil, err
	}
	child := en.newExecutionLocked(key, rev, id, inputs, labels, "", files)
	child.e.Kind = parent.e.Kind
	child.e.Trigger = &triggerJSON{ID: tr.TaskID, Type: typeSubflow, Variables: map[string]any{
		"executionId": parent.e.ID, "namespace": parent.e.Namespace, "flowId": parent.e.FlowID,
		"flowRevision": parent.e.FlowRevision, "taskRunId": tr.ID, "taskId": tr.TaskID,
	}}
	rn.logLocked(tr, "INFO", fmt.Sprintf("Created new execution [[link execution=%q flowId=%q namespace=%q]]", id, flowID, ns))
	en.publishLocked(child)
	en.startRunnerLocked(child, 0, false)
	return child, nil
}

// subflowLabels are the labels of a subflow's execution: the parent's
// system labels, or with inheritLabels all the parent's labels but those
// the child flow defines, then the task's labels (a map, or a list of
// {key, value}); a system label among the task's is refused.
func subflowLabels(task map[string]any, parent *execution, rev *flowRev, vars map[string]any) ([]Label, error) {
	var labels []Label
	inherit := boolProp(task, "inheritLabels", false)
	for _, l := range parent.e.Labels {
		switch {
		case strings.HasPrefix(l.Key, "system."):
		case !inherit, slices.ContainsFunc(rev.pf.labels, func(fl Label) bool { return fl.Key == l.Key }):
			continue
		}
		labels = append(labels, l)
	}
	rendered, err := renderValue(task["labels"], vars)
	if err != nil {
		return nil, err
	}
	var own []Label
	switch x := rendered.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			own = append(own, Label{Key: k, Value: stringify(x[k])})
		}
	case []any:
		b, _ := json.Marshal(x)
		if err := json.Unmarshal(b, &own); err != nil {
			return nil, fmt.Errorf("Invalid labels: %s", b)
		}
	}
	for _, l := range own {
		if strings.HasPrefix(l.Key, "system.") {
			return nil, fmt.Errorf("System labels can only be set by Kestra itself, offending label: %s=%s", l.Key, l.Value)
		}
		labels = slices.DeleteFunc(labels, func(x Label) bool { return x.Key == l.Key })
		labels = append(labels, l)
	}
	return labels, nil
}
