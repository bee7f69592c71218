package wire_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/goyoton/yoton/wire"
)

// mustDict builds a Dict from key, value pairs.
func mustDict(t testing.TB, kv ...any) *wire.Dict {
	t.Helper()
	d := wire.NewDict()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := d.Set(kv[i], kv[i+1]); err != nil {
			t.Fatalf("Set(%v): %v", kv[i], err)
		}
	}
	return d
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type objectCase struct {
	name  string
	value any
	hex   string
	repr  string
}

// pythonObjects lists values with their encoding and repr as produced by
// the real Python yoton, for the Python value in each comment:
//
//	PYTHONPATH=.../pyzo python3 -c "from yoton.channels.message_types import OBJECT; \
//	  v = <value>; print(OBJECT.message_to_bytes(v).hex(), repr(v))"
func pythonObjects(t testing.TB) []objectCase {
	t.Helper()
	return []objectCase{
		{name: "none", value: nil, hex: "6e", repr: `None`},                                                             // None
		{name: "true", value: true, hex: "6201", repr: `True`},                                                          // True
		{name: "false", value: false, hex: "6200", repr: `False`},                                                       // False
		{name: "zero", value: int64(0), hex: "690000000000000000", repr: `0`},                                           // 0
		{name: "one", value: 1, hex: "690100000000000000", repr: `1`},                                                   // 1
		{name: "minus one", value: int64(-1), hex: "69ffffffffffffffff", repr: `-1`},                                    // -1
		{name: "max int64", value: int64(math.MaxInt64), hex: "69ffffffffffffff7f", repr: `9223372036854775807`},        // 2**63-1
		{name: "min int64", value: int64(math.MinInt64), hex: "690000000000000080", repr: `-9223372036854775808`},       // -2**63
		{name: "float zero", value: 0.0, hex: "660000000000000000", repr: `0.0`},                                        // 0.0
		{name: "float negative zero", value: math.Copysign(0, -1), hex: "660000000000000080", repr: `-0.0`},             // -0.0
		{name: "float 1.5", value: 1.5, hex: "66000000000000f83f", repr: `1.5`},                                         // 1.5
		{name: "float 0.1", value: 0.1, hex: "669a9999999999b93f", repr: `0.1`},                                         // 0.1
		{name: "float inf", value: math.Inf(1), hex: "66000000000000f07f", repr: `inf`},                                 // float('inf')
		{name: "float -inf", value: math.Inf(-1), hex: "66000000000000f0ff", repr: `-inf`},                              // float('-inf')
		{name: "empty string", value: "", hex: "7300", repr: `''`},                                                      // ''
		{name: "ascii string", value: "abc", hex: "7303616263", repr: `'abc'`},                                          // 'abc'
		{name: "unicode string", value: "héllo €😀", hex: "730e68c3a96c6c6f20e282acf09f9880", repr: `'héllo €😀'`},        // 'héllo €😀'
		{name: "empty list", value: []any{}, hex: "6c00", repr: `[]`},                                                   // []
		{name: "list", value: []any{int64(1), "a", nil}, hex: "6c036901000000000000007301616e", repr: `[1, 'a', None]`}, // [1, 'a', None]
		{name: "empty tuple", value: wire.Tuple{}, hex: "7400", repr: `()`},                                             // ()
		{name: "one tuple", value: wire.Tuple{true}, hex: "74016201", repr: `(True,)`},                                  // (True,)
		{name: "empty dict", value: wire.NewDict(), hex: "6400", repr: `{}`},                                            // {}
		{name: "dict", value: mustDict(t, "foo", 3, "bar", 9, "empty", []any{}, wire.Tuple{2, "aa", 3}, []any{"pretty", wire.Tuple{"nice", "eh"}, 4}), hex: "64047303666f6f69030000000000000073036261726909000000000000007305656d7074796c007403690200000000000000730261616903000000000000006c037306707265747479740273046e69636573026568690400000000000000", repr: `{'foo': 3, 'bar': 9, 'empty': [], (2, 'aa', 3): ['pretty', ('nice', 'eh'), 4]}`}, // {'foo': 3, 'bar': 9, 'empty': [], (2, 'aa', 3): ['pretty', ('nice', 'eh'), 4]}
		{name: "request", value: wire.Tuple{"echo", wire.Tuple{"hi"}, mustDict(t, "sleep", 0.5)}, hex: "740373046563686f74017302686964017305736c65657066000000000000e03f", repr: `('echo', ('hi',), {'sleep': 0.5})`},                                                                                                                                                                                                                               // ('echo', ('hi',), {'sleep': 0.5})
		{name: "nested", value: []any{[]any{[]any{}}, wire.Tuple{wire.Tuple{}}}, hex: "6c026c016c0074017400", repr: `[[[]], ((),)]`},                                                                                                                                                                                                                                                                                                                // [[[]], ((),)]
		{name: "map string any", value: map[string]any{"b": int64(2), "a": 1.0}, hex: "640273016166000000000000f03f730162690200000000000000", repr: `{'a': 1.0, 'b': 2}`},                                                                                                                                                                                                                                                                           // {'a': 1.0, 'b': 2}
		{name: "string slice", value: []string{"x", "y"}, hex: "6c02730178730179", repr: `['x', 'y']`},                                                                                                                                                                                                                                                                                                                                              // ['x', 'y']
		{name: "int64 slice", value: []int64{-5, 7}, hex: "6c0269fbffffffffffffff690700000000000000", repr: `[-5, 7]`},                                                                                                                                                                                                                                                                                                                              // [-5, 7]
		{name: "float64 slice", value: []float64{2.5}, hex: "6c01660000000000000440", repr: `[2.5]`},                                                                                                                                                                                                                                                                                                                                                // [2.5]
		{name: "uint8", value: uint8(200), hex: "69c800000000000000", repr: `200`},                                                                                                                                                                                                                                                                                                                                                                  // 200
		{name: "int32", value: int32(-70000), hex: "6990eefeffffffffff", repr: `-70000`},                                                                                                                                                                                                                                                                                                                                                            // -70000
		{name: "float32", value: float32(0.25), hex: "66000000000000d03f", repr: `0.25`},                                                                                                                                                                                                                                                                                                                                                            // 0.25
	}
}

