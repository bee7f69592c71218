package wire_test

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goyoton/yoton/wire"
)

func TestDictOrderAndReplace(t *testing.T) {
	d := mustDict(t, "b", 1, "a", 2, "c", 3)
	if err := d.Set("a", 20); err != nil {
		t.Fatal(err)
	}
	if got, want := wire.Repr(d), "{'b': 1, 'a': 20, 'c': 3}"; got != want {
		t.Fatalf("after replace: %s, want %s", got, want)
	}
	if v, ok := d.Get("a"); !ok || v != 20 {
		t.Fatalf("Get(a) = %v, %v", v, ok)
	}
	if _, ok := d.Get("zz"); ok {
		t.Fatal("Get of a missing key succeeded")
	}
	if !d.Delete("b") || d.Delete("b") {
		t.Fatal("Delete(b) should succeed once")
	}
	if err := d.Set("b", 4); err != nil {
		t.Fatal(err)
	}
	if got, want := d.Keys(), []any{"a", "c", "b"}; !slices.Equal(got, want) {
		t.Fatalf("Keys = %v, want %v", got, want)
	}
	if got, want := d.Values(), []any{20, 3, 4}; !slices.Equal(got, want) {
		t.Fatalf("Values = %v, want %v", got, want)
	}
	if d.Len() != 3 || d.String() != "{'a': 20, 'c': 3, 'b': 4}" {
		t.Fatalf("Len = %d, String = %s", d.Len(), d)
	}
	n := 0
	for range d.All() {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("All did not stop after break")
	}
}

// Python compares keys by value across bool, int and float:
//
//	d = {}; d[1] = 'a'; d[True] = 'b'; d[1.0] = 'c'; d[0] = 'z'; d[-0.0] = 'y'; d[False] = 'x'
//	d[(1, 'k')] = 't'; d[(True, 'k')] = 'u'; d[0.5] = 'h'; d[None] = 'n'; repr(d)
//	-> "{1: 'c', 0: 'x', (1, 'k'): 'u', 0.5: 'h', None: 'n'}"
func TestDictPythonKeyEquality(t *testing.T) {
	d := mustDict(t, 1, "a", true, "b", 1.0, "c", 0, "z", math.Copysign(0, -1), "y", false, "x",
		wire.Tuple{1, "k"}, "t", wire.Tuple{true, "k"}, "u", 0.5, "h", nil, "n")
	if got, want := wire.Repr(d), "{1: 'c', 0: 'x', (1, 'k'): 'u', 0.5: 'h', None: 'n'}"; got != want {
		t.Fatalf("Repr = %s, want %s", got, want)
	}
	for _, key := range []any{int8(1), uint64(1), float32(1), true, 1.0} {
		if v, ok := d.Get(key); !ok || v != "c" {
			t.Fatalf("Get(%T %v) = %v, %v; want c", key, key, v, ok)
		}
	}
	if v, ok := d.Get(wire.Tuple{1.0, "k"}); !ok || v != "u" {
		t.Fatalf("Get((1.0, 'k')) = %v, %v", v, ok)
	}
	if _, ok := d.Get(1.5); ok {
		t.Fatal("Get(1.5) found something")
	}
	if _, ok := d.Get("1"); ok {
		t.Fatal(`Get("1") found the int key`)
	}
	if _, ok := d.Get(math.Float64frombits(0x4000000000000000)); ok { // 2.0
		t.Fatal("Get(2.0) found something")
	}
}

func TestDictNaNKeys(t *testing.T) {
	d := mustDict(t, math.NaN(), 1, math.NaN(), 2, wire.Tuple{math.NaN()}, 3, wire.Tuple{math.NaN()}, 4)
	if d.Len() != 4 {
		t.Fatalf("Len = %d, want 4 (NaN keys are never equal)", d.Len())
	}
	if _, ok := d.Get(math.NaN()); ok {
		t.Fatal("Get(NaN) found a key")
	}
	if d.Delete(wire.Tuple{math.NaN()}) {
		t.Fatal("Delete((nan,)) deleted a key")
	}
	if got, want := d.String(), "{nan: 1, nan: 2, (nan,): 3, (nan,): 4}"; got != want {
		t.Fatalf("Repr = %s, want %s", got, want)
	}
}

func TestDictKeyErrors(t *testing.T) {
	tests := []struct {
		name string
		key  any
		err  error
	}{
		{name: "list", key: []any{1}, err: wire.ErrUnhashable},
		{name: "dict", key: wire.NewDict(), err: wire.ErrUnhashable},
		{name: "map", key: map[string]any{}, err: wire.ErrUnhashable},
		{name: "string slice", key: []string{"a"}, err: wire.ErrUnhashable},
		{name: "tuple holding list", key: wire.Tuple{1, wire.Tuple{[]any{}}}, err: wire.ErrUnhashable},
		{name: "bytes", key: []byte("a"), err: wire.ErrUnsupportedType},
		{name: "struct", key: struct{}{}, err: wire.ErrUnsupportedType},
		{name: "tuple holding struct", key: wire.Tuple{struct{}{}}, err: wire.ErrUnsupportedType},
		{name: "uint overflow", key: uint64(math.MaxUint64), err: wire.ErrIntOverflow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := wire.NewDict()
			if err := d.Set(tc.key, 1); !errors.Is(err, tc.err) {
				t.Fatalf("Set error = %v, want %v", err, tc.err)
			}
			if d.Len() != 0 {
				t.Fatalf("failed Set stored a key")
			}
			if _, ok := d.Get(tc.key); ok {
				t.Fatal("Get of an invalid key succeeded")
			}
		})
	}
}

