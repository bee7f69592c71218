package reactor

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/slots"
	"github.com/goyoton/yoton/wire"
)

// waitTimeout bounds the waits these tests make themselves (raw-socket
// deadlines, Eventually); the kit's waits use testkit.Timeout. It is a
// guard against hangs, never a measurement.
const waitTimeout = 5 * time.Second

// testSlot is the slot the tests' receivers listen on.
var testSlot = slots.Hash(slots.Normalize("reactor-test.bin.pub-sub"))

func newReactor(t testing.TB, opts ...Option) *Reactor {
	t.Helper()
	r, err := New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	return r
}

func newContext(t testing.TB, r *Reactor, opts ...ContextOption) *Context {
	t.Helper()
	x, err := r.NewContext(opts...)
	require.NoError(t, err)
	return x
}

// bindLocal binds x on a free loopback port and returns the waiting
// connection and its address.
func bindLocal(t testing.TB, x *Context) (*Connection, string) {
	t.Helper()
	c, err := x.Bind("127.0.0.1:0", 1, "")
	require.NoError(t, err)
	host, port := c.LocalAddr()
	require.NotZero(t, port)
	return c, net.JoinHostPort(host, strconv.Itoa(port))
}

// waitEstablished waits until c is connected (a bind got its peer).
func waitEstablished(t testing.TB, c *Connection) {
	t.Helper()
	testkit.Wait(t, c.established, "connection to be established")
	require.True(t, c.IsConnected(), "status %s", c.Status())
}

// waitConnections waits until l holds n connections. A Connect returns
// before the host has read the peer's first package (its NEW_CONNECTION),
// which is when the peer joins; a peer that leaves is dropped a little
// after its socket closes.
func waitConnections(t testing.TB, l *Listener, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return l.ConnectionCount() == n }, waitTimeout, time.Millisecond)
}

// connectPair binds a and connects b to it, and waits until both ends
// are connected.
func connectPair(t testing.TB, a, b *Context) (bound, connected *Connection) {
	t.Helper()
	bound, addr := bindLocal(t, a)
	connected, err := b.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	waitEstablished(t, bound)
	return bound, connected
}

// recorder is a Receiver that keeps every package deposited into it.
type recorder struct {
	r       *Reactor
	mu      sync.Mutex
	pkgs    []Package
	offLoop atomic.Bool
	notify  chan struct{}
}

func newRecorder(t testing.TB, x *Context, slot uint64) *recorder {
	t.Helper()
	rx := &recorder{r: x.Reactor(), notify: make(chan struct{}, 1)}
	require.NoError(t, x.register(0, slot, rx, "recorder"))
	t.Cleanup(func() {
		assert.False(t, rx.offLoop.Load(), "Deposit ran off the loop goroutine")
	})
	return rx
}

func (rx *recorder) Deposit(p Package) {
	if !rx.r.OnLoop() {
		rx.offLoop.Store(true)
	}
	rx.mu.Lock()
	rx.pkgs = append(rx.pkgs, p)
	rx.mu.Unlock()
}

func (rx *recorder) EndBatch() {
	select {
	case rx.notify <- struct{}{}:
	default:
	}
}

func (rx *recorder) snapshot() []Package {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	return append([]Package(nil), rx.pkgs...)
}

// waitN waits until at least n packages arrived and returns all of them.
func (rx *recorder) waitN(t testing.TB, n int) []Package {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		if got := rx.snapshot(); len(got) >= n {
			return got
		}
		select {
		case <-rx.notify:
		case <-timer.C:
			got := rx.snapshot()
			t.Fatalf("timed out waiting for %d packages; got %d: %q", n, len(got), payloads(got))
		}
	}
}

func payloads(ps []Package) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p.Data)
	}
	return out
}

func send(t testing.TB, x *Context, data string) {
	t.Helper()
	require.NoError(t, x.send(testkit.Context(t), testSlot, []byte(data), 0, 0))
}

// rawIDs hands out context ids for raw peers, distinct from real ones
// (real ids carry the current time in their top half).
var rawIDs atomic.Uint64

func nextRawID() uint64 { return 0x0000_0001_0000_0000 + rawIDs.Add(1) }

// rawPeer is a hand-driven yoton peer on a plain socket.
type rawPeer struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
	id uint64
}

// smallRecvBuffer shrinks a socket's receive buffer before it connects,
// so that a peer that does not read fills up quickly.
func smallRecvBuffer(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	})
	if err != nil {
		return err
	}
	return serr
}

