package reactor

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goyoton/yoton/internal/queue"
)

// Context is a node of a yoton network. Channels attach to it at slots;
// it connects to other contexts (Bind, Connect), stamps and routes the
// packages its channels send, forwards packages between its connections
// and deposits the ones addressed here into the channel at their slot.
//
// A Context lives on one Reactor; several contexts may share a reactor.
// All its methods are safe for concurrent use, and all work on the loop
// goroutine too, except that there Connect and Flush return
// ErrBlockingCall instead of waiting. Channels attach with Attach.
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
	channels     []*Endpoint // for CloseChannels

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
	// handshakeFailures counts the peers whose handshake at one of this
	// context's Bind or Listen ports failed (ContextStats).
	handshakeFailures atomic.Uint64
	connCnt           atomic.Int32
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
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrBadOption)
		}
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

// QueueLimits returns the bounds of the context's queues, as WithQueue
// and WithQueueBytes set them. Safe for concurrent use.
func (x *Context) QueueLimits() QueueLimits {
	return QueueLimits{Size: x.queueSize, Bytes: x.queueBytes, Discard: x.discard}
}

// QueueLimits are the bounds of a context's queues: each holds at most
// Size packages and Bytes bytes of payload, and past either the Discard
// rule drops the oldest or the newest package.
type QueueLimits struct {
	Size    int
	Bytes   int
	Discard Discard
}

// newQueue returns a bounded queue with the context's queue limits.
func (x *Context) newQueue() *queue.Ring[Package] {
	return newPackageQueue(contextConfig{queueSize: x.queueSize, queueBytes: x.queueBytes, discard: x.discard})
}

// newPackageQueue returns a queue bounded by cfg's package count and
// byte budget.
func newPackageQueue(cfg contextConfig) *queue.Ring[Package] {
	return queue.New[Package](cfg.queueSize, queue.Discard(cfg.discard)).WithBytes(cfg.queueBytes, packageBytes)
}

func packageBytes(p Package) int { return len(p.Data) }

// register attaches a channel at a sending slot, a receiving slot, or
// both (0 means none). name is the slot name used in errors. It fails
// with ErrSlotNotFree when the context already has a channel there.
// Safe for concurrent use.
func (x *Context) register(sendSlot uint64, recvSlot uint64, rx Receiver, name string) error {
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

// unregister detaches the channel registered at these slots. Safe for
// concurrent use.
func (x *Context) unregister(sendSlot, recvSlot uint64) {
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

// onNewConnection registers fn to run on the loop whenever this context
// receives a NEW_CONNECTION message (state channels resend their state).
// The returned function unregisters it. Safe for concurrent use.
func (x *Context) onNewConnection(fn func()) (remove func()) {
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
		x.r.logEvent(slog.LevelInfo, c.logAttrs(), "Yoton: %s at %s:%d.", s, host, port)
	case StatusConnected:
		host, port := c.PeerAddr()
		x.r.logEvent(slog.LevelInfo, c.logAttrs(), "Yoton: connected at %s:%d.", host, port)
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
	return x.r.Do(context.Background(), func() { x.closeOnLoop(closeError(nil, ReasonByContext)) })
}

func (x *Context) closeOnLoop(why *CloseError) {
	x.drain()
	x.subMu.Lock()
	x.closed = true
	x.subMu.Unlock()
	for _, l := range append([]*Listener(nil), x.listeners...) {
		l.closeOnLoop()
	}
	for _, c := range append([]*Connection(nil), x.conns...) {
		c.closeOnLoop(why, true)
	}
	x.pruneConnections()
	x.closeChannelsHooks()
	if i := slices.Index(x.r.contexts, x); i >= 0 {
		x.r.contexts = slices.Delete(x.r.contexts, i, i+1)
	}
}

// trackChannel registers a channel so CloseChannels and Close close it.
// Safe for concurrent use.
func (x *Context) trackChannel(c *Endpoint) {
	x.regMu.Lock()
	defer x.regMu.Unlock()
	x.channels = append(x.channels, c)
}

// untrackChannel forgets a channel given to trackChannel (it closed).
// Safe for concurrent use.
func (x *Context) untrackChannel(c *Endpoint) {
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
		c.closeChannel()
	}
}

// CloseChannels closes every channel attached to this context, leaving
// the connections open. Safe for concurrent use, on the loop goroutine
// too.
func (x *Context) CloseChannels() {
	x.closeChannelsHooks()
}
