package reactor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/goyoton/yoton/internal/loop"
	"github.com/goyoton/yoton/internal/queue"
	"github.com/goyoton/yoton/slots"
	"github.com/goyoton/yoton/timers"
	"github.com/goyoton/yoton/wire"
)

// Status is the state of a Connection, numbered as in Python yoton.
type Status int32

// Connection states.
const (
	StatusClosed    Status = 0
	StatusClosing   Status = 1
	StatusWaiting   Status = 2 // bound, waiting for a peer
	StatusHosting   Status = 3 // connected, we bound
	StatusConnected Status = 4 // connected, we connected

	// statusHandover marks a connecting socket being handed to gnet.
	statusHandover Status = -1
)

// String returns yoton's name for the status. Safe for concurrent use.
func (s Status) String() string {
	switch s {
	case StatusClosed:
		return "closed"
	case StatusClosing:
		return "closing"
	case StatusWaiting:
		return "waiting"
	case StatusHosting:
		return "hosting"
	case StatusConnected:
		return "connected"
	}
	return fmt.Sprintf("Status(%d)", int32(s))
}

// ClosedEvent is what a Connection's Closed signal carries.
type ClosedEvent struct {
	Conn   *Connection
	Reason string
	err    *CloseError
}

// TimedOutEvent is what a Connection's TimedOut signal carries: TimedOut
// is true when nothing was received for Timeout, false when data flows
// again.
type TimedOutEvent struct {
	Conn     *Connection
	TimedOut bool
}

// Connection is one TCP connection between two contexts (or, after Bind,
// the wait for one). All its methods are safe for concurrent use. On the
// loop goroutine Close and CloseOnProblem close it at once and Flush
// returns ErrBlockingCall. Its signals run their handlers on the loop
// goroutine.
type Connection struct {
	x      *Context
	status atomic.Int32

	// Closed is emitted once, on the loop, when the connection closes.
	Closed *timers.Signal[ClosedEvent]
	// TimedOut is emitted on the loop when nothing arrived for Timeout
	// (true) and again when data flows (false).
	TimedOut *timers.Signal[TimedOutEvent]

	mu          sync.Mutex
	name        string
	stats       ConnectionStats // loop-owned counters (Stats copies them)
	host1       string
	port1       int
	liveStatus  Status // the status before closing began, for the log
	host2       string
	port2       int
	id2         uint64
	pid2        int
	closeErr    *CloseError // why it closed; nil while open
	timeout     atomic.Int64
	done        chan struct{}
	established chan struct{} // closed when the connection becomes connected

	// Disconnected and Reconnected are emitted on the loop when a
	// connection made with WithReconnect drops and when it is back.
	Disconnected *timers.Signal[DisconnectedEvent]
	Reconnected  *timers.Signal[*Connection]

	listed    bool      // in its context's conns (loop-owned)
	congested bool      // counted in its context's congested (loop-owned)
	acc       *acceptor // a Bind's, while it waits for its peer (loop-owned)
	listener  *Listener // the Listener that accepted it, if any (loop-owned)
	redial    *redialer // set by WithReconnect (loop-owned)
	link      linkState // Go-only link messages (link.go; loop-owned)
	early     []byte    // bytes read with the host's handshake line (Connect; loop-owned once enrolled)

	// Loop-owned.
	gc       gnet.Conn
	pending  *queue.Ring[Package]
	dirty    bool
	wbuf     []byte
	iov      [][]byte
	segs     []segment
	lastRecv time.Time
	lastSend time.Time
	timedOut bool
	hdr      [wire.HeaderSize]byte
	hdrN     int
	cur      Package
	curN     int
	inBody   bool
	curLen   int // the announced length of the body being read
	// behindSince is when the peer fell behind (WithWriteDeadline).
	behindSince time.Time
	flushWait   []chan struct{}
	pollEntry   *loop.Entry
}

type segment struct {
	start, end int    // range in wbuf, when ext is nil
	ext        []byte // a large payload written in place
}

