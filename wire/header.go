package wire

import (
	"encoding/binary"
	"errors"
)

// HeaderSize is the size in bytes of a package header on the wire: the
// control word followed by the six fields of Header, each a little-endian
// uint64.
const HeaderSize = 56

// Control is the first word of every package header: the ASCII bytes
// "YOTON   " ("YOTON" and three spaces, 59 4f 54 4f 4e 20 20 20) read as a
// little-endian uint64.
const Control uint64 = 0x202020_4e4f544f59

// ErrShortHeader is returned by DecodeHeader when fewer than HeaderSize
// bytes are given.
var ErrShortHeader = errors.New("yoton: short package header")

// ErrLostTrack is returned by DecodeHeader when a header does not start with
// Control. The stream can not be resynchronised: the connection must be
// closed.
var ErrLostTrack = errors.New("yoton: lost track of the stream (bad control bytes)")

// Header is the fixed package header that follows the control word.
type Header struct {
	// Slot is the slot id of the package (1: connection level, 2: context).
	Slot uint64
	// SourceID is the id of the context that created the package.
	SourceID uint64
	// SourceSeq is the per-source sequence number, starting at 1.
	SourceSeq uint64
	// DestID is 0 for everyone, else the one context the package is for.
	DestID uint64
	// DestSeq is the package or request this one answers, else 0.
	DestSeq uint64
	// Length is the payload length in bytes.
	Length uint64
}

// connectionSlot is the slot of connection-level signals, 1 (Python
// yoton's SLOT_DUMMY; slots.ConnectionSlot).
const connectionSlot = 1

// The SourceSeq of a connection-level signal says which signal it is.
const (
	seqHeartbeat = 0
	seqClose     = 1
)

// HeartbeatHeader returns the header of a heartbeat, exactly as Python
// yoton sends one (yoton.core.PACKAGE_HEARTBEAT): slot 1, every other
// field 0, no payload. A connection sends it when it has sent nothing
// for a while (0.25 s in yoton), so that the other end sees it alive.
// Write it with PutHeader or AppendHeader. Safe for concurrent use.
func HeartbeatHeader() Header { return Header{Slot: connectionSlot, SourceSeq: seqHeartbeat} }

// CloseHeader returns the header of the close signal, exactly as Python
// yoton sends one (yoton.core.PACKAGE_CLOSE): slot 1, SourceSeq 1, every
// other field 0, no payload. A connection sends it as its last package
// when it closes; the other end then closes too, with the reason "Closed
// from other end.". Safe for concurrent use.
func CloseHeader() Header { return Header{Slot: connectionSlot, SourceSeq: seqClose} }

// IsSignal reports whether h is a connection-level signal rather than a
// package to deliver: one with no payload (Length 0). Python yoton reads
// such a package's SourceSeq (see IsHeartbeat, IsClose), ignores every
// other field, slot included, and ignores signals it does not know. Safe
// for concurrent use.
func (h Header) IsSignal() bool { return h.Length == 0 }

// IsHeartbeat reports whether h is a heartbeat as Python yoton reads one:
// no payload and SourceSeq 0, whatever its other fields. Safe for
// concurrent use.
func (h Header) IsHeartbeat() bool { return h.IsSignal() && h.SourceSeq == seqHeartbeat }

// IsClose reports whether h is the close signal as Python yoton reads
// one: no payload and SourceSeq 1, whatever its other fields. Safe for
// concurrent use.
func (h Header) IsClose() bool { return h.IsSignal() && h.SourceSeq == seqClose }

// AppendHeader appends the HeaderSize bytes of h, control word first, to
// dst and returns the extended slice. It does not allocate when dst has
// room for HeaderSize more bytes. Pure function; safe for concurrent use
// on a dst no other goroutine uses.
func AppendHeader(dst []byte, h Header) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, Control)
	dst = binary.LittleEndian.AppendUint64(dst, h.Slot)
	dst = binary.LittleEndian.AppendUint64(dst, h.SourceID)
	dst = binary.LittleEndian.AppendUint64(dst, h.SourceSeq)
	dst = binary.LittleEndian.AppendUint64(dst, h.DestID)
	dst = binary.LittleEndian.AppendUint64(dst, h.DestSeq)
	return binary.LittleEndian.AppendUint64(dst, h.Length)
}

// PutHeader writes the HeaderSize bytes of h, control word first, into
// dst[:HeaderSize]. It panics if len(dst) < HeaderSize, like the
// encoding/binary Put functions. Safe for concurrent use on a dst no
// other goroutine uses.
func PutHeader(dst []byte, h Header) {
	_ = dst[HeaderSize-1] // one bounds check, panics early if short
	binary.LittleEndian.PutUint64(dst[0:], Control)
	binary.LittleEndian.PutUint64(dst[8:], h.Slot)
	binary.LittleEndian.PutUint64(dst[16:], h.SourceID)
	binary.LittleEndian.PutUint64(dst[24:], h.SourceSeq)
	binary.LittleEndian.PutUint64(dst[32:], h.DestID)
	binary.LittleEndian.PutUint64(dst[40:], h.DestSeq)
	binary.LittleEndian.PutUint64(dst[48:], h.Length)
}

// DecodeHeader reads a header from the first HeaderSize bytes of b; bytes
// beyond them are not looked at. It returns ErrShortHeader if b is shorter
// than HeaderSize and ErrLostTrack if b does not start with Control (the
// returned Header is then zero). b is only read, never retained. It does not
// allocate. Pure function; safe for concurrent use.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrShortHeader
	}
	b = b[:HeaderSize]
	if binary.LittleEndian.Uint64(b[0:]) != Control {
		return Header{}, ErrLostTrack
	}
	return Header{
		Slot:      binary.LittleEndian.Uint64(b[8:]),
		SourceID:  binary.LittleEndian.Uint64(b[16:]),
		SourceSeq: binary.LittleEndian.Uint64(b[24:]),
		DestID:    binary.LittleEndian.Uint64(b[32:]),
		DestSeq:   binary.LittleEndian.Uint64(b[40:]),
		Length:    binary.LittleEndian.Uint64(b[48:]),
	}, nil
}
