package reactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"

	"github.com/goyoton/yoton/internal/goid"
	"github.com/goyoton/yoton/internal/loop"
)

// Reactor is one event loop that owns every socket of its contexts and
// runs every callback and timer on one goroutine (the loop goroutine).
//
// Create one with New, add contexts with NewContext, and Close it when
// done: Close ends every goroutine the reactor started. All its methods
// are safe for concurrent use. On the loop goroutine, the ones that wait
// (Close, Run, Sync, Adopt) return ErrBlockingCall instead, and Do runs
// its function at once.
type Reactor struct {
	// loopAnchor hands the loop's operations to the sibling packages
	// (timers, futures, channels, clientserver) without showing them in
	// the reactor's API.
	loopAnchor
	cfg    config
	client *gnet.Client
	loop   gnet.EventLoop
	loopID atomic.Uintptr

	// anchor is a loopback connection enrolled at start so the reactor
	// has a handle on its gnet event loop before any real connection.
	anchorPeer net.Conn

	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error
	stopped   chan struct{}

	// Goroutines and hand-overs that must end before the gnet engine
	// stops (accept loops, sockets being enrolled). enter registers one
	// unless Close has begun; wgMu orders enter against Close's Wait.
	wgMu sync.Mutex
	wg   sync.WaitGroup

	// depth counts nested loop callbacks: a gnet callback can run inside
	// another (a failed Write closes the socket and calls OnClose at
	// once), and only the outermost one ends the turn.
	depth int

	// Post queue: FIFO of functions for the loop, one gnet task per burst.
	postMu        sync.Mutex
	postQ         []func()
	postScheduled bool
	postSpare     []func() // loop-owned
	runPostedTask gnet.Runnable
	ctl           loopControl // Run, Stop, OnQueued (loop.go)

	// Loop-owned state.
	heap      loop.Heap
	wakeMu    sync.Mutex
	wakeTimer *time.Timer
	wakeAt    time.Time
	contexts  []*Context
	lingering int           // closed connections still writing out
	lingerEnd chan struct{} // closed when lingering drops to 0 (Close)
	dirty     []*Connection
	touched   []Receiver
	backlogs  []*Context // whose congestion changed this turn

	pumps     pumps // TLS relay goroutines (tls.go)
	housekeep *loop.Entry
}

// New starts a reactor: one gnet client engine with exactly one event loop.
// It returns once the loop runs. Safe for concurrent use.
func New(opts ...Option) (*Reactor, error) {
	r := &Reactor{
		cfg: config{
			maxPackageSize: DefaultMaxPackageSize,
			highWaterMark:  DefaultHighWaterMark,
			bodyTimeout:    DefaultBodyTimeout,
			readBuffer:     256 << 10,
		},
		stopped: make(chan struct{}),
	}
	r.runPostedTask = gnet.RunnableFunc(r.runPosted)
	r.loopAnchor = loop.NewAnchor(loopOps{r})
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrBadOption)
		}
		if err := o.apply(&r.cfg); err != nil {
			return nil, err
		}
	}
	client, err := newGnetClient(&handler{r: r},
		gnet.WithNumEventLoop(1),
		gnet.WithMulticore(false),
		gnet.WithReadBufferCap(r.cfg.readBuffer),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(silentLogger{}),
		gnet.WithLogLevel(logging.ErrorLevel),
	)
	if err != nil {
		return nil, fmt.Errorf("yoton: start gnet client: %w", err)
	}
	r.client = client
	if err := r.enrollAnchor(); err != nil {
		_ = client.Stop()
		return nil, err
	}
	// Learn the loop goroutine's id.
	done := make(chan struct{})
	if err := r.Post(func() { r.loopID.Store(uintptr(goid.Current())); close(done) }); err != nil {
		_ = r.Close()
		return nil, err
	}
	<-done
	return r, nil
}

type anchorTag struct{}