func TestDictKeysNormalized(t *testing.T) {
	key := wire.Tuple{int32(1), float32(0.5), "s"}
	d := mustDict(t, key, "v", uint16(7), "seven", float32(0.25), "quarter")
	key[2] = "changed" // the dict holds its own copy
	if v, ok := d.Get(wire.Tuple{1, 0.5, "s"}); !ok || v != "v" {
		t.Fatalf("Get of the original tuple = %v, %v", v, ok)
	}
	if _, ok := d.Get(key); ok {
		t.Fatal("changing the caller's tuple changed the dict")
	}
	keys := d.Keys()
	tup, ok := keys[0].(wire.Tuple)
	if !ok || tup[0] != int64(1) || tup[1] != 0.5 || keys[1] != int64(7) || keys[2] != 0.25 {
		t.Fatalf("Keys = %#v, want normalised int64 and float64", keys)
	}
}

func TestDictLarge(t *testing.T) {
	d := wire.NewDict()
	const n = 100
	for i := range n {
		if err := d.Set(strconv.Itoa(i), i); err != nil {
			t.Fatal(err)
		}
		if err := d.Set(wire.Tuple{i, i}, -i); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 2 {
		if !d.Delete(strconv.Itoa(i)) {
			t.Fatalf("Delete(%d) failed", i)
		}
	}
	if d.Len() != n+n/2 {
		t.Fatalf("Len = %d, want %d", d.Len(), n+n/2)
	}
	for i := range n {
		v, ok := d.Get(strconv.Itoa(i))
		if ok != (i%2 == 1) || (ok && v != i) {
			t.Fatalf("Get(%d) = %v, %v", i, v, ok)
		}
		if v, ok := d.Get(wire.Tuple{float64(i), int8(i % 128)}); i < 128 && (!ok || v != -i) {
			t.Fatalf("Get((%d, %d)) = %v, %v", i, i, v, ok)
		}
	}
	// Shrinking back below the scan threshold keeps lookups working.
	for _, k := range d.Keys() {
		if d.Len() <= 3 {
			break
		}
		d.Delete(k)
	}
	for _, k := range d.Keys() {
		if _, ok := d.Get(k); !ok {
			t.Fatalf("Get(%v) failed after shrinking", k)
		}
	}
}

func TestDictZeroAndNil(t *testing.T) {
	var zero wire.Dict
	if err := zero.Set("k", 1); err != nil || zero.Len() != 1 {
		t.Fatalf("zero Dict: Set error %v, Len %d", err, zero.Len())
	}
	var d *wire.Dict
	if d.Len() != 0 || d.Keys() != nil || d.Values() != nil || d.Delete("k") {
		t.Fatal("nil Dict does not read as empty")
	}
	if _, ok := d.Get("k"); ok {
		t.Fatal("nil Dict Get found a key")
	}
	for range d.All() {
		t.Fatal("nil Dict All yielded")
	}
	if d.String() != "{}" {
		t.Fatalf("nil Dict String = %s", d.String())
	}
}

func TestDictOf(t *testing.T) {
	d, err := wire.DictOf("b", 1, "a", 2, "b", 3, true, "one", 1.0, "uno", wire.Tuple{1, "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := wire.Repr(d), "{'b': 3, 'a': 2, True: 'uno', (1, 'x'): None}"; got != want {
		t.Fatalf("DictOf = %s, want %s", got, want)
	}
	empty, err := wire.DictOf()
	if err != nil || empty == nil || empty.Len() != 0 {
		t.Fatalf("DictOf() = %v, %v; want an empty dict", empty, err)
	}
	if err := empty.Set("k", 1); err != nil {
		t.Fatal(err)
	}
}

func TestDictOfErrors(t *testing.T) {
	tests := []struct {
		name  string
		pairs []any
		err   error
		pair  string
	}{
		{name: "odd", pairs: []any{"a", 1, "b"}, err: wire.ErrOddPairs},
		{name: "one argument", pairs: []any{"a"}, err: wire.ErrOddPairs},
		{name: "list key", pairs: []any{"a", 1, []any{1}, 2}, err: wire.ErrUnhashable, pair: "pair 1"},
		{name: "bytes key", pairs: []any{[]byte("k"), 1}, err: wire.ErrUnsupportedType, pair: "pair 0"},
		{name: "uint overflow", pairs: []any{"a", 1, "b", 2, uint64(math.MaxUint64), 3}, err: wire.ErrIntOverflow, pair: "pair 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := wire.DictOf(tt.pairs...)
			if !errors.Is(err, tt.err) {
				t.Fatalf("DictOf error = %v, want %v", err, tt.err)
			}
			if d != nil {
				t.Fatalf("DictOf returned %v with its error", d)
			}
			if !strings.Contains(err.Error(), tt.pair) {
				t.Fatalf("error %q does not name %q", err, tt.pair)
			}
			panicked := func() (v any) {
				defer func() { v = recover() }()
				wire.MustDictOf(tt.pairs...)
				return nil
			}()
			perr, ok := panicked.(error)
			if !ok || !errors.Is(perr, tt.err) {
				t.Fatalf("MustDictOf panicked with %v, want an error matching %v", panicked, tt.err)
			}
		})
	}
}