func newConnection(x *Context, name string) *Connection {
	c := &Connection{
		x:            x,
		name:         name,
		Closed:       timers.NewSignal[ClosedEvent](x.r),
		TimedOut:     timers.NewSignal[TimedOutEvent](x.r),
		Disconnected: timers.NewSignal[DisconnectedEvent](x.r),
		Reconnected:  timers.NewSignal[*Connection](x.r),
		done:         make(chan struct{}),
		established:  make(chan struct{}),
		pending:      x.newQueue(),
	}
	c.timeout.Store(int64(MinTimeout))
	return c
}

// Context returns the context this connection belongs to. Safe for
// concurrent use.
func (c *Connection) Context() *Context { return c.x }

// Status returns the connection's state. Safe for concurrent use.
func (c *Connection) Status() Status { return Status(c.status.Load()) }

// IsAlive reports whether the connection is waiting or connected. Safe
// for concurrent use.
func (c *Connection) IsAlive() bool { return c.Status() >= StatusWaiting }

// IsConnected reports whether the connection is connected. Safe for
// concurrent use.
func (c *Connection) IsConnected() bool { return c.Status() >= StatusHosting }

// IsWaiting reports whether the connection waits for a peer (after Bind).
// Safe for concurrent use.
func (c *Connection) IsWaiting() bool { return c.Status() == StatusWaiting }

func (c *Connection) alive() bool { return c.IsAlive() }

// Name returns the connection's name ("" if none). Safe for concurrent
// use.
func (c *Connection) Name() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name
}

// SetName renames the connection. Safe for concurrent use.
func (c *Connection) SetName(name string) {
	c.mu.Lock()
	c.name = name
	c.mu.Unlock()
}

// LocalAddr returns this end's host and port (the bound port after Bind).
// Safe for concurrent use.
func (c *Connection) LocalAddr() (host string, port int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.host1, c.port1
}

// PeerAddr returns the other end's host and port ("" and 0 until
// connected). Safe for concurrent use.
func (c *Connection) PeerAddr() (host string, port int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.host2, c.port2
}

// ID returns the id of this end's context. Safe for concurrent use.
func (c *Connection) ID() uint64 { return c.x.id }

// PeerID returns the id of the other end's context (0 until connected).
// Safe for concurrent use.
func (c *Connection) PeerID() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id2
}

// PID returns this process's id. Safe for concurrent use.
func (c *Connection) PID() int { return os.Getpid() }

// PeerPID returns the process id the other end sent in its handshake.
// Safe for concurrent use.
func (c *Connection) PeerPID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pid2
}

// Timeout returns how long the connection may stay silent before it
// emits TimedOut(true). Safe for concurrent use.
func (c *Connection) Timeout() time.Duration { return time.Duration(c.timeout.Load()) }

// SetTimeout sets Timeout; values below MinTimeout (0.5 s) are refused.
// Safe for concurrent use.
func (c *Connection) SetTimeout(d time.Duration) error {
	if d < MinTimeout {
		return fmt.Errorf("%w: timeout %v below the minimum %v", ErrBadOption, d, MinTimeout)
	}
	c.timeout.Store(int64(d))
	return nil
}

// Established returns a channel closed once the connection is connected
// (for a Bind, when its peer has completed the handshake). It stays open
// for a connection that closes before that; select on Done too. Safe for
// concurrent use.
func (c *Connection) Established() <-chan struct{} { return c.established }

// Done returns a channel closed when the connection has closed. Safe for
// concurrent use.
func (c *Connection) Done() <-chan struct{} { return c.done }

// CloseReason returns why the connection closed ("" while open). Safe
// for concurrent use.
func (c *Connection) CloseReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr == nil {
		return ""
	}
	return c.closeErr.Reason
}

// String describes the connection for logs. Safe for concurrent use.
func (c *Connection) String() string {
	h, p := c.LocalAddr()
	return fmt.Sprintf("yoton connection %q %s at %s:%d", c.Name(), c.Status(), h, p)
}

// Close closes the connection, telling a connected peer (yoton's close
// signal), and emits Closed with reason ("" means ReasonDefault).
// Closing a closed connection does nothing. Safe for concurrent use: off
// the loop goroutine it waits until the loop has closed the connection;
// on the loop goroutine it closes it at once.
func (c *Connection) Close(reason string) {
	if reason == "" {
		reason = ReasonDefault
	}
	_ = c.x.r.Do(context.Background(), func() { c.closeOnLoop(closeError(nil, reason), true) })
}