// enrollAnchor gives the reactor a handle on its gnet event loop before
// any real connection: gnet hands one out only with a connection, so one
// end of a connected pair is enrolled and kept. The pair is a unix
// socket pair where there is one, else a loopback TCP connection.
func (r *Reactor) enrollAnchor() error {
	nc, peer, err := anchorPair()
	if err != nil {
		return fmt.Errorf("yoton: reactor anchor: %w", err)
	}
	gc, err := r.client.EnrollContext(nc, anchorTag{})
	if err != nil {
		_ = peer.Close()
		return fmt.Errorf("yoton: reactor anchor: %w", err)
	}
	r.anchorPeer = peer
	r.loop = gc.EventLoop()
	return nil
}

// anchorPair returns two connected sockets: a unix socket pair, or
// where the system has none, a loopback TCP connection.
func anchorPair() (net.Conn, net.Conn, error) {
	if fds, err := socketPair(); err == nil {
		a, err := fileConn(fds[0], "anchor")
		if err != nil {
			closeFd(fds[1])
			return nil, nil, err
		}
		b, err := fileConn(fds[1], "anchor-peer")
		if err != nil {
			_ = a.Close()
			return nil, nil, err
		}
		return a, b, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		defer close(accepted)
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		_ = ln.Close()
		<-accepted
		return nil, nil, err
	}
	peer, ok := <-accepted
	if !ok {
		_ = nc.Close()
		return nil, nil, errors.New("accept failed")
	}
	return nc, peer, nil
}

// OnLoop reports whether the caller runs on the loop goroutine. Safe for
// concurrent use.
func (r *Reactor) OnLoop() bool {
	id := r.loopID.Load()
	return id != 0 && id == uintptr(goid.Current())
}

// Post queues fn to run on the loop goroutine and returns at once. Safe
// for concurrent use. It returns ErrClosed once the reactor is closing.
func (r *Reactor) Post(fn func()) error { return r.post(fn, false) }

// runPosted runs every queued Post function in one loop turn, in the
// order they were posted. gnet's own task queues can reorder tasks under
// load, so the reactor keeps this FIFO itself and asks gnet for one task
// per burst of posts. A panicking function is logged and does not stop
// the loop or the functions after it. Loop goroutine.
func (r *Reactor) runPosted(context.Context) error {
	r.postMu.Lock()
	q := r.postQ
	r.postQ = r.postSpare[:0]
	r.postScheduled = false
	r.postMu.Unlock()
	r.turn(func() {
		for i, fn := range q {
			r.runGuarded(fn)
			q[i] = nil
		}
	})
	r.postSpare = q[:0]
	return nil
}

// runGuarded runs a callback, turning a panic into a log line.
func (r *Reactor) runGuarded(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			r.logEvent(slog.LevelError, []slog.Attr{slog.Any("panic", v)}, "yoton: panic in loop callback: %v\n%s", v, debug.Stack())
		}
	}()
	fn()
}

// Do runs fn on the loop goroutine and waits for it. Called on the loop
// goroutine it runs fn at once. If ctx ends first, Do returns ctx's error
// (fn may still run later); once the reactor is closing it returns
// ErrClosed. Safe for concurrent use.
func (r *Reactor) Do(ctx context.Context, fn func()) error {
	if r.OnLoop() {
		fn()
		return nil
	}
	done := make(chan struct{})
	if err := r.Post(func() { fn(); close(done) }); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-r.stopped:
		select {
		case <-done:
			return nil
		default:
			return ErrClosed
		}
	}
}

// waitSignal waits until ch is closed or at most d, and returns nil then.
// It returns ctx's error if ctx ends first and ErrClosed if the reactor
// stops. It is the bounded wait of yoton's senders (a full queue, a
// subscriber that said "full"). Safe for concurrent use; on the loop
// goroutine it returns ErrBlockingCall at once.
func (r *Reactor) waitSignal(ctx context.Context, ch <-chan struct{}, d time.Duration) error {
	if r.OnLoop() {
		return ErrBlockingCall
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	case <-r.stopped:
		return ErrClosed
	}
	return nil
}

