package wire_test

import (
	"math"
	"strings"
	"testing"

	"github.com/goyoton/yoton/wire"
)

type reprCase struct {
	name  string
	value any
	want  string
}

// Expectations are CPython 3.11 output: python3 -c "print(repr(<value>))",
// floats given by their bits: struct.unpack('<d', bits)[0].
func TestReprFloat(t *testing.T) {
	tests := []reprCase{
		{name: "float 0.0", value: math.Float64frombits(0x0000000000000000), want: `0.0`},
		{name: "float -0.0", value: math.Float64frombits(0x8000000000000000), want: `-0.0`},
		{name: "float 1.0", value: math.Float64frombits(0x3ff0000000000000), want: `1.0`},
		{name: "float -1.5", value: math.Float64frombits(0xbff8000000000000), want: `-1.5`},
		{name: "float 0.1", value: math.Float64frombits(0x3fb999999999999a), want: `0.1`},
		{name: "float 0.30000000000000004", value: math.Float64frombits(0x3fd3333333333334), want: `0.30000000000000004`},
		{name: "float 0.3333333333333333", value: math.Float64frombits(0x3fd5555555555555), want: `0.3333333333333333`},
		{name: "float 1000000000000000.0", value: math.Float64frombits(0x430c6bf526340000), want: `1000000000000000.0`},
		{name: "float 1e+16", value: math.Float64frombits(0x4341c37937e08000), want: `1e+16`},
		{name: "float 1.5e+16", value: math.Float64frombits(0x434aa535d3d0c000), want: `1.5e+16`},
		{name: "float 1.2345678901234568e+17", value: math.Float64frombits(0x437b69b4ba630f35), want: `1.2345678901234568e+17`},
		{name: "float 9999999999999998.0", value: math.Float64frombits(0x4341c37937e07fff), want: `9999999999999998.0`},
		{name: "float 0.0001", value: math.Float64frombits(0x3f1a36e2eb1c432d), want: `0.0001`},
		{name: "float 1e-05", value: math.Float64frombits(0x3ee4f8b588e368f1), want: `1e-05`},
		{name: "float 0.00012345", value: math.Float64frombits(0x3f202e4b6ce5dc68), want: `0.00012345`},
		{name: "float 1.2345e-05", value: math.Float64frombits(0x3ee9e3abe16fc70d), want: `1.2345e-05`},
		{name: "float 1e+22", value: math.Float64frombits(0x4480f0cf064dd592), want: `1e+22`},
		{name: "float 1.5e+300", value: math.Float64frombits(0x7e41eb2d66005835), want: `1.5e+300`},
		{name: "float 5e-324", value: math.Float64frombits(0x0000000000000001), want: `5e-324`},
		{name: "float 2.2250738585072014e-308", value: math.Float64frombits(0x0010000000000000), want: `2.2250738585072014e-308`},
		{name: "float 1.7976931348623157e+308", value: math.Float64frombits(0x7fefffffffffffff), want: `1.7976931348623157e+308`},
		{name: "float 9007199254740992.0", value: math.Float64frombits(0x4340000000000000), want: `9007199254740992.0`},
		{name: "float 100.0", value: math.Float64frombits(0x4059000000000000), want: `100.0`},
		{name: "float 1e+100", value: math.Float64frombits(0x54b249ad2594c37d), want: `1e+100`},
		{name: "float -1e-100", value: math.Float64frombits(0xab2bff2ee48e0530), want: `-1e-100`},
		{name: "float inf", value: math.Float64frombits(0x7ff0000000000000), want: `inf`},
		{name: "float -inf", value: math.Float64frombits(0xfff0000000000000), want: `-inf`},
		{name: "nan", value: math.NaN(), want: "nan"},
		{name: "float32 0.1", value: float32(0.1), want: "0.10000000149011612"},
	}
	runRepr(t, tests)
}

