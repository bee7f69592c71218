//go:build linux

// The idle-socket attack peeks at its sockets with MSG_PEEK|MSG_DONTWAIT
// to notice the ones the server dropped; the project runs on Linux.

package interop

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// Attack sizes: raw TCP clients that send a handshake line one byte per
// second, and idle sockets that connect and send nothing.
const (
	slowClients = 3
	idleSockets = 2000
	// refillEvery is how often the attack opens again the idle sockets
	// the server dropped. The server holds at most 1024 handshakes
	// (reactor.DefaultMaxHandshakes) and drops the oldest beyond that,
	// so each round reopens about 1000 sockets.
	refillEvery = 500 * time.Millisecond
)

// attack holds one port under a slow-handshake and idle-socket attack
// until the test ends (t.Cleanup closes every socket and waits for the
// attackers' goroutines). The idle sockets are held: one the server drops
// is opened again (see refillEvery), so there are always about
// idleSockets of them, also after the server's handshake timeout.
type attack struct {
	addr    string
	stop    chan struct{}
	wg      sync.WaitGroup
	started chan struct{} // one per slow client, after its first byte
	slowOut atomic.Int64  // bytes the slow clients got out
	slowN   atomic.Int64  // sockets the slow clients opened
	refills atomic.Int64  // idle sockets opened again after the server dropped them

	mu   sync.Mutex
	idle []net.Conn // nil entries wait to be opened again
}

// startAttack starts the slow clients, waits until each has sent its
// first byte, then opens the idle sockets (all of them connected when it
// returns) and starts keeping them open.
func startAttack(t *testing.T, ctx context.Context, addr string) *attack {
	t.Helper()
	a := &attack{addr: addr, stop: make(chan struct{}), started: make(chan struct{}, slowClients)}
	t.Cleanup(a.close)
	for range slowClients {
		a.wg.Add(1)
		go a.slow()
	}
	for range slowClients {
		select {
		case <-a.started:
		case <-ctx.Done():
			t.Fatalf("slow clients did not start: %v", ctx.Err())
		}
	}
	var d net.Dialer
	idle := make([]net.Conn, 0, idleSockets)
	for len(idle) < idleSockets {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			for _, c := range idle {
				_ = c.Close()
			}
			t.Fatalf("idle socket %d of %d: %v", len(idle)+1, idleSockets, err)
		}
		idle = append(idle, c)
	}
	a.mu.Lock()
	a.idle = idle
	a.mu.Unlock()
	a.wg.Add(1)
	go a.keep()
	return a
}

// keep opens again the idle sockets the server dropped, every
// refillEvery, until the attack stops. Once the port refuses (a Bind took
// its peer and closed it), the round ends early.
func (a *attack) keep() {
	defer a.wg.Done()
	pace := time.NewTicker(refillEvery)
	defer pace.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-pace.C:
		}
		var dropped []int
		a.mu.Lock()
		for i, c := range a.idle {
			if c == nil || droppedByPeer(c) {
				if c != nil {
					_ = c.Close()
					a.idle[i] = nil
				}
				dropped = append(dropped, i)
			}
		}
		a.mu.Unlock()
		for _, i := range dropped {
			if a.stopped() {
				return
			}
			nc, err := net.DialTimeout("tcp", a.addr, 100*time.Millisecond)
			if err != nil {
				break
			}
			a.refills.Add(1)
			a.mu.Lock()
			a.idle[i] = nc
			a.mu.Unlock()
		}
	}
}

// droppedByPeer reports whether the server closed c (or reset it), without
// waiting: a non-blocking peek reads end-of-stream or an error.
func droppedByPeer(c net.Conn) bool {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return true
	}
	dropped := false
	var buf [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		dropped = n == 0 && err == nil || err != nil && err != syscall.EAGAIN && err != syscall.EINTR
		return true // never wait for the socket to become readable
	})
	return dropped
}

