package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"unicode/utf8"
)

// MaxObjectDepth is the deepest nesting of lists, tuples and dicts that
// EncodeObject, AppendObject and DecodeObject accept: a value with more
// than MaxObjectDepth containers inside each other gives ErrTooDeep. (Python
// itself stops at its recursion limit, about 1000 levels.)
const MaxObjectDepth = 256

// Tuple is a Python tuple. It encodes with the tuple tag and, unlike a
// list ([]any), may be a dict key when all its items are hashable.
type Tuple []any

// Errors of the object codec. Errors returned by this package wrap them
// (test with errors.Is) and add the position or type at fault.
var (
	// ErrUnsupportedType: the value (or a part of it) has a type that has
	// no yoton encoding, for example []byte (Python bytes are not encodable
	// either) or a string that is not valid UTF-8.
	ErrUnsupportedType = errors.New("yoton: unsupported type")
	// ErrIntOverflow: an unsigned integer above math.MaxInt64; Python's
	// struct.pack('<q') fails the same way.
	ErrIntOverflow = errors.New("yoton: integer overflows int64")
	// ErrMalformedObject: the bytes given to DecodeObject are not a valid
	// encoding (truncated, unknown tag, invalid UTF-8, impossible length).
	ErrMalformedObject = errors.New("yoton: malformed object")
	// ErrTooDeep: more than MaxObjectDepth nested containers.
	ErrTooDeep = errors.New("yoton: object nested too deeply")
	// ErrUnhashable: a list or dict (or a tuple holding one) used as a dict
	// key, which Python refuses as well.
	ErrUnhashable = errors.New("yoton: unhashable dict key")
	// ErrOddPairs: DictOf was given a key without its value.
	ErrOddPairs = errors.New("yoton: dict literal needs key, value pairs")
)

// Type tags of the object encoding.
const (
	tagNone   = 'n'
	tagBool   = 'b'
	tagInt    = 'i'
	tagFloat  = 'f'
	tagString = 's'
	tagList   = 'l'
	tagTuple  = 't'
	tagDict   = 'd'
)

// numberEscape introduces a count that does not fit in one byte.
const numberEscape = 0xFF

// objectError is a decoding error at a byte position; it wraps a sentinel
// and optionally a second one (ErrUnhashable for bad dict keys).
type objectError struct {
	sentinel error
	also     error
	pos      int
	msg      string
}

// Error gives the sentinel, the byte position and what is wrong there.
// Safe for concurrent use.
func (e *objectError) Error() string {
	return fmt.Sprintf("%v at byte %d: %s", e.sentinel, e.pos, e.msg)
}

// Unwrap returns the sentinels the error matches. Safe for concurrent
// use.
func (e *objectError) Unwrap() []error {
	if e.also != nil {
		return []error{e.sentinel, e.also}
	}
	return []error{e.sentinel}
}

// EncodeObject returns the yoton object encoding of v in a newly allocated
// slice owned by the caller.
//
// Accepted values: nil (None), bool, every int and uint kind (uint values
// above math.MaxInt64 give ErrIntOverflow), float32 and float64 (the bits of
// a NaN are kept), string (must be valid UTF-8), []any (list), Tuple, *Dict
// (a nil *Dict is an empty dict) and, for convenience, map[string]any
// (encoded as a dict with its keys in sorted order, so the output is
// deterministic), []string, []int64 and []float64 (encoded as lists). Any
// other type, []byte included, gives ErrUnsupportedType.
//
// Pure function; safe for concurrent use while no goroutine modifies v.
func EncodeObject(v any) ([]byte, error) {
	return AppendObject(make([]byte, 0, sizeHint(v)), v)
}

