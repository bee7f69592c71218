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

// Produced by the real Python yoton (TestInteropSignalHeaders checks them
// again against the installed one):
//
//	from yoton.core import PACKAGE_HEARTBEAT, PACKAGE_CLOSE
//	PACKAGE_HEARTBEAT.parts()[0].hex(), PACKAGE_CLOSE.parts()[0].hex()
const (
	pyHeartbeatHex = "594f544f4e202020010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	pyCloseHex     = "594f544f4e202020010000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000"
)

func TestSignalHeadersMatchPython(t *testing.T) {
	tests := []struct {
		name string
		h    wire.Header
		hex  string
	}{
		{name: "heartbeat", h: wire.HeartbeatHeader(), hex: pyHeartbeatHex},
		{name: "close", h: wire.CloseHeader(), hex: pyCloseHex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(wire.AppendHeader(nil, tt.h)); got != tt.hex {
				t.Fatalf("AppendHeader = %s, want %s", got, tt.hex)
			}
			var b [wire.HeaderSize]byte
			wire.PutHeader(b[:], tt.h)
			if got := hex.EncodeToString(b[:]); got != tt.hex {
				t.Fatalf("PutHeader = %s, want %s", got, tt.hex)
			}
		})
	}
}

// TestSignalHeaderPredicates: a signal is read as Python yoton's
// _getPackage reads it: by Length and SourceSeq only.
func TestSignalHeaderPredicates(t *testing.T) {
	tests := []struct {
		name                           string
		h                              wire.Header
		signal, heartbeat, closeSignal bool
	}{
		{name: "heartbeat", h: wire.HeartbeatHeader(), signal: true, heartbeat: true},
		{name: "close", h: wire.CloseHeader(), signal: true, closeSignal: true},
		{name: "heartbeat on another slot", h: wire.Header{Slot: 12345, SourceID: 7}, signal: true, heartbeat: true},
		{name: "close with other fields set", h: wire.Header{Slot: 9, SourceID: 1, SourceSeq: 1, DestID: 2, DestSeq: 3}, signal: true, closeSignal: true},
		{name: "unknown signal", h: wire.Header{Slot: 1, SourceSeq: 2}, signal: true},
		{name: "package with a payload", h: wire.Header{Slot: 1, Length: 1}},
		{name: "payload and SourceSeq 1", h: wire.Header{Slot: 1, SourceSeq: 1, Length: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.IsSignal(); got != tt.signal {
				t.Errorf("IsSignal = %v, want %v", got, tt.signal)
			}
			if got := tt.h.IsHeartbeat(); got != tt.heartbeat {
				t.Errorf("IsHeartbeat = %v, want %v", got, tt.heartbeat)
			}
			if got := tt.h.IsClose(); got != tt.closeSignal {
				t.Errorf("IsClose = %v, want %v", got, tt.closeSignal)
			}
		})
	}
}

func TestSignalHeadersZeroAllocs(t *testing.T) {
	var b [wire.HeaderSize]byte
	allocs := testing.AllocsPerRun(100, func() {
		wire.PutHeader(b[:], wire.HeartbeatHeader())
		wire.PutHeader(b[:], wire.CloseHeader())
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}
