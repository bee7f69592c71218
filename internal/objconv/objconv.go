// Package objconv converts between Go values and the values of yoton's
// object codec (package wire): what request/reply calls send and receive
// and what handlers registered with RepChannel.Register take. It lives
// beside the codec's fuzz targets: FuzzConvert feeds it every value
// DecodeObject can produce. Internal: channels is its only user.
package objconv

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goyoton/yoton/wire"
)

// ToObject returns v as a value EncodeObject takes: codec values as they
// are (containers converted item by item when needed), other slices and
// arrays as lists, maps as dicts, named basic types as their base type,
// pointers as what they point to (nil as None).
func ToObject(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, string, []string, []int64, []float64:
		return v, nil
	case []any:
		items, err := toObjects(x)
		if err != nil {
			return nil, err
		}
		return items, nil
	case wire.Tuple:
		items, err := toObjects(x)
		if err != nil {
			return nil, err
		}
		return wire.Tuple(items), nil
	case *wire.Dict:
		if x == nil {
			return nil, nil
		}
		changed := false
		for _, val := range x.All() {
			if !isPlainObject(val) {
				changed = true
				break
			}
		}
		if !changed {
			return x, nil
		}
		d := wire.NewDict()
		for k, val := range x.All() {
			o, err := ToObject(val)
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, o); err != nil {
				return nil, err
			}
		}
		return d, nil
	case []byte:
		return nil, fmt.Errorf("%w: []byte (Python bytes are not encodable either)", wire.ErrUnsupportedType)
	}
	return reflectObject(reflect.ValueOf(v))
}

// isPlainObject reports whether v encodes as it is, without conversion.
func isPlainObject(v any) bool {
	switch v.(type) {
	case nil, bool, int64, int, float64, string:
		return true
	}
	return false
}

// toObjects converts the items of a list or tuple, copying only when an
// item changes.
func toObjects(items []any) ([]any, error) {
	var out []any
	for i, it := range items {
		if isPlainObject(it) {
			if out != nil {
				out[i] = it
			}
			continue
		}
		o, err := ToObject(it)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = make([]any, len(items))
			copy(out, items[:i])
		}
		out[i] = o
	}
	if out == nil {
		return items, nil
	}
	return out, nil
}

