package reactor

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/goyoton/yoton/internal/loop"
	"github.com/goyoton/yoton/wire"
)

// An acceptor takes sockets from a listening socket for a Bind or a
// Listener. Its goroutine only accepts and hands each socket to the loop;
// the handshake runs on the loop (hostHandshake), so any number of them
// run at once and a slow or silent peer holds up nobody.
//
// A peer counts as joined only when it has sent something after the
// handshake (yoton's connecting side always does: NEW_CONNECTION, or a
// heartbeat within 0.25 s). A socket whose peer gave up during the
// handshake therefore never becomes a Bind's one peer.
type acceptor struct {
	x     *Context
	ln    net.Listener
	owner peerOwner
	addr  string
	cfg   acceptConfig
	stop  chan struct{} // closed by close (loop), read by the goroutines
	// stopCtx ends with stop, for the TLS handshakes (WithTLS).
	stopCtx    context.Context
	cancelStop context.CancelFunc
	tlsRunning atomic.Int32 // TLS handshakes in progress
	// handoff carries accepted sockets to the enrolling goroutines; the
	// accepting goroutine closes it when it ends.
	handoff chan net.Conn
	workers int // enrolling goroutines started (accepting goroutine only)

	// Loop-owned. pending lists the handshakes in the order they
	// started (finished ones are skipped and compacted lazily), so the
	// oldest is the one evicted when too many run at once.
	pending []*hostHandshake
	running int
	joining int // handshakes past the line, waiting for the first package
	closed  bool
}

// acceptConfig holds what Bind and Listen share about accepting.
type acceptConfig struct {
	handshakeTimeout time.Duration
	maxHandshakes    int
	filter           func(remote net.Addr) bool
}

func defaultAcceptConfig() acceptConfig {
	return acceptConfig{handshakeTimeout: HandshakeTimeout, maxHandshakes: DefaultMaxHandshakes}
}

// peerOwner receives the peers an acceptor has handshaken. Loop goroutine.
type peerOwner interface {
	// refusal returns the line that turns one more peer away, or "".
	refusal() string
	// take makes the socket a connection; rest holds the bytes the peer
	// sent after its handshake line (at least one).
	take(gc gnet.Conn, peerID uint64, peerPID int, rest []byte)
}

// Accepting limits.
const (
	// DefaultMaxHandshakes is how many handshakes a Bind or Listener
	// runs at once; one more evicts the oldest.
	DefaultMaxHandshakes = 1024
	acceptBackoffMin     = 5 * time.Millisecond
	acceptBackoffMax     = time.Second
	// enrollers hand accepted sockets to the loop in parallel: each
	// hand-over waits for one turn of the loop, and gnet registers every
	// pending one in the same turn, so with thousands of busy connections
	// one enroller alone would take one socket per turn.
	enrollers = 16
)

// replyTooMany turns a peer away from a full Listener; yoton peers report
// it as a failed handshake with this text.
const replyTooMany = "ERROR: too many connections.\r\n"

func newAcceptor(x *Context, ln net.Listener, owner peerOwner, cfg acceptConfig) *acceptor {
	stopCtx, cancelStop := context.WithCancel(context.Background())
	return &acceptor{x: x, ln: ln, owner: owner, addr: ln.Addr().String(), cfg: cfg,
		stop: make(chan struct{}), handoff: make(chan net.Conn, enrollers),
		stopCtx: stopCtx, cancelStop: cancelStop}
}

// start runs the accepting goroutine; the caller has entered the reactor
// for it (the goroutine leaves it).
func (a *acceptor) start() { go a.run() }

// spawnEnroller starts one more enrolling goroutine, up to enrollers, and
// reports whether one runs. Accepting goroutine only.
func (a *acceptor) spawnEnroller() bool {
	if a.workers < enrollers && a.x.r.enter() {
		a.workers++
		go a.enroll()
	}
	return a.workers > 0
}

// enroll hands accepted sockets to the loop until the accepting goroutine
// ends.
func (a *acceptor) enroll() {
	defer a.x.r.leave()
	for nc := range a.handoff {
		a.handOver(nc)
	}
}

// handOver gives an accepted socket to the loop, where its handshake
// runs, unless the acceptor has stopped. EnrollContext closes nc (gnet
// keeps a duplicate) and returns once the loop has run OnOpen for it.
func (a *acceptor) handOver(nc net.Conn) {
	if a.isStopped() {
		_ = nc.Close()
		return
	}
	if _, err := a.x.r.client.EnrollContext(nc, &hostHandshake{acc: a}); err != nil {
		a.x.r.logEvent(slog.LevelWarn, a.acceptAttrs(nc.RemoteAddr().String(), err), "yoton: %s: the event loop did not take a socket: %v", a.addr, err)
	}
}