// Expectations are CPython 3.11 output: python3 -c "print(repr(<value>))".
// The non-ASCII cases show where str.isprintable and unicode.IsPrint agree.
func TestReprString(t *testing.T) {
	tests := []reprCase{
		{name: `''`, value: "", want: `''`},
		{name: `'abc'`, value: `abc`, want: `'abc'`},
		{name: `"it's"`, value: `it's`, want: `"it's"`},
		{name: `'say "hi"'`, value: `say "hi"`, want: `'say "hi"'`},
		{name: `'both \' and "'`, value: `both ' and "`, want: `'both \' and "'`},
		{name: `'back\\slash'`, value: `back\slash`, want: `'back\\slash'`},
		{name: `'tab\tnl\ncr\r'`, value: "tab\tnl\ncr\r", want: `'tab\tnl\ncr\r'`},
		{name: `'\x00\x01\x1f\x7f'`, value: "\x00\x01\x1f\x7f", want: `'\x00\x01\x1f\x7f'`},
		{name: `'é€😀'`, value: `é€😀`, want: `'é€😀'`},
		{name: `'\x80\x85\xa0\xadÿ'`, value: "\u0080\u0085\u00a0\u00adÿ", want: `'\x80\x85\xa0\xadÿ'`},
		{name: `'\u200b\u2028\u2029\ue000\ufeff\u0378'`, value: "\u200b\u2028\u2029\ue000\ufeff\u0378", want: `'\u200b\u2028\u2029\ue000\ufeff\u0378'`},
		{name: `'\U000f0000\U0010ffff😀'`, value: "\U000f0000\U0010ffff😀", want: `'\U000f0000\U0010ffff😀'`},
		{name: `'日本語'`, value: `日本語`, want: `'日本語'`},
		{name: `'\u3000x\xa0'`, value: "\u3000x\u00a0", want: `'\u3000x\xa0'`},
		{name: `"'"`, value: `'`, want: `"'"`},
		{name: `'"'`, value: `"`, want: `'"'`},
		{name: `'a\'b"c\''`, value: `a'b"c'`, want: `'a\'b"c\''`},
	}
	runRepr(t, tests)
}

func TestReprOther(t *testing.T) {
	d := mustDict(t, "k", []any{nil, true, wire.Tuple{1.5, "x"}})
	d2 := mustDict(t, wire.Tuple{1, "x"}, nil, "a", -3, 2.5, []any{1e16, 1e-05})
	deep := []any{}
	for range wire.MaxObjectDepth {
		deep = []any{deep}
	}
	tests := []reprCase{
		// python3 -c "print(repr([1, 'a', (2,), (), {}, {'k': [None, True, (1.5, 'x')]}, [[]]]))"
		{name: "list", value: []any{int64(1), "a", wire.Tuple{2}, wire.Tuple{}, wire.NewDict(), d, []any{[]any{}}},
			want: `[1, 'a', (2,), (), {}, {'k': [None, True, (1.5, 'x')]}, [[]]]`},
		// python3 -c "print(repr({(1, 'x'): None, 'a': -3, 2.5: [1e16, 1e-05]}))"
		{name: "dict", value: d2, want: `{(1, 'x'): None, 'a': -3, 2.5: [1e+16, 1e-05]}`},
		{name: "ints", value: []any{int8(-8), uint16(16), uint64(math.MaxUint64), math.MinInt64}, want: "[-8, 16, 18446744073709551615, -9223372036854775808]"},
		{name: "map", value: map[string]any{"z": 1, "a": []string{"s"}}, want: "{'a': ['s'], 'z': 1}"},
		{name: "slices", value: wire.Tuple{[]int64{1, 2}, []float64{0.5}, []string{}}, want: "([1, 2], [0.5], [])"},
		// python3 -c "print(repr(b'\x00a\'\"\\\x7f\xff\t'), repr(b\"it's\"), repr(b''))"
		{name: "bytes", value: []any{[]byte("\x00a'\"\\\x7f\xff\t"), []byte("it's"), []byte{}},
			want: `[b'\x00a\'"\\\x7f\xff\t', b"it's", b'']`},
		{name: "invalid utf8", value: "a\xffb\xe2\x82", want: `'a\xffb\xe2\x82'`},
		{name: "unsupported", value: struct{}{}, want: "<unsupported struct {}>"},
		{name: "too deep", value: deep, want: strings.Repeat("[", wire.MaxObjectDepth) + "..." + strings.Repeat("]", wire.MaxObjectDepth)},
	}
	runRepr(t, tests)
}

func runRepr(t *testing.T, tests []reprCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := wire.Repr(tc.value); got != tc.want {
				t.Fatalf("Repr = %s, want %s", got, tc.want)
			}
		})
	}
}
