package channels

import (
	"math"

	"github.com/goyoton/yoton/wire"
)

// pyEqual compares two values of the object codec as Python's == does:
// numbers by value across bool, int and float (True == 1 == 1.0), strings
// by content, lists with lists and tuples with tuples item by item (a list
// never equals a tuple), dicts by their items whatever their order (keys
// merged as Python merges them: 1 and True are one key), None only with
// None. NaN equals nothing, itself included. Values of other Go types
// (not produced by the codec's decoder) are equal only when they are the
// same basic value.
func pyEqual(a, b any) bool {
	if x, ok := pyNumber(a); ok {
		y, ok := pyNumber(b)
		return ok && x.equal(y)
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		return ok && itemsEqual(x, y)
	case wire.Tuple:
		y, ok := b.(wire.Tuple)
		return ok && itemsEqual(x, y)
	case *wire.Dict:
		y, ok := b.(*wire.Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for k, v := range x.All() {
			if w, found := y.Get(k); !found || !pyEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func itemsEqual(x, y []any) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !pyEqual(x[i], y[i]) {
			return false
		}
	}
	return true
}

// pyNum is a Python number: an exact integer, or a float.
type pyNum struct {
	i       int64
	f       float64
	isFloat bool
}

func pyNumber(v any) (pyNum, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return pyNum{i: 1}, true
		}
		return pyNum{}, true
	case int64:
		return pyNum{i: x}, true
	case int:
		return pyNum{i: int64(x)}, true
	case float64:
		return pyNum{f: x, isFloat: true}, true
	}
	return pyNum{}, false
}

// equal compares as Python does: an int and a float are equal when the
// float is integral and has exactly the int's value.
func (a pyNum) equal(b pyNum) bool {
	switch {
	case !a.isFloat && !b.isFloat:
		return a.i == b.i
	case a.isFloat && b.isFloat:
		return a.f == b.f
	case a.isFloat:
		return floatIsInt(a.f, b.i)
	default:
		return floatIsInt(b.f, a.i)
	}
}

// floatIsInt reports whether f is exactly the integer i.
func floatIsInt(f float64, i int64) bool {
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return false
	}
	return int64(f) == i
}
