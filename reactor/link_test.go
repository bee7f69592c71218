package reactor

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/slots"
	"github.com/goyoton/yoton/wire"
)

// sendLinkMessage sends a Go link message as the raw peer.
func (p *rawPeer) sendLinkMessage(body string) {
	p.t.Helper()
	p.write(frame(wire.Header{Slot: linkSlot, SourceID: p.id}, []byte(linkPrefix+" "+body)))
}

// framesUntil reads packages until one carries payload want and returns
// the ones before it.
func (p *rawPeer) framesUntil(want string) []string {
	p.t.Helper()
	var before []string
	for {
		h, data, err := p.readFrame(waitTimeout)
		require.NoError(p.t, err, "waiting for %q after %q", want, before)
		if string(data) == want {
			return before
		}
		if h.Length > 0 {
			before = append(before, string(data))
		}
	}
}

// TestNewConnectionSkipsQuietPeers: a hub forwards a newcomer's
// NEW_CONNECTION to peers that may need it (a Python-like peer that
// never sent a link message), but not to a Go peer that said it needs
// none, until that peer says it does again.
func TestNewConnectionSkipsQuietPeers(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	l, addr := listenLocal(t, hub)
	python, _ := connectRaw(t, addr, false)
	quiet, _ := connectRaw(t, addr, false)
	quiet.sendLinkMessage("new-connection=0 some-future-key=x")
	waitConnections(t, l, 2)
	testkit.Barrier(t, r)

	leaf := newContext(t, newReactor(t))
	_, err := leaf.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	waitConnections(t, l, 3) // the hub has taken the leaf's NEW_CONNECTION
	send(t, hub, "marker 1")
	assert.Equal(t, []string{newConnectionMessage}, python.framesUntil("marker 1"))
	assert.Empty(t, quiet.framesUntil("marker 1"), "the quiet peer got no NEW_CONNECTION")

	quiet.sendLinkMessage("new-connection=1")
	testkit.Barrier(t, r)
	leaf2 := newContext(t, newReactor(t))
	_, err = leaf2.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	waitConnections(t, l, 4)
	// The Python-like peer got one less than 50 ms ago: this one may be
	// held back to the end of the window.
	waitOwedNewConnections(t, hub)
	send(t, hub, "marker 2")
	assert.Equal(t, []string{newConnectionMessage}, quiet.framesUntil("marker 2"))
	assert.Equal(t, []string{newConnectionMessage}, python.framesUntil("marker 2"))
}

// TestLinkMessageSaysWhatTheContextNeeds: a context with one connection
// and no state channel says it needs no NEW_CONNECTION; one with a
// NEW_CONNECTION hook, or with a second connection, says it does, and
// tells its Go peers when that changes.
func TestLinkMessageSaysWhatTheContextNeeds(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	_, addr := bindLocal(t, x)
	p, _ := connectRaw(t, addr, false)
	readLink := func() string {
		t.Helper()
		for {
			h, data, err := p.readAnyFrame(waitTimeout)
			require.NoError(t, err)
			if h.Slot == linkSlot && h.SourceSeq == 0 {
				assert.Equal(t, x.ID(), h.SourceID)
				return string(data)
			}
		}
	}
	assert.Equal(t, linkPrefix+" new-connection=0 heartbeat=0", readLink())
	p.sendLinkMessage("new-connection=0") // now x knows its peer is a Go node
	testkit.Barrier(t, r)
	remove := x.onNewConnection(func() {})
	assert.Equal(t, linkPrefix+" new-connection=1 heartbeat=0", readLink())
	remove()
	assert.Equal(t, linkPrefix+" new-connection=0 heartbeat=0", readLink())
	l, err := x.Listen("127.0.0.1:0")
	require.NoError(t, err)
	assert.Equal(t, linkPrefix+" new-connection=1 heartbeat=0", readLink())
	require.NoError(t, l.Close())
	assert.Equal(t, linkPrefix+" new-connection=0 heartbeat=0", readLink())
}

// TestLinkMessagesAreNeverRouted: link messages (source_seq 0) are
// neither deposited nor forwarded, and a forged one (another source id)
// changes nothing.
func TestLinkMessagesAreNeverRouted(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	l, addr := listenLocal(t, hub)
	a, _ := connectRaw(t, addr, false)
	b, _ := connectRaw(t, addr, false)
	rx := newRecorder(t, hub, linkSlot)
	forged := frame(wire.Header{Slot: linkSlot, SourceID: b.id + 1000}, []byte(linkPrefix+" new-connection=0"))
	a.write(forged)
	a.sendLinkMessage("new-connection=0")
	a.sendPkg(testSlot, 1, "after")
	assert.Empty(t, b.framesUntil("after"), "nothing forwarded")
	assert.Empty(t, rx.snapshot(), "nothing deposited")
	// The forged message said nothing about b: b still gets NEW_CONNECTION.
	leaf := newContext(t, r)
	_, err := leaf.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	waitConnections(t, l, 3)
	send(t, hub, "marker")
	assert.Equal(t, []string{newConnectionMessage}, b.framesUntil("marker"))
}

// TestNewConnectionHooksCoalesced: a burst of NEW_CONNECTION messages runs
// the hooks once at once and once more after the burst, not once each.
func TestNewConnectionHooksCoalesced(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	bound, addr := bindLocal(t, x)
	var runs atomic.Int32
	ran := make(chan struct{}, 8)
	x.onNewConnection(func() {
		runs.Add(1)
		ran <- struct{}{}
	})
	p, _ := connectRaw(t, addr, false)
	waitEstablished(t, bound)
	var burst []byte
	for seq := uint64(1); seq <= 100; seq++ {
		burst = append(burst, frame(wire.Header{Slot: slots.ContextSlot, SourceID: p.id, SourceSeq: seq},
			[]byte(newConnectionMessage))...)
	}
	p.write(burst)
	testkit.Wait(t, ran, "the first run")
	testkit.Wait(t, ran, "the run after the burst")
	testkit.Barrier(t, r)
	assert.LessOrEqual(t, runs.Load(), int32(3), "one run per window, not one per message")
}

