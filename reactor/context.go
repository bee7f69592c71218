package reactor

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goyoton/yoton/internal/queue"
	"github.com/goyoton/yoton/slots"
)

// Context is a node of a yoton network. Channels attach to it at slots;
// it connects to other contexts (Bind, Connect), stamps and routes the
// packages its channels send, forwards packages between its connections
// and deposits the ones addressed here into the channel at their slot.
//
// A Context lives on one Reactor; several contexts may share a reactor.
// All its methods are safe for concurrent use, and all work on the loop
// goroutine too, except that there Connect and Flush return
// ErrBlockingCall instead of waiting, and Send queues without waiting.
type Context struct {
	r          *Reactor
	id         uint64
	queueSize  int
	queueBytes int
	discard    Discard
	backlog    Backlog
	secret     []byte      // WithSecret (auth.go); read-only
	tls        *tls.Config // WithTLS (tls.go); read-only

	// Submission queue: filled by senders on any goroutine, drained by
	// the loop. posted is true while a drain is queued on the loop. It
	// holds at most about submitLimit packages (or submitBytes bytes of
	// payload): past that, senders
	// off the loop wait for the drain (closes drained), and a sender on
	// the loop drains it at once.
	subMu    sync.Mutex
	subQ     []Package
	subBytes int
	spareQ   []Package
	posted   bool
	closed   bool
	drained  chan struct{} // made by a waiting sender, closed by drain

	// Channel registry: written under regMu, read by the loop through
	// the atomic snapshot.
	regMu        sync.Mutex
	sending      map[uint64]string
	receiving    map[uint64]Receiver
	recvSnap     atomic.Pointer[map[uint64]Receiver]
	newConnHooks []newConnHook // NEW_CONNECTION hooks
	hookCount    atomic.Int32  // len(newConnHooks), for the loop
	hookSeq      uint64
	channels     []interface{ Close() error } // for CloseChannels

	// Backpressure: backlogHigh is set by the loop while any queue of
	// this context is past the tiny length; senders wait on drainCh.
	backlogHigh atomic.Bool
	drainMu     sync.Mutex
	drainCh     chan struct{}

	// Loop-owned state.
	sendSeq uint64
	recvSeq uint64
	seen    dedup
	conns   []*Connection
	startup *queue.Ring[Package]
	// Counts of x.conns by state, kept by setStatus: connected ones,
	// alive ones (waiting or connected) and closed ones not yet pruned.
	connected, alive, dead int
	// congested counts connected connections whose queue holds at least
	// TinyQueueLength packages; backlogMarked is set while the context
	// waits in the reactor's list for updateBacklog.
	congested     int
	backlogMarked bool
	listeners     []*Listener
	newConn       newConnGate // NEW_CONNECTION hooks and forwarding (link.go)

	discarded atomic.Uint64
	forged    atomic.Uint64
	connCnt   atomic.Int32
	// peerLinks maps the id of each directly connected peer (from its
	// handshake) to its connection: packages in that id's name are taken
	// only from there. Loop-owned.
	peerLinks map[uint64]*Connection
}

var lastIDTime atomic.Uint64

