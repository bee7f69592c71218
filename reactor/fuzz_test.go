package reactor

import (
	"fmt"
	"slices"
	"testing"

	"github.com/goyoton/yoton/internal/testkit"
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
		testkit.Do(t, r, func() {
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

// fakePeer lists a connected connection to a peer with the given id that
// has no socket: what it receives is fed to consume by hand, and what the
// context sends it stays in its queue. Loop goroutine.
func fakePeer(x *Context, id uint64) *Connection {
	c := newConnection(x, "")
	c.id2 = id
	c.status.Store(int32(statusHandover))
	x.addConnection(c)
	x.setStatus(c, StatusHosting)
	x.peerLinks[id] = c
	return c
}

// FuzzRoutingIsolation: a context X with three peers A, B and C. Whatever
// A sends (arbitrary bytes), what C sends still reaches X's channel and
// is forwarded to B exactly once, in order: A cannot forge, silence,
// reorder or duplicate another peer's packages, nor close its link.
//
//	go test -fuzz=FuzzRoutingIsolation ./reactor/
func FuzzRoutingIsolation(f *testing.F) {
	// C is a direct peer of X; F is a far source whose packages C relays.
	const a, b, c, far = 0x0000_0001_0000_00a0, 0x0000_0001_0000_00b0, 0x0000_0001_0000_00c0, 0x0000_0001_0000_00f0
	pkg := func(slot, src, seq, dest uint64, data string) []byte {
		return frame(wire.Header{Slot: slot, SourceID: src, SourceSeq: seq, DestID: dest}, []byte(data))
	}
	f.Add(pkg(testSlot, a, 1, 0, "a's own"))
	f.Add(pkg(testSlot, c, ^uint64(0), 0, "silence c"))
	f.Add(append(pkg(testSlot, c, 3, 0, "c forged"), pkg(testSlot, c, 1, b, "to b")...))
	f.Add(pkg(slots.ContextSlot, c, 1, 0, closeConnectionMessage))
	f.Add(pkg(testSlot, far, 2, 0, "f injected"))
	f.Add(pkg(testSlot, far, ^uint64(0), 0, "silence f"))
	f.Add(pkg(slots.ContextSlot, b, 1, 0, closeConnectionMessage))
	f.Add(pkg(slots.ContextSlot, a, 1, 0, newConnectionMessage))
	f.Add(pkg(linkSlot, c, 0, 0, linkPrefix+" new-connection=0 heartbeat=0"))
	f.Add([]byte("YOTON   garbage"))

	r := newReactor(f)
	f.Fuzz(func(t *testing.T, fromA []byte) {
		x := newContext(t, r)
		defer func() { _ = x.Close() }()
		rx := newRecorder(t, x, testSlot)
		// C's first package of F's arrives before A's bytes (F is tied to
		// C's link), the rest after.
		fromC := pkg(testSlot, far, 1, 0, "f 1")
		want := []string{"f 1"}
		for seq := uint64(1); seq <= 5; seq++ {
			m := fmt.Sprintf("c %d", seq)
			fromC = append(fromC, pkg(testSlot, c, seq, 0, m)...)
			want = append(want, m)
			if seq > 1 {
				m = fmt.Sprintf("f %d", seq)
				fromC = append(fromC, pkg(testSlot, far, seq, 0, m)...)
				want = append(want, m)
			}
		}
		first := len(pkg(testSlot, far, 1, 0, "f 1"))
		fromCOrF := func(p Package) bool { return p.SourceID == c || p.SourceID == far }
		var toB []string
		testkit.Do(t, r, func() {
			pa, pb, pc := fakePeer(x, a), fakePeer(x, b), fakePeer(x, c)
			pc.consume(nil, fromC[:first])
			pa.consume(nil, fromA)
			if !pb.IsConnected() || !pc.IsConnected() {
				t.Fatalf("A's bytes closed another link: B %s (%s), C %s (%s)",
					pb.Status(), pb.CloseReason(), pc.Status(), pc.CloseReason())
			}
			pc.consume(nil, fromC[first:])
			for i := 0; i < pb.pending.Len(); i++ {
				if p := pb.pending.At(i); fromCOrF(p) {
					toB = append(toB, string(p.Data))
				}
			}
		})
		var got []string
		for _, p := range rx.snapshot() {
			if fromCOrF(p) {
				got = append(got, string(p.Data))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("X's channel got %q from C and F, want %q", got, want)
		}
		if !slices.Equal(toB, want) {
			t.Fatalf("B was forwarded %q from C and F, want %q", toB, want)
		}
	})
}
