package reactor

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/goyoton/yoton/internal/queue"
)

// Default settings, as Python yoton has them where it has them.
const (
	DefaultQueueSize      = 10000
	DefaultMaxPackageSize = 256 << 20
	DefaultHighWaterMark  = 4 << 20
	MinTimeout            = 500 * time.Millisecond
	HeartbeatInterval     = 250 * time.Millisecond
	HandshakeTimeout      = 2 * time.Second
	DefaultConnectTimeout = time.Second
	// TinyQueueLength is how many packages a connection queues before a
	// sender waits (yoton's "tiny" queue length).
	TinyQueueLength = 64
	// SendWait is the longest a sender waits for room (yoton waits 1 s).
	SendWait = time.Second
	// DefaultBodyTimeout is how long a package body may stop arriving
	// before the connection is closed (see WithBodyTimeout).
	DefaultBodyTimeout = 20 * time.Second
)

// Discard is the rule a full queue applies: drop the oldest package or
// the newest one.
type Discard int

// The two discard rules.
const (
	// DiscardOld drops the oldest package to make room (yoton's 'old').
	DiscardOld Discard = iota
	// DiscardNew drops the package being queued (yoton's 'new').
	DiscardNew
)

// String returns yoton's name for the rule: "old" or "new". Safe for
// concurrent use.
func (d Discard) String() string { return queue.Discard(d).String() }

// Logger receives the reactor's diagnostics. The default discards them.
// Printf may be called from several goroutines at once (the loop, the
// goroutines that accept and hand over sockets or run TLS handshakes, the
// callers of Bind and Listen), so it must be safe for concurrent use.
type Logger interface {
	Printf(format string, args ...any)
}

type config struct {
	logger         Logger
	slog           *slog.Logger // WithSlog; takes precedence over logger
	maxPackageSize int
	highWaterMark  int
	readBuffer     int
	bodyTimeout    time.Duration
	writeDeadline  time.Duration
}

// Option configures a Reactor.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// WithLogger sends the reactor's diagnostics (failed handshakes, dropped
// connections) to l, and what Python yoton's verbose mode prints: "Yoton:
// waiting at host:port." after Bind, "Yoton: hosting at host:port." when a
// peer joins it, "Yoton: connected at host:port." after Connect, and
// "Yoton: <status> connection closed: <reason>" when a connection closes.
// Without it the reactor is silent. l is called mostly on the loop
// goroutine, and also on the reactor's other goroutines and in Bind and
// Listen (see Logger): it must be safe for concurrent use and quick.
// WithLogger itself is safe for concurrent use.
func WithLogger(l Logger) Option {
	return optionFunc(func(c *config) error { c.logger, c.slog = l, nil; return nil })
}

// WithMaxPackageSize sets the largest payload accepted from a peer; a
// package header announcing more closes that connection without
// allocating. Default 256 MiB. Safe for concurrent use.
func WithMaxPackageSize(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: max package size %d < 1", ErrBadOption, n)
		}
		c.maxPackageSize = n
		return nil
	})
}

// WithBodyTimeout sets how long the rest of a package may stop arriving
// once its header has: a peer that announces a large package and then
// sends nothing more is closed after d (default DefaultBodyTimeout). The
// buffer of a package grows as its bytes arrive (at most 1 MiB is
// reserved from the header alone), so such a peer costs little meanwhile.
// Safe for concurrent use.
func WithBodyTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: body timeout %v <= 0", ErrBadOption, d)
		}
		c.bodyTimeout = d
		return nil
	})
}

// WithWriteDeadline disconnects slow consumers, as NATS does: a connected
// peer that has not taken what was queued for it (the connection's
// outbound buffer stays past the high-water mark, or its queue past
// yoton's tiny length) for d is closed with ReasonSlowConsumer, and what
// it had queued is dropped (and counted). Off by default: yoton waits
// for slow peers (bounded) and never drops them. Safe for concurrent use.
func WithWriteDeadline(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: write deadline %v <= 0", ErrBadOption, d)
		}
		c.writeDeadline = d
		return nil
	})
}

