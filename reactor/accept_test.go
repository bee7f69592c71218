package reactor

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/wire"
)

// attack holds sockets that misbehave against addr: slow clients that
// send a handshake line one byte per second, and idle ones that never
// send anything. Everything ends with the test.
type attack struct {
	mu    sync.Mutex
	conns []net.Conn
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startAttack(t *testing.T, addr string, slow, idle int) {
	t.Helper()
	a := &attack{stop: make(chan struct{})}
	t.Cleanup(func() {
		close(a.stop)
		a.wg.Wait()
		a.mu.Lock()
		for _, c := range a.conns {
			_ = c.Close()
		}
		a.mu.Unlock()
	})
	d := net.Dialer{Timeout: waitTimeout}
	for i := 0; i < idle; i++ {
		c, err := d.Dial("tcp4", addr)
		require.NoError(t, err, "idle connection %d", i)
		a.mu.Lock()
		a.conns = append(a.conns, c)
		a.mu.Unlock()
	}
	for i := 0; i < slow; i++ {
		c, err := d.Dial("tcp4", addr)
		require.NoError(t, err)
		a.mu.Lock()
		a.conns = append(a.conns, c)
		a.mu.Unlock()
		a.wg.Add(1)
		go func() { // ends with the test (stop)
			defer a.wg.Done()
			line := wire.HandshakeLine(nextRawID(), 1)
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for _, b := range line {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				select {
				case <-a.stop:
					return
				case <-tick.C:
				}
			}
		}()
	}
}

// TestHonestPeerGetsInUnderAttack: slow and idle clients hold up nobody,
// for Listen and Bind alike; an honest Connect with yoton's default 1 s
// time-out (a ctx without a deadline) gets through.
func TestHonestPeerGetsInUnderAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2,000 sockets")
	}
	tests := []struct {
		name  string
		serve func(t *testing.T, x *Context) (addr string, joined <-chan struct{})
	}{
		{name: "listen", serve: func(t *testing.T, x *Context) (string, <-chan struct{}) {
			l, addr := listenLocal(t, x)
			ch := make(chan struct{}, 1)
			l.Joined.Bind(func(*Connection) { ch <- struct{}{} })
			return addr, ch
		}},
		{name: "bind", serve: func(t *testing.T, x *Context) (string, <-chan struct{}) {
			c, addr := bindLocal(t, x)
			ch := make(chan struct{})
			go func() { // ends when the bind is established or closed
				select {
				case <-c.Established():
					close(ch)
				case <-c.Done():
				}
			}()
			return addr, ch
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			host := newContext(t, r)
			addr, joined := tt.serve(t, host)
			startAttack(t, addr, 3, 2000)
			peer := newContext(t, newReactor(t))
			rx := newRecorder(t, host, testSlot)
			c, err := peer.Connect(context.Background(), addr, "")
			require.NoError(t, err)
			testkit.Wait(t, joined, "the honest peer to join")
			send(t, peer, "honest")
			assert.Equal(t, []string{"honest"}, payloads(rx.waitN(t, 1)))
			assert.True(t, c.IsConnected())
		})
	}
}

// TestBindSkipsAbandonedSocket: a peer that gives up during the
// handshake (it takes the answer, then closes) never becomes the one
// peer of a Bind; the Bind goes on waiting and serves the next one.
func TestBindSkipsAbandonedSocket(t *testing.T) {
	tests := []struct {
		name    string
		abandon func(p *rawPeer)
	}{
		{name: "closes after the answer", abandon: func(p *rawPeer) {
			p.write(wire.HandshakeLine(p.id, 1))
			p.readLine()
			require.NoError(p.t, p.nc.Close())
		}},
		{name: "closes before the answer", abandon: func(p *rawPeer) {
			p.write(wire.HandshakeLine(p.id, 1))
			require.NoError(p.t, p.nc.Close())
		}},
		{name: "half-closes after the answer", abandon: func(p *rawPeer) {
			p.write(wire.HandshakeLine(p.id, 1))
			p.readLine()
			require.NoError(p.t, p.nc.(*net.TCPConn).CloseWrite())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			x := newContext(t, r)
			bound, addr := bindLocal(t, x)
			send(t, x, "queued while waiting")
			p := dialRaw(t, addr, false)
			tt.abandon(p)
			// Wait until the bind let the abandoned socket go.
			require.Eventually(t, func() bool {
				n := -1
				testkit.Do(t, r, func() {
					if bound.acc != nil {
						n = bound.acc.inProgress()
					}
				})
				return n == 0
			}, waitTimeout, time.Millisecond)
			require.True(t, bound.IsWaiting(), "bind stopped waiting: %s", bound.Status())
			peer := newContext(t, r)
			rx := newRecorder(t, peer, testSlot)
			_, err := peer.Connect(testkit.Context(t), addr, "")
			require.NoError(t, err)
			waitEstablished(t, bound)
			assert.Equal(t, peer.ID(), bound.PeerID())
			assert.Equal(t, []string{"queued while waiting"}, payloads(rx.waitN(t, 1)), "the backlog went to the live peer")
		})
	}
}

// TestBindTakesFirstPeerOnly: of two peers handshaking at once, the first
// to send a package becomes the Bind's peer; the other is closed with
// yoton's close signal.
func TestBindTakesFirstPeerOnly(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	bound, addr := bindLocal(t, x)
	first, second := dialRaw(t, addr, false), dialRaw(t, addr, false)
	for _, p := range []*rawPeer{first, second} {
		p.write(wire.HandshakeLine(p.id, 1))
		p.readLine()
	}
	first.sendPkg(testSlot, 1, "first")
	waitEstablished(t, bound)
	assert.Equal(t, first.id, bound.PeerID())
	// The second one is turned away as soon as the first joined (it
	// must not write meanwhile: a reset would eat the close package).
	assert.Equal(t, []wire.Header{closePackage}, second.readUntilEOF())
}

// TestBindOptions: Bind takes the accepting options of Listen (here an
// accept filter and a handshake time-out) and refuses the others.
func TestBindOptions(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	var allow atomic.Bool
	bound, err := x.Bind("127.0.0.1:0", 1, "",
		WithAcceptFilter(func(net.Addr) bool { return allow.Load() }),
		WithHandshakeTimeout(200*time.Millisecond))
	require.NoError(t, err)
	host, port := bound.LocalAddr()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	p := dialRaw(t, addr, false)
	p.write(wire.HandshakeLine(p.id, 1))
	assert.Equal(t, "", readReply(t, p), "turned away before the handshake")
	assert.True(t, bound.IsWaiting())
	allow.Store(true)
	silent := dialRaw(t, addr, false)
	assert.Equal(t, "", readReply(t, silent), "dropped after the short handshake time-out")
	peer := newContext(t, r)
	_, err = peer.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	waitEstablished(t, bound)

	for _, opt := range []ListenOption{WithMaxConnections(2), WithJoinHandler(func(*Connection) {})} {
		_, err := x.Bind("127.0.0.1:0", 1, "", opt)
		assert.ErrorIs(t, err, ErrBadOption)
	}
}
