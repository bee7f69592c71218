package objconv_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/goyoton/yoton/internal/objconv"
	"github.com/goyoton/yoton/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

type point struct {
	X, Y int
}

// targets are the Go types the fuzz target converts every decoded value
// to: each conversion either succeeds or fails with ErrConvert.
var targets = []reflect.Type{
	reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[uint](),
	reflect.TypeFor[float32](), reflect.TypeFor[bool](), reflect.TypeFor[string](),
	reflect.TypeFor[[]byte](), reflect.TypeFor[[]int](), reflect.TypeFor[[2]string](),
	reflect.TypeFor[map[string]int](), reflect.TypeFor[map[int][]string](),
	reflect.TypeFor[*int](), reflect.TypeFor[any](), reflect.TypeFor[[]any](),
	reflect.TypeFor[wire.Tuple](), reflect.TypeFor[*wire.Dict](), reflect.TypeFor[point](),
}

func TestToObjectAndBack(t *testing.T) {
	type celsius float64
	n := 7
	tests := []struct {
		in   any
		repr string
		back reflect.Type
	}{
		{in: []int{1, 2}, repr: "[1, 2]", back: reflect.TypeFor[[]int]()},
		{in: map[string]celsius{"a": 1.5}, repr: "{'a': 1.5}", back: reflect.TypeFor[map[string]celsius]()},
		{in: &n, repr: "7", back: reflect.TypeFor[*int]()},
		{in: [2]string{"x", "y"}, repr: "['x', 'y']", back: reflect.TypeFor[[2]string]()},
		{in: (*int)(nil), repr: "None", back: reflect.TypeFor[*int]()},
	}
	for _, tt := range tests {
		obj, err := objconv.ToObject(tt.in)
		require.NoError(t, err, "%#v", tt.in)
		assert.Equal(t, tt.repr, wire.Repr(obj))
		enc, err := wire.EncodeObject(obj)
		require.NoError(t, err)
		dec, err := wire.DecodeObject(enc)
		require.NoError(t, err)
		back, err := objconv.ConvertValue(dec, tt.back)
		require.NoError(t, err, "%s to %s", wire.Repr(dec), tt.back)
		assert.Equal(t, tt.in, back.Interface())
	}
	_, err := objconv.ToObject(make(chan int))
	require.Error(t, err, "a channel has no object form")
}

func TestConvertValueErrors(t *testing.T) {
	_, err := objconv.ConvertValue("seven", reflect.TypeFor[int]())
	require.ErrorIs(t, err, objconv.ErrConvert)
	assert.Contains(t, err.Error(), "'seven' (str) to int")
	_, err = objconv.ConvertValue(int64(300), reflect.TypeFor[int8]())
	require.ErrorIs(t, err, objconv.ErrConvert, "out of range is an error, not a wrap-around")
	_, err = objconv.ConvertValue([]any{int64(1), "b"}, reflect.TypeFor[[]int]())
	require.ErrorIs(t, err, objconv.ErrConvert)
	assert.Equal(t, "NoneType", objconv.PyTypeName(nil))
	assert.Equal(t, "tuple", objconv.PyTypeName(wire.Tuple{}))
	assert.Len(t, objconv.ClipRepr(string(make([]byte, 200))), 80)
}

// FuzzConvert: every value the object codec decodes converts to each
// target type or fails with ErrConvert, never panics; and every decoded
// value has an object form that encodes to the same bytes.
func FuzzConvert(f *testing.F) {
	for _, v := range []any{nil, true, int64(-3), 2.5, "text", []any{int64(1), "a"}, wire.Tuple{int64(1), int64(2)},
		wire.MustDictOf("X", int64(1), "Y", int64(2)), []any{[]any{"deep"}}, wire.MustDictOf(int64(1), []any{"v"})} {
		b, err := wire.EncodeObject(v)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := wire.DecodeObject(b)
		if err != nil {
			return
		}
		for _, target := range targets {
			out, err := objconv.ConvertValue(v, target)
			if err != nil {
				if !errors.Is(err, objconv.ErrConvert) {
					t.Fatalf("%s to %s: error %v does not wrap ErrConvert", wire.Repr(v), target, err)
				}
				continue
			}
			if out.Type() != target {
				t.Fatalf("%s to %s gave a %s", wire.Repr(v), target, out.Type())
			}
		}
		obj, err := objconv.ToObject(v)
		if err != nil {
			t.Fatalf("a decoded value %s has no object form: %v", wire.Repr(v), err)
		}
		enc, err := wire.EncodeObject(obj)
		if err != nil {
			t.Fatalf("encoding the object form of %s: %v", wire.Repr(v), err)
		}
		if wire.Repr(obj) != wire.Repr(v) {
			t.Fatalf("object form changed the value: %s became %s (%x)", wire.Repr(v), wire.Repr(obj), enc)
		}
	})
}