func reflectObject(rv reflect.Value) (any, error) {
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint(), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return ToObject(rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return []any{}, nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return nil, fmt.Errorf("%w: %s (Python bytes are not encodable either)", wire.ErrUnsupportedType, rv.Type())
		}
		out := make([]any, rv.Len())
		for i := range out {
			o, err := ToObject(rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			out[i] = o
		}
		return out, nil
	case reflect.Map:
		d := wire.NewDict()
		keys := rv.MapKeys()
		objs := make([]any, len(keys))
		for i, k := range keys {
			o, err := ToObject(k.Interface())
			if err != nil {
				return nil, err
			}
			objs[i] = o
		}
		// Go maps have no order: sort string keys so that equal maps
		// encode equally; other keys keep the map's order.
		order := sortedIndex(objs)
		for _, i := range order {
			val, err := ToObject(rv.MapIndex(keys[i]).Interface())
			if err != nil {
				return nil, err
			}
			if err := d.Set(objs[i], val); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	if !rv.IsValid() {
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %s", wire.ErrUnsupportedType, rv.Type())
}

// sortedIndex returns the positions of keys, in the order of their
// string value when every key is a string, else as they are.
func sortedIndex(keys []any) []int {
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	strs := make([]string, len(keys))
	for i, k := range keys {
		s, ok := k.(string)
		if !ok {
			return idx
		}
		strs[i] = s
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(strs[a], strs[b]) })
	return idx
}

// ErrConvert is wrapped by every conversion failure of ConvertValue.
var ErrConvert = errors.New("cannot convert")

// ConvertValue converts a decoded value to a value of type t.
func ConvertValue(v any, t reflect.Type) (reflect.Value, error) {
	if v == nil {
		switch t.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Slice, reflect.Map:
			return reflect.Zero(t), nil
		}
		return reflect.Value{}, convertError(v, t)
	}
	rv := reflect.ValueOf(v)
	if rv.Type() == t {
		return rv, nil
	}
	if t.Kind() == reflect.Interface {
		if rv.Type().Implements(t) {
			out := reflect.New(t).Elem()
			out.Set(rv)
			return out, nil
		}
		return reflect.Value{}, convertError(v, t)
	}
	switch t.Kind() {
	case reflect.Bool:
		if b, ok := v.(bool); ok {
			return reflect.ValueOf(b).Convert(t), nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := v.(int64); ok {
			out := reflect.New(t).Elem()
			if out.OverflowInt(n) {
				return reflect.Value{}, fmt.Errorf("%w %d to %s: out of range", ErrConvert, n, t)
			}
			out.SetInt(n)
			return out, nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n, ok := v.(int64); ok {
			out := reflect.New(t).Elem()
			if n < 0 || out.OverflowUint(uint64(n)) {
				return reflect.Value{}, fmt.Errorf("%w %d to %s: out of range", ErrConvert, n, t)
			}
			out.SetUint(uint64(n))
			return out, nil
		}
	case reflect.Float32, reflect.Float64:
		switch n := v.(type) {
		case float64:
			return reflect.ValueOf(n).Convert(t), nil
		case int64:
			return reflect.ValueOf(float64(n)).Convert(t), nil
		}
	case reflect.String:
		if s, ok := v.(string); ok {
			return reflect.ValueOf(s).Convert(t), nil
		}
	case reflect.Slice, reflect.Array:
		items, ok := asItems(v)
		if !ok {
			break
		}
		var out reflect.Value
		if t.Kind() == reflect.Array {
			if len(items) != t.Len() {
				return reflect.Value{}, fmt.Errorf("%w %s to %s: %d items", ErrConvert, PyTypeName(v), t, len(items))
			}
			out = reflect.New(t).Elem()
		} else {
			out = reflect.MakeSlice(t, len(items), len(items))
		}
		for i, it := range items {
			iv, err := ConvertValue(it, t.Elem())
			if err != nil {
				return reflect.Value{}, fmt.Errorf("item %d: %w", i, err)
			}
			out.Index(i).Set(iv)
		}
		return out, nil
	case reflect.Map:
		d, ok := v.(*wire.Dict)
		if !ok {
			break
		}
		out := reflect.MakeMapWithSize(t, d.Len())
		for k, val := range d.All() {
			kv, err := ConvertValue(k, t.Key())
			if err != nil {
				return reflect.Value{}, fmt.Errorf("key %s: %w", ClipRepr(k), err)
			}
			vv, err := ConvertValue(val, t.Elem())
			if err != nil {
				return reflect.Value{}, fmt.Errorf("value of %s: %w", ClipRepr(k), err)
			}
			out.SetMapIndex(kv, vv)
		}
		return out, nil
	case reflect.Pointer:
		ev, err := ConvertValue(v, t.Elem())
		if err != nil {
			return reflect.Value{}, err
		}
		out := reflect.New(t.Elem())
		out.Elem().Set(ev)
		return out, nil
	}
	if rv.Type().AssignableTo(t) {
		out := reflect.New(t).Elem()
		out.Set(rv)
		return out, nil
	}
	return reflect.Value{}, convertError(v, t)
}

func asItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case wire.Tuple:
		return x, true
	}
	return nil, false
}

func convertError(v any, t reflect.Type) error {
	return fmt.Errorf("%w %s (%s) to %s", ErrConvert, ClipRepr(v), PyTypeName(v), t)
}

// PyTypeName is the Python type name of a decoded value.
func PyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case wire.Tuple:
		return "tuple"
	case *wire.Dict:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// ClipRepr is the Python repr of v, cut to 80 characters, for errors.
func ClipRepr(v any) string {
	s := wire.Repr(v)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
