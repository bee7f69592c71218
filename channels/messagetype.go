package channels

import (
	"errors"
	"fmt"
	"unicode/utf8"
	"unsafe"

	"github.com/goyoton/yoton/wire"
)

// MessageType converts messages of type T to bytes and back. Its Name is
// part of the slot name, so only channels with the same type name meet.
// yoton's built-in names are "txt", "bin" and "obj". Channels return
// Encode and Decode failures wrapped in ErrEncode and ErrDecode.
// Implementations must be safe for concurrent use: channels call them
// from the sending and receiving goroutines.
type MessageType[T any] interface {
	// Name returns the type name used in slot names.
	Name() string
	// Encode returns the bytes for m. The channel takes ownership of them.
	Encode(m T) ([]byte, error)
	// Decode turns a received payload into a message. b belongs to the
	// message from then on (it is not reused by the library), but it may
	// still be queued for forwarding to other contexts: do not modify it.
	Decode(b []byte) (T, error)
}

// ErrEncode and ErrDecode wrap failures of a MessageType.
var (
	ErrEncode = errors.New("yoton: cannot encode message")
	ErrDecode = errors.New("yoton: cannot decode message")
)

type textType struct{}

// Name returns "txt". Safe for concurrent use.
func (textType) Name() string { return "txt" }

// Encode refuses a string that is not valid UTF-8 (Go strings may hold
// any bytes; Python's str cannot, and its str.encode("utf-8") refuses
// lone surrogates): such a message would fail to decode at every
// receiver, Go or Python, so the sender hears of it instead. Safe for
// concurrent use.
func (textType) Encode(m string) ([]byte, error) {
	if !utf8.ValidString(m) {
		start, _, _ := invalidUTF8(m)
		return nil, fmt.Errorf("%w (txt): string is not valid UTF-8: byte 0x%02x at position %d", ErrEncode, m[start], start)
	}
	return []byte(m), nil
}

// Decode returns the payload as a string without copying it (the bytes
// are never written again), or, for bytes that are not valid UTF-8, an
// error wrapping ErrDecode that reads as Python's UnicodeDecodeError.
// Safe for concurrent use.
func (textType) Decode(b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	s := unsafe.String(&b[0], len(b))
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w (txt): %s", ErrDecode, pyDecodeError(s))
	}
	return s, nil
}

// pyDecodeError describes the first invalid UTF-8 sequence in s as
// Python's strict utf-8 codec does ("'utf-8' codec can't decode byte
// 0xff in position 3: invalid start byte"). s must hold one.
func pyDecodeError(s string) string {
	start, end, reason := invalidUTF8(s)
	if end-start == 1 {
		return fmt.Sprintf("'utf-8' codec can't decode byte 0x%02x in position %d: %s", s[start], start, reason)
	}
	return fmt.Sprintf("'utf-8' codec can't decode bytes in position %d-%d: %s", start, end-1, reason)
}

// invalidUTF8 finds the first invalid UTF-8 sequence in s and returns
// the bytes Python's decoder blames, s[start:end], and its reason:
// "invalid start byte", "invalid continuation byte" (the lead byte and
// the valid continuation bytes before the bad one) or "unexpected end of
// data" (the incomplete sequence at the end). s must hold one.
func invalidUTF8(s string) (start, end int, reason string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		// The number of continuation bytes and the range of the first
		// one, as in Python's decoder (RFC 3629: no overlong forms, no
		// surrogates, nothing above U+10FFFF).
		n, lo, hi := 0, byte(0x80), byte(0xbf)
		switch {
		case c >= 0xc2 && c <= 0xdf:
			n = 1
		case c == 0xe0:
			n, lo = 2, 0xa0
		case c == 0xed:
			n, hi = 2, 0x9f
		case c >= 0xe1 && c <= 0xef:
			n = 2
		case c == 0xf0:
			n, lo = 3, 0x90
		case c == 0xf4:
			n, hi = 3, 0x8f
		case c >= 0xf1 && c <= 0xf3:
			n = 3
		default:
			return i, i + 1, "invalid start byte"
		}
		j := i + 1
		for k := 0; k < n; k++ {
			if j == len(s) {
				return i, j, "unexpected end of data"
			}
			if s[j] < lo || s[j] > hi {
				return i, j, "invalid continuation byte"
			}
			j++
			lo, hi = 0x80, 0xbf
		}
		i = j
	}
	return len(s), len(s), "valid" // not reached for invalid input
}

