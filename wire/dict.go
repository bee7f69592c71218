package wire

import (
	"encoding/binary"
	"fmt"
	"iter"
	"math"
	"slices"
)

// Dict is a Python dict: an insertion-ordered map whose keys are hashable
// values: nil, bool, integers, floats, strings, and Tuples of hashable
// values. It is what DecodeObject returns for a dict and what EncodeObject
// encodes in order.
//
// Keys compare as in Python: 1, 1.0 and true are one key, so are 0, -0.0 and
// false, and tuples compare item by item under the same rule; otherwise two
// keys are equal when they have the same type and value. As in Python,
// setting an existing key replaces its value but keeps its position and its
// first key, and a NaN key is never equal to anything, so Get and Delete
// never find it (Python finds a NaN key only by identity, which a decoded
// dict never offers).
//
// The zero Dict is an empty dict ready to use; a nil *Dict reads as an empty
// dict (Len, Get, Keys, Values, All) but Set on it panics, like a nil map. A
// Dict is not safe for concurrent use when one goroutine modifies it: like
// a Go map, it may be read from many goroutines at once (Len, Get, Keys,
// Values, All, String), but Set and Delete need it to themselves.
type Dict struct {
	entries []dictEntry
	// index maps canonical keys to positions in entries; it is built only
	// when the dict grows past smallDict, smaller dicts scan entries.
	index map[any]int
}

// smallDict is the size up to which a Dict finds keys by a linear scan.
const smallDict = 8

type dictEntry struct {
	key   any
	value any
	dictKey
}

// dictKey is the identity of a key: ck is comparable with ==, equal for
// keys Python finds equal. A key holding a NaN is not indexable.
type dictKey struct {
	norm      any // the key as stored: int kinds as int64, float32 as float64, Tuples copied
	ck        any
	indexable bool
}

// tupleKey is the canonical form of a Tuple key: its canonical encoding.
type tupleKey string

// NewDict returns an empty Dict. Safe for concurrent use.
func NewDict() *Dict { return &Dict{} }

// DictOf returns a new Dict of the given key, value pairs, in order,
// for building a dict in one expression: DictOf("a", 1, "b", 2) is
// Python's {'a': 1, 'b': 2}. As in a Python dict literal, a key that
// comes again (or an equal one: 1, 1.0 and true are one key) replaces the
// value and keeps its first position and form. It returns an error, and
// no Dict, for an odd number of arguments (ErrOddPairs) and for a key Set
// refuses (ErrUnhashable, ErrUnsupportedType, ErrIntOverflow), naming the
// pair at fault. Values are not checked, as with Set: EncodeObject
// reports values it can not encode. Use it for keys that come from
// elsewhere; MustDictOf is for literals written in the program. Safe for
// concurrent use.
func DictOf(pairs ...any) (*Dict, error) {
	if len(pairs)%2 != 0 {
		return nil, fmt.Errorf("%w: %d arguments", ErrOddPairs, len(pairs))
	}
	d := &Dict{entries: make([]dictEntry, 0, len(pairs)/2)}
	for i := 0; i < len(pairs); i += 2 {
		if err := d.Set(pairs[i], pairs[i+1]); err != nil {
			return nil, fmt.Errorf("pair %d: %w", i/2, err)
		}
	}
	return d, nil
}

// MustDictOf is DictOf for dict literals written in the program, whose
// keys are known to be good: it panics where DictOf returns an error,
// with that error as the panic value (so it still matches ErrOddPairs,
// ErrUnhashable and the others with errors.Is after a recover). Like
// regexp.MustCompile, a panic here is a bug at the call site, found the
// first time the line runs; never give it keys that come from input or a
// peer. Safe for concurrent use.
func MustDictOf(pairs ...any) *Dict {
	d, err := DictOf(pairs...)
	if err != nil {
		panic(fmt.Errorf("wire.MustDictOf: %w", err))
	}
	return d
}

// Len returns the number of keys in d. Safe for concurrent use with other
// reads of d, not with Set or Delete.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.entries)
}

// Set sets the value of key, appending the key if it is new and keeping
// its position (and its first form, say 1 rather than true) if it is
// already there. The key is stored normalised: integer kinds become int64,
// float32 becomes float64 and a Tuple is copied, so later changes to the
// caller's Tuple do not affect d. A list, dict or map key (or a Tuple
// holding one) gives ErrUnhashable; a key of a type with no yoton encoding
// gives ErrUnsupportedType, a uint above math.MaxInt64 ErrIntOverflow.
// The value is not checked: EncodeObject reports values it can not encode.
// Not safe for concurrent use: no other goroutine may use d meanwhile.
func (d *Dict) Set(key, value any) error {
	k, bad, err := makeKey(key, true)
	if err != nil {
		return err
	}
	if bad != "" {
		return fmt.Errorf("%w: %s", ErrUnhashable, bad)
	}
	d.set(k, value)
	return nil
}