// newID returns a context id as Python yoton makes it:
// (unix milliseconds & 0xFFFFFFFF) << 32 | random32, never 0, with the
// time part strictly increasing within this process.
func newID() uint64 {
	var ts uint64
	for {
		last := lastIDTime.Load()
		ts = uint64(time.Now().UnixMilli())
		if ts <= last {
			ts = last + 1
		}
		if lastIDTime.CompareAndSwap(last, ts) {
			break
		}
	}
	ts &= 0xFFFFFFFF
	if ts == 0 {
		ts = 1
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return ts<<32 | uint64(binary.LittleEndian.Uint32(b[:]))
}

// NewContext creates a context on r. Safe for concurrent use, on the loop
// goroutine too.
func (r *Reactor) NewContext(opts ...ContextOption) (*Context, error) {
	cfg := contextConfig{queueSize: DefaultQueueSize, queueBytes: DefaultQueueBytes, discard: DiscardOld, backlog: KeepBacklog}
	for _, o := range opts {
		if err := o.applyContext(&cfg); err != nil {
			return nil, err
		}
	}
	x := &Context{
		r:          r,
		id:         newID(),
		queueSize:  cfg.queueSize,
		queueBytes: cfg.queueBytes,
		discard:    cfg.discard,
		backlog:    cfg.backlog,
		secret:     cfg.secret,
		tls:        cfg.tls,
		sending:    map[uint64]string{},
		receiving:  map[uint64]Receiver{},
		seen:       newDedup(),
		peerLinks:  map[uint64]*Connection{},
		startup:    newPackageQueue(cfg),
		drainCh:    make(chan struct{}),
	}
	empty := map[uint64]Receiver{}
	x.recvSnap.Store(&empty)
	if err := r.Do(context.Background(), func() { r.contexts = append(r.contexts, x) }); err != nil {
		return nil, err
	}
	return x, nil
}

// ID returns the context's 64-bit id. Safe for concurrent use.
func (x *Context) ID() uint64 { return x.id }

// Reactor returns the reactor the context runs on. Safe for concurrent
// use.
func (x *Context) Reactor() *Reactor { return x.r }

// QueueParams returns the queue size and discard rule of the context.
// Safe for concurrent use.
func (x *Context) QueueParams() (int, Discard) { return x.queueSize, x.discard }

// NewQueue returns a bounded queue with the context's queue parameters,
// for channels' incoming queues. Safe for concurrent use; the queue it
// returns is not (its owner locks around it).
func (x *Context) NewQueue() *queue.Ring[Package] {
	return newPackageQueue(contextConfig{queueSize: x.queueSize, queueBytes: x.queueBytes, discard: x.discard})
}

// newPackageQueue returns a queue bounded by cfg's package count and
// byte budget.
func newPackageQueue(cfg contextConfig) *queue.Ring[Package] {
	return queue.New[Package](cfg.queueSize, cfg.discard).WithBytes(cfg.queueBytes, packageBytes)
}

func packageBytes(p Package) int { return len(p.Data) }

// Register attaches a channel at a sending slot, a receiving slot, or
// both (0 means none). name is the slot name used in errors. It fails
// with ErrSlotNotFree when the context already has a channel there.
// Safe for concurrent use.
func (x *Context) Register(sendSlot uint64, recvSlot uint64, rx Receiver, name string) error {
	x.regMu.Lock()
	defer x.regMu.Unlock()
	if sendSlot != 0 {
		if _, taken := x.sending[sendSlot]; taken {
			return fmt.Errorf("%w: %s", ErrSlotNotFree, name)
		}
	}
	if recvSlot != 0 {
		if _, taken := x.receiving[recvSlot]; taken {
			return fmt.Errorf("%w: %s", ErrSlotNotFree, name)
		}
	}
	if sendSlot != 0 {
		x.sending[sendSlot] = name
	}
	if recvSlot != 0 {
		x.receiving[recvSlot] = rx
		x.publishReceivers()
	}
	return nil
}

// Unregister detaches the channel registered at these slots. Safe for
// concurrent use.
func (x *Context) Unregister(sendSlot, recvSlot uint64) {
	x.regMu.Lock()
	defer x.regMu.Unlock()
	if sendSlot != 0 {
		delete(x.sending, sendSlot)
	}
	if recvSlot != 0 {
		if _, ok := x.receiving[recvSlot]; ok {
			delete(x.receiving, recvSlot)
			x.publishReceivers()
		}
	}
}

func (x *Context) publishReceivers() {
	snap := make(map[uint64]Receiver, len(x.receiving))
	for k, v := range x.receiving {
		snap[k] = v
	}
	x.recvSnap.Store(&snap)
}

// OnNewConnection registers fn to run on the loop whenever this context
// receives a NEW_CONNECTION message (state channels resend their state).
// The returned function unregisters it. Safe for concurrent use.
func (x *Context) OnNewConnection(fn func()) (remove func()) {
	x.regMu.Lock()
	defer x.regMu.Unlock()
	x.hookSeq++
	id := x.hookSeq
	x.newConnHooks = append(x.newConnHooks, newConnHook{id: id, fn: fn})
	x.hookCount.Store(int32(len(x.newConnHooks)))
	_ = x.r.Post(x.linksChanged)
	return func() {
		x.regMu.Lock()
		defer x.regMu.Unlock()
		for i, h := range x.newConnHooks {
			if h.id == id {
				x.newConnHooks = append(x.newConnHooks[:i:i], x.newConnHooks[i+1:]...)
				x.hookCount.Store(int32(len(x.newConnHooks)))
				_ = x.r.Post(x.linksChanged)
				return
			}
		}
	}
}

type newConnHook struct {
	id uint64
	fn func()
}

// Send queues a package for the network: the context stamps its id and
// the next sequence number on the loop, in the order Send was called.
// Send takes ownership of data (do not modify it afterwards). An empty
// data is a no-op, as in yoton.
//
// When the context's outgoing queues are past yoton's tiny length, Send
// waits until they drain, ctx ends, or SendWait passes, and then queues
// the package anyway (the queues' discard rule still bounds memory).
// It also waits (as long at most) while submitLimit packages are
// still waiting for the loop to take them. On the loop goroutine it
// never waits. Safe for concurrent use.
func (x *Context) Send(ctx context.Context, slot uint64, data []byte, destID, destSeq uint64) error {
	if len(data) == 0 {
		return nil
	}
	if x.backlogHigh.Load() && !x.r.OnLoop() {
		if err := x.waitForRoom(ctx); err != nil {
			return err
		}
	}
	x.subMu.Lock()
	if x.submitFull() {
		// The loop is behind: do not let the submission queue grow
		// without bound.
		x.subMu.Unlock()
		if x.r.OnLoop() {
			x.drain()
		} else if err := x.waitForDrain(ctx); err != nil {
			return err
		}
		x.subMu.Lock()
	}
	if x.closed {
		// Closed, and not by its reactor: usable again, as yoton's.
		x.subMu.Unlock()
		if err := x.reopen(); err != nil {
			return err
		}
		x.subMu.Lock()
	}
	if len(x.subQ) >= x.submitHardLimit() {
		// The loop has not taken anything for SendWait (a callback
		// blocks it): apply the queue's discard rule here too.
		x.discarded.Add(1)
		if x.discard == DiscardNew {
			x.subMu.Unlock()
			return nil
		}
		x.subBytes -= len(x.subQ[0].Data)
		copy(x.subQ, x.subQ[1:])
		x.subQ[len(x.subQ)-1] = Package{}
		x.subQ = x.subQ[:len(x.subQ)-1]
	}
	x.subQ = append(x.subQ, Package{Slot: slot, DestID: destID, DestSeq: destSeq, Data: data})
	x.subBytes += len(data)
	post := !x.posted
	x.posted = true
	x.subMu.Unlock()
	if post {
		if err := x.r.Post(x.drain); err != nil {
			return err
		}
	}
	return nil
}

// Bounds of the submission queue (packages sent but not yet taken by the
// loop). They are larger than yoton's tiny queue because the loop takes
// the whole queue per turn: a few thousand small packages per wake is
// what makes one write per turn pay off.
const (
	submitLimit = 4096
	submitBytes = 4 << 20
)

// submitFull reports whether senders should wait for the loop to drain
// the submission queue: it holds submitLimit packages (or the context's
// queue size, if smaller) or submitBytes of payload. Under subMu.
func (x *Context) submitFull() bool {
	return len(x.subQ) >= min(submitLimit, x.queueSize) || x.subBytes >= submitBytes
}

// submitHardLimit is the length at which the submission queue discards.
func (x *Context) submitHardLimit() int { return max(submitLimit, x.queueSize) }

// waitForDrain waits (at most SendWait) until the loop has drained the
// submission queue, when it is still long. Not on the loop goroutine.
func (x *Context) waitForDrain(ctx context.Context) error {
	x.subMu.Lock()
	if !x.submitFull() || x.closed {
		x.subMu.Unlock()
		return nil
	}
	if x.drained == nil {
		x.drained = make(chan struct{})
	}
	ch := x.drained
	x.subMu.Unlock()
	return x.r.WaitSignal(ctx, ch, SendWait)
}

// waitForRoom waits (at most SendWait) while the connections' queues are
// past the tiny length. Not on the loop goroutine.
func (x *Context) waitForRoom(ctx context.Context) error {
	x.drainMu.Lock()
	ch := x.drainCh
	x.drainMu.Unlock()
	if !x.backlogHigh.Load() {
		return nil
	}
	return x.r.WaitSignal(ctx, ch, SendWait)
}

// drain moves the submission queue into the connections. Loop goroutine.
func (x *Context) drain() {
	x.subMu.Lock()
	q := x.subQ
	x.subQ = x.spareQ[:0]
	x.subBytes = 0
	x.posted = false
	if x.drained != nil {
		close(x.drained)
		x.drained = nil
	}
	x.subMu.Unlock()
	for i := range q {
		x.sendSeq++
		q[i].SourceID = x.id
		q[i].SourceSeq = x.sendSeq
		x.route(q[i])
		q[i] = Package{}
	}
	x.spareQ = q[:0]
}

// sendNow stamps and routes a package at once. Loop goroutine only.
func (x *Context) sendNow(slot uint64, data []byte) {
	x.drain() // keep sequence order with packages already submitted
	x.sendSeq++
	x.route(Package{Slot: slot, SourceID: x.id, SourceSeq: x.sendSeq, Data: data})
}

// route hands a stamped package to every alive connection, or to the
// startup queue when there is none. With DropBacklog only connected
// connections take it, and with none it is dropped. Loop goroutine.
func (x *Context) route(p Package) {
	if x.backlog == DropBacklog {
		if x.connected == 0 {
			x.discarded.Add(1)
			return
		}
		for _, c := range x.conns {
			if c.IsConnected() {
				c.enqueue(p)
			}
		}
		return
	}
	if x.alive == 0 {
		before := x.startup.Discarded()
		if !x.startup.Push(p) {
			x.discarded.Add(x.startup.Discarded() - before)
		}
		return
	}
	for _, c := range x.conns {
		if c.alive() {
			c.enqueue(p)
		}
	}
}

// Forged returns how many packages this context refused as forged: they
// claimed the id of a directly connected peer but came over another
// connection, or a new number of a source tied to another connected link
// (see the protocol notes; around a loop this also counts copies that
// overtook the tied link's, which is delivered), or their sequence number
// jumped past MaxSeqJump. Safe for concurrent use.
func (x *Context) Forged() uint64 { return x.forged.Load() }

// Discarded returns how many packages this context's outgoing queues
// (the submission queue, the startup queue and its connections' queues)
// have dropped under their discard rule so far. Safe for concurrent use.
func (x *Context) Discarded() uint64 { return x.discarded.Load() }

// updateBacklog publishes whether senders should wait: a connected
// connection's queue is past the tiny length (x.congested counts them). A
// connection that waits for a peer or is down never makes anyone wait.
// Loop goroutine, at the end of a turn that changed x.congested.
func (x *Context) updateBacklog() {
	x.backlogMarked = false
	high := x.congested > 0
	was := x.backlogHigh.Load()
	if high == was {
		return
	}
	x.backlogHigh.Store(high)
	if !high {
		x.drainMu.Lock()
		close(x.drainCh)
		x.drainCh = make(chan struct{})
		x.drainMu.Unlock()
	}
}

// addConnection registers c (waiting or connected) and moves the startup
// queue into it. Loop goroutine.
func (x *Context) addConnection(c *Connection) {
	if x.dead > 64 && 2*x.dead > len(x.conns) {
		x.pruneConnections()
	}
	if x.backlog == KeepBacklog || c.IsConnected() {
		for {
			p, ok := x.startup.PopFront()
			if !ok {
				break
			}
			c.pending.Push(p)
		}
	}
	x.conns = append(x.conns, c)
	c.listed = true
	x.counted(c.Status(), 1)
	x.r.startHousekeeping()
}

func (x *Context) pruneConnections() {
	kept := x.conns[:0]
	for _, c := range x.conns {
		if c.Status() != StatusClosed {
			kept = append(kept, c)
		} else {
			c.listed = false
		}
	}
	clear(x.conns[len(kept):])
	x.conns = kept
	x.dead = 0
}

// setStatus changes c's status and keeps the context's counts. Loop
// goroutine (or before c is listed).
func (x *Context) setStatus(c *Connection, s Status) {
	old := Status(c.status.Swap(int32(s)))
	if c.listed && old != s {
		x.counted(old, -1)
		x.counted(s, 1)
	}
	c.noteCongestion()
	if old == s {
		return
	}
	// What Python's verbose mode prints, through the reactor's logger.
	switch s {
	case StatusClosing:
		c.liveStatus = old
	case StatusHosting, StatusWaiting:
		host, port := c.LocalAddr()
		x.r.logf("Yoton: %s at %s:%d.", s, host, port)
	case StatusConnected:
		host, port := c.PeerAddr()
		x.r.logf("Yoton: connected at %s:%d.", host, port)
	}
}

func (x *Context) counted(s Status, n int) {
	switch {
	case s >= StatusHosting:
		x.connected += n
		x.alive += n
	case s == StatusWaiting:
		x.alive += n
	case s == StatusClosed:
		x.dead += n
	}
	x.connCnt.Store(int32(x.connected))
}

// ConnectionCount returns the number of connected connections. Safe for
// concurrent use.
func (x *Context) ConnectionCount() int { return int(x.connCnt.Load()) }

// Connections returns the connected connections (not the waiting ones),
// in a new slice. Safe for concurrent use: off the loop goroutine it
// waits for the loop to list them, on it it lists them at once.
func (x *Context) Connections() Connections {
	var out Connections
	_ = x.r.Do(context.Background(), func() {
		x.pruneConnections()
		for _, c := range x.conns {
			if c.IsConnected() {
				out = append(out, c)
			}
		}
	})
	return out
}

// AllConnections returns every alive connection, waiting ones included,
// in a new slice. Safe for concurrent use, on the loop goroutine too, as
// Connections.
func (x *Context) AllConnections() Connections {
	var out Connections
	_ = x.r.Do(context.Background(), func() {
		for _, c := range x.conns {
			if c.IsAlive() {
				out = append(out, c)
			}
		}
	})
	return out
}

// Connections is a list of connections that can be searched by name.
type Connections []*Connection

// ByName returns the first connection with the given name, or nil. Safe
// for concurrent use: it only reads cs.
func (cs Connections) ByName(name string) *Connection {
	if name == "" {
		return nil
	}
	for _, c := range cs {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// Flush waits until every package queued so far on every connected
// connection has been handed to the kernel, or ctx ends. Safe for
// concurrent use; on the loop goroutine it returns ErrBlockingCall.
func (x *Context) Flush(ctx context.Context) error {
	if x.r.OnLoop() {
		return ErrBlockingCall
	}
	// Make sure everything submitted so far is routed first.
	if err := x.r.Do(ctx, x.drain); err != nil {
		return err
	}
	for _, c := range x.Connections() {
		if err := c.Flush(ctx); err != nil && !errors.Is(err, ErrNotConnected) {
			return err
		}
	}
	return nil
}

// Close closes every connection and listener (connected peers get
// yoton's close signal) and every channel attached to the context. As
// in yoton ("a Context instance can be reused after closing"), the
// context can be used again afterwards: Bind, Listen, Connect and Send
// reopen it, and new channels can be attached (the closed ones stay
// closed). Only closing its reactor ends a context for good (ErrClosed).
// Idempotent and safe for concurrent use: off the loop goroutine it waits
// until the loop has closed everything; on the loop goroutine it closes
// everything at once.
func (x *Context) Close() error {
	return x.r.Do(context.Background(), func() { x.closeOnLoop(ReasonByContext) })
}

func (x *Context) closeOnLoop(reason string) {
	x.drain()
	x.subMu.Lock()
	x.closed = true
	x.subMu.Unlock()
	for _, l := range append([]*Listener(nil), x.listeners...) {
		l.closeOnLoop()
	}
	for _, c := range append([]*Connection(nil), x.conns...) {
		c.closeOnLoop(reason, true)
	}
	x.pruneConnections()
	x.closeChannelsHooks()
	if i := slices.Index(x.r.contexts, x); i >= 0 {
		x.r.contexts = slices.Delete(x.r.contexts, i, i+1)
	}
}

// TrackChannel registers a channel so CloseChannels and Close close it.
// Safe for concurrent use.
func (x *Context) TrackChannel(c interface{ Close() error }) {
	x.regMu.Lock()
	defer x.regMu.Unlock()
	x.channels = append(x.channels, c)
}

// UntrackChannel forgets a channel given to TrackChannel (it closed).
// Safe for concurrent use.
func (x *Context) UntrackChannel(c interface{ Close() error }) {
	x.regMu.Lock()
	defer x.regMu.Unlock()
	for i, t := range x.channels {
		if t == c {
			x.channels = append(x.channels[:i], x.channels[i+1:]...)
			return
		}
	}
}

func (x *Context) closeChannelsHooks() {
	x.regMu.Lock()
	list := x.channels
	x.channels = nil
	x.regMu.Unlock()
	for _, c := range list {
		_ = c.Close()
	}
}

// CloseChannels closes every channel attached to this context, leaving
// the connections open. Safe for concurrent use, on the loop goroutine
// too.
func (x *Context) CloseChannels() {
	x.closeChannelsHooks()
}

// receive routes a package received from conn. Loop goroutine.
func (x *Context) receive(p Package, from *Connection) {
	if p.SourceSeq == 0 {
		// Never routed: a Go-only link message (link.go), or something
		// Python's dedup drops as well.
		if p.Slot == linkSlot {
			from.receiveLink(p)
		}
		return
	}
	if p.SourceID == x.id {
		// Our own package, back through a loop in the network. Python
		// yoton deposits it (its seen map lacks its own id); it must not
		// reach our own channels, nor travel on.
		return
	}
	if owner := x.peerLinks[p.SourceID]; owner != nil && owner != from {
		// A direct peer's own packages come over its own link (copies
		// around a loop come later and are duplicates): another link
		// claiming its id is forging it, e.g. to silence it with a huge
		// sequence number.
		x.forged.Add(1)
		return
	}
	switch x.seen.accept(p.SourceID, p.SourceSeq, from) {
	case duplicate:
		return // duplicate or loop
	case forgedSeq, otherLink:
		x.forged.Add(1)
		return
	}
	forward, deposit := false, false
	switch p.DestID {
	case 0:
		forward, deposit = true, true
	case x.id:
		deposit = true
	default:
		forward = true
	}
	if deposit {
		x.recvSeq++
		p.RecvSeq = x.recvSeq
	}
	if forward {
		switch {
		case p.Slot == slots.ContextSlot && string(p.Data) == newConnectionMessage:
			x.forwardNewConnection(p, from)
		case p.Slot == slots.ContextSlot && string(p.Data) == closeConnectionMessage:
			// About one link only: never forwarded (Python forwards it,
			// and every node then closes its links to that id).
		default:
			for _, c := range x.conns {
				if c != from && c.alive() {
					c.enqueue(p)
				}
			}
		}
	}
	if !deposit {
		return
	}
	if p.Slot == slots.ContextSlot {
		x.contextMessage(p, from)
		return
	}
	if rx := (*x.recvSnap.Load())[p.Slot]; rx != nil {
		rx.Deposit(p)
		x.r.touch(rx)
	}
}

// contextMessage handles a message on the context slot that arrived from
// the connection from. Loop goroutine.
func (x *Context) contextMessage(p Package, from *Connection) {
	switch msg := string(p.Data); msg {
	case closeConnectionMessage:
		// Only the peer of the connection it arrived on may close that
		// connection: a third party naming someone else's id (Python
		// closes every connection to that id) closes nothing.
		if from != nil && from.IsConnected() && from.PeerID() == p.SourceID {
			from.closeOnLoop(ReasonClosedFromThere, false)
		} else {
			x.r.logf("yoton: ignored CLOSE_CONNECTION from %x on %s (not its peer)", p.SourceID, from)
		}
	case newConnectionMessage:
		x.newConnection()
	default:
		x.r.logf("yoton: received unknown context message: %q", msg)
	}
}
