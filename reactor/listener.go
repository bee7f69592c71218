package reactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/goyoton/yoton/timers"
)

// Listener serves any number of peers on one port: every peer that
// completes yoton's handshake becomes a Connection of the context (status
// hosting), exactly as the one peer of a Bind would. Python yoton contexts
// join with their ordinary connect. Create one with Context.Listen.
//
// Handshakes run on the loop, any number at once (up to
// WithMaxHandshakes, beyond which the oldest is dropped), so slow or
// silent clients hold up nobody; accept errors such as running out of
// file descriptors are logged and retried with backoff, never fatal.
//
// Its methods are safe for concurrent use, on the loop goroutine too
// (Close there closes it at once). Joined runs its handlers on the loop
// goroutine.
type Listener struct {
	x    *Context
	acc  *acceptor
	host string
	port int
	max  int

	// Joined is emitted on the loop with each connection the listener
	// adds (after its handshake, before its first package is delivered).
	// Handlers bound after Listen returned may miss the first joins; see
	// WithJoinHandler.
	Joined *timers.Signal[*Connection]

	count  atomic.Int32
	closed atomic.Bool
	done   chan struct{}

	conns []*Connection // loop-owned
}

// ListenOption configures Listen.
type ListenOption interface{ applyListen(*listenConfig) error }

type listenConfig struct {
	acceptConfig
	maxConns int
	onJoin   func(*Connection)
}

type listenOptionFunc func(*listenConfig) error

func (f listenOptionFunc) applyListen(c *listenConfig) error { return f(c) }

// WithMaxConnections limits the connections a Listener holds at once
// (handshakes that are about to join count too). A peer beyond the limit
// is refused during its handshake with "ERROR: too many connections.",
// which yoton peers report as a failed handshake; Connect returns
// ErrConnect wrapping ErrHandshake. 0 (the default) means no limit.
// Safe for concurrent use.
func WithMaxConnections(n int) ListenOption {
	return listenOptionFunc(func(c *listenConfig) error {
		if n < 0 {
			return fmt.Errorf("%w: max connections %d < 0", ErrBadOption, n)
		}
		c.maxConns = n
		return nil
	})
}

// WithJoinHandler binds fn to the listener's Joined signal before it
// starts accepting, so that no join can happen before the handler is
// there (binding after Listen returns may miss the first peers). fn runs
// on the loop goroutine and must not block. WithJoinHandler itself is
// safe for concurrent use.
func WithJoinHandler(fn func(c *Connection)) ListenOption {
	return listenOptionFunc(func(c *listenConfig) error {
		if fn == nil {
			return fmt.Errorf("%w: nil join handler", ErrBadOption)
		}
		c.onJoin = fn
		return nil
	})
}

// WithAcceptFilter calls allow with each accepted peer's address before
// the handshake; a peer it returns false for is closed at once. allow
// runs on the accepting goroutine, not the loop: it must be safe for
// concurrent use and quick. WithAcceptFilter itself is safe for
// concurrent use.
func WithAcceptFilter(allow func(remote net.Addr) bool) ListenOption {
	return listenOptionFunc(func(c *listenConfig) error {
		c.filter = allow
		return nil
	})
}

// WithHandshakeTimeout sets how long a peer has to send its handshake
// line, and again to send its first package after our answer (default
// HandshakeTimeout, yoton's 2 s). Safe for concurrent use.
func WithHandshakeTimeout(d time.Duration) ListenOption {
	return listenOptionFunc(func(c *listenConfig) error {
		if d <= 0 {
			return fmt.Errorf("%w: handshake timeout %v <= 0", ErrBadOption, d)
		}
		c.handshakeTimeout = d
		return nil
	})
}

// WithMaxHandshakes sets how many handshakes run at once (default
// DefaultMaxHandshakes); one more drops the oldest, so that idle sockets
// held open cannot keep honest peers out. Safe for concurrent use.
func WithMaxHandshakes(n int) ListenOption {
	return listenOptionFunc(func(c *listenConfig) error {
		if n < 1 {
			return fmt.Errorf("%w: max handshakes %d < 1", ErrBadOption, n)
		}
		c.maxHandshakes = n
		return nil
	})
}