// CloseOnProblem closes the connection without telling the peer and emits
// Closed with reason ("" means ReasonUnspecified). Safe for concurrent
// use, on the loop goroutine too, as Close.
func (c *Connection) CloseOnProblem(reason string) {
	if reason == "" {
		reason = ReasonUnspecified
	}
	_ = c.x.r.Do(context.Background(), func() { c.closeOnLoop(closeError(nil, reason), false) })
}

// closeOnLoop is the one close path. Loop goroutine.
func (c *Connection) closeOnLoop(why *CloseError, notify bool) {
	old := c.Status()
	if old == StatusClosed || old == StatusClosing {
		return
	}
	c.x.setStatus(c, StatusClosing)
	if c.acc != nil {
		c.acc.close() // ends a bind's handshakes in progress at once
		c.acc = nil
	}
	if c.redial != nil {
		c.redial.stop()
	}
	if c.gc != nil {
		if notify && old >= StatusHosting {
			c.flushAll()
			// The close signal is written by itself, past the queue,
			// so a full queue cannot discard it. A failed write closes
			// the socket at once (gnet calls OnClose, which clears gc).
			if c.gc != nil {
				var hdr [wire.HeaderSize]byte
				wire.PutHeader(hdr[:], wire.CloseHeader())
				_, _ = c.gc.Write(hdr[:])
			}
		}
		c.lingerClose(time.Now().Add(closeLinger))
	}
	c.pending.Clear()
	c.finish(why)
}

// closeLinger is how long a closed connection keeps its socket open to
// hand what it buffered to the kernel (yoton's close flushes for up to 1 s).
const closeLinger = time.Second

// lingerClose closes the socket once gnet's outbound buffer is empty, or
// at deadline. gnet's Close alone drops whatever the kernel does not take
// at once, which would cut off the packages (and the close signal) queued
// for a slow reader. Reactor.Close waits for lingering sockets. Loop
// goroutine.
func (c *Connection) lingerClose(deadline time.Time) {
	c.x.r.lingering++
	c.lingerPoll(deadline)
}

func (c *Connection) lingerPoll(deadline time.Time) {
	gc := c.gc // nil once gnet has closed the socket itself
	if gc != nil && gc.OutboundBuffered() > 0 && time.Now().Before(deadline) {
		c.x.r.afterFunc(time.Millisecond, func() { c.lingerPoll(deadline) })
		return
	}
	if gc != nil {
		_ = gc.Close()
	}
	c.x.r.lingerEnded()
}

func (c *Connection) finish(why *CloseError) {
	c.mu.Lock()
	c.closeErr = why
	c.mu.Unlock()
	// Count first: whoever wakes on done must see the new count.
	c.x.setStatus(c, StatusClosed)
	c.x.forgetPeerLink(c)
	if c.listener != nil {
		c.listener.forget(c)
	}
	c.x.linksChanged()
	close(c.done)
	for _, w := range c.flushWait {
		close(w)
	}
	c.flushWait = nil
	if c.pollEntry != nil {
		c.x.r.cancelTimer(c.pollEntry)
		c.pollEntry = nil
	}
	if c.x.r.logging() {
		c.x.r.logEvent(closeLevel(why), c.logAttrs(closeAttrs(why)...), "Yoton: %s connection closed: %s", c.liveStatus, why.Reason)
	}
	_ = c.Closed.Emit(ClosedEvent{Conn: c, Reason: why.Reason, err: why})
}

