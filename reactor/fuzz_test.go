package reactor

import (
	"testing"

	"github.com/goyoton/yoton/slots"
	"github.com/goyoton/yoton/wire"
)

// FuzzConnectionStream feeds arbitrary bytes, in chunks of arbitrary
// size, to a connected context as its peer would send them after the
// handshake: the decoder, routing, context messages and link messages
// must never panic, must keep a package's buffer within its announced
// length, and must stop at the first fatal error.
//
//	go test -fuzz=FuzzConnectionStream ./reactor/
func FuzzConnectionStream(f *testing.F) {
	const peer = 0x0000_0001_0000_0042
	pkg := func(slot, src, seq, dest uint64, data string) []byte {
		return frame(wire.Header{Slot: slot, SourceID: src, SourceSeq: seq, DestID: dest}, []byte(data))
	}
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	f.Add(pkg(testSlot, peer, 1, 0, "hello"), uint8(0))
	f.Add(cat(pkg(testSlot, peer, 1, 0, "a"), pkg(testSlot, peer, 1, 0, "dup"), pkg(testSlot, peer, 2, 0, "b")), uint8(7))
	f.Add(cat(heartbeatBytes, pkg(slots.ConnectionSlot, 0, 1, 0, "")), uint8(3))
	f.Add(pkg(linkSlot, 0, 0, 0, linkPrefix+" new-connection=0 heartbeat=0"), uint8(1))
	f.Add(cat(pkg(slots.ContextSlot, peer, 1, 0, newConnectionMessage), pkg(slots.ContextSlot, peer+1, 1, 0, closeConnectionMessage)), uint8(5))
	f.Add(pkg(slots.ContextSlot, 0, 1, 0, closeConnectionMessage), uint8(0))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), uint8(0))
	f.Add(wire.AppendHeader(nil, wire.Header{Slot: testSlot, SourceID: peer, SourceSeq: 1, Length: 1 << 40}), uint8(0))
	f.Add(cat(wire.AppendHeader(nil, wire.Header{Slot: testSlot, SourceID: peer, SourceSeq: 1, Length: 3 << 20}), make([]byte, 5000)), uint8(200))
	f.Add(pkg(testSlot, peer, ^uint64(0), 0, "max seq"), uint8(0))

	r := newReactor(f)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		x := newContext(t, r)
		defer func() { _ = x.Close() }()
		rx := newRecorder(t, x, testSlot)
		c := newConnection(x, "fuzz")
		onLoop(t, r, func() {
			c.status.Store(int32(statusHandover))
			x.addConnection(c)
			x.setStatus(c, StatusHosting)
			step := int(chunk) + 1
			for rest := data; len(rest) > 0 && c.IsConnected(); {
				n := min(step, len(rest))
				c.consume(nil, rest[:n])
				rest = rest[n:]
				if c.inBody && (c.curN > c.curLen || len(c.cur.Data) > max(c.curLen, bodyReserve)) {
					t.Fatalf("body buffer out of bounds: %d of %d in %d", c.curN, c.curLen, len(c.cur.Data))
				}
			}
		})
		for _, p := range rx.snapshot() {
			if p.Slot != testSlot {
				t.Fatalf("deposited at slot %d", p.Slot)
			}
		}
	})
}