// newListenConfig applies opts to the defaults of Listen and Bind.
func newListenConfig(opts []ListenOption) (listenConfig, error) {
	cfg := listenConfig{acceptConfig: defaultAcceptConfig()}
	for _, o := range opts {
		if o == nil {
			return cfg, fmt.Errorf("%w: nil option", ErrBadOption)
		}
		if err := o.applyListen(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// Listen listens at address (the forms Bind takes: "host:port", a port
// name, "name+offset", port 0 for a free port, see Addr) and serves any
// number of peers there until Close. It returns once the port is open.
// Safe for concurrent use.
func (x *Context) Listen(address string, opts ...ListenOption) (*Listener, error) {
	cfg, err := newListenConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := x.reopen(); err != nil {
		return nil, err
	}
	ln, err := listenTCP(address, 1)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrListen, err)
	}
	host, port := hostPort(ln.Addr())
	l := &Listener{
		x:      x,
		host:   host,
		port:   port,
		max:    cfg.maxConns,
		Joined: timers.NewSignal[*Connection](x.r),
		done:   make(chan struct{}),
	}
	if cfg.onJoin != nil {
		l.Joined.Bind(cfg.onJoin)
	}
	l.acc = newAcceptor(x, ln, l, cfg.acceptConfig)
	if derr := x.r.Do(context.Background(), func() {
		if x.isClosed() || !x.r.enter() {
			err = ErrClosed
			return
		}
		x.listeners = append(x.listeners, l)
		x.linksChanged()
	}); derr != nil {
		err = derr
	}
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	l.acc.start()
	x.r.logEvent(slog.LevelInfo, []slog.Attr{x.logAttr(), slog.String("listen", net.JoinHostPort(l.host, strconv.Itoa(l.port)))}, "yoton: listening at %s:%d", l.host, l.port)
	return l, nil
}

// Addr returns the host and port the listener listens at (the real port
// when Listen was given port 0). Safe for concurrent use.
func (l *Listener) Addr() (host string, port int) { return l.host, l.port }

// String describes the listener for logs. Safe for concurrent use.
func (l *Listener) String() string {
	return fmt.Sprintf("yoton listener at %s:%d", l.host, l.port)
}

// Context returns the context the listener adds its connections to.
// Safe for concurrent use.
func (l *Listener) Context() *Context { return l.x }

// ConnectionCount returns how many of its connections are open. Safe for
// concurrent use.
func (l *Listener) ConnectionCount() int { return int(l.count.Load()) }

// Connections returns the listener's open connections, in a new slice.
// Safe for concurrent use: off the loop goroutine it waits for the loop
// to list them, on it it lists them at once.
func (l *Listener) Connections() Connections {
	var out Connections
	_ = l.x.r.Do(context.Background(), func() { out = slices.Clone(Connections(l.conns)) })
	return out
}

// Done returns a channel closed once the listener has stopped accepting.
// Safe for concurrent use.
func (l *Listener) Done() <-chan struct{} { return l.done }

// Close stops accepting and drops the handshakes in progress; the
// connections already made live on. Idempotent and safe for concurrent
// use: off the loop goroutine it waits until the loop has closed the
// listener; on the loop goroutine it closes it at once.
func (l *Listener) Close() error {
	err := l.x.r.Do(context.Background(), l.closeOnLoop)
	if errors.Is(err, ErrClosed) {
		return nil // the reactor closed, and the listener with it
	}
	return err
}

func (l *Listener) closeOnLoop() {
	if l.closed.Swap(true) {
		return
	}
	l.acc.close()
	if i := slices.Index(l.x.listeners, l); i >= 0 {
		l.x.listeners = slices.Delete(l.x.listeners, i, i+1)
	}
	l.x.linksChanged()
	close(l.done)
}

func (l *Listener) refusal() string {
	if l.max > 0 && len(l.conns)+l.acc.joining >= l.max {
		return replyTooMany
	}
	return ""
}

func (l *Listener) take(gc gnet.Conn, peerID uint64, peerPID int, rest []byte) {
	x := l.x
	if x.isClosed() {
		_ = gc.Close()
		return
	}
	c := newConnection(x, "")
	c.listener = l
	c.status.Store(int32(statusHandover))
	x.addConnection(c)
	l.conns = append(l.conns, c)
	l.count.Store(int32(len(l.conns)))
	c.attach(gc, peerID, peerPID, StatusHosting)
	_ = l.Joined.Emit(c)
	c.consume(gc, rest)
}

// forget drops a closed connection from the listener's list. Loop goroutine.
func (l *Listener) forget(c *Connection) {
	if i := slices.Index(l.conns, c); i >= 0 {
		l.conns[i] = l.conns[len(l.conns)-1]
		l.conns[len(l.conns)-1] = nil
		l.conns = l.conns[:len(l.conns)-1]
		l.count.Store(int32(len(l.conns)))
	}
}