// sustained reports whether the attack has outlived the server's handshake
// timeout: every slow client was dropped and came back, and the server's
// dropped idle sockets were opened again.
func (a *attack) sustained() bool {
	return a.slowN.Load() >= 2*slowClients && a.refills.Load() >= idleSockets/2
}

// awaitSustained waits until the attack has outlived the handshake timeout.
func (a *attack) awaitSustained(t *testing.T, ctx context.Context) {
	t.Helper()
	if !waitUntil(ctx, a.sustained) {
		t.Fatalf("attack on %s never outlived the handshake timeout: %d slow-client sockets, %d idle sockets reopened",
			a.addr, a.slowN.Load(), a.refills.Load())
	}
}

// slow connects and writes a yoton handshake line one byte per second,
// connecting again whenever the server drops it, until the attack stops.
func (a *attack) slow() {
	defer a.wg.Done()
	line := []byte("YOTON!0123456789abcdef.4242\r\n")
	signalled := false
	pace := time.NewTicker(time.Second) // the attack's pace; nothing waits on it
	defer pace.Stop()
	for {
		c, err := net.DialTimeout("tcp", a.addr, time.Second)
		if err == nil {
			a.slowN.Add(1)
			for i := 0; ; i = (i + 1) % len(line) {
				if _, err := c.Write(line[i : i+1]); err != nil {
					break
				}
				a.slowOut.Add(1)
				if !signalled {
					signalled = true
					a.started <- struct{}{}
				}
				select {
				case <-a.stop:
					_ = c.Close()
					return
				case <-pace.C:
				}
			}
			_ = c.Close()
		}
		select {
		case <-a.stop:
			return
		case <-pace.C:
		}
	}
}

func (a *attack) stopped() bool {
	select {
	case <-a.stop:
		return true
	default:
		return false
	}
}

func (a *attack) close() {
	close(a.stop)
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.idle {
		if c != nil {
			_ = c.Close()
		}
	}
}

// honestGo connects a fresh Go context to addr with Connect's default
// timeout (1 s: ctx has no deadline) from its own goroutine.
func honestGo(t *testing.T, addr string) (*reactor.Context, <-chan error) {
	t.Helper()
	g := newGoContext(t)
	done := make(chan error, 1)
	go func() {
		start := time.Now()
		_, err := g.Connect(context.Background(), addr, "honest")
		t.Logf("honest Go Connect to %s took %v", addr, time.Since(start).Round(time.Millisecond))
		done <- err
	}()
	return g, done
}

// honestPython lets Python context pyCtx connect to addr with yoton's
// default timeout (1.0 s).
func honestPython(t *testing.T, p *py, pyCtx, addr string) {
	t.Helper()
	start := time.Now()
	p.call(map[string]any{"op": "connect", "ctx": pyCtx, "conn": "honest-" + pyCtx, "addr": addr}, nil)
	t.Logf("honest Python connect to %s took %v", addr, time.Since(start).Round(time.Millisecond))
}

