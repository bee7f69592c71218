package reactor

import (
	"bytes"
	"strings"
	"time"

	"github.com/goyoton/yoton/internal/loop"
	"github.com/goyoton/yoton/slots"
)

// Go-only link messages (docs/protocol-notes.md, "Link messages").
//
// Two Go nodes tell each other things about the link between them with
// packages that Python yoton provably ignores: source_seq 0 (Python's
// dedup test `last_seq < source_seq` is false for 0, so it neither
// forwards nor deposits the package) on the reserved slot 3. A Go node
// never routes them either: they concern one link only.
//
// The one message so far says whether the sender needs NEW_CONNECTION
// messages forwarded to it. It needs none when it has no state channel
// (no NEW_CONNECTION hook) and no other way to reach a node that has one:
// no other connection (waiting, down or connected) and no Listener. A
// peer that never said so (Python, or an older Go node) gets every
// NEW_CONNECTION, as yoton does. This is what keeps a hub with N leaves
// from forwarding every leaf's NEW_CONNECTION to every other leaf (N²
// packages): leaves that hold no state say so, and get none.

// linkSlot is the reserved slot id of link messages.
const linkSlot uint64 = 3

// linkPrefix starts every link message; fields follow as key=value
// separated by spaces, and unknown keys are ignored.
const linkPrefix = "goyoton-link/1"

// newConnectionMessage is the context message that asks every state
// channel to resend its state.
const newConnectionMessage = "NEW_CONNECTION"

// closeConnectionMessage is the context message that asks the receiver to
// close its connection to the sender (yoton 2.2 never sends it).
const closeConnectionMessage = "CLOSE_CONNECTION"

// linkState is what one connection knows of the Go-only link protocol.
// Loop-owned.
type linkState struct {
	goPeer bool // the peer sent a link message: it is a Go node
	quiet  bool // the peer needs no NEW_CONNECTION forwarded
	// noHeartbeat: the peer said it does not watch this connection's
	// time-out, so it needs no heartbeats. watchSent: what we last told
	// the peer about our own watching.
	noHeartbeat bool
	watchSent   bool
	needSent    bool // what we last told the peer about NEW_CONNECTION
	// When a NEW_CONNECTION was last forwarded on this link, and whether
	// one is held back until the end of the window (forwardNewConnection).
	lastNewConn time.Time
	newConnOwed bool
}

// forgetPeerLink drops c as the link of its peer's id, handing the id to
// another connection to the same peer if there is one. Loop goroutine.
func (x *Context) forgetPeerLink(c *Connection) {
	id := c.PeerID()
	if x.peerLinks[id] != c {
		return
	}
	delete(x.peerLinks, id)
	for _, o := range x.conns {
		if o != c && o.IsConnected() && o.PeerID() == id {
			x.peerLinks[id] = o
			return
		}
	}
}

// needsNewConnection reports whether this context wants NEW_CONNECTION
// messages forwarded to it (the same answer for every link). Loop goroutine.
func (x *Context) needsNewConnection() bool {
	return x.hookCount.Load() > 0 || len(x.listeners) > 0 || x.alive >= 2
}

