package emulator

import (
	"cmp"
	"slices"
	"time"
)

type triggerKey struct{ tenant, namespace, flowID, triggerID string }

// triggerRecord is what the API changed in a trigger's state.
type triggerRecord struct {
	disabled    bool
	executionID string
	updatedAt   time.Time
}

// triggerRow is one trigger of a live flow, with its state.
type triggerRow struct {
	key  triggerKey
	def  map[string]any
	kind string
	rec  *triggerRecord
}

// triggerKind is the kind of a trigger definition in 2.0's state, "" for
// the triggers the scheduler does not evaluate (webhook, flow).
func triggerKind(def map[string]any) string {
	typ, _ := def["type"].(string)
	switch c, _ := canonicalType(typ); c {
	case "io.kestra.plugin.core.trigger.Schedule":
		return "SCHEDULE"
	case typeWebhook, "io.kestra.plugin.core.trigger.Flow":
		return ""
	}
	return "POLLING"
}

// recordLocked returns the state record of k, made on first use with the
// definition's disabled.
func (en *engine) recordLocked(k triggerKey, def map[string]any) *triggerRecord {
	rec := en.triggers[k]
	if rec == nil {
		rec = &triggerRecord{disabled: def["disabled"] == true, updatedAt: now().Truncate(time.Second)}
		en.triggers[k] = rec
	}
	return rec
}

// triggerRowsLocked returns the triggers of the tenant's live flows that
// the server's generation lists.
func (en *engine) triggerRowsLocked(tenant string) []triggerRow {
	var rows []triggerRow
	for fk, fe := range en.flows {
		if fk.tenant != tenant || en.liveFlowLocked(fk) == nil {
			continue
		}
		for _, def := range fe.current().pf.triggers {
			kind := triggerKind(def)
			if kind == "" {
				continue
			}
			id, _ := def["id"].(string)
			k := triggerKey{fk.tenant, fk.namespace, fk.id, id}
			rows = append(rows, triggerRow{key: k, def: def, kind: kind, rec: en.recordLocked(k, def)})
		}
	}
	slices.SortFunc(rows, func(a, b triggerRow) int {
		return cmp.Or(cmp.Compare(a.key.namespace, b.key.namespace), cmp.Compare(a.key.flowID, b.key.flowID), cmp.Compare(a.key.triggerID, b.key.triggerID))
	})
	return rows
}

// findTriggerLocked returns the row of a trigger, or a 404.
func (en *engine) findTriggerLocked(k triggerKey) (triggerRow, error) {
	for _, row := range en.triggerRowsLocked(k.tenant) {
		if row.key == k {
			return row, nil
		}
	}
	return triggerRow{}, errNotFound("Unable to find trigger '" + k.namespace + "." + k.flowID + "." + k.triggerID + "'")
}

// snapshot returns row with a copy of its state record, to read without
// the lock.
func (row triggerRow) snapshot() triggerRow {
	rec := *row.rec
	row.rec = &rec
	return row
}

// triggerRows returns the tenant's trigger rows that keep accepts.
func (en *engine) triggerRows(tenant string, keep func(triggerRow) bool) []triggerRow {
	en.mu.Lock()
	defer en.mu.Unlock()
	var rows []triggerRow
	for _, row := range en.triggerRowsLocked(tenant) {
		if keep(row) {
			rows = append(rows, row.snapshot())
		}
	}
	return rows
}

// updateTrigger applies change to the state of trigger k, stamps it and
// returns the row; change may refuse with an error.
func (en *engine) updateTrigger(k triggerKey, change func(*triggerRecord) error) (triggerRow, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	row, err := en.findTriggerLocked(k)
	if err != nil {
		return triggerRow{}, err
	}
	if err := change(row.rec); err != nil {
		return triggerRow{}, err
	}
	return row.snapshot(), nil
}

// setTriggerDisabled disables or enables a trigger (nil: no change).
func (en *engine) setTriggerDisabled(k triggerKey, disabled *bool) (triggerRow, error) {
	return en.updateTrigger(k, func(rec *triggerRecord) error {
		if disabled != nil {
			rec.disabled = *disabled
			rec.updatedAt = now().Truncate(time.Second)
		}
		return nil
	})
}

// unlockTrigger releases a trigger held by an execution; one that is not
// held is a 409 (1.3: 422). Restart (TriggerController#restart) has no
// such case.
func (en *engine) unlockTrigger(k triggerKey) (triggerRow, error) {
	return en.updateTrigger(k, func(rec *triggerRecord) error {
		if rec.executionID == "" {
			if en.cfg.version == Version13 {
				return errIllegalState("Trigger is not locked")
			}
			return errConflict("Trigger is not locked")
		}
		rec.executionID = ""
		rec.updatedAt = now().Truncate(time.Second)
		return nil
	})
}

// restartTrigger resets a trigger's evaluation: the execution holding it,
// if any, no longer does.
func (en *engine) restartTrigger(k triggerKey) (triggerRow, error) {
	return en.updateTrigger(k, func(rec *triggerRecord) error {
		rec.executionID = ""
		rec.updatedAt = now().Truncate(time.Second)
		return nil
	})
}

// lockTrigger makes trigger k look held by the execution executionID.
func (en *engine) lockTrigger(k triggerKey, executionID string) bool {
	_, err := en.updateTrigger(k, func(rec *triggerRecord) error {
		rec.executionID = executionID
		rec.updatedAt = now().Truncate(time.Second)
		return nil
	})
	return err == nil
}