// WithHighWaterMark sets how many bytes may wait in a connection's
// outbound buffer before further packages stay in its bounded queue (and
// senders wait). Default 4 MiB. Safe for concurrent use.
func WithHighWaterMark(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: high-water mark %d < 1", ErrBadOption, n)
		}
		c.highWaterMark = n
		return nil
	})
}

type contextConfig struct {
	queueSize  int
	queueBytes int
	discard    Discard
	backlog    Backlog
	secret     []byte
	tls        *tls.Config
}

// DefaultQueueBytes is the default byte budget of every queue of a
// context (see WithQueueBytes).
const DefaultQueueBytes = 256 << 20

// WithQueueBytes gives every queue of the context (the startup queue,
// each connection's outgoing queue, each channel's incoming queue) a
// budget in bytes of payload besides its package count: when a package
// does not fit, the queue's discard rule applies (the oldest go until it
// fits, or the new one goes), and the drops count where the queue's other
// drops count. A lone package larger than the budget still goes in.
// Default DefaultQueueBytes (256 MiB). Safe for concurrent use.
func WithQueueBytes(n int) ContextOption {
	return contextOptionFunc(func(c *contextConfig) error {
		if n < 1 {
			return fmt.Errorf("%w: queue bytes %d < 1", ErrBadOption, n)
		}
		c.queueBytes = n
		return nil
	})
}

// Backlog says what a context does with packages for a connection that
// has no peer at the moment: a Bind still waiting for its peer, a
// connection with WithReconnect that is down, or no connection at all.
type Backlog int

const (
	// KeepBacklog queues them (bounded by the queue size and discard
	// rule) for the next peer, as yoton does. The default.
	KeepBacklog Backlog = iota
	// DropBacklog sends only to connected peers and drops (and counts,
	// in Context.Discarded) what nobody is connected to receive, so that
	// a late peer gets no stale messages.
	DropBacklog
)

// WithBacklog chooses what the context does with packages while a
// connection has no peer (see Backlog). Senders never wait for such a
// connection either way. Safe for concurrent use.
func WithBacklog(b Backlog) ContextOption {
	return contextOptionFunc(func(c *contextConfig) error {
		if b != KeepBacklog && b != DropBacklog {
			return fmt.Errorf("%w: unknown backlog rule %d", ErrBadOption, b)
		}
		c.backlog = b
		return nil
	})
}

// ContextOption configures a Context.
type ContextOption interface{ applyContext(*contextConfig) error }

type contextOptionFunc func(*contextConfig) error

func (f contextOptionFunc) applyContext(c *contextConfig) error { return f(c) }

// WithQueue sets yoton's queue_params: every queue of the context (the
// startup queue, each connection's outgoing queue, each channel's incoming
// queue) holds at most size packages and, when full, discards by rule.
// Default (10000, DiscardOld). Safe for concurrent use.
func WithQueue(size int, rule Discard) ContextOption {
	return contextOptionFunc(func(c *contextConfig) error {
		if size < 1 {
			return fmt.Errorf("%w: queue size %d < 1", ErrBadOption, size)
		}
		if rule != DiscardOld && rule != DiscardNew {
			return fmt.Errorf("%w: unknown discard rule %d", ErrBadOption, rule)
		}
		c.queueSize, c.discard = size, rule
		return nil
	})
}

// WithSlog sends the reactor's diagnostics (what WithLogger gets) to l
// as structured records: the message is WithLogger's text, and the
// attributes say what it is about, among them component=yoton, context
// (the context id in hex), conn (a connection's name), peer (its
// address), status, reason (a close reason), kind (the errors.Is kind of
// a close: peer-closed, timed-out, slow-consumer, protocol, auth,
// connect), listen (a listening address), remote (a socket not yet a
// connection) and err. Closes for a peer's or the network's fault,
// refused handshakes and dropped sockets are Warn records; panics in
// callbacks Error; the rest Info. A later WithLogger replaces it, and
// the other way round. Safe for concurrent use; l must be too.
func WithSlog(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return fmt.Errorf("%w: WithSlog(nil)", ErrBadOption)
		}
		c.slog, c.logger = l.With(slog.String("component", "yoton")), nil
		return nil
	})
}
