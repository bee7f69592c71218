package reactor

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Reconnect says how a connection made by Connect comes back after it
// drops: the peer restarted, the socket was reset, the peer closed its
// side, or (with OnTimeout) nothing arrived for the connection's Timeout.
// It redials the same address with exponential backoff and jitter, redoes
// the handshake and announces NEW_CONNECTION again, so that state channels
// resend their state. The zero value redials forever, from 100 ms up to
// 5 s between attempts.
type Reconnect struct {
	// MinDelay is the wait before the first attempt (default 100 ms).
	MinDelay time.Duration
	// MaxDelay caps the wait, which doubles after each failed attempt
	// (default 5 s). Each wait is drawn at random from its upper half.
	MaxDelay time.Duration
	// MaxAttempts ends the connection (Closed, with the last error as
	// the reason) after that many failed attempts in a row; 0 means
	// never give up.
	MaxAttempts int
	// OnTimeout also drops and redials the connection when nothing
	// arrived for its Timeout (heartbeats included), instead of only
	// emitting TimedOut.
	OnTimeout bool
	// OnDisconnect and OnReconnect, when set, are bound to the
	// connection's Disconnected and Reconnected signals before it is
	// connected, so that no drop can come before them (a handler bound
	// after Connect returns may miss one). They run on the loop
	// goroutine and must not block.
	OnDisconnect func(DisconnectedEvent)
	OnReconnect  func(*Connection)
}

// Defaults of Reconnect.
const (
	DefaultReconnectMin = 100 * time.Millisecond
	DefaultReconnectMax = 5 * time.Second
)

// DisconnectedEvent is what a Connection's Disconnected signal carries:
// the connection, why it dropped, and that it now redials.
type DisconnectedEvent struct {
	Conn   *Connection
	Reason string
	err    *CloseError
}

// ConnectOption configures Connect.
type ConnectOption interface{ applyConnect(*connectConfig) error }

type connectConfig struct {
	reconnect *Reconnect
}

type connectOptionFunc func(*connectConfig) error

func (f connectOptionFunc) applyConnect(c *connectConfig) error { return f(c) }

// WithReconnect keeps the connection: when it drops it goes down (status
// waiting, IsConnected false, Disconnected emitted) instead of closing,
// and redials as p says. While it is down, packages wait in its bounded
// queue (the context's queue size and discard rule; drops count in
// Context.Discarded) and go out in order once it is back (Reconnected
// emitted); packages that were already handed to the kernel when it
// dropped may be lost. Senders never wait for a connection that is down.
// Close ends it for good. The first connect still fails as Connect
// always does when the peer cannot be reached before ctx's deadline.
//
// WithReconnect and the option it returns are safe for concurrent use:
// one option may serve several Connect calls at once.
func WithReconnect(p Reconnect) ConnectOption {
	return connectOptionFunc(func(c *connectConfig) error {
		p := p // each Connect fills in its own copy's defaults
		if p.MinDelay < 0 || p.MaxDelay < 0 || p.MaxAttempts < 0 {
			return fmt.Errorf("%w: negative reconnect setting %+v", ErrBadOption, p)
		}
		if p.MinDelay == 0 {
			p.MinDelay = DefaultReconnectMin
		}
		if p.MaxDelay == 0 {
			p.MaxDelay = max(DefaultReconnectMax, p.MinDelay)
		}
		if p.MaxDelay < p.MinDelay {
			return fmt.Errorf("%w: reconnect MaxDelay %v < MinDelay %v", ErrBadOption, p.MaxDelay, p.MinDelay)
		}
		c.reconnect = &p
		return nil
	})
}

// redialer brings a dropped connection back. Loop-owned, but for the
// redial goroutine, which only reads target and policy.
type redialer struct {
	target   string
	policy   Reconnect
	attempts int                // failed attempts in a row
	delay    time.Duration      // the next wait's upper bound
	cancel   context.CancelFunc // of the running redial goroutine
	round    uint64             // numbers the redial goroutines
}

func newRedialer(target string, p Reconnect) *redialer {
	return &redialer{target: target, policy: p, delay: p.MinDelay}
}

// down takes the connection down after a drop and starts redialing.
// Loop goroutine.
func (c *Connection) down(why *CloseError) {
	if gc := c.gc; gc != nil {
		c.gc = nil
		gc.SetContext(nil) // its OnClose is of no concern any more
		_ = gc.Close()
	}
	c.hdrN, c.inBody, c.cur, c.curN = 0, false, Package{}, 0
	c.timedOut = false
	if c.pollEntry != nil {
		c.x.r.cancelTimer(c.pollEntry)
		c.pollEntry = nil
	}
	c.x.setStatus(c, StatusWaiting)
	c.x.forgetPeerLink(c)
	c.x.linksChanged()
	c.x.r.logEvent(slog.LevelWarn, c.logAttrs(append(closeAttrs(why), slog.String("target", c.redial.target))...), "yoton: %s dropped (%s); reconnecting to %s", c, why.Reason, c.redial.target)
	_ = c.Disconnected.Emit(DisconnectedEvent{Conn: c, Reason: why.Reason, err: why})
	c.redial.start(c)
}

// start runs one redial goroutine after the current backoff. Loop goroutine.
func (d *redialer) start(c *Connection) {
	if !c.x.r.enter() {
		c.closeOnLoop(closeError(nil, ReasonReactorClosed), false)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.round++
	round := d.round
	wait := d.delay/2 + rand.N(d.delay/2+1)
	d.delay = min(2*d.delay, d.policy.MaxDelay)
	go func() {
		defer c.x.r.leave()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		actx, acancel := context.WithTimeout(ctx, DefaultConnectTimeout+HandshakeTimeout)
		nc, peerID, peerPID, rest, err := c.x.dialAndHandshake(actx, d.target, false)
		acancel()
		if err != nil {
			_ = c.x.r.Post(func() {
				if d.round == round && ctx.Err() == nil {
					d.attemptFailed(c, err)
				}
				cancel()
			})
			return
		}
		if ctx.Err() != nil {
			_ = nc.Close()
			return
		}
		c.adopt(nc, peerID, peerPID, rest) // OnOpen (opened) finishes the reconnect
	}()
}

// attemptFailed counts a failed attempt and tries again or gives up.
// Loop goroutine.
func (d *redialer) attemptFailed(c *Connection, err error) {
	d.stop()
	if c.Status() != StatusWaiting {
		return
	}
	d.attempts++
	if d.policy.MaxAttempts > 0 && d.attempts >= d.policy.MaxAttempts {
		c.closeOnLoop(closeErrorCause(ErrConnect, fmt.Sprintf("%s Gave up reconnecting to %s after %d attempts (%v).",
			ReasonReconnectGaveUp, d.target, d.attempts, err), err), false)
		return
	}
	c.x.r.logEvent(slog.LevelWarn, c.logAttrs(slog.String("target", d.target), slog.Int("attempt", d.attempts), slog.String("err", err.Error())), "yoton: %s: reconnect attempt %d to %s failed: %v", c, d.attempts, d.target, err)
	d.start(c)
}

// reconnected resets the backoff once the connection is back. Loop goroutine.
func (d *redialer) reconnected() {
	d.stop()
	d.attempts = 0
	d.delay = d.policy.MinDelay
}

// stop ends a redial in progress (the connection is closing). Loop goroutine.
func (d *redialer) stop() {
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
}