// AppendObject appends the yoton object encoding of v (see EncodeObject) to
// dst and returns the extended slice. On error it returns dst unchanged,
// though the bytes between len(dst) and cap(dst) may have been written.
// Safe for concurrent use on a dst no other goroutine uses, while no
// goroutine modifies v.
func AppendObject(dst []byte, v any) ([]byte, error) {
	out, err := appendObject(dst, v, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// sizeHint guesses the encoded size of v, exactly for scalars.
func sizeHint(v any) int {
	switch x := v.(type) {
	case nil:
		return 1
	case bool:
		return 2
	case string:
		return 10 + len(x)
	case []any, Tuple, *Dict, map[string]any, []string, []int64, []float64:
		return 64
	default:
		return 9
	}
}

func appendNumber(dst []byte, n int) []byte {
	if n < numberEscape {
		return append(dst, byte(n))
	}
	dst = append(dst, numberEscape)
	return binary.LittleEndian.AppendUint64(dst, uint64(n))
}

func appendInt(dst []byte, n int64) []byte {
	dst = append(dst, tagInt)
	return binary.LittleEndian.AppendUint64(dst, uint64(n))
}

func appendUint(dst []byte, n uint64) ([]byte, error) {
	if n > math.MaxInt64 {
		return dst, fmt.Errorf("%w: %d", ErrIntOverflow, n)
	}
	return appendInt(dst, int64(n)), nil
}

func appendFloat(dst []byte, f float64) []byte {
	dst = append(dst, tagFloat)
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

func appendString(dst []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return dst, fmt.Errorf("%w: string is not valid UTF-8: %q", ErrUnsupportedType, s)
	}
	dst = append(dst, tagString)
	dst = appendNumber(dst, len(s))
	return append(dst, s...), nil
}

func appendContainerHead(dst []byte, tag byte, n, depth int) ([]byte, error) {
	if depth >= MaxObjectDepth {
		return dst, fmt.Errorf("%w: more than %d levels", ErrTooDeep, MaxObjectDepth)
	}
	dst = append(dst, tag)
	return appendNumber(dst, n), nil
}

func appendItems(dst []byte, tag byte, items []any, depth int) ([]byte, error) {
	dst, err := appendContainerHead(dst, tag, len(items), depth)
	for _, it := range items {
		if err != nil {
			break
		}
		dst, err = appendObject(dst, it, depth+1)
	}
	return dst, err
}

// appendObject encodes v; depth counts the containers around v.
func appendObject(dst []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, tagNone), nil
	case bool:
		if x {
			return append(dst, tagBool, 1), nil
		}
		return append(dst, tagBool, 0), nil
	case int64:
		return appendInt(dst, x), nil
	case int:
		return appendInt(dst, int64(x)), nil
	case int8:
		return appendInt(dst, int64(x)), nil
	case int16:
		return appendInt(dst, int64(x)), nil
	case int32:
		return appendInt(dst, int64(x)), nil
	case uint:
		return appendUint(dst, uint64(x))
	case uint8:
		return appendInt(dst, int64(x)), nil
	case uint16:
		return appendInt(dst, int64(x)), nil
	case uint32:
		return appendInt(dst, int64(x)), nil
	case uint64:
		return appendUint(dst, x)
	case float64:
		return appendFloat(dst, x), nil
	case float32:
		return appendFloat(dst, float64(x)), nil
	case string:
		return appendString(dst, x)
	case []any:
		return appendItems(dst, tagList, x, depth)
	case Tuple:
		return appendItems(dst, tagTuple, x, depth)
	case *Dict:
		dst, err := appendContainerHead(dst, tagDict, x.Len(), depth)
		if err != nil {
			return dst, err
		}
		for k, val := range x.All() {
			if dst, err = appendObject(dst, k, depth+1); err != nil {
				return dst, err
			}
			if dst, err = appendObject(dst, val, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case map[string]any:
		dst, err := appendContainerHead(dst, tagDict, len(x), depth)
		if err != nil {
			return dst, err
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if dst, err = appendString(dst, k); err != nil {
				return dst, err
			}
			if dst, err = appendObject(dst, x[k], depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case []string:
		dst, err := appendContainerHead(dst, tagList, len(x), depth)
		for _, s := range x {
			if err != nil {
				break
			}
			dst, err = appendString(dst, s)
		}
		return dst, err
	case []int64:
		dst, err := appendContainerHead(dst, tagList, len(x), depth)
		if err != nil {
			return dst, err
		}
		for _, n := range x {
			dst = appendInt(dst, n)
		}
		return dst, nil
	case []float64:
		dst, err := appendContainerHead(dst, tagList, len(x), depth)
		if err != nil {
			return dst, err
		}
		for _, f := range x {
			dst = appendFloat(dst, f)
		}
		return dst, nil
	case []byte:
		return dst, fmt.Errorf("%w: []byte (Python bytes are not encodable either; use a binary channel)", ErrUnsupportedType)
	default:
		return dst, fmt.Errorf("%w: %T", ErrUnsupportedType, v)
	}
}

// DecodeObject decodes one yoton-encoded object from b. The result is built
// from nil, bool, int64, float64, string, []any, Tuple and *Dict; it shares
// no memory with b, which is only read and never retained.
//
// As in Python: an empty b decodes to nil (None); bytes after the first
// complete object are ignored; a bool byte other than 0 and 1 is true; a key
// that appears twice in a dict keeps its first position and its last value.
//
// DecodeObject is safe on hostile input: it never panics, it checks every
// count against the bytes that remain before allocating anything for it, so
// memory use stays proportional to len(b), and it stops at MaxObjectDepth
// nested containers (ErrTooDeep). Other failures wrap ErrMalformedObject,
// or both ErrMalformedObject and ErrUnhashable for a list or dict used as a
// dict key; their message gives the byte offset at fault. Pure function;
// safe for concurrent use.
func DecodeObject(b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d := decoder{buf: b}
	return d.object(0)
}

// decoder reads one object from buf, starting at pos.
type decoder struct {
	buf []byte
	pos int
}

func (d *decoder) fail(pos int, format string, args ...any) error {
	return &objectError{sentinel: ErrMalformedObject, pos: pos, msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) remaining() int { return len(d.buf) - d.pos }

// take returns the next n bytes, or an error naming what was being read.
func (d *decoder) take(n int, what string) ([]byte, error) {
	if n > d.remaining() {
		return nil, d.fail(d.pos, "truncated %s: need %d bytes, have %d", what, n, d.remaining())
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

// count reads a count and checks that at least perItem*count bytes remain.
func (d *decoder) count(what string, perItem int) (int, error) {
	start := d.pos
	b, err := d.take(1, what+" length")
	if err != nil {
		return 0, err
	}
	n := uint64(b[0])
	if n == numberEscape {
		if b, err = d.take(8, what+" length"); err != nil {
			return 0, err
		}
		n = binary.LittleEndian.Uint64(b)
	}
	if n > uint64(d.remaining()/perItem) {
		return 0, d.fail(start, "%s claims %d items but only %d bytes remain", what, n, d.remaining())
	}
	return int(n), nil
}

// object decodes one object; depth counts the containers around it.
func (d *decoder) object(depth int) (any, error) {
	start := d.pos
	b, err := d.take(1, "type tag")
	if err != nil {
		return nil, err
	}
	tag := b[0]
	switch tag {
	case tagNone:
		return nil, nil
	case tagBool:
		if b, err = d.take(1, "bool"); err != nil {
			return nil, err
		}
		return b[0] != 0, nil
	case tagInt:
		if b, err = d.take(8, "int"); err != nil {
			return nil, err
		}
		return int64(binary.LittleEndian.Uint64(b)), nil
	case tagFloat:
		if b, err = d.take(8, "float"); err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	case tagString:
		n, err := d.count("string", 1)
		if err != nil {
			return nil, err
		}
		at := d.pos
		b, _ := d.take(n, "string")
		if !utf8.Valid(b) {
			return nil, d.fail(at, "string is not valid UTF-8")
		}
		return string(b), nil
	case tagList, tagTuple, tagDict:
		if depth >= MaxObjectDepth {
			return nil, &objectError{sentinel: ErrTooDeep, pos: start,
				msg: fmt.Sprintf("more than %d levels", MaxObjectDepth)}
		}
		if tag == tagDict {
			return d.dict(depth)
		}
		n, err := d.count("list", 1)
		if err != nil {
			return nil, err
		}
		items := make([]any, n)
		for i := range items {
			if items[i], err = d.object(depth + 1); err != nil {
				return nil, err
			}
		}
		if tag == tagTuple {
			return Tuple(items), nil
		}
		return items, nil
	default:
		return nil, d.fail(start, "unknown type tag 0x%02x", tag)
	}
}

func (d *decoder) dict(depth int) (any, error) {
	n, err := d.count("dict", 2)
	if err != nil {
		return nil, err
	}
	dict := &Dict{entries: make([]dictEntry, 0, n)}
	for range n {
		at := d.pos
		key, err := d.object(depth + 1)
		if err != nil {
			return nil, err
		}
		k, bad, _ := makeKey(key, false)
		if bad != "" {
			return nil, &objectError{sentinel: ErrMalformedObject, also: ErrUnhashable, pos: at,
				msg: "unhashable dict key: " + bad}
		}
		value, err := d.object(depth + 1)
		if err != nil {
			return nil, err
		}
		dict.set(k, value)
	}
	return dict, nil
}

// pyTypeName names the Python type of a decoded value, for messages.
func pyTypeName(v any) string {
	switch v.(type) {
	case []any, []string, []int64, []float64:
		return "list"
	case Tuple:
		return "tuple"
	case *Dict, map[string]any:
		return "dict"
	default:
		return fmt.Sprintf("%T", v)
	}
}