func TestEncodeObjectMatchesPython(t *testing.T) {
	for _, tc := range pythonObjects(t) {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wire.EncodeObject(tc.value)
			if err != nil {
				t.Fatalf("EncodeObject: %v", err)
			}
			if hex.EncodeToString(got) != tc.hex {
				t.Fatalf("EncodeObject = %x, want %s", got, tc.hex)
			}
			appended, err := wire.AppendObject([]byte{0xEE}, tc.value)
			if err != nil || appended[0] != 0xEE || !bytes.Equal(appended[1:], got) {
				t.Fatalf("AppendObject = %x, %v; want ee%x", appended, err, got)
			}
			v, err := wire.DecodeObject(got)
			if err != nil {
				t.Fatalf("DecodeObject: %v", err)
			}
			if r := wire.Repr(v); r != tc.repr {
				t.Fatalf("Repr(decoded) = %s, want %s", r, tc.repr)
			}
			if r := wire.Repr(tc.value); r != tc.repr {
				t.Fatalf("Repr(value) = %s, want %s", r, tc.repr)
			}
			again, err := wire.EncodeObject(v)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("re-encoding the decoded value = %x, %v; want %x", again, err, got)
			}
		})
	}
}

// Counts of 255 and more take the escape byte and a uint64. Prefixes from
// Python: OBJECT.message_to_bytes('a'*n)[:10].hex(), same for [None]*n.
func TestLongCounts(t *testing.T) {
	tests := []struct {
		n          int
		strPrefix  string
		listPrefix string
	}{
		{n: 254, strPrefix: "73fe", listPrefix: "6cfe"},
		{n: 255, strPrefix: "73ffff00000000000000", listPrefix: "6cffff00000000000000"},
		{n: 300, strPrefix: "73ff2c01000000000000", listPrefix: "6cff2c01000000000000"},
	}
	for _, tc := range tests {
		s := strings.Repeat("a", tc.n)
		enc, err := wire.EncodeObject(s)
		if err != nil {
			t.Fatal(err)
		}
		want := append(mustHex(t, tc.strPrefix), s...)
		if !bytes.Equal(enc, want) {
			t.Fatalf("string of %d: encoding = %x, want %x", tc.n, enc, want)
		}
		if v, err := wire.DecodeObject(enc); err != nil || v != s {
			t.Fatalf("string of %d: decode error %v", tc.n, err)
		}

		list := make([]any, tc.n)
		enc, err = wire.EncodeObject(list)
		if err != nil {
			t.Fatal(err)
		}
		want = append(mustHex(t, tc.listPrefix), bytes.Repeat([]byte{'n'}, tc.n)...)
		if !bytes.Equal(enc, want) {
			t.Fatalf("list of %d: encoding = %x, want %x", tc.n, enc, want)
		}
		v, err := wire.DecodeObject(enc)
		if got, ok := v.([]any); err != nil || !ok || len(got) != tc.n {
			t.Fatalf("list of %d: decoded %T of len %d, %v", tc.n, v, len(got), err)
		}
	}
}