// dialRaw opens a plain socket to addr, without a handshake.
func dialRaw(t testing.TB, addr string, small bool) *rawPeer {
	t.Helper()
	d := net.Dialer{Timeout: waitTimeout}
	if small {
		d.Control = smallRecvBuffer
	}
	nc, err := d.Dial("tcp4", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	return &rawPeer{t: t, nc: nc, br: bufio.NewReader(nc), id: nextRawID()}
}

// connectRaw dials a bound context and completes yoton's handshake as
// the connecting side. It returns the peer and the bound context's id.
func connectRaw(t testing.TB, addr string, small bool) (*rawPeer, uint64) {
	t.Helper()
	p := dialRaw(t, addr, small)
	p.write(wire.HandshakeLine(p.id, 4242))
	line := p.readLine()
	id, pid, err := wire.ParseHandshakeLine(line)
	require.NoError(t, err, "handshake reply %q", line)
	require.Equal(t, os.Getpid(), pid)
	// A yoton peer always sends something right after the handshake
	// (NEW_CONNECTION, or a heartbeat within 0.25 s): the host takes it
	// as the sign that the peer is there. A heartbeat uses no sequence
	// number.
	p.write(frame(wire.Header{Slot: slots.ConnectionSlot}, nil))
	return p, id
}

// rawPair binds x on a free loopback port, connects a raw peer to it
// (see connectRaw) and waits until the bound end is connected.
func rawPair(t testing.TB, x *Context, small bool) (bound *Connection, p *rawPeer) {
	t.Helper()
	bound, addr := bindLocal(t, x)
	p, _ = connectRaw(t, addr, small)
	waitEstablished(t, bound)
	return bound, p
}

// listenRaw accepts one connection from a connecting context and plays
// the hosting side of the handshake; the peer arrives on the channel.
func listenRaw(t testing.TB) (addr string, peer <-chan *rawPeer) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	ch := make(chan *rawPeer, 1)
	id := nextRawID()
	go func() {
		defer close(ch)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		p := &rawPeer{t: t, nc: nc, br: bufio.NewReader(nc), id: id}
		_ = nc.SetDeadline(time.Now().Add(waitTimeout))
		line, err := p.br.ReadBytes('\n')
		if err != nil || !bytes.HasPrefix(line, []byte("YOTON!")) {
			_ = nc.Close()
			return
		}
		if _, err := nc.Write(wire.HandshakeLine(id, 4242)); err != nil {
			_ = nc.Close()
			return
		}
		_ = nc.SetDeadline(time.Time{})
		ch <- p
	}()
	return ln.Addr().String(), ch
}

func (p *rawPeer) write(b []byte) {
	p.t.Helper()
	require.NoError(p.t, p.nc.SetWriteDeadline(time.Now().Add(waitTimeout)))
	_, err := p.nc.Write(b)
	require.NoError(p.t, err)
}

func (p *rawPeer) readLine() []byte {
	p.t.Helper()
	require.NoError(p.t, p.nc.SetReadDeadline(time.Now().Add(waitTimeout)))
	line, err := p.br.ReadBytes('\n')
	require.NoError(p.t, err, "read handshake line (got %q)", line)
	return line
}

// frame returns the bytes of one package.
func frame(h wire.Header, data []byte) []byte {
	h.Length = uint64(len(data))
	return append(wire.AppendHeader(nil, h), data...)
}

// sendPkg sends a package with the peer's id as source.
func (p *rawPeer) sendPkg(slot, seq uint64, data string) {
	p.t.Helper()
	p.write(frame(wire.Header{Slot: slot, SourceID: p.id, SourceSeq: seq}, []byte(data)))
}

// readFrame reads one package within timeout, skipping the Go-only link
// messages (source_seq 0 on slot 3) that Python peers ignore.
func (p *rawPeer) readFrame(timeout time.Duration) (wire.Header, []byte, error) {
	for {
		h, data, err := p.readAnyFrame(timeout)
		if err != nil || h.SourceSeq != 0 || h.Slot != linkSlot {
			return h, data, err
		}
	}
}

// readAnyFrame reads one package within timeout.
func (p *rawPeer) readAnyFrame(timeout time.Duration) (wire.Header, []byte, error) {
	if err := p.nc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return wire.Header{}, nil, err
	}
	var hb [wire.HeaderSize]byte
	if _, err := io.ReadFull(p.br, hb[:]); err != nil {
		return wire.Header{}, nil, err
	}
	h, err := wire.DecodeHeader(hb[:])
	if err != nil {
		return h, nil, err
	}
	data := make([]byte, h.Length)
	if _, err := io.ReadFull(p.br, data); err != nil {
		return h, nil, err
	}
	return h, data, nil
}

// readUntilEOF reads packages until the other end closes and returns
// them; it fails on anything but a clean EOF.
func (p *rawPeer) readUntilEOF() []wire.Header {
	p.t.Helper()
	var out []wire.Header
	for {
		h, _, err := p.readFrame(waitTimeout)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(p.t, err)
		out = append(out, h)
	}
}

func isHeartbeat(h wire.Header) bool {
	return h == wire.Header{Slot: slots.ConnectionSlot}
}

// closedEvents binds a handler to c.Closed that reports every event.
func closedEvents(c *Connection) <-chan ClosedEvent {
	ch := make(chan ClosedEvent, 8)
	c.Closed.Bind(func(e ClosedEvent) { ch <- e })
	return ch
}