type binaryType struct{}

// Name returns "bin". Safe for concurrent use.
func (binaryType) Name() string { return "bin" }

// Encode returns m itself (the channel takes ownership). Safe for
// concurrent use.
func (binaryType) Encode(m []byte) ([]byte, error) { return m, nil }

// Decode returns b itself, not copied. Safe for concurrent use.
func (binaryType) Decode(b []byte) ([]byte, error) { return b, nil }

type objectType struct{}

// Name returns "obj". Safe for concurrent use.
func (objectType) Name() string { return "obj" }

// Encode encodes m with the wire object codec. Safe for concurrent use.
func (objectType) Encode(m any) ([]byte, error) {
	b, err := wire.EncodeObject(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return b, nil
}

// Decode decodes b with the wire object codec. Safe for concurrent use.
func (objectType) Decode(b []byte) (any, error) {
	v, err := wire.DecodeObject(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return v, nil
}

// The built-in message types, as yoton.TEXT, yoton.BINARY and yoton.OBJECT.
var (
	// Text carries Unicode strings as UTF-8 (type name "txt"), strictly
	// as yoton's TEXT does (bb.decode("utf-8"), errors="strict"): a
	// payload that is not valid UTF-8 fails to decode with an error
	// wrapping ErrDecode whose text is Python's UnicodeDecodeError
	// message; nothing is replaced or dropped from it. As in Python, that
	// message is then gone and the channel carries on: Recv, TryRecv and
	// Messages report the error in its place, the next read returns the
	// next message (RecvAll leaves it out and returns the others, where
	// Python's recv_all loses every message it had popped), and a
	// StateChannel keeps its previous state (Python's receiving thread
	// prints the exception and drops the package). Sending a string
	// that is not valid UTF-8 fails with ErrEncode, before anything is
	// sent. Safe for concurrent use.
	Text MessageType[string] = textType{}
	// Binary carries raw bytes (type name "bin"). Send takes ownership of
	// the slice: do not modify it after sending. A received slice is the
	// package's own payload, not copied; the context may still be
	// forwarding it to other peers, so treat it as read-only (copy it
	// before modifying). Safe for concurrent use.
	Binary MessageType[[]byte] = binaryType{}
	// Object carries the values of the wire object codec: nil, bool,
	// int64, float64, string, []any, wire.Tuple, *wire.Dict (type name "obj").
	// Safe for concurrent use.
	Object MessageType[any] = objectType{}
)

type customType[T any] struct {
	name   string
	encode func(T) ([]byte, error)
	decode func([]byte) (T, error)
}

// Name returns the name given to NewMessageType. Safe for concurrent use.
func (c customType[T]) Name() string { return c.name }

// Encode calls the encode function given to NewMessageType: safe for
// concurrent use when that function is.
func (c customType[T]) Encode(m T) ([]byte, error) {
	b, err := c.encode(m)
	if err != nil {
		return nil, fmt.Errorf("%w (%s): %w", ErrEncode, c.name, err)
	}
	return b, nil
}

// Decode calls the decode function given to NewMessageType: safe for
// concurrent use when that function is.
func (c customType[T]) Decode(b []byte) (T, error) {
	v, err := c.decode(b)
	if err != nil {
		return v, fmt.Errorf("%w (%s): %w", ErrDecode, c.name, err)
	}
	return v, nil
}

// NewMessageType returns a user-defined message type: name goes into
// slot names (a Python peer's MessageType must return the same
// message_type_name), encode and decode convert messages. Channels call
// encode and decode from any goroutine, the loop's included, so they
// must be safe for concurrent use (and quick, as they may run on the
// loop). NewMessageType itself is safe for concurrent use.
func NewMessageType[T any](name string, encode func(T) ([]byte, error), decode func([]byte) (T, error)) MessageType[T] {
	return customType[T]{name: name, encode: encode, decode: decode}
}
