// Package kestrajson holds the type of the free-form values of Kestra's
// models: an execution's inputs and outputs, a task run's outputs, a
// trigger's variables.
package kestrajson

import (
	"bytes"
	"encoding/json"
)

// Object is a JSON object whose values are free-form, as Kestra sends an
// execution's inputs or a task's outputs. It decodes as encoding/json
// decodes into a map[string]any, but for numbers, which become
// [json.Number] at any depth: an integer of any size keeps every digit,
// where a float64 would round one beyond 2^53. Read one with its Int64 or
// Float64 method, or decode the whole value into a typed one (see the
// kestra package's Execution.InputInto and Execution.TaskOutputs).
//
// An Object is a map: index it, range over it, or assign it to a
// map[string]any.
type Object map[string]any

// UnmarshalJSON decodes data, a JSON object or null, keeping its numbers
// as json.Number.
func (o *Object) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	*o = m
	return nil
}