// run accepts until the acceptor is closed. Accept errors (EMFILE, ENFILE,
// ECONNABORTED, ...) never end it: it backs off and tries again.
func (a *acceptor) run() {
	defer a.x.r.leave()
	defer close(a.handoff)
	backoff := time.Duration(0)
	for {
		nc, err := a.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || a.isStopped() {
				return
			}
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			a.x.r.logEvent(slog.LevelWarn, a.acceptAttrs("", err), "yoton: accept on %s: %v (retrying in %v)", a.addr, err, backoff)
			t := time.NewTimer(backoff)
			select {
			case <-a.stop:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		backoff = 0
		if a.cfg.filter != nil && !a.cfg.filter(nc.RemoteAddr()) {
			a.x.r.logEvent(slog.LevelInfo, a.acceptAttrs(nc.RemoteAddr().String(), nil), "yoton: %s: accept filter turned %s away", a.addr, nc.RemoteAddr())
			_ = nc.Close()
			continue
		}
		if a.x.tls != nil {
			a.acceptTLS(nc)
			continue
		}
		if a.workers > 0 {
			select {
			case a.handoff <- nc:
				continue
			default: // the enrollers are behind
			}
		}
		if !a.spawnEnroller() {
			_ = nc.Close()
			return // the reactor is closing
		}
		select {
		case a.handoff <- nc:
		case <-a.stop:
			_ = nc.Close()
			return
		}
	}
}

// acceptTLS runs the server side of TLS for nc on a goroutine of its own
// (at most maxHandshakes at once; more are closed), then hands the
// relayed plain socket to the loop, where the yoton handshake runs.
// Accepting goroutine.
func (a *acceptor) acceptTLS(nc net.Conn) {
	if int(a.tlsRunning.Load()) >= a.cfg.maxHandshakes || !a.x.r.enter() {
		_ = nc.Close()
		return
	}
	a.tlsRunning.Add(1)
	go func() {
		defer a.x.r.leave()
		defer a.tlsRunning.Add(-1)
		ctx, cancel := context.WithTimeout(a.stopCtx, a.cfg.handshakeTimeout)
		defer cancel()
		plain, err := a.x.r.tlsServer(ctx, nc, a.x.tls)
		if err != nil {
			a.x.handshakeFailures.Add(1)
			a.x.r.logEvent(slog.LevelWarn, a.acceptAttrs(nc.RemoteAddr().String(), err), "yoton: %s: %s: %v", a.addr, nc.RemoteAddr(), err)
			return
		}
		a.handOver(plain)
	}()
}

func (a *acceptor) isStopped() bool {
	select {
	case <-a.stop:
		return true
	default:
		return false
	}
}

// close stops accepting and drops every handshake in progress; peers that
// already got our handshake line get yoton's close signal. Loop goroutine.
func (a *acceptor) close() {
	if a.closed {
		return
	}
	a.closed = true
	close(a.stop)
	a.cancelStop()
	_ = a.ln.Close()
	for _, h := range a.pending {
		if !h.done {
			h.fail(h.joining)
		}
	}
	a.pending = nil
}

// begin lists a new handshake, evicting the oldest when too many run.
// Loop goroutine.
func (a *acceptor) begin(h *hostHandshake) {
	a.pending = append(a.pending, h)
	a.running++
	for a.running > a.cfg.maxHandshakes {
		oldest := a.pending[0]
		a.pending = a.pending[1:]
		if !oldest.done {
			a.x.handshakeFailures.Add(1)
			a.x.r.logEvent(slog.LevelWarn, a.acceptAttrs(oldest.remote(), nil), "yoton: %s: too many handshakes at once, dropping the oldest (from %s)", a.addr, oldest.remote())
			oldest.fail(false)
		}
	}
	if len(a.pending) > 64 && len(a.pending) > 2*a.running {
		kept := a.pending[:0]
		for _, p := range a.pending {
			if !p.done {
				kept = append(kept, p)
			}
		}
		clear(a.pending[len(kept):])
		a.pending = kept
	}
}

// inProgress is the number of handshakes running (for tests). Loop goroutine.
func (a *acceptor) inProgress() int { return a.running }

// hostHandshake is one accepted socket during yoton's handshake, on the
// loop: read the peer's line (CRLF, MaxHandshakeLine bytes at most, within
// the handshake deadline), answer, then wait for the peer's first package
// before handing the socket to the owner.
type hostHandshake struct {
	acc     *acceptor
	gc      gnet.Conn
	line    []byte
	peerID  uint64
	peerPID int
	joining bool // the line was answered; waiting for the first package
	done    bool
	timer   *loop.Entry
	// WithSecret (auth.go): the challenge sent, the proof's bytes so far,
	// and whether the proof was accepted.
	nonce   []byte
	authBuf []byte
	authed  bool
}

func (h *hostHandshake) remote() string {
	if h.gc == nil || h.gc.RemoteAddr() == nil {
		return "?"
	}
	return h.gc.RemoteAddr().String()
}

// opened runs when the loop has taken the socket. Loop goroutine.
func (h *hostHandshake) opened(gc gnet.Conn) {
	h.gc = gc
	if h.acc.closed {
		h.done = true
		_ = gc.Close()
		return
	}
	h.acc.begin(h)
	if h.done { // evicted at once (maxHandshakes 0 is not allowed, so never)
		return
	}
	h.timer = h.acc.x.r.afterFunc(h.acc.cfg.handshakeTimeout, h.expire)
}

// traffic takes what the peer sent. Loop goroutine.
func (h *hostHandshake) traffic(gc gnet.Conn) {
	buf, _ := gc.Next(-1)
	if h.done || len(buf) == 0 {
		return
	}
	if h.joining {
		h.join(buf)
		return
	}
	old := len(h.line)
	h.line = append(h.line, buf[:min(len(buf), wire.MaxHandshakeLine-old)]...)
	from := max(0, old-1) // a CR may end the previous read
	if i := bytes.Index(h.line[from:], []byte("\r\n")); i >= 0 {
		end := from + i + 2
		rest := buf[end-old:]
		h.line = h.line[:end]
		h.answer(true)
		if !h.done && len(rest) > 0 {
			h.join(rest)
		}
		return
	}
	if len(h.line) >= wire.MaxHandshakeLine {
		h.answer(false) // too long for a yoton line
	}
}

// answer replies to the peer's line. Loop goroutine.
func (h *hostHandshake) answer(complete bool) {
	a := h.acc
	reply, peerID, peerPID, err := hostAnswer(h.line, complete, a.x.id)
	if err == nil {
		if line := a.owner.refusal(); line != "" {
			reply, err = []byte(line), errRefused
		}
	}
	if reply != nil {
		_, _ = h.gc.Write(reply)
	}
	if err != nil {
		a.x.handshakeFailures.Add(1)
		a.x.r.logEvent(slog.LevelWarn, a.acceptAttrs(h.remote(), err), "yoton: %s: handshake with %s: %v", a.addr, h.remote(), err)
		h.fail(false)
		return
	}
	h.peerID, h.peerPID = peerID, peerPID
	if a.x.secret != nil {
		h.hostChallenge()
	}
	h.joining = true
	a.joining++
	// The peer gets a fresh deadline to send its first package.
	a.x.r.cancelTimer(h.timer)
	h.timer = a.x.r.afterFunc(a.cfg.handshakeTimeout, h.expire)
}

var errRefused = errors.New("yoton: peer turned away")

// join hands the socket over once the peer has sent its first bytes after
// the handshake. Loop goroutine.
func (h *hostHandshake) join(rest []byte) {
	if h.acc.x.secret != nil && !h.authed {
		after, done, ok := h.hostVerify(rest)
		if !done {
			return // more of the proof to come
		}
		if !ok {
			h.fail(true)
			return
		}
		h.authed, rest = true, after
	}
	h.end() // first: the owner's count of joining peers must not hold this one
	if line := h.acc.owner.refusal(); line != "" {
		h.fail(true) // the Bind took another peer meanwhile
		return
	}
	h.acc.owner.take(h.gc, h.peerID, h.peerPID, rest)
}

// expire ends a handshake that ran out of time. Loop goroutine.
func (h *hostHandshake) expire() {
	h.timer = nil
	if h.done {
		return
	}
	if !h.joining {
		h.answer(false) // decide on what arrived, as Python does
		return
	}
	h.acc.x.handshakeFailures.Add(1)
	h.acc.x.r.logEvent(slog.LevelWarn, h.acc.acceptAttrs(h.remote(), nil), "yoton: %s: %s sent nothing after the handshake", h.acc.addr, h.remote())
	h.fail(true)
}

// end takes the handshake off the acceptor's books. Loop goroutine.
func (h *hostHandshake) end() {
	if h.done {
		return
	}
	h.done = true
	h.acc.running--
	if h.joining {
		h.acc.joining--
	}
	if h.timer != nil {
		h.acc.x.r.cancelTimer(h.timer)
		h.timer = nil
	}
}

// fail ends the handshake and closes the socket, after yoton's close
// signal when the peer already took our handshake line. Loop goroutine.
func (h *hostHandshake) fail(signal bool) {
	h.end()
	if signal {
		var hdr [wire.HeaderSize]byte
		wire.PutHeader(hdr[:], wire.CloseHeader())
		_, _ = h.gc.Write(hdr[:])
	}
	_ = h.gc.Close() // gnet writes what is buffered before it closes
}

// closed runs when gnet closed the socket. Loop goroutine.
func (h *hostHandshake) closed() { h.end() }