// afterFunc schedules fn to run on the loop goroutine after d and returns
// the entry, which cancelTimer takes. Loop goroutine only.
func (r *Reactor) afterFunc(d time.Duration, fn func()) *loop.Entry {
	e := r.heap.Add(time.Now().Add(d), func() { r.runGuarded(fn) })
	r.armWake()
	return e
}

// cancelTimer cancels an entry from afterFunc and reports whether it was
// still scheduled. Loop goroutine only.
func (r *Reactor) cancelTimer(e *loop.Entry) bool {
	return r.heap.Cancel(e)
}

// armWake makes sure one runtime timer will post runTimers when the
// earliest deadline comes. Loop goroutine only.
func (r *Reactor) armWake() {
	when, ok := r.heap.Next()
	if !ok {
		return
	}
	r.wakeMu.Lock()
	defer r.wakeMu.Unlock()
	if r.wakeTimer != nil && !r.wakeAt.IsZero() && !when.Before(r.wakeAt) {
		return
	}
	r.wakeAt = when
	d := time.Until(when)
	if r.wakeTimer == nil {
		r.wakeTimer = time.AfterFunc(d, r.fireWake)
	} else {
		r.wakeTimer.Reset(d)
	}
}

func (r *Reactor) fireWake() {
	_ = r.Post(func() {
		r.wakeMu.Lock()
		r.wakeAt = time.Time{}
		r.wakeMu.Unlock()
		defer r.armWake() // even if a callback panics
		r.heap.RunDue(time.Now())
	})
}

// turn runs fn as a piece of loop work and ends the turn, unless it is
// nested in another piece of loop work, which will end it. Loop goroutine.
func (r *Reactor) turn(fn func()) {
	r.depth++
	fn()
	if r.depth == 1 {
		r.endTurn() // callbacks nested in endTurn's writes see depth 1 too
	}
	r.depth--
}

// enter registers a goroutine or hand-over that Close must wait for
// before it stops the engine; it reports false once Close has begun.
// Each successful enter needs one leave.
func (r *Reactor) enter() bool {
	r.wgMu.Lock()
	defer r.wgMu.Unlock()
	if r.closing.Load() {
		return false
	}
	r.wg.Add(1)
	return true
}

func (r *Reactor) leave() { r.wg.Done() }

// endTurn ends every piece of loop work: it writes what the turn queued
// for each connection and tells receivers their batch is over.
func (r *Reactor) endTurn() {
	for len(r.dirty) > 0 || len(r.touched) > 0 {
		dirty := r.dirty
		r.dirty = r.dirty[len(r.dirty):]
		for i, c := range dirty {
			c.dirty = false
			c.flush()
			dirty[i] = nil
		}
		touched := r.touched
		r.touched = r.touched[len(r.touched):]
		for i, rc := range touched {
			rc.EndBatch()
			touched[i] = nil
		}
	}
	r.dirty = r.dirty[:0]
	r.touched = r.touched[:0]
	for i, x := range r.backlogs {
		x.updateBacklog()
		r.backlogs[i] = nil
	}
	r.backlogs = r.backlogs[:0]
}

// markBacklog queues x for updateBacklog at the end of the turn.
func (r *Reactor) markBacklog(x *Context) {
	if !x.backlogMarked {
		x.backlogMarked = true
		r.backlogs = append(r.backlogs, x)
	}
}

// touch remembers that rx got packages this turn so endTurn calls its
// EndBatch. A receiver may see EndBatch more than once per turn.
func (r *Reactor) touch(rx Receiver) {
	n := len(r.touched)
	for i := n - 1; i >= 0 && i >= n-8; i-- {
		if r.touched[i] == rx {
			return
		}
	}
	r.touched = append(r.touched, rx)
}

func (r *Reactor) markDirty(c *Connection) {
	if !c.dirty {
		c.dirty = true
		r.dirty = append(r.dirty, c)
	}
}

// lingerEnded counts down a connection that finished lingering.
// Loop goroutine.
func (r *Reactor) lingerEnded() {
	r.lingering--
	if r.lingering == 0 && r.lingerEnd != nil {
		close(r.lingerEnd)
		r.lingerEnd = nil
	}
}