// Get returns the value of key and whether key is in d. Safe for
// concurrent use with other reads of d, not with Set or Delete.
func (d *Dict) Get(key any) (any, bool) {
	i := d.find(key)
	if i < 0 {
		return nil, false
	}
	return d.entries[i].value, true
}

// Delete removes key from d and reports whether it was there. It takes time
// proportional to the number of keys after it. Not safe for concurrent
// use: no other goroutine may use d meanwhile.
func (d *Dict) Delete(key any) bool {
	i := d.find(key)
	if i < 0 {
		return false
	}
	d.entries = slices.Delete(d.entries, i, i+1)
	if d.index != nil {
		d.reindex()
	}
	return true
}

// Keys returns the keys of d in insertion order, in a new slice. Safe for
// concurrent use with other reads of d, not with Set or Delete.
func (d *Dict) Keys() []any {
	if d.Len() == 0 {
		return nil
	}
	keys := make([]any, len(d.entries))
	for i, e := range d.entries {
		keys[i] = e.key
	}
	return keys
}

// Values returns the values of d in insertion order, in a new slice.
// Safe for concurrent use with other reads of d, not with Set or Delete.
func (d *Dict) Values() []any {
	if d.Len() == 0 {
		return nil
	}
	values := make([]any, len(d.entries))
	for i, e := range d.entries {
		values[i] = e.value
	}
	return values
}

// All yields the keys and values of d in insertion order. Keys set during
// the iteration are yielded too; deleting during the iteration may skip keys.
// Iterating is safe for concurrent use with other reads of d, not with
// Set or Delete on another goroutine.
func (d *Dict) All() iter.Seq2[any, any] {
	return func(yield func(any, any) bool) {
		if d == nil {
			return
		}
		for i := 0; i < len(d.entries); i++ {
			if !yield(d.entries[i].key, d.entries[i].value) {
				return
			}
		}
	}
}

// String returns Repr(d), the dict as Python prints it. Safe for
// concurrent use with other reads of d, not with Set or Delete.
func (d *Dict) String() string { return Repr(d) }

// set stores value under the (already normalised) key k.
func (d *Dict) set(k dictKey, value any) {
	if k.indexable {
		if i := d.lookup(k.ck); i >= 0 {
			d.entries[i].value = value
			return
		}
	}
	d.entries = append(d.entries, dictEntry{key: k.norm, value: value, dictKey: k})
	switch {
	case d.index != nil:
		if k.indexable {
			d.index[k.ck] = len(d.entries) - 1
		}
	case len(d.entries) > smallDict:
		d.reindex()
	}
}

// find returns the position of key in d, or -1.
func (d *Dict) find(key any) int {
	if d.Len() == 0 {
		return -1
	}
	k, bad, err := makeKey(key, false)
	if err != nil || bad != "" || !k.indexable {
		return -1
	}
	return d.lookup(k.ck)
}

func (d *Dict) lookup(ck any) int {
	if d.index != nil {
		if i, ok := d.index[ck]; ok {
			return i
		}
		return -1
	}
	for i := range d.entries {
		if e := &d.entries[i]; e.indexable && e.ck == ck {
			return i
		}
	}
	return -1
}

func (d *Dict) reindex() {
	if len(d.entries) <= smallDict {
		d.index = nil
		return
	}
	d.index = make(map[any]int, len(d.entries))
	for i, e := range d.entries {
		if e.indexable {
			d.index[e.ck] = i
		}
	}
}

// makeKey computes the identity of a dict key, and with normalize its
// stored form (else norm is key itself, for decoded keys that are already
// normal). bad names the type of an unhashable key (then k is zero); err is
// set for keys that have no encoding at all.
func makeKey(key any, normalize bool) (k dictKey, bad string, err error) {
	k.norm, k.indexable = key, true
	switch x := key.(type) {
	case nil:
		k.ck = nil
	case string:
		k.ck = key
	case int64:
		k.ck = key
	case bool:
		if x {
			k.ck = int64(1)
		} else {
			k.ck = int64(0)
		}
	case float64:
		k.ck, k.indexable = floatKey(key, x)
	case float32:
		f := float64(x)
		k.norm = f
		k.ck, k.indexable = floatKey(f, f)
	case Tuple:
		buf, norm, bad, err := appendCanonical(make([]byte, 0, 64), key, normalize, 0)
		if bad != "" || err != nil {
			return dictKey{}, bad, err
		}
		if normalize {
			k.norm = norm
		}
		k.ck = tupleKey(buf)
		k.indexable = !tupleHasNaN(norm)
	case []any, *Dict, map[string]any, []string, []int64, []float64:
		return dictKey{}, pyTypeName(key), nil
	default:
		n, ok, err := intValue(key)
		if err != nil {
			return dictKey{}, "", err
		}
		if !ok {
			return dictKey{}, "", fmt.Errorf("%w: dict key of type %T", ErrUnsupportedType, key)
		}
		k.norm, k.ck = n, n
	}
	return k, "", nil
}