// goLink checks that a message published in g reaches x.
func goLink(t *testing.T, ctx context.Context, g, x *reactor.Context, slot string) {
	t.Helper()
	sub, err := channels.NewSubChannel(x, slot, channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	pub, err := channels.NewPubChannel(g, slot, channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.Send(ctx, "honest"); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.Recv(ctx); err != nil || m != "honest" {
		t.Fatalf("message from the honest Go client: %q, %v", m, err)
	}
}

func (a *attack) report(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	held := 0
	for _, c := range a.idle {
		if c != nil {
			held++
		}
	}
	a.mu.Unlock()
	t.Logf("attack on %s: %d idle sockets held, %d reopened; %d slow-client sockets, %d bytes sent slowly",
		a.addr, held, a.refills.Load(), a.slowN.Load(), a.slowOut.Load())
}

// TestHonestClientsUnderAttack: while three raw TCP clients dribble a
// handshake line at one byte per second and 2,000 idle sockets are held
// open against the same port, an honest Go Connect (default 1 s timeout)
// and an honest Python connect (yoton's default 1.0 s) both get in, and
// messages flow. Against a Go Listen, twice: right after the attack
// opened its sockets (the honest clients queue behind all of them), and
// again once the attack has outlived the 2 s handshake timeout (the slow
// clients were dropped and came back, the dropped idle sockets were
// opened again). Against Go Binds (one Bind serves one peer, so each
// honest client has its own Bind under its own attack), once the attacks
// are in that steady state.
func TestHonestClientsUnderAttack(t *testing.T) {
	t.Run("listen", func(t *testing.T) {
		ctx := testkit.Context(t)
		x := newGoContext(t)
		l, addr, joined := listenGo(t, x)
		p, _ := startPython(t, ctx, nil)
		p.call(map[string]any{"op": "context", "name": "late"}, nil)

		a := startAttack(t, ctx, addr)
		rounds := []struct {
			name  string
			pyCtx string
			wait  func()
		}{
			{name: "at once", pyCtx: "main", wait: func() {}},
			{name: "after the handshake timeout", pyCtx: "late", wait: func() { a.awaitSustained(t, ctx) }},
		}
		var honest []*reactor.Context
		for i, r := range rounds {
			r.wait()
			g, goDone := honestGo(t, addr)
			honestPython(t, p, r.pyCtx, addr)
			if err := <-goDone; err != nil {
				t.Fatalf("%s: honest Go Connect under attack: %v", r.name, err)
			}
			a.report(t)
			awaitLink(t, ctx, x, p, r.pyCtx)
			goLink(t, ctx, g, x, fmt.Sprintf("attack.go.%d", i))
			honest = append(honest, g)
		}

		for range 2 * len(rounds) {
			awaitJoined(t, ctx, joined)
		}
		if n := l.ConnectionCount(); n != 2*len(rounds) {
			t.Errorf("ConnectionCount() = %d, want the %d honest clients", n, 2*len(rounds))
		}
		peers := map[uint64]bool{}
		for _, c := range l.Connections() {
			peers[c.PeerID()] = true
		}
		for _, g := range honest {
			if !peers[g.ID()] {
				t.Errorf("the honest Go context %#x is not among the listener's peers %v", g.ID(), peers)
			}
		}
	})

	t.Run("bind", func(t *testing.T) {
		ctx := testkit.Context(t)
		hostGo := newGoContext(t)
		hostPy := newGoContext(t)
		bindGo, err := hostGo.Bind("127.0.0.1:0", 1, "for-go")
		if err != nil {
			t.Fatal(err)
		}
		bindPy, err := hostPy.Bind("127.0.0.1:0", 1, "for-python")
		if err != nil {
			t.Fatal(err)
		}
		addrOf := func(c *reactor.Connection) string {
			host, port := c.LocalAddr()
			return net.JoinHostPort(host, strconv.Itoa(port))
		}
		p, _ := startPython(t, ctx, nil)

		aGo := startAttack(t, ctx, addrOf(bindGo))
		aPy := startAttack(t, ctx, addrOf(bindPy))
		aGo.awaitSustained(t, ctx)
		aPy.awaitSustained(t, ctx)
		g, goDone := honestGo(t, addrOf(bindGo))
		honestPython(t, p, "main", addrOf(bindPy))
		if err := <-goDone; err != nil {
			t.Fatalf("honest Go Connect under attack: %v", err)
		}
		aGo.report(t)
		aPy.report(t)

		awaitLink(t, ctx, hostPy, p, "main")
		goLink(t, ctx, g, hostGo, "attack.go")
		if bindGo.PeerID() != g.ID() {
			t.Errorf("the Bind for Go took peer %#x, the honest client is %#x", bindGo.PeerID(), g.ID())
		}
		for _, c := range []*reactor.Connection{bindGo, bindPy} {
			if c.Status() != reactor.StatusHosting {
				t.Errorf("%s: status %v", c.Name(), c.Status())
			}
		}
	})
}
