package wire_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/goyoton/yoton/wire"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/, so plain `go test` runs
// them; `go test -fuzz=FuzzDecodeObject ./wire/` explores further.

func FuzzDecodeHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := wire.DecodeHeader(b)
		switch {
		case len(b) < wire.HeaderSize:
			if !errors.Is(err, wire.ErrShortHeader) {
				t.Fatalf("short input: error %v", err)
			}
		case err != nil:
			if !errors.Is(err, wire.ErrLostTrack) {
				t.Fatalf("error %v, want ErrLostTrack", err)
			}
		default:
			if enc := wire.AppendHeader(nil, h); !bytes.Equal(enc, b[:wire.HeaderSize]) {
				t.Fatalf("re-encoded header %x differs from input %x", enc, b[:wire.HeaderSize])
			}
		}
	})
}

func FuzzParseHandshakeLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		id, pid, err := wire.ParseHandshakeLine(line)
		if err != nil {
			if !errors.Is(err, wire.ErrNotYoton) && !errors.Is(err, wire.ErrBadHandshakeID) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		id2, pid2, err := wire.ParseHandshakeLine(wire.HandshakeLine(id, pid))
		if err != nil || id2 != id || pid2 != pid {
			t.Fatalf("HandshakeLine(%#x, %d) parses as %#x, %d, %v", id, pid, id2, pid2, err)
		}
	})
}

func FuzzDecodeObject(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := wire.DecodeObject(b)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformedObject) && !errors.Is(err, wire.ErrTooDeep) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		enc, err := wire.EncodeObject(v)
		if err != nil {
			t.Fatalf("re-encoding %s: %v", wire.Repr(v), err)
		}
		v2, err := wire.DecodeObject(enc)
		if err != nil {
			t.Fatalf("decoding the re-encoding %x: %v", enc, err)
		}
		if r1, r2 := wire.Repr(v), wire.Repr(v2); r1 != r2 {
			t.Fatalf("round trip changed the value: %s became %s", r1, r2)
		}
		enc2, err := wire.EncodeObject(v2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %x then %x (%v)", enc, enc2, err)
		}
	})
}