// startHousekeeping runs the heartbeat and time-out check while any
// connection exists. Loop goroutine only.
func (r *Reactor) startHousekeeping() {
	if r.housekeep != nil && r.housekeep.Scheduled() {
		return
	}
	r.housekeep = r.afterFunc(housekeepInterval, r.housekeeping)
}

const housekeepInterval = 50 * time.Millisecond

func (r *Reactor) housekeeping() {
	now := time.Now()
	any := false
	for _, x := range r.contexts {
		x.seen.expire(now)
		for _, c := range x.conns {
			if c.Status() == StatusClosed {
				continue
			}
			any = true
			c.tick(now)
		}
	}
	if any {
		r.housekeep = r.afterFunc(housekeepInterval, r.housekeeping)
	}
}

// Close closes every context (each peer gets yoton's close signal), stops
// the loop and waits for every goroutine the reactor started. It is
// idempotent and safe for concurrent use (a second call waits for the
// first to finish); on the loop goroutine it returns ErrBlockingCall.
func (r *Reactor) Close() error {
	if r.OnLoop() {
		return ErrBlockingCall
	}
	r.closeOnce.Do(func() {
		if r.loop != nil && r.loopID.Load() != 0 {
			done := make(chan struct{})
			var lingered chan struct{}
			if err := r.Post(func() {
				for _, x := range append([]*Context(nil), r.contexts...) {
					x.closeOnLoop(closeError(nil, ReasonReactorClosed))
				}
				if r.lingering > 0 {
					r.lingerEnd = make(chan struct{})
					lingered = r.lingerEnd
				}
				close(done)
			}); err == nil {
				<-done
				if lingered != nil {
					// Closed connections hand their last bytes (and the
					// close signal) to the kernel; each gives up after
					// closeLinger.
					t := time.NewTimer(closeLinger + 100*time.Millisecond)
					select {
					case <-lingered:
					case <-t.C:
					}
					t.Stop()
				}
				// Let the Closed handlers emitted above run before the
				// loop stops: they were queued ahead of this call.
				_ = r.Do(context.Background(), func() {})
			}
		}
		r.wgMu.Lock()
		r.closing.Store(true)
		r.wgMu.Unlock()
		r.wakeMu.Lock()
		if r.wakeTimer != nil {
			r.wakeTimer.Stop()
		}
		r.wakeMu.Unlock()
		r.wg.Wait()
		r.closeErr = r.client.Stop()
		r.pumps.wg.Wait() // TLS relays end once the engine closed their pairs
		if r.anchorPeer != nil {
			_ = r.anchorPeer.Close()
		}
		close(r.stopped)
	})
	return r.closeErr
}

// Done returns a channel closed once the reactor has stopped. Safe for
// concurrent use.
func (r *Reactor) Done() <-chan struct{} { return r.stopped }

func (r *Reactor) logf(format string, args ...any) {
	r.logEvent(slog.LevelInfo, nil, format, args...)
}

// logEvent logs one diagnostic: with WithSlog a record at level with the
// message and attrs, with WithLogger the message alone. Any goroutine.
func (r *Reactor) logEvent(level slog.Level, attrs []slog.Attr, format string, args ...any) {
	switch {
	case r.cfg.slog != nil:
		if r.cfg.slog.Enabled(context.Background(), level) {
			r.cfg.slog.LogAttrs(context.Background(), level, fmt.Sprintf(format, args...), attrs...)
		}
	case r.cfg.logger != nil:
		r.cfg.logger.Printf(format, args...)
	}
}

// logging reports whether diagnostics go anywhere, so that callers can
// skip building attributes. Any goroutine.
func (r *Reactor) logging() bool { return r.cfg.slog != nil || r.cfg.logger != nil }

// handler adapts gnet's callbacks to the reactor.
type handler struct {
	gnet.BuiltinEventEngine
	r *Reactor
}

