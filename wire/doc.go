// Package wire holds the byte-level formats of the yoton 2.2 protocol, as
// spoken by the Python yoton library shipped with the Pyzo IDE: the 56-byte
// package header, the TCP handshake line and the encoding of object
// messages. Everything here is a pure function or a plain value type: no
// I/O, no goroutines, no global mutable state. All functions are safe for
// concurrent use; a *Dict, like a Go map, is not safe for concurrent
// mutation.
//
// # Header
//
// Every package on a connection starts with a control word (the ASCII bytes
// "YOTON   " read as a little-endian uint64, see Control) and six more
// little-endian uint64 fields, described by Header. AppendHeader and
// PutHeader write it, DecodeHeader reads it; none of them allocates.
// A package with no payload is a connection-level signal, never
// delivered: HeartbeatHeader and CloseHeader are yoton's two, and
// Header.IsSignal, IsHeartbeat and IsClose read them as yoton does.
//
// # Handshake
//
// Before the binary framing, the connecting side sends
// "YOTON!<id>.<pid>\r\n" (HandshakeLine) and the hosting side answers with
// its own line, or with ReplyNotYoton / ReplyBadID when
// ParseHandshakeLine fails.
//
// # Objects
//
// Object channels carry a tagged recursive encoding of None, bool, int,
// float, str, list, tuple and dict (EncodeObject, AppendObject,
// DecodeObject). On the Go side these are nil, bool, int64, float64,
// string, []any, Tuple and *Dict; DictOf and MustDictOf build a *Dict in
// one expression, as a Python dict literal does. Repr prints a decoded
// value exactly as Python's repr() would, which is handy in logs and for
// comparing with a Python peer.
//
// A short example:
//
//	d := wire.MustDictOf("method", "echo", "args", wire.Tuple{int64(1), 2.5})
//	b, err := wire.EncodeObject(d)
//	if err != nil {
//		return err
//	}
//	v, err := wire.DecodeObject(b)
//	if err != nil {
//		return err
//	}
//	fmt.Println(wire.Repr(v)) // {'method': 'echo', 'args': (1, 2.5)}
//
// Decoding is meant for untrusted input: it never panics, checks every
// length against the bytes that remain before allocating, and limits
// nesting to MaxObjectDepth.
package wire
