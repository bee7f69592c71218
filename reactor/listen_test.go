package reactor

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/slots"
	"github.com/goyoton/yoton/wire"
)

// listenLocal listens on a free loopback port and returns the listener
// and its address.
func listenLocal(t testing.TB, x *Context, opts ...ListenOption) (*Listener, string) {
	t.Helper()
	l, err := x.Listen("127.0.0.1:0", opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	host, port := l.Addr()
	require.NotZero(t, port)
	return l, net.JoinHostPort(host, strconv.Itoa(port))
}

func TestListenServesManyPeers(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	joined := make(chan *Connection, 64)
	l, addr := listenLocal(t, hub, WithJoinHandler(func(c *Connection) { joined <- c }))
	hubRx := newRecorder(t, hub, testSlot)

	const n = 5
	var peers []*Context
	var rxs []*recorder
	for i := 0; i < n; i++ {
		p := newContext(t, newReactor(t)) // each peer on a loop of its own
		rxs = append(rxs, newRecorder(t, p, testSlot))
		c, err := p.Connect(testkit.Context(t), addr, "")
		require.NoError(t, err)
		assert.Equal(t, StatusConnected, c.Status())
		assert.Equal(t, hub.ID(), c.PeerID())
		peers = append(peers, p)
	}
	ids := map[uint64]bool{}
	for i := 0; i < n; i++ {
		c := testkit.Wait(t, joined, "Joined")
		assert.Equal(t, StatusHosting, c.Status())
		ids[c.PeerID()] = true
	}
	for _, p := range peers {
		assert.True(t, ids[p.ID()], "peer %x joined", p.ID())
	}
	assert.Equal(t, n, l.ConnectionCount())
	assert.Len(t, l.Connections(), n)
	assert.Equal(t, n, hub.ConnectionCount())

	send(t, hub, "to all")
	for i, rx := range rxs {
		assert.Equal(t, []string{"to all"}, payloads(rx.waitN(t, 1)), "peer %d", i)
	}
	for i, p := range peers {
		send(t, p, fmt.Sprintf("from %d", i))
	}
	got := payloads(hubRx.waitN(t, n))
	for i := range peers {
		assert.Contains(t, got, fmt.Sprintf("from %d", i))
	}
	// The hub forwards each peer's broadcast to the other peers.
	for i, rx := range rxs {
		assert.Len(t, rx.waitN(t, n), n, "peer %d: to all + the %d others", i, n-1)
	}

	// A peer that leaves is dropped from the listener's books.
	require.NoError(t, peers[0].Close())
	waitConnections(t, l, n-1)

	// Close stops accepting; the connections made live on.
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close is idempotent")
	testkit.Wait(t, l.Done(), "listener Done")
	late := newContext(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := late.Connect(ctx, addr, "") // refused until ctx ends
	require.ErrorIs(t, err, ErrConnect)
	send(t, hub, "after close")
	for _, rx := range rxs[1:] {
		assert.Contains(t, payloads(rx.waitN(t, n+1)), "after close")
	}
}

func TestListenAddressForms(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	// A port name hashes to a port, as Bind's do; name+offset adds to it.
	name := fmt.Sprintf("listen-test-%d", time.Now().UnixNano())
	base := slots.PortHash(name)
	tests := []struct {
		name, address string
		port          int
	}{
		{name: "port name", address: "localhost:" + name, port: base},
		{name: "name+offset", address: "localhost:" + name + "+3", port: base + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := x.Listen(tt.address)
			if err != nil {
				t.Skipf("port %d is taken on this machine: %v", tt.port, err)
			}
			defer func() { assert.NoError(t, l.Close()) }()
			host, port := l.Addr()
			assert.Equal(t, "127.0.0.1", host)
			assert.Equal(t, tt.port, port)
			peer := newContext(t, r)
			_, err = peer.Connect(testkit.Context(t), tt.address, "")
			require.NoError(t, err)
		})
	}
	_, err := x.Listen("localhost")
	assert.Error(t, err, "no port")
	_, err = x.Listen("udp://localhost:0")
	assert.ErrorIs(t, err, ErrListen)
	// Two listeners cannot share a port.
	_, addr := listenLocal(t, x)
	_, err = x.Listen(addr)
	assert.ErrorIs(t, err, ErrListen)
}

func TestListenOptionsRejectBadValues(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	for _, opt := range []ListenOption{
		WithMaxConnections(-1), WithHandshakeTimeout(0), WithMaxHandshakes(0), WithJoinHandler(nil),
	} {
		_, err := x.Listen("127.0.0.1:0", opt)
		assert.ErrorIs(t, err, ErrBadOption)
	}
}

func TestListenMaxConnections(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	l, addr := listenLocal(t, hub, WithMaxConnections(2))
	var conns []*Connection
	for i := 0; i < 2; i++ {
		c, err := newContext(t, r).Connect(testkit.Context(t), addr, "")
		require.NoError(t, err)
		conns = append(conns, c)
	}
	waitConnections(t, l, 2)
	_, err := newContext(t, r).Connect(testkit.Context(t), addr, "")
	require.ErrorIs(t, err, ErrConnect)
	require.ErrorIs(t, err, ErrHandshake)
	assert.Contains(t, err.Error(), "too many connections")

	// A raw client sees the refusal line, not a hang.
	p := dialRaw(t, addr, false)
	p.write(wire.HandshakeLine(p.id, 1))
	assert.Equal(t, replyTooMany, readReply(t, p))

	// Room again once one leaves.
	conns[0].Close("")
	waitConnections(t, l, 1)
	_, err = newContext(t, r).Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
}

func TestListenAcceptFilter(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	var asked atomic.Int32
	allow := atomic.Bool{}
	l, addr := listenLocal(t, hub, WithAcceptFilter(func(remote net.Addr) bool {
		asked.Add(1)
		tcp, ok := remote.(*net.TCPAddr)
		return ok && tcp.IP.IsLoopback() && allow.Load()
	}))
	// Turned away before the handshake: the socket closes without a word.
	p := dialRaw(t, addr, false)
	p.write(wire.HandshakeLine(p.id, 1))
	assert.Equal(t, "", readReply(t, p))
	assert.Equal(t, int32(1), asked.Load())
	assert.Equal(t, 0, l.ConnectionCount())

	allow.Store(true)
	_, err := newContext(t, r).Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	assert.Equal(t, int32(2), asked.Load())
}

func TestListenAnswersForeignHandshake(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	l, addr := listenLocal(t, x, WithHandshakeTimeout(300*time.Millisecond))
	tests := []struct {
		name, line, reply string
	}{
		{name: "http request", line: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", reply: wire.ReplyNotYoton},
		{name: "unparsable id", line: "YOTON!zz.1\r\n", reply: wire.ReplyBadID},
		{name: "cut short", line: "YOTON!00000000000000ab.1", reply: wire.ReplyBadID},
		{name: "silent", line: "", reply: ""},
		{name: "endless line", line: "YOTON!" + string(make([]byte, 2*wire.MaxHandshakeLine)), reply: wire.ReplyBadID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dialRaw(t, addr, false)
			if tt.line != "" {
				p.write([]byte(tt.line))
			}
			assert.Equal(t, tt.reply, readReply(t, p))
		})
	}
	assert.Equal(t, 0, l.ConnectionCount())
	_, err := newContext(t, r).Connect(testkit.Context(t), addr, "")
	require.NoError(t, err, "the listener still serves")
}

func TestListenPeerSilentAfterHandshake(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	l, addr := listenLocal(t, x, WithHandshakeTimeout(200*time.Millisecond))
	// A peer that takes our answer and then says nothing never joins:
	// it is closed with yoton's close signal once the deadline passes.
	p := dialRaw(t, addr, false)
	p.write(wire.HandshakeLine(p.id, 1))
	_, _, err := wire.ParseHandshakeLine(p.readLine())
	require.NoError(t, err)
	assert.Equal(t, []wire.Header{closePackage}, p.readUntilEOF())
	assert.Equal(t, 0, l.ConnectionCount())
}

func TestListenWithContextClose(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	l, addr := listenLocal(t, x)
	c, err := newContext(t, r).Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	require.NoError(t, x.Close())
	testkit.Wait(t, l.Done(), "listener closed with its context")
	testkit.Wait(t, c.Done(), "peer told")
	assert.Equal(t, ReasonClosedFromThere, c.CloseReason())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = newContext(t, r).Connect(ctx, addr, "")
	assert.ErrorIs(t, err, ErrConnect)
	l2, err := x.Listen("127.0.0.1:0")
	require.NoError(t, err, "a closed context listens again, as yoton's is reused")
	require.NoError(t, l2.Close())
}

// TestCloseConnectionFromThirdParty: a peer that sends CLOSE_CONNECTION
// in another peer's name closes nothing and the message goes no further;
// in its own name it closes only its own connection.
func TestCloseConnectionFromThirdParty(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	l, addr := listenLocal(t, hub)
	victim, _ := connectRaw(t, addr, false)
	attacker, _ := connectRaw(t, addr, false)
	waitConnections(t, l, 2)
	conns := l.Connections()
	closeMsg := func(src uint64) []byte {
		return frame(wire.Header{Slot: slots.ContextSlot, SourceID: src, SourceSeq: 1}, []byte(closeConnectionMessage))
	}
	attacker.write(closeMsg(victim.id))
	send(t, hub, "after the forgery")
	assert.Empty(t, victim.framesUntil("after the forgery"), "the forged message was not forwarded")
	for _, c := range conns {
		assert.True(t, c.IsConnected(), "%s", c)
	}
	attacker.write(closeMsg(attacker.id)) // seq 1 of its own id: new to the hub
	waitConnections(t, l, 1)
	left := l.Connections()
	require.Len(t, left, 1)
	assert.Equal(t, victim.id, left[0].PeerID())
	send(t, hub, "after the real one")
	assert.Empty(t, victim.framesUntil("after the real one"))
}

// TestForgedDirectPeerIsRefused: a peer that sends packages in the name
// of another directly connected peer (here to silence it with the largest
// sequence number) is refused and counted; the victim is heard as before
// and the forgery goes no further.
func TestForgedDirectPeerIsRefused(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	rx := newRecorder(t, hub, testSlot)
	l, addr := listenLocal(t, hub)
	victim, _ := connectRaw(t, addr, false)
	attacker, _ := connectRaw(t, addr, false)
	waitConnections(t, l, 2)
	attacker.write(frame(wire.Header{Slot: testSlot, SourceID: victim.id, SourceSeq: ^uint64(0)}, []byte("forged")))
	attacker.write(frame(wire.Header{Slot: testSlot, SourceID: victim.id, SourceSeq: 1}, []byte("forged too")))
	attacker.sendPkg(testSlot, 1, "the attacker's own")
	victim.sendPkg(testSlot, 1, "the victim's own")
	got := payloads(rx.waitN(t, 2))
	assert.ElementsMatch(t, []string{"the attacker's own", "the victim's own"}, got)
	assert.Equal(t, uint64(2), hub.Forged())
	send(t, hub, "marker")
	assert.Equal(t, []string{"the attacker's own"}, victim.framesUntil("marker"), "forgeries were not forwarded")
}

// TestIPv6 (Go only): "[addr]:port" listens, binds and connects over IPv6.
func TestIPv6(t *testing.T) {
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	require.NoError(t, probe.Close())
	r := newReactor(t)
	hub := newContext(t, r)
	l, err := hub.Listen("[::1]:0")
	require.NoError(t, err)
	defer l.Close()
	host, port := l.Addr()
	assert.Equal(t, "::1", host)
	rx := newRecorder(t, hub, testSlot)
	peer := newContext(t, r)
	c, err := peer.Connect(testkit.Context(t), fmt.Sprintf("[::1]:%d", port), "")
	require.NoError(t, err)
	h, _ := c.PeerAddr()
	assert.Equal(t, "::1", h)
	send(t, peer, "over IPv6")
	assert.Equal(t, []string{"over IPv6"}, payloads(rx.waitN(t, 1)))

	bound, err := hub.Bind("[::1]:0", 1, "")
	require.NoError(t, err)
	_, bport := bound.LocalAddr()
	_, err = newContext(t, r).Connect(testkit.Context(t), fmt.Sprintf("[::1]:%d", bport), "")
	require.NoError(t, err)
	waitEstablished(t, bound)
}

// TestIPC (Go only): "ipc://path" listens, binds and connects over a
// unix-domain socket, on the loop like TCP.
func TestIPC(t *testing.T) {
	dir := t.TempDir()
	r := newReactor(t)
	hub := newContext(t, r)
	listenAt := "ipc://" + filepath.Join(dir, "hub.sock")
	joined := make(chan *Connection, 4)
	l, err := hub.Listen(listenAt, WithJoinHandler(func(c *Connection) { joined <- c }))
	require.NoError(t, err)
	defer l.Close()
	host, port := l.Addr()
	assert.Equal(t, filepath.Join(dir, "hub.sock"), host)
	assert.Zero(t, port)
	rx := newRecorder(t, hub, testSlot)
	peer := newContext(t, newReactor(t))
	peerRx := newRecorder(t, peer, testSlot)
	_, err = peer.Connect(testkit.Context(t), listenAt, "")
	require.NoError(t, err)
	testkit.Wait(t, joined, "the ipc peer")
	send(t, peer, "over a unix socket")
	send(t, hub, "and back")
	assert.Equal(t, []string{"over a unix socket"}, payloads(rx.waitN(t, 1)))
	assert.Equal(t, []string{"and back"}, payloads(peerRx.waitN(t, 1)))

	bindAt := "ipc://" + filepath.Join(dir, "bind.sock")
	bound, err := hub.Bind(bindAt, 1, "")
	require.NoError(t, err)
	_, err = newContext(t, r).Connect(testkit.Context(t), bindAt, "")
	require.NoError(t, err)
	waitEstablished(t, bound)

	_, err = hub.Listen(listenAt)
	assert.ErrorIs(t, err, ErrListen, "the path is taken")
}

// TestImplausibleSequenceIsRefused: a package claiming a far source's id
// (not a direct peer) with a sequence number far past that source's last
// cannot silence it: it is dropped and counted, and the source's next real
// package is delivered.
func TestImplausibleSequenceIsRefused(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	rx := newRecorder(t, hub, testSlot)
	l, addr := listenLocal(t, hub)
	relay, _ := connectRaw(t, addr, false) // the path to the far source
	attacker, _ := connectRaw(t, addr, false)
	waitConnections(t, l, 2)
	const far = 0x0000_0001_0000_0f00
	relay.write(frame(wire.Header{Slot: testSlot, SourceID: far, SourceSeq: 1}, []byte("far 1")))
	assert.Equal(t, []string{"far 1"}, payloads(rx.waitN(t, 1)))
	attacker.write(frame(wire.Header{Slot: testSlot, SourceID: far, SourceSeq: ^uint64(0)}, []byte("silence")))
	attacker.sendPkg(testSlot, 1, "marker")
	require.Len(t, rx.waitN(t, 2), 2)
	relay.write(frame(wire.Header{Slot: testSlot, SourceID: far, SourceSeq: 2}, []byte("far 2")))
	assert.Equal(t, []string{"far 1", "marker", "far 2"}, payloads(rx.waitN(t, 3)))
	assert.Equal(t, uint64(1), hub.Forged())
}

// TestSourceTiedToItsLink: a far source is tied to the link its first
// package came over. Another peer cannot inject packages in its name,
// even with the plausible next number (dropped and counted); the real
// package with that number is delivered. Once the tied link closes, the
// source is learned again from the next link that brings it.
func TestSourceTiedToItsLink(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	rx := newRecorder(t, hub, testSlot)
	l, addr := listenLocal(t, hub)
	relay, _ := connectRaw(t, addr, false) // the path to the far source
	attacker, _ := connectRaw(t, addr, false)
	waitConnections(t, l, 2)
	const far = 0x0000_0001_0000_0f01
	farPkg := func(seq uint64, data string) []byte {
		return frame(wire.Header{Slot: testSlot, SourceID: far, SourceSeq: seq}, []byte(data))
	}
	relay.write(farPkg(1, "far 1"))
	assert.Equal(t, []string{"far 1"}, payloads(rx.waitN(t, 1)))
	attacker.write(farPkg(2, "injected"))
	attacker.write(farPkg(1, "a stale copy")) // a duplicate: dropped, not counted
	attacker.sendPkg(testSlot, 1, "marker")
	require.Len(t, rx.waitN(t, 2), 2)
	relay.write(farPkg(2, "far 2"))
	assert.Equal(t, []string{"far 1", "marker", "far 2"}, payloads(rx.waitN(t, 3)))
	assert.Equal(t, uint64(1), hub.Forged())
	send(t, hub, "hub marker")
	assert.Equal(t, []string{"marker"}, relay.framesUntil("hub marker"), "the injection went no further")
	assert.Equal(t, []string{"far 1", "far 2"}, attacker.framesUntil("hub marker"))

	require.NoError(t, relay.nc.Close())
	waitConnections(t, l, 1)
	attacker.write(farPkg(3, "far 3, now over the other link"))
	assert.Equal(t, "far 3, now over the other link", payloads(rx.waitN(t, 4))[3])
	assert.Equal(t, uint64(1), hub.Forged())
}

// TestSourceRetiedWhenItsLinkFallsSilent: when the link a far source is
// tied to stops bringing its packages while staying up (a far link of a
// ring broke, and the packages now come the other way round), the source
// is tied to the other link after SourceRetie; nothing is delivered twice.
func TestSourceRetiedWhenItsLinkFallsSilent(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	rx := newRecorder(t, hub, testSlot)
	l, addr := listenLocal(t, hub)
	near, _ := connectRaw(t, addr, false)
	other, _ := connectRaw(t, addr, false)
	waitConnections(t, l, 2)
	const far = 0x0000_0001_0000_0f02
	farPkg := func(seq uint64) []byte {
		return frame(wire.Header{Slot: testSlot, SourceID: far, SourceSeq: seq}, []byte(fmt.Sprintf("far %d", seq)))
	}
	near.write(farPkg(1))
	assert.Equal(t, []string{"far 1"}, payloads(rx.waitN(t, 1)))
	other.write(farPkg(1)) // the copy around the ring
	start := time.Now()
	seq := uint64(1)
	require.Eventually(t, func() bool {
		seq++
		other.write(farPkg(seq))
		return len(rx.snapshot()) > 1
	}, waitTimeout, 20*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(start), SourceRetie-housekeepInterval)
	near.write(farPkg(seq)) // a late copy over the old link: a duplicate
	other.write(farPkg(seq + 1))
	last := fmt.Sprintf("far %d", seq+1)
	require.Eventually(t, func() bool {
		got := payloads(rx.snapshot())
		return got[len(got)-1] == last
	}, waitTimeout, time.Millisecond)
	got := payloads(rx.snapshot())
	var first uint64
	_, err := fmt.Sscanf(got[1], "far %d", &first)
	require.NoError(t, err)
	want := []string{"far 1"}
	for n := first; n <= seq+1; n++ {
		want = append(want, fmt.Sprintf("far %d", n))
	}
	assert.Equal(t, want, got, "every number from the first one taken, once, in order")
	assert.Equal(t, first-2, hub.Forged(), "the numbers refused before the source was tied again")
}