// OnOpen hands a socket gnet has registered to its owner (a Connection,
// a handshake in progress or a Stream). gnet calls it on the loop
// goroutine only.
func (h *handler) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	switch c := gc.Context().(type) {
	case *Connection:
		h.r.turn(func() { c.opened(gc) })
	case *hostHandshake:
		h.r.turn(func() { c.opened(gc) })
	case *Stream:
		h.r.turn(func() { c.opened(gc) })
	}
	return nil, gnet.None
}

// OnTraffic hands what gnet read from a socket to its owner. gnet calls
// it on the loop goroutine only.
func (h *handler) OnTraffic(gc gnet.Conn) gnet.Action {
	action := gnet.None
	switch c := gc.Context().(type) {
	case *Connection:
		h.r.turn(func() { action = c.traffic(gc) })
	case *hostHandshake:
		h.r.turn(func() { c.traffic(gc) })
	case *Stream:
		h.r.turn(func() { c.traffic(gc) })
	default:
		_, _ = gc.Discard(-1)
	}
	return action
}

// OnClose tells a socket's owner that gnet closed it. gnet calls it on
// the loop goroutine only.
func (h *handler) OnClose(gc gnet.Conn, err error) gnet.Action {
	switch c := gc.Context().(type) {
	case *Connection:
		h.r.turn(func() { c.socketClosed(gc, err) })
	case *hostHandshake:
		h.r.turn(func() { c.closed() })
	case *Stream:
		h.r.turn(func() { c.socketClosed(err) })
	}
	return gnet.None
}

// silentLogger is gnet's logger: it discards everything. Its methods do
// nothing and are safe for concurrent use.
type silentLogger struct{}

func (silentLogger) Debugf(string, ...any) {}
func (silentLogger) Infof(string, ...any)  {}
func (silentLogger) Warnf(string, ...any)  {}
func (silentLogger) Errorf(string, ...any) {}
func (silentLogger) Fatalf(string, ...any) {}

// gnetLoggerMu serialises the creation of gnet clients, see newGnetClient.
var gnetLoggerMu sync.Mutex

// newGnetClient makes and starts a gnet client without gnet's side effect
// on the process: NewClient makes the logger it is given gnet's default
// logger, for every other gnet engine in the process too. Ours (silent)
// stays the default while the client starts, so that gnet's start-up
// lines stay quiet, and the previous default is put back then. Other code
// creating gnet engines at the very same moment could still see ours for
// that instant; gnet offers no way around it.
func newGnetClient(h gnet.EventHandler, opts ...gnet.Option) (*gnet.Client, error) {
	gnetLoggerMu.Lock()
	defer gnetLoggerMu.Unlock()
	logger, flusher := logging.GetDefaultLogger(), logging.GetDefaultFlusher()
	defer logging.SetDefaultLoggerAndFlusher(logger, flusher)
	client, err := gnet.NewClient(h, opts...)
	if err != nil {
		return nil, err
	}
	if err := client.Start(); err != nil {
		return nil, err
	}
	return client, nil
}

// loopAnchor is embedded in Reactor: it makes *Reactor a loop.Provider.
type loopAnchor = loop.Anchor

// loopOps is the reactor's loop as the sibling packages see it
// (loop.Loop), through loop.Of(reactor).
type loopOps struct{ r *Reactor }

func (o loopOps) Post(fn func()) error      { return o.r.Post(fn) }
func (o loopOps) PostFront(fn func()) error { return o.r.postFront(fn) }
func (o loopOps) OnLoop() bool              { return o.r.OnLoop() }
func (o loopOps) AfterFunc(d time.Duration, fn func()) *loop.Entry {
	return o.r.afterFunc(d, fn)
}
func (o loopOps) CancelTimer(e *loop.Entry) bool { return o.r.cancelTimer(e) }
func (o loopOps) WaitSignal(ctx context.Context, ch <-chan struct{}, d time.Duration) error {
	return o.r.waitSignal(ctx, ch, d)
}
func (o loopOps) Logf(level slog.Level, format string, args ...any) {
	o.r.logEvent(level, nil, format, args...)
}
