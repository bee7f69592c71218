package wire

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Repr returns what Python 3's repr() prints for v, a decoded object:
// None, True, False, 42, 0.1, 1e+16, inf, nan, 'text', [1, 2], (1,), {'a': 1}.
// Floats print with the shortest digits that round-trip, in scientific
// notation when the decimal exponent is below -4 or at least 16, as CPython
// does. Strings use Python's quoting and escapes; whether a non-ASCII
// character prints as is or as \xNN, \uNNNN or \UNNNNNNNN follows
// unicode.IsPrint, which matches Python's str.isprintable except for
// characters assigned in Unicode versions the two do not share.
//
// Repr also prints every type EncodeObject accepts (ints of every kind,
// float32 through float64, map[string]any with sorted keys, []string, ...)
// and []byte as a Python bytes literal. Bytes in a string that are not
// valid UTF-8 print as \xNN (Python strings can not hold them). Containers
// nested deeper than MaxObjectDepth print as "...", and other types as
// <unsupported T>. Pure function; safe for concurrent use while no
// goroutine modifies v.
func Repr(v any) string {
	return string(appendRepr(nil, v, 0))
}

func appendRepr(b []byte, v any, depth int) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "None"...)
	case bool:
		if x {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	case float64:
		return appendFloatRepr(b, x)
	case float32:
		return appendFloatRepr(b, float64(x))
	case string:
		return appendStringRepr(b, x)
	case []byte:
		return appendBytesRepr(b, x)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case uint:
		return strconv.AppendUint(b, uint64(x), 10)
	}
	if n, ok, _ := intValue(v); ok {
		return strconv.AppendInt(b, n, 10)
	}
	switch v.(type) {
	case []any, Tuple, *Dict, map[string]any, []string, []int64, []float64:
		if depth >= MaxObjectDepth {
			return append(b, "..."...)
		}
	}
	switch x := v.(type) {
	case []any:
		return appendSeqRepr(b, '[', ']', x, depth)
	case Tuple:
		if len(x) == 1 {
			b = append(b, '(')
			b = appendRepr(b, x[0], depth+1)
			return append(b, ",)"...)
		}
		return appendSeqRepr(b, '(', ')', x, depth)
	case []string:
		return appendSliceRepr(b, x, depth)
	case []int64:
		return appendSliceRepr(b, x, depth)
	case []float64:
		return appendSliceRepr(b, x, depth)
	case *Dict:
		b = append(b, '{')
		i := 0
		for k, val := range x.All() {
			if i > 0 {
				b = append(b, ", "...)
			}
			i++
			b = appendRepr(b, k, depth+1)
			b = append(b, ": "...)
			b = appendRepr(b, val, depth+1)
		}
		return append(b, '}')
	case map[string]any:
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendStringRepr(b, k)
			b = append(b, ": "...)
			b = appendRepr(b, x[k], depth+1)
		}
		return append(b, '}')
	}
	return fmt.Appendf(b, "<unsupported %T>", v)
}

func appendSeqRepr(b []byte, open, close byte, items []any, depth int) []byte {
	b = append(b, open)
	for i, it := range items {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendRepr(b, it, depth+1)
	}
	return append(b, close)
}

func appendSliceRepr[T any](b []byte, items []T, depth int) []byte {
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendRepr(b, it, depth+1)
	}
	return append(b, ']')
}

// appendFloatRepr prints f as CPython's float.__repr__.
func appendFloatRepr(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // d.ddde±XX
	exp := 0
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			exp, _ = strconv.Atoi(string(e[i+1:]))
			break
		}
	}
	if exp < -4 || exp >= 16 {
		return append(b, e...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	if slices.Index(b[start:], '.') < 0 {
		b = append(b, ".0"...)
	}
	return b
}

const hexDigits = "0123456789abcdef"

func appendHexEscape(b []byte, prefix byte, r rune, width int) []byte {
	b = append(b, '\\', prefix)
	for shift := (width - 1) * 4; shift >= 0; shift -= 4 {
		b = append(b, hexDigits[(r>>uint(shift))&0xF])
	}
	return b
}

// quoteFor picks Python's quote: ' unless the text holds ' and no ".
func quoteFor(hasSingle, hasDouble bool) byte {
	if hasSingle && !hasDouble {
		return '"'
	}
	return '\''
}

// appendStringRepr prints s as CPython's str.__repr__.
func appendStringRepr(b []byte, s string) []byte {
	var hasSingle, hasDouble bool
	for i := 0; i < len(s); i++ {
		hasSingle = hasSingle || s[i] == '\''
		hasDouble = hasDouble || s[i] == '"'
	}
	quote := quoteFor(hasSingle, hasDouble)
	b = append(b, quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = appendHexEscape(b, 'x', rune(s[i]), 2)
			i++
			continue
		}
		i += size
		switch {
		case r == rune(quote) || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r < ' ' || r == 0x7f:
			b = appendHexEscape(b, 'x', r, 2)
		case r < 0x7f || unicode.IsPrint(r):
			b = utf8.AppendRune(b, r)
		case r <= 0xff:
			b = appendHexEscape(b, 'x', r, 2)
		case r <= 0xffff:
			b = appendHexEscape(b, 'u', r, 4)
		default:
			b = appendHexEscape(b, 'U', r, 8)
		}
	}
	return append(b, quote)
}

// appendBytesRepr prints p as CPython's bytes.__repr__.
func appendBytesRepr(b []byte, p []byte) []byte {
	quote := quoteFor(slices.Contains(p, '\''), slices.Contains(p, '"'))
	b = append(b, 'b', quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			b = append(b, '\\', c)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < ' ' || c >= 0x7f:
			b = appendHexEscape(b, 'x', rune(c), 2)
		default:
			b = append(b, c)
		}
	}
	return append(b, quote)
}