func TestNaN(t *testing.T) {
	// OBJECT.message_to_bytes(float('nan')).hex()
	const pythonNaN = "66000000000000f87f"
	v, err := wire.DecodeObject(mustHex(t, pythonNaN))
	if err != nil {
		t.Fatal(err)
	}
	f, ok := v.(float64)
	if !ok || !math.IsNaN(f) || wire.Repr(v) != "nan" {
		t.Fatalf("decoded %#v (%s), want nan", v, wire.Repr(v))
	}
	enc, err := wire.EncodeObject(f)
	if err != nil || hex.EncodeToString(enc) != pythonNaN {
		t.Fatalf("re-encoded NaN = %x, %v; want %s (bits kept)", enc, err, pythonNaN)
	}
}

// Python's Unpacker quirks, outputs from
// OBJECT.message_from_bytes(bytes.fromhex(h)) with the real yoton.
func TestDecodeObjectLikePython(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		repr string
	}{
		{name: "empty is None", hex: "", repr: "None"},
		{name: "trailing bytes ignored", hex: "6e6e", repr: "None"},
		{name: "bool byte 2 is true", hex: "6202", repr: "True"},
		{name: "duplicate key last value wins", hex: "6402730161690100000000000000730161690200000000000000", repr: "{'a': 2}"},
		{name: "equal keys keep first key", hex: "6403620169010000000000000069010000000000000066000000000000f03f6902000000000000006600000000000000006e", repr: "{True: 1.0, 2: 0.0}"},
		{name: "equal tuple keys", hex: "64027401690100000000000000730178740162017301786e", repr: "{(1,): 'x'}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := wire.DecodeObject(mustHex(t, tc.hex))
			if err != nil {
				t.Fatalf("DecodeObject: %v", err)
			}
			if r := wire.Repr(v); r != tc.repr {
				t.Fatalf("Repr = %s, want %s", r, tc.repr)
			}
		})
	}
}

func TestDecodeObjectErrors(t *testing.T) {
	tests := []struct {
		name   string
		hex    string
		err    error
		also   error
		atByte string
	}{
		{name: "unknown tag", hex: "6c0178", err: wire.ErrMalformedObject, atByte: "at byte 2:"},
		{name: "truncated int", hex: "69010203", err: wire.ErrMalformedObject, atByte: "at byte 1:"},
		{name: "truncated float", hex: "66", err: wire.ErrMalformedObject, atByte: "at byte 1:"},
		{name: "truncated bool", hex: "62", err: wire.ErrMalformedObject, atByte: "at byte 1:"},
		{name: "truncated count", hex: "73ff0100", err: wire.ErrMalformedObject, atByte: "at byte 2:"},
		{name: "string longer than input", hex: "730561", err: wire.ErrMalformedObject, atByte: "at byte 1:"},
		{name: "invalid utf8", hex: "7302c328", err: wire.ErrMalformedObject, atByte: "at byte 2:"},
		{name: "utf8 surrogate", hex: "7303eda080", err: wire.ErrMalformedObject, atByte: "at byte 2:"},
		{name: "overlong utf8", hex: "7302c0af", err: wire.ErrMalformedObject, atByte: "at byte 2:"},
		{name: "list key", hex: "64016c006e", err: wire.ErrMalformedObject, also: wire.ErrUnhashable, atByte: "at byte 2:"},
		{name: "dict key", hex: "640164006e", err: wire.ErrMalformedObject, also: wire.ErrUnhashable, atByte: "at byte 2:"},
		{name: "tuple holding list key", hex: "640174016c006e", err: wire.ErrMalformedObject, also: wire.ErrUnhashable, atByte: "at byte 2:"},
		{name: "dict count beyond pairs", hex: "64026e6e6e", err: wire.ErrMalformedObject, atByte: "at byte 1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := wire.DecodeObject(mustHex(t, tc.hex))
			if !errors.Is(err, tc.err) {
				t.Fatalf("DecodeObject = %#v, %v; want %v", v, err, tc.err)
			}
			if tc.also != nil && !errors.Is(err, tc.also) {
				t.Fatalf("error %v does not wrap %v", err, tc.also)
			}
			if !strings.Contains(err.Error(), tc.atByte) || !strings.HasPrefix(err.Error(), "yoton: ") {
				t.Fatalf("error %q does not say %q", err, tc.atByte)
			}
		})
	}
}

