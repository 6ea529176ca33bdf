package kestra

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// InputsOf returns the inputs that v, a struct or a pointer to a struct,
// holds, for [ExecuteOptions.Inputs] and [ExecutionsService.Resume]. Each
// exported field is one input, named by its `kestra:"name"` tag, else by
// the field's name; `kestra:"-"` leaves a field out, and `kestra:"name,omitempty"`
// leaves it out when it holds its zero value. Fields of embedded structs
// without a tag are read as fields of v. Values follow the rules of
// [ExecuteOptions.Inputs]: a [File] or *File field is a FILE input. A value
// that cannot be sent is an error here, before any request.
//
//	type report struct {
//		User  string      `kestra:"user"`
//		Count int         `kestra:"count,omitempty"`
//		Data  kestra.File `kestra:"data"`
//	}
//	inputs, err := kestra.InputsOf(report{User: "ada", Data: kestra.FilePath("data.csv")})
//
// A helper rather than a second field type on ExecuteOptions: Inputs stays
// one map, which Resume and webhooks take too, and the inputs can be
// checked or completed before they are sent.
func InputsOf(v any) (map[string]any, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("kestra: InputsOf: a %T is not a struct", v)
	}
	out := map[string]any{}
	if err := structInputs(rv, out); err != nil {
		return nil, err
	}
	return out, nil
}

var fileType = reflect.TypeFor[File]()

func structInputs(rv reflect.Value, out map[string]any) error {
	t := rv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("kestra")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		fv := rv.Field(i)
		if f.Anonymous && !hasTag {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != fileType {
				if fv.Kind() == reflect.Pointer {
					if fv.IsNil() {
						continue
					}
					fv = fv.Elem()
				}
				if err := structInputs(fv, out); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if opts == "omitempty" && fv.IsZero() {
			continue
		}
		if opts != "" && opts != "omitempty" {
			return fmt.Errorf("kestra: InputsOf: field %s: unknown tag option %q", f.Name, opts)
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("kestra: InputsOf: two fields for input %q", name)
		}
		val := fv.Interface()
		if _, _, err := encodeInput(name, val); err != nil {
			return err
		}
		out[name] = val
	}
	return nil
}

// InputInto decodes the execution's input name into dst, a pointer (to an
// int64, a struct, a map ...), as encoding/json would. Numbers are exact
// however large: Execution.Inputs keeps them as json.Number. A fraction
// decoded into an integer and an input the execution lacks are errors.
func (e *Execution) InputInto(name string, dst any) error {
	v, ok := e.Inputs[name]
	if !ok {
		return fmt.Errorf("kestra: execution %s has no input %q", e.ID, name)
	}
	if err := decodeValue(v, dst); err != nil {
		return fmt.Errorf("kestra: input %q: %w", name, err)
	}
	return nil
}

// decodeValue decodes v, a free-form value as Kestra sent it, into dst as
// encoding/json would decode its JSON.
func decodeValue(v, dst any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}