// floatKey returns the canonical key of a float: the equal int64 if there
// is one (so 1.0 == 1 and -0.0 == 0), else the float itself; NaN is not
// indexable. v is f boxed, reused to avoid an allocation.
func floatKey(v any, f float64) (ck any, indexable bool) {
	switch {
	case math.IsNaN(f):
		return nil, false
	case f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63:
		return int64(f), true
	default:
		return v, true
	}
}

// intValue converts every Go integer kind to int64; ok is false for
// non-integers.
func intValue(v any) (n int64, ok bool, err error) {
	var u uint64
	switch x := v.(type) {
	case int64:
		return x, true, nil
	case int:
		return int64(x), true, nil
	case int8:
		return int64(x), true, nil
	case int16:
		return int64(x), true, nil
	case int32:
		return int64(x), true, nil
	case uint8:
		return int64(x), true, nil
	case uint16:
		return int64(x), true, nil
	case uint32:
		return int64(x), true, nil
	case uint:
		u = uint64(x)
	case uint64:
		u = x
	default:
		return 0, false, nil
	}
	if u > math.MaxInt64 {
		return 0, false, fmt.Errorf("%w: %d", ErrIntOverflow, u)
	}
	return int64(u), true, nil
}

// appendCanonical appends the canonical encoding of a hashable value: like
// the wire encoding but with bools and integral floats as ints, so that
// equal keys encode equally. With normalize it also returns the normalised
// copy of v.
func appendCanonical(dst []byte, v any, normalize bool, depth int) (out []byte, norm any, bad string, err error) {
	norm = v
	switch x := v.(type) {
	case nil:
		dst = append(dst, tagNone)
	case string:
		dst = append(dst, tagString)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(len(x)))
		dst = append(dst, x...)
	case bool:
		dst = append(dst, tagInt)
		if x {
			dst = binary.LittleEndian.AppendUint64(dst, 1)
		} else {
			dst = binary.LittleEndian.AppendUint64(dst, 0)
		}
	case float64, float32:
		f, _ := x.(float64)
		if f32, ok := x.(float32); ok {
			f = float64(f32)
			norm = f
		}
		if ck, _ := floatKey(nil, f); ck != nil {
			dst = append(dst, tagInt)
			dst = binary.LittleEndian.AppendUint64(dst, uint64(ck.(int64)))
		} else {
			dst = append(dst, tagFloat)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
		}
	case Tuple:
		if depth >= MaxObjectDepth {
			return dst, nil, "", fmt.Errorf("%w: more than %d levels", ErrTooDeep, MaxObjectDepth)
		}
		dst = append(dst, tagTuple)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(len(x)))
		var copied Tuple
		if normalize {
			copied = make(Tuple, len(x))
		}
		for i, item := range x {
			var itemNorm any
			dst, itemNorm, bad, err = appendCanonical(dst, item, normalize, depth+1)
			if bad != "" || err != nil {
				return dst, nil, bad, err
			}
			if normalize {
				copied[i] = itemNorm
			}
		}
		if normalize {
			norm = copied
		}
	case []any, *Dict, map[string]any, []string, []int64, []float64:
		return dst, nil, pyTypeName(v), nil
	default:
		n, ok, err := intValue(v)
		if err != nil {
			return dst, nil, "", err
		}
		if !ok {
			return dst, nil, "", fmt.Errorf("%w: dict key of type %T", ErrUnsupportedType, v)
		}
		dst = append(dst, tagInt)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(n))
		norm = n
	}
	return dst, norm, "", nil
}

// tupleHasNaN reports whether a (normalised or decoded) tuple holds a NaN
// anywhere; Python never finds such a key equal to another one.
func tupleHasNaN(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x)
	case float32:
		return x != x
	case Tuple:
		return slices.ContainsFunc(x, tupleHasNaN)
	}
	return false
}