// hostile returns an encoding that claims count items of tag but holds none.
func hostile(tag byte, count uint64) []byte {
	b := []byte{tag, 0xFF}
	for i := range 8 {
		b = append(b, byte(count>>(8*i)))
	}
	return append(b, 'n', 'n')
}

func TestDecodeObjectHugeCounts(t *testing.T) {
	inputs := map[string][]byte{
		"list 2^63":   hostile('l', 1<<63),
		"list max":    hostile('l', math.MaxUint64),
		"tuple 2^62":  hostile('t', 1<<62),
		"dict 2^63":   hostile('d', 1<<63),
		"dict 3":      hostile('d', 2), // two bytes left: one pair at most
		"string 2^63": hostile('s', 1<<63),
		"string 3":    hostile('s', 3),
		"nested":      append([]byte{'l', 1}, hostile('l', 1<<40)...),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			if _, err := wire.DecodeObject(in); !errors.Is(err, wire.ErrMalformedObject) {
				t.Fatalf("DecodeObject error = %v, want ErrMalformedObject", err)
			}
			allocs := testing.AllocsPerRun(10, func() { _, _ = wire.DecodeObject(in) })
			if allocs > 16 { // a few for the error value; never one per claimed item
				t.Fatalf("DecodeObject of %d hostile bytes allocates %v times", len(in), allocs)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 100 {
				_, _ = wire.DecodeObject(in)
			}
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 100*4096 {
				t.Fatalf("100 decodes of %d hostile bytes allocated %d bytes", len(in), n)
			}
		})
	}
}

func nestedLists(depth int) []byte {
	b := bytes.Repeat([]byte{'l', 1}, depth)
	b[len(b)-1] = 0 // innermost is empty
	return b
}

func TestDepthLimit(t *testing.T) {
	if _, err := wire.DecodeObject(nestedLists(wire.MaxObjectDepth)); err != nil {
		t.Fatalf("%d nested lists: %v", wire.MaxObjectDepth, err)
	}
	for _, n := range []int{wire.MaxObjectDepth + 1, 100000} {
		if _, err := wire.DecodeObject(nestedLists(n)); !errors.Is(err, wire.ErrTooDeep) {
			t.Fatalf("%d nested lists: error = %v, want ErrTooDeep", n, err)
		}
	}
	deepDict := bytes.Repeat([]byte{'d', 1, 'n'}, wire.MaxObjectDepth+1)
	if _, err := wire.DecodeObject(deepDict); !errors.Is(err, wire.ErrTooDeep) {
		t.Fatalf("deep dict: error = %v, want ErrTooDeep", err)
	}

	var v any = wire.Tuple{}
	for range wire.MaxObjectDepth - 1 {
		v = []any{v}
	}
	if _, err := wire.EncodeObject(v); err != nil {
		t.Fatalf("encoding %d levels: %v", wire.MaxObjectDepth, err)
	}
	if _, err := wire.EncodeObject([]any{v}); !errors.Is(err, wire.ErrTooDeep) {
		t.Fatalf("encoding %d levels: error = %v, want ErrTooDeep", wire.MaxObjectDepth+1, err)
	}
	cyclic := []any{nil}
	cyclic[0] = cyclic
	if _, err := wire.EncodeObject(cyclic); !errors.Is(err, wire.ErrTooDeep) {
		t.Fatalf("encoding a cyclic list: error = %v, want ErrTooDeep", err)
	}
}

func TestDecodeObjectTruncated(t *testing.T) {
	for _, tc := range pythonObjects(t) {
		enc := mustHex(t, tc.hex)
		for n := 1; n < len(enc); n++ {
			if v, err := wire.DecodeObject(enc[:n]); err == nil {
				t.Fatalf("%s: prefix of %d bytes decoded to %s without error", tc.name, n, wire.Repr(v))
			} else if !errors.Is(err, wire.ErrMalformedObject) {
				t.Fatalf("%s: prefix of %d bytes: error %v, want ErrMalformedObject", tc.name, n, err)
			}
		}
	}
}

type point struct{ X, Y int }

