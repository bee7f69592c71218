package wire_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/goyoton/yoton/wire"
)

func TestControl(t *testing.T) {
	var b [wire.HeaderSize]byte
	wire.PutHeader(b[:], wire.Header{})
	if got := string(b[:8]); got != "YOTON   " {
		t.Fatalf("control bytes = %q, want %q", got, "YOTON   ")
	}
}

// Expected headers were produced by the real Python yoton:
//
//	PYTHONPATH=.../pyzo python3 -c "from yoton.core import Package; \
//	  print(Package(b'hello', 0x1122334455667788, 0x0102030405060708, 3, 0, 0x8000000000000005, 0).parts()[0].hex())"
var headerCases = []struct {
	name string
	h    wire.Header
	hex  string
}{
	{
		name: "request",
		h:    wire.Header{Slot: 0x1122334455667788, SourceID: 0x0102030405060708, SourceSeq: 3, DestSeq: 0x8000000000000005, Length: 5},
		hex:  "594f544f4e202020887766554433221108070605040302010300000000000000000000000000000005000000000000800500000000000000",
	},
	{
		name: "heartbeat",
		h:    wire.Header{Slot: 1},
		hex:  "594f544f4e202020010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	},
}

func TestHeaderMatchesPython(t *testing.T) {
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := hex.DecodeString(tc.hex)
			if err != nil {
				t.Fatal(err)
			}
			got := wire.AppendHeader([]byte("prefix"), tc.h)
			if string(got[:6]) != "prefix" || hex.EncodeToString(got[6:]) != tc.hex {
				t.Fatalf("AppendHeader = %x, want prefix + %s", got, tc.hex)
			}
			put := make([]byte, wire.HeaderSize+3)
			wire.PutHeader(put, tc.h)
			if hex.EncodeToString(put[:wire.HeaderSize]) != tc.hex {
				t.Fatalf("PutHeader = %x, want %s", put, tc.hex)
			}
			h, err := wire.DecodeHeader(append(want, 0xAA)) // extra bytes are ignored
			if err != nil {
				t.Fatalf("DecodeHeader: %v", err)
			}
			if h != tc.h {
				t.Fatalf("DecodeHeader = %+v, want %+v", h, tc.h)
			}
		})
	}
}

func TestDecodeHeaderErrors(t *testing.T) {
	good := wire.AppendHeader(nil, wire.Header{Slot: 9, Length: 4})
	for n := range wire.HeaderSize {
		if _, err := wire.DecodeHeader(good[:n]); !errors.Is(err, wire.ErrShortHeader) {
			t.Fatalf("DecodeHeader(%d bytes) error = %v, want ErrShortHeader", n, err)
		}
	}
	for i := range 8 {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x01
		h, err := wire.DecodeHeader(bad)
		if !errors.Is(err, wire.ErrLostTrack) {
			t.Fatalf("control byte %d flipped: error = %v, want ErrLostTrack", i, err)
		}
		if h != (wire.Header{}) {
			t.Fatalf("control byte %d flipped: header = %+v, want zero", i, h)
		}
	}
	if got := wire.ErrLostTrack.Error(); got != "yoton: lost track of the stream (bad control bytes)" {
		t.Fatalf("ErrLostTrack message = %q", got)
	}
}

func TestPutHeaderPanicsWhenShort(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("PutHeader on a short slice did not panic")
		}
	}()
	wire.PutHeader(make([]byte, wire.HeaderSize-1), wire.Header{})
}

func TestHeaderZeroAllocs(t *testing.T) {
	h := wire.Header{Slot: 1, SourceID: 2, SourceSeq: 3, DestID: 4, DestSeq: 5, Length: 6}
	buf := make([]byte, 0, wire.HeaderSize)
	var got wire.Header
	allocs := testing.AllocsPerRun(100, func() {
		b := wire.AppendHeader(buf[:0], h)
		got, _ = wire.DecodeHeader(b)
	})
	if allocs != 0 {
		t.Fatalf("AppendHeader+DecodeHeader allocate %v times, want 0", allocs)
	}
	if got != h {
		t.Fatalf("round trip = %+v, want %+v", got, h)
	}
}

func BenchmarkHeader(b *testing.B) {
	h := wire.Header{Slot: 1234, SourceID: 5678, SourceSeq: 9, Length: 100}
	buf := make([]byte, 0, wire.HeaderSize)
	b.Run("AppendHeader", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(wire.HeaderSize)
		for b.Loop() {
			buf = wire.AppendHeader(buf[:0], h)
		}
	})
	b.Run("DecodeHeader", func(b *testing.B) {
		enc := wire.AppendHeader(nil, h)
		b.ReportAllocs()
		b.SetBytes(wire.HeaderSize)
		for b.Loop() {
			if _, err := wire.DecodeHeader(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
