package channels

import (
	"errors"
	"fmt"
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

func (textType) Name() string                    { return "txt" }
func (textType) Encode(m string) ([]byte, error) { return []byte(m), nil }

// Decode returns the payload as a string without copying it: the bytes
// are never written again.
func (textType) Decode(b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	return unsafe.String(&b[0], len(b)), nil
}

type binaryType struct{}

func (binaryType) Name() string                    { return "bin" }
func (binaryType) Encode(m []byte) ([]byte, error) { return m, nil }
func (binaryType) Decode(b []byte) ([]byte, error) { return b, nil }

type objectType struct{}

func (objectType) Name() string { return "obj" }
func (objectType) Encode(m any) ([]byte, error) {
	b, err := wire.EncodeObject(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return b, nil
}
func (objectType) Decode(b []byte) (any, error) {
	v, err := wire.DecodeObject(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return v, nil
}

// The built-in message types, as yoton.TEXT, yoton.BINARY and yoton.OBJECT.
var (
	// Text carries Unicode strings as UTF-8 (type name "txt").
	Text MessageType[string] = textType{}
	// Binary carries raw bytes (type name "bin"). Send takes ownership of
	// the slice: do not modify it after sending. A received slice is the
	// package's own payload, not copied; the context may still be
	// forwarding it to other peers, so treat it as read-only (copy it
	// before modifying).
	Binary MessageType[[]byte] = binaryType{}
	// Object carries the values of the wire object codec: nil, bool,
	// int64, float64, string, []any, wire.Tuple, *wire.Dict (type name "obj").
	Object MessageType[any] = objectType{}
)

type customType[T any] struct {
	name   string
	encode func(T) ([]byte, error)
	decode func([]byte) (T, error)
}

func (c customType[T]) Name() string { return c.name }
func (c customType[T]) Encode(m T) ([]byte, error) {
	b, err := c.encode(m)
	if err != nil {
		return nil, fmt.Errorf("%w (%s): %w", ErrEncode, c.name, err)
	}
	return b, nil
}
func (c customType[T]) Decode(b []byte) (T, error) {
	v, err := c.decode(b)
	if err != nil {
		return v, fmt.Errorf("%w (%s): %w", ErrDecode, c.name, err)
	}
	return v, nil
}

// NewMessageType returns a user-defined message type: name goes into
// slot names (a Python peer's MessageType must return the same
// message_type_name), encode and decode convert messages.
func NewMessageType[T any](name string, encode func(T) ([]byte, error), decode func([]byte) (T, error)) MessageType[T] {
	return customType[T]{name: name, encode: encode, decode: decode}
}