func TestEncodeObjectErrors(t *testing.T) {
	tests := []struct {
		name  string
		value any
		err   error
	}{
		{name: "bytes", value: []byte("raw"), err: wire.ErrUnsupportedType},
		{name: "bytes in list", value: []any{1, []byte("raw")}, err: wire.ErrUnsupportedType},
		{name: "struct", value: point{1, 2}, err: wire.ErrUnsupportedType},
		{name: "int map", value: map[int]any{1: 2}, err: wire.ErrUnsupportedType},
		{name: "invalid utf8", value: "a\xffb", err: wire.ErrUnsupportedType},
		{name: "invalid utf8 map key", value: map[string]any{"\xff": 1}, err: wire.ErrUnsupportedType},
		{name: "invalid utf8 in string slice", value: []string{"ok", "\xc3"}, err: wire.ErrUnsupportedType},
		{name: "uint64 overflow", value: uint64(math.MaxInt64 + 1), err: wire.ErrIntOverflow},
		{name: "uint overflow in tuple", value: wire.Tuple{uint(math.MaxUint)}, err: wire.ErrIntOverflow},
		{name: "bad dict value", value: mustDict(t, "k", struct{}{}), err: wire.ErrUnsupportedType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := wire.EncodeObject(tc.value); !errors.Is(err, tc.err) {
				t.Fatalf("EncodeObject error = %v, want %v", err, tc.err)
			}
			dst := []byte("keep")
			out, err := wire.AppendObject(dst, tc.value)
			if !errors.Is(err, tc.err) || string(out) != "keep" {
				t.Fatalf("AppendObject = %q, %v; want dst unchanged and %v", out, err, tc.err)
			}
		})
	}
	if enc, err := wire.EncodeObject(uint64(math.MaxInt64)); err != nil || hex.EncodeToString(enc) != "69ffffffffffffff7f" {
		t.Fatalf("EncodeObject(MaxInt64 as uint64) = %x, %v", enc, err)
	}
}

func TestRoundTripIntKinds(t *testing.T) {
	values := []any{int(-3), int8(-8), int16(-16), int32(-32), int64(-64),
		uint(3), uint8(8), uint16(16), uint32(32), uint64(64)}
	want := []int64{-3, -8, -16, -32, -64, 3, 8, 16, 32, 64}
	for i, v := range values {
		enc, err := wire.EncodeObject(v)
		if err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		got, err := wire.DecodeObject(enc)
		if err != nil || got != want[i] {
			t.Fatalf("%T(%v) decoded to %#v, %v", v, v, got, err)
		}
	}
}

func TestRoundTripTypes(t *testing.T) {
	d := mustDict(t, wire.Tuple{1, "a"}, []any{nil, true, 2.5}, nil, "none", 3.25, wire.Tuple{})
	values := []any{
		nil, true, false, int64(-7), 1e300, "ü", []any{}, []any{[]any{int64(1)}},
		wire.Tuple{}, wire.Tuple{"x", wire.Tuple{}}, wire.NewDict(), d,
		[]any{d, wire.Tuple{d}},
	}
	for _, v := range values {
		enc, err := wire.EncodeObject(v)
		if err != nil {
			t.Fatalf("EncodeObject(%s): %v", wire.Repr(v), err)
		}
		got, err := wire.DecodeObject(enc)
		if err != nil {
			t.Fatalf("DecodeObject(%x): %v", enc, err)
		}
		if wire.Repr(got) != wire.Repr(v) {
			t.Fatalf("round trip of %s gave %s", wire.Repr(v), wire.Repr(got))
		}
		if _, isList := got.([]any); isList != isListValue(v) {
			t.Fatalf("round trip of %s changed list/tuple kind: %T", wire.Repr(v), got)
		}
	}
	var nilDict *wire.Dict
	if enc, err := wire.EncodeObject(nilDict); err != nil || string(enc) != "d\x00" {
		t.Fatalf("EncodeObject(nil *Dict) = %q, %v; want an empty dict", enc, err)
	}
}

func isListValue(v any) bool { _, ok := v.([]any); return ok }

func TestEncodeObjectAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	// Boxed once: converting a slice to any allocates its header.
	var small any = []any{int64(1), "two", 3.0, nil, true, wire.Tuple{int64(4)}}
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = wire.AppendObject(buf[:0], small); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("AppendObject into a large enough buffer allocates %v times", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() {
		if _, err := wire.EncodeObject("hello"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 1 {
		t.Fatalf("EncodeObject of a string allocates %v times, want 1", allocs)
	}
}

func BenchmarkObject(b *testing.B) {
	var request any = wire.Tuple{"echo", wire.Tuple{"hello", int64(42)}, mustDict(b, "sleep", 0.0)}
	enc, err := wire.EncodeObject(request)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("AppendObject", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			buf, _ = wire.AppendObject(buf[:0], request)
		}
	})
	b.Run("EncodeObject", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			_, _ = wire.EncodeObject(request)
		}
	})
	b.Run("DecodeObject", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := wire.DecodeObject(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