// sendLink writes the link message to the peer at once, past the
// connection's queue (so it neither waits behind nor displaces packages,
// and it reaches the peer before anything this turn queues). It says
// whether this context needs NEW_CONNECTION and whether this end watches
// the connection's time-out (needs heartbeats). Loop goroutine.
func (c *Connection) sendLink() {
	if c.gc == nil {
		return
	}
	needs, watch := c.x.needsNewConnection(), c.watchesTimeout()
	c.link.watchSent, c.link.needSent = watch, needs
	_, _ = c.gc.Write(linkFrame(c.x.id, "new-connection="+flag(needs)+" heartbeat="+flag(watch)))
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// watchesTimeout reports whether this end watches the connection's
// time-out: something is bound to TimedOut, or WithReconnect redials on
// a time-out. Only then does the peer need to send heartbeats. Safe for
// concurrent use.
func (c *Connection) watchesTimeout() bool {
	return c.TimedOut.HandlerCount() > 0 || (c.redial != nil && c.redial.policy.OnTimeout)
}

// checkWatch tells a Go peer when this end starts or stops watching the
// time-out. When it starts, the clock starts now: the peer may have been
// silent until it hears of it. Loop goroutine (housekeeping).
func (c *Connection) checkWatch(now time.Time) {
	if !c.link.goPeer {
		return
	}
	if w := c.watchesTimeout(); w != c.link.watchSent {
		if w {
			c.lastRecv, c.timedOut = now, false
		}
		c.sendLink()
	}
}

// linkUp tells a freshly connected peer what this context needs. Python
// peers ignore it. Loop goroutine.
func (c *Connection) linkUp() {
	c.link = linkState{}
	c.sendLink()
}

// linksChanged re-announces what this context needs to every Go peer
// when it changed (a connection or listener came or went, a state channel
// was made or closed). Cheap when nothing changed. Loop goroutine.
func (x *Context) linksChanged() {
	needs := x.needsNewConnection()
	if needs == x.newConn.announced {
		return
	}
	x.newConn.announced = needs
	for _, c := range x.conns {
		if c.IsConnected() && c.link.goPeer {
			c.sendLink()
		}
	}
}

// receiveLink takes a link message from the peer. Loop goroutine.
func (c *Connection) receiveLink(p Package) {
	rest, ok := bytes.CutPrefix(p.Data, []byte(linkPrefix))
	if !ok || p.SourceID != c.PeerID() {
		return // not ours to understand, or not from the peer itself
	}
	if !c.link.goPeer {
		c.link.goPeer = true
		// What we said in our first link message may be out of date:
		// changes since then went only to peers known to be Go nodes.
		if c.link.needSent != c.x.needsNewConnection() || c.link.watchSent != c.watchesTimeout() {
			c.sendLink()
		}
	}
	for _, field := range strings.Fields(string(rest)) {
		if v, ok := strings.CutPrefix(field, "new-connection="); ok {
			c.link.quiet = v == "0"
		}
		if v, ok := strings.CutPrefix(field, "heartbeat="); ok {
			c.link.noHeartbeat = v == "0"
		}
		if strings.HasPrefix(field, "auth-challenge=") && c.x.secret == nil {
			// A host made WithSecret: it will refuse us anyway; say why.
			c.closeOnLoop(closeError(ErrAuth, ReasonAuth+" The peer requires a shared secret (WithSecret)."), false)
			return
		}
	}
}

// newConnGate coalesces NEW_CONNECTION: however many arrive, the
// context's hooks (state channels resending) run at most once per
// newConnWindow, and at least once after each arrival; and each link
// gets at most one forwarded NEW_CONNECTION per window. Loop-owned.
type newConnGate struct {
	announced bool // what linksChanged last told Go peers (starts false: see linkUp)
	last      time.Time
	owed      *loop.Entry // the hooks' run at the end of the window
	forward   *loop.Entry // owedLinks' NEW_CONNECTION at the end of the window
}

// forwardNewConnection forwards a NEW_CONNECTION that arrived from the
// link from: not to peers that said they need none (link messages), at
// once to a link that got none during the last newConnWindow, and
// otherwise once at the end of the window, as this context's own
// NEW_CONNECTION (the one that arrived cannot be sent later: packages of
// its source that followed it would have overtaken it, and the dedup
// would drop it). Either way every peer hears of every newcomer, so its
// state channels resend, and a burst costs each peer one message per
// window instead of one per newcomer. Loop goroutine.
func (x *Context) forwardNewConnection(p Package, from *Connection) {
	now := time.Now()
	for _, c := range x.conns {
		if c == from || !c.alive() || c.link.quiet {
			continue
		}
		if now.Sub(c.link.lastNewConn) >= newConnWindow {
			c.link.lastNewConn = now
			c.enqueue(p)
			continue
		}
		c.link.newConnOwed = true
		if x.newConn.forward == nil {
			x.newConn.forward = x.r.afterFunc(newConnWindow, x.sendOwedNewConnections)
		}
	}
}

// sendOwedNewConnections sends this context's NEW_CONNECTION to every
// link that had one held back. Loop goroutine.
func (x *Context) sendOwedNewConnections() {
	x.newConn.forward = nil
	x.drain() // keep sequence order with packages already submitted
	x.sendSeq++
	p := Package{Slot: slots.ContextSlot, SourceID: x.id, SourceSeq: x.sendSeq, Data: []byte(newConnectionMessage)}
	now := time.Now()
	for _, c := range x.conns {
		if c.link.newConnOwed {
			c.link.newConnOwed = false
			if c.alive() && !c.link.quiet {
				c.link.lastNewConn = now
				c.enqueue(p)
			}
		}
	}
}

// newConnWindow is the shortest time between two runs of the
// NEW_CONNECTION hooks.
const newConnWindow = 50 * time.Millisecond

// newConnection runs the NEW_CONNECTION hooks now, or once at the end of
// the current window. Loop goroutine.
func (x *Context) newConnection() {
	g := &x.newConn
	if g.owed != nil {
		return // a run is already due
	}
	wait := newConnWindow - time.Since(g.last)
	if wait <= 0 {
		x.runNewConnHooks()
		return
	}
	g.owed = x.r.afterFunc(wait, func() {
		g.owed = nil
		x.runNewConnHooks()
	})
}

func (x *Context) runNewConnHooks() {
	x.newConn.last = time.Now()
	x.regMu.Lock()
	hooks := append([]newConnHook(nil), x.newConnHooks...)
	x.regMu.Unlock()
	for _, h := range hooks {
		h.fn()
	}
}