// Flush waits until every package queued on this connection has been
// handed to the kernel, or ctx ends. Safe for concurrent use; on the
// loop goroutine it returns ErrBlockingCall.
func (c *Connection) Flush(ctx context.Context) error {
	if c.x.r.OnLoop() {
		return ErrBlockingCall
	}
	var wait chan struct{}
	var err error
	if derr := c.x.r.Do(ctx, func() {
		c.x.drain()
		if !c.IsConnected() {
			err = ErrNotConnected
			return
		}
		c.flush()
		if c.gc == nil || !c.IsConnected() {
			// The write failed and the connection went down with it.
			err = ErrNotConnected
			return
		}
		if c.pending.Len() == 0 && c.gc.OutboundBuffered() == 0 {
			return
		}
		wait = make(chan struct{})
		c.flushWait = append(c.flushWait, wait)
		c.schedulePoll()
	}); derr != nil {
		return derr
	}
	if err != nil || wait == nil {
		return err
	}
	select {
	case <-wait:
		switch {
		case c.Status() == StatusClosed:
			return fmt.Errorf("%w: connection closed while flushing (%s)", ErrClosed, c.CloseReason())
		case !c.IsConnected():
			return fmt.Errorf("%w: connection went down while flushing", ErrNotConnected)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// enqueue queues p for this connection. Once the queue holds yoton's
// tiny length it is written out at once (as far as the high-water mark
// allows) instead of at the end of the turn, so that a burst taken from
// the submission queue in one turn cannot overflow a small queue while
// the socket has room. Loop goroutine.
func (c *Connection) enqueue(p Package) {
	before := c.pending.Discarded()
	if !c.pending.Push(p) {
		c.x.discarded.Add(c.pending.Discarded() - before)
	}
	if c.gc != nil {
		if c.pending.Len() >= TinyQueueLength && c.Status() >= StatusHosting {
			c.flush()
		}
		c.x.r.markDirty(c)
	}
	c.noteCongestion()
}

// behind reports whether the peer is not taking what is queued for it:
// the outbound buffer is past the high-water mark, or the queue past the
// tiny length. Loop goroutine.
func (c *Connection) behind() bool {
	return c.pending.Len() >= TinyQueueLength ||
		(c.gc != nil && c.gc.OutboundBuffered() >= c.x.r.cfg.highWaterMark)
}

// noteCongestion keeps the context's count of congested connections (see
// updateBacklog) after c's queue or status changed. Loop goroutine.
func (c *Connection) noteCongestion() {
	now := c.IsConnected() && c.pending.Len() >= TinyQueueLength
	if now == c.congested {
		return
	}
	c.congested = now
	if now {
		c.x.congested++
	} else {
		c.x.congested--
	}
	c.x.r.markBacklog(c.x)
}

// flush moves queued packages into gnet's outbound buffer, as many as fit
// under the high-water mark, with one write. Loop goroutine.
func (c *Connection) flush() {
	if c.gc == nil || c.Status() < StatusHosting {
		return
	}
	budget := c.x.r.cfg.highWaterMark - c.gc.OutboundBuffered()
	c.write(budget)
	c.checkFlushed()
}

// flushAll writes every queued package regardless of the high-water mark.
func (c *Connection) flushAll() {
	c.write(int(^uint(0) >> 1))
}

const inlinePayload = 16 << 10

func (c *Connection) write(budget int) {
	if c.pending.Len() == 0 || budget <= 0 {
		if c.pending.Len() > 0 {
			c.schedulePoll()
		}
		return
	}
	buf := c.wbuf[:0]
	segs := c.segs[:0]
	mark := 0
	for budget > 0 {
		p, ok := c.pending.PopFront()
		if !ok {
			break
		}
		c.stats.PackagesOut++
		c.stats.BytesOut += uint64(wire.HeaderSize + len(p.Data))
		buf = wire.AppendHeader(buf, p.header())
		if len(p.Data) <= inlinePayload {
			buf = append(buf, p.Data...)
		} else {
			segs = append(segs, segment{start: mark, end: len(buf)}, segment{ext: p.Data})
			mark = len(buf)
		}
		budget -= wire.HeaderSize + len(p.Data)
	}
	if mark < len(buf) {
		segs = append(segs, segment{start: mark, end: len(buf)})
	}
	iov := c.iov[:0]
	for _, s := range segs {
		if s.ext != nil {
			iov = append(iov, s.ext)
		} else if s.end > s.start {
			iov = append(iov, buf[s.start:s.end])
		}
	}
	if len(iov) > 0 {
		var err error
		if len(iov) == 1 {
			_, err = c.gc.Write(iov[0])
		} else {
			_, err = c.gc.Writev(iov)
		}
		if err == nil {
			c.lastSend = time.Now()
		}
	}
	for i := range iov {
		iov[i] = nil
	}
	for i := range segs {
		segs[i] = segment{}
	}
	if cap(buf) > 4*c.x.r.cfg.highWaterMark {
		buf = nil // do not keep a huge buffer after a burst
	}
	c.wbuf, c.segs, c.iov = buf[:0], segs[:0], iov[:0]
	if c.pending.Len() > 0 {
		c.schedulePoll()
	}
	c.noteCongestion()
}

// schedulePoll re-checks the connection shortly: gnet has no "outbound
// buffer drained" callback, so a congested connection polls until its
// queue and buffer are empty. Loop goroutine.
func (c *Connection) schedulePoll() {
	if c.pollEntry != nil && c.pollEntry.Scheduled() {
		return
	}
	c.pollEntry = c.x.r.afterFunc(time.Millisecond, func() {
		c.pollEntry = nil
		if c.Status() >= StatusHosting {
			c.flush()
		}
	})
}

func (c *Connection) checkFlushed() {
	if len(c.flushWait) == 0 {
		return
	}
	if c.gc == nil || c.pending.Len() == 0 && c.gc.OutboundBuffered() == 0 {
		// Flushed, or the socket is gone (down to reconnect, or closing):
		// the waiters look at the status.
		for _, w := range c.flushWait {
			close(w)
		}
		c.flushWait = nil
		return
	}
	c.schedulePoll()
}

// tick sends a heartbeat after HeartbeatInterval without sending and
// tracks time-outs. Loop goroutine.
func (c *Connection) tick(now time.Time) {
	if c.Status() < StatusHosting || c.gc == nil {
		return
	}
	c.checkWatch(now)
	if !c.link.noHeartbeat && now.Sub(c.lastSend) >= HeartbeatInterval && c.pending.Len() == 0 {
		var hb [wire.HeaderSize]byte
		wire.PutHeader(hb[:], wire.HeartbeatHeader())
		if _, err := c.gc.Write(hb[:]); err == nil {
			c.lastSend = now
		}
	}
	if d := c.x.r.cfg.writeDeadline; d > 0 {
		if c.behind() {
			if c.behindSince.IsZero() {
				c.behindSince = now
			} else if now.Sub(c.behindSince) > d {
				c.x.discarded.Add(uint64(c.pending.Len()))
				c.pending.Clear()
				c.noteCongestion()
				c.closeOnLoop(closeError(ErrSlowConsumer, fmt.Sprintf("%s It took nothing for %v.", ReasonSlowConsumer, d)), false)
				return
			}
		} else {
			c.behindSince = time.Time{}
		}
	}
	if c.inBody && now.Sub(c.lastRecv) > c.x.r.cfg.bodyTimeout {
		c.drop(closeErrorf(ErrProtocol, "%s A package body stopped arriving (%d of %d bytes in %v).",
			ReasonBodyStalled, c.curN, c.curLen, c.x.r.cfg.bodyTimeout))
		return
	}
	if !c.timedOut && now.Sub(c.lastRecv) > c.Timeout() {
		c.timedOut = true
		_ = c.TimedOut.Emit(TimedOutEvent{Conn: c, TimedOut: true})
		if c.redial != nil && c.redial.policy.OnTimeout {
			c.drop(closeError(ErrConnTimedOut, fmt.Sprintf("%s Nothing received for %v.", ReasonTimedOut, c.Timeout())))
		}
	}
}

// opened runs when gnet has taken the socket of a Connect or of a
// reconnect. Loop goroutine.
func (c *Connection) opened(gc gnet.Conn) {
	switch c.Status() {
	case statusHandover: // Connect
		if c.x.isClosed() {
			c.gc = gc
			c.closeOnLoop(closeError(nil, ReasonByContext), false)
			return
		}
		c.x.addConnection(c)
	case StatusWaiting: // a reconnect
	default: // closed while the socket was being handed over
		_ = gc.Close()
		return
	}
	reconnect := c.Status() == StatusWaiting
	c.attach(gc, c.PeerID(), c.PeerPID(), StatusConnected)
	// Write what waited first, so that NEW_CONNECTION does not meet a
	// queue filled to its limit by it (and discard one).
	c.flush()
	c.x.sendNow(slots.ContextSlot, []byte(newConnectionMessage))
	if early := c.early; len(early) > 0 {
		c.early = nil
		c.consume(gc, early) // what the host sent right after its line
	}
	if reconnect {
		c.redial.reconnected()
		// The peer may be a restarted process that has none of our
		// state: our own state channels resend too (Go only; after a
		// first connect the startup queue carries it, as in yoton).
		c.x.newConnection()
		c.stats.Reconnects++
		_ = c.Reconnected.Emit(c)
	}
}

// attach makes gc the connection's socket: the connection is connected
// from here on. Loop goroutine.
func (c *Connection) attach(gc gnet.Conn, peerID uint64, peerPID int, status Status) {
	gc.SetContext(c)
	c.gc = gc
	c.mu.Lock()
	if _, unix := gc.LocalAddr().(*net.UnixAddr); !unix { // gnet renames unix ends
		c.host1, c.port1 = hostPort(gc.LocalAddr())
		c.host2, c.port2 = hostPort(gc.RemoteAddr())
	}
	c.id2, c.pid2 = peerID, peerPID
	c.mu.Unlock()
	now := time.Now()
	c.lastRecv, c.lastSend = now, now
	c.timedOut = false
	c.x.setStatus(c, status)
	if _, taken := c.x.peerLinks[peerID]; !taken && peerID != 0 {
		c.x.peerLinks[peerID] = c // a second link to the same peer shares the first's
	}
	select {
	case <-c.established:
	default:
		close(c.established)
	}
	c.x.r.markDirty(c)
	c.linkUp()
	c.x.linksChanged()
}

// adoptFailed ends a socket hand-over that gnet refused. Loop goroutine.
func (c *Connection) adoptFailed(why *CloseError) {
	if c.gc != nil {
		return // OnOpen ran after all
	}
	if c.Status() == StatusWaiting && c.redial != nil {
		c.redial.attemptFailed(c, errors.New(why.Reason))
		return
	}
	if c.Status() == statusHandover {
		c.closeOnLoop(why, false)
	}
}

// drop ends the connection for a reason that came from the peer or the
// socket: a connection with WithReconnect goes down and redials, any
// other closes. Loop goroutine.
func (c *Connection) drop(why *CloseError) {
	if c.redial != nil && c.IsConnected() && !c.x.isClosed() {
		c.down(why)
		return
	}
	c.closeOnLoop(why, false)
}

// socketClosed runs when gnet closed the socket. Loop goroutine.
func (c *Connection) socketClosed(gc gnet.Conn, err error) {
	if c.gc != gc {
		return // a socket this connection already let go of
	}
	c.gc = nil
	if c.Status() == StatusClosed {
		return
	}
	why := closeError(ErrPeerClosed, ReasonEOF)
	if err != nil && !errors.Is(err, io.EOF) {
		why = closeErrorCause(nil, ReasonSocketError+" "+err.Error(), err)
	}
	c.drop(why)
}

// traffic decodes every complete package gnet has read. Loop goroutine.
func (c *Connection) traffic(gc gnet.Conn) gnet.Action {
	buf, _ := gc.Next(-1)
	if len(buf) == 0 {
		return gnet.None
	}
	if !isHeartbeatOnly(buf) {
		// After the last read of this turn. A lone heartbeat needs no
		// prompt ACK, and a hub of thousands of idle peers reads four
		// of them per peer per second.
		defer quickAck(gc.Fd())
	}
	c.consume(gc, buf)
	return gnet.None
}

// heartbeatBytes is a whole heartbeat package as it arrives.
var heartbeatBytes = wire.AppendHeader(nil, wire.HeartbeatHeader())

// isHeartbeatOnly reports whether buf is exactly one heartbeat.
func isHeartbeatOnly(buf []byte) bool { return bytes.Equal(buf, heartbeatBytes) }

// consume decodes the packages in buf, read from gc; a package cut off at
// the end is kept for the next read. Loop goroutine.
func (c *Connection) consume(gc gnet.Conn, buf []byte) {
	c.lastRecv = time.Now()
	if c.timedOut {
		c.timedOut = false
		_ = c.TimedOut.Emit(TimedOutEvent{Conn: c, TimedOut: false})
	}
	for len(buf) > 0 {
		if c.Status() < StatusHosting || c.gc != gc {
			return // closed or dropped meanwhile; drop the rest
		}
		if !c.inBody {
			var h wire.Header
			var err error
			if c.hdrN == 0 && len(buf) >= wire.HeaderSize {
				h, err = wire.DecodeHeader(buf[:wire.HeaderSize])
				buf = buf[wire.HeaderSize:]
			} else {
				n := copy(c.hdr[c.hdrN:], buf)
				c.hdrN += n
				buf = buf[n:]
				if c.hdrN < wire.HeaderSize {
					return
				}
				c.hdrN = 0
				h, err = wire.DecodeHeader(c.hdr[:])
			}
			if err != nil {
				c.drop(closeError(ErrProtocol, ReasonLostTrack))
				return
			}
			if h.IsSignal() {
				if h.IsClose() {
					c.drop(closeError(ErrPeerClosed, ReasonClosedFromThere))
					return
				}
				continue // heartbeat or unknown signal
			}
			if h.Length > uint64(c.x.r.cfg.maxPackageSize) {
				c.drop(closeErrorf(ErrProtocol, "%s Header announces %d bytes; the limit is %d.",
					ReasonTooLarge, h.Length, c.x.r.cfg.maxPackageSize))
				return
			}
			// The buffer grows as the body arrives: a header alone
			// reserves at most bodyReserve bytes, not what it announces.
			c.curLen = int(h.Length)
			c.cur = Package{Slot: h.Slot, SourceID: h.SourceID, SourceSeq: h.SourceSeq,
				DestID: h.DestID, DestSeq: h.DestSeq, Data: make([]byte, min(c.curLen, bodyReserve))}
			c.curN = 0
			c.inBody = true
		}
		c.growBody(c.curN + len(buf))
		n := copy(c.cur.Data[c.curN:], buf)
		c.curN += n
		buf = buf[n:]
		if c.curN == c.curLen {
			c.bodyComplete()
		}
	}
	if c.inBody && gc != nil && c.gc == gc && c.curLen-c.curN >= directReadMin {
		c.readBodyDirect(gc)
	}
}

// bodyReserve is the most a package's buffer reserves before its bytes
// arrive; larger bodies grow (doubling) as they come in.
const bodyReserve = 1 << 20

// growBody makes the current body's buffer hold at least need bytes (at
// most the announced length). Loop goroutine.
func (c *Connection) growBody(need int) {
	need = min(need, c.curLen)
	if need <= len(c.cur.Data) {
		return
	}
	grown := make([]byte, min(c.curLen, max(need, 2*len(c.cur.Data))))
	copy(grown, c.cur.Data[:c.curN])
	c.cur.Data = grown
}

// directReadMin is the size of a body's unread part from which the loop
// reads it straight from the socket into the package's own buffer,
// skipping gnet's read buffer (one copy less for large messages).
const directReadMin = 64 << 10

// readBodyDirect reads the rest of the current body from the socket into
// its buffer until the body is complete or the socket has nothing more
// now. End of stream and errors are left for gnet's next read to report.
// Loop goroutine.
func (c *Connection) readBodyDirect(gc gnet.Conn) {
	fd := gc.Fd()
	for c.curN < c.curLen {
		c.growBody(c.curN + directReadMin)
		n := readSocket(fd, c.cur.Data[c.curN:])
		if n <= 0 {
			return // EAGAIN, end of stream or an error
		}
		c.curN += n
	}
	c.bodyComplete()
}

// bodyComplete hands the package whose body has all arrived to the
// context and counts it. Loop goroutine.
func (c *Connection) bodyComplete() {
	p := c.cur
	c.cur = Package{}
	c.inBody = false
	c.stats.PackagesIn++
	c.stats.BytesIn += uint64(wire.HeaderSize + len(p.Data))
	c.x.receive(p, c)
}