// waitOwedNewConnections waits until x has sent the NEW_CONNECTION
// messages it held back. It asks the loop again until it has.
func waitOwedNewConnections(t *testing.T, x *Context) {
	t.Helper()
	require.Eventually(t, func() bool {
		held := true
		testkit.Do(t, x.r, func() { held = x.newConn.forward != nil })
		return !held
	}, waitTimeout, time.Millisecond)
}

// TestForwardedNewConnectionCoalesced: N leaves joining a hub in a burst
// cost a peer that may need NEW_CONNECTION (a Python node) one message
// per 50 ms window, not one per leaf, and at least one after the last.
func TestForwardedNewConnectionCoalesced(t *testing.T) {
	r := newReactor(t)
	hub := newContext(t, r)
	_, addr := listenLocal(t, hub)
	python, _ := connectRaw(t, addr, false)
	leaves := newReactor(t)
	const n = 20
	var last *Context
	for i := 0; i < n; i++ {
		last = newContext(t, leaves)
		_, err := last.Connect(testkit.Context(t), addr, "")
		require.NoError(t, err)
	}
	waitOwedNewConnections(t, hub)
	send(t, hub, "marker")
	var sources []uint64
	for {
		h, data, err := python.readFrame(waitTimeout)
		require.NoError(t, err)
		if string(data) == "marker" {
			break
		}
		if h.Length > 0 {
			require.Equal(t, newConnectionMessage, string(data))
			sources = append(sources, h.SourceID)
		}
	}
	require.NotEmpty(t, sources)
	assert.Less(t, len(sources), n, "coalesced: %d messages for %d leaves", len(sources), n)
	// The last one went out after the last leaf joined: either that
	// leaf's own, or the hub's at the end of the window.
	lastSource := sources[len(sources)-1]
	assert.True(t, lastSource == last.ID() || lastSource == hub.ID(), "last NEW_CONNECTION from %x", lastSource)
}

// TestHeartbeatsOnlyForPeersThatWatch: a Go peer that says it does not
// watch the connection's time-out gets no heartbeats; once it says it
// does, they come again. Python peers never say so and always get them.
func TestHeartbeatsOnlyForPeersThatWatch(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	bound, p := rawPair(t, x, false)
	h, _, err := p.readAnyFrame(waitTimeout) // x's own link message
	require.NoError(t, err)
	require.Equal(t, linkSlot, h.Slot)
	p.sendLinkMessage("new-connection=0 heartbeat=0")
	testkit.Barrier(t, r)
	send(t, x, "switched") // what came before this was sent before the switch
	p.framesUntil("switched")
	// An observation window of three heartbeat intervals, not a wait
	// for an event: nothing may arrive in it.
	h, _, err = p.readAnyFrame(3 * HeartbeatInterval)
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "got %+v, %v", h, err)

	p.sendLinkMessage("new-connection=0 heartbeat=1")
	h, _, err = p.readFrame(waitTimeout)
	require.NoError(t, err)
	assert.True(t, isHeartbeat(h))

	// Our own end starts watching: the peer hears of it.
	bound.TimedOut.Bind(func(TimedOutEvent) {})
	for {
		h, data, err := p.readAnyFrame(waitTimeout)
		require.NoError(t, err)
		if h.Slot == linkSlot {
			assert.Equal(t, linkPrefix+" new-connection=0 heartbeat=1", string(data))
			break
		}
	}
}

// TestIdleGoPeersStayInTime: two idle Go contexts send each other no
// heartbeats; when one starts watching the time-out, the other sends them
// again in time, so the watcher never sees a time-out.
func TestIdleGoPeersStayInTime(t *testing.T) {
	r := newReactor(t)
	a, b := newContext(t, r), newContext(t, newReactor(t))
	bound, _ := connectPair(t, a, b)
	// A time-out four heartbeat intervals long leaves room for a slow
	// machine; without heartbeats it would still pass within the window.
	require.NoError(t, bound.SetTimeout(4*HeartbeatInterval))
	timedOut := make(chan TimedOutEvent, 8)
	bound.TimedOut.Bind(func(e TimedOutEvent) { timedOut <- e })
	// An observation window of 2.5 time-outs: a heartbeat must have kept
	// the connection alive throughout.
	window := time.NewTimer(5 * bound.Timeout() / 2)
	defer window.Stop()
	select {
	case e := <-timedOut:
		t.Fatalf("timed out although the peer was told to send heartbeats: %+v", e)
	case <-window.C:
	}
	assert.True(t, bound.IsConnected())
}

// TestLinkMessageCatchesUpWithLatePeer: what changed before the peer's
// own first link message arrived (so before it was known to be a Go node)
// is told to it once it is.
func TestLinkMessageCatchesUpWithLatePeer(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	_, p := rawPair(t, x, false)
	h, data, err := p.readAnyFrame(waitTimeout)
	require.NoError(t, err)
	require.Equal(t, linkSlot, h.Slot)
	assert.Equal(t, linkPrefix+" new-connection=0 heartbeat=0", string(data))
	x.onNewConnection(func() {}) // a state channel, before the peer spoke
	testkit.Barrier(t, r)
	p.sendLinkMessage("new-connection=0")
	for {
		h, data, err := p.readAnyFrame(waitTimeout)
		require.NoError(t, err)
		if h.Slot == linkSlot {
			assert.Equal(t, linkPrefix+" new-connection=1 heartbeat=0", string(data))
			return
		}
	}
}
