package reactor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/wire"
)

// readReply reads what a host answers until it closes the socket. A host
// that closes with part of our request unread may reset the connection;
// a reset after the reply counts as the end too.
func readReply(t *testing.T, p *rawPeer) string {
	t.Helper()
	require.NoError(t, p.nc.SetReadDeadline(time.Now().Add(waitTimeout)))
	var got []byte
	buf := make([]byte, 256)
	for {
		n, err := p.br.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("reading the reply: %v (got %q)", err, got)
			}
			return string(got)
		}
	}
}

// requireBindStillServes connects a real context to a bind that rejected
// someone and checks that packages flow both ways.
func requireBindStillServes(t *testing.T, r *Reactor, x *Context, bound *Connection, addr string) {
	t.Helper()
	require.True(t, bound.IsWaiting(), "bind stopped waiting: %s", bound.Status())
	peer := newContext(t, r)
	rxHere := newRecorder(t, x, testSlot)
	rxThere := newRecorder(t, peer, testSlot)
	_, err := peer.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	waitEstablished(t, bound)
	send(t, peer, "to the bind")
	send(t, x, "from the bind")
	assert.Equal(t, []string{"to the bind"}, payloads(rxHere.waitN(t, 1)))
	assert.Equal(t, []string{"from the bind"}, payloads(rxThere.waitN(t, 1)))
}

func TestBindAnswersForeignHandshake(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		reply string
	}{
		{name: "http request", line: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", reply: wire.ReplyNotYoton},
		{name: "unparsable id", line: "YOTON!zz.1\r\n", reply: wire.ReplyBadID},
		{name: "unparsable pid", line: "YOTON!00000000000000ab.pid\r\n", reply: wire.ReplyBadID},
		{name: "no pid", line: "YOTON!00000000000000ab\r\n", reply: wire.ReplyBadID},
		{name: "lower-case prefix", line: "yoton!00000000000000ab.1\r\n", reply: wire.ReplyNotYoton},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			x := newContext(t, r)
			bound, addr := bindLocal(t, x)
			p := dialRaw(t, addr, false)
			p.write([]byte(tt.line))
			assert.Equal(t, tt.reply, readReply(t, p))
			requireBindStillServes(t, r, x, bound, addr)
		})
	}
}

func TestBindDropsSilentClient(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	bound, addr := bindLocal(t, x)
	p := dialRaw(t, addr, false)
	// The host gives up after HandshakeTimeout (2 s) and closes without
	// a word; waitTimeout is a generous bound, not a measurement.
	require.NoError(t, p.nc.SetReadDeadline(time.Now().Add(waitTimeout)))
	n, err := p.br.Read(make([]byte, 64))
	assert.Zero(t, n)
	require.ErrorIs(t, err, io.EOF)
	requireBindStillServes(t, r, x, bound, addr)
}

func TestLostTrackOfStream(t *testing.T) {
	good := func(p *rawPeer, seq uint64, data string) []byte {
		return frame(wire.Header{Slot: testSlot, SourceID: p.id, SourceSeq: seq}, []byte(data))
	}
	bad := func(p *rawPeer) []byte {
		b := good(p, 2, "bad frame")
		copy(b, "XOTON   ") // wrong control bytes
		return b
	}
	tests := []struct {
		name   string
		writes func(p *rawPeer) [][]byte
	}{
		{name: "one write", writes: func(p *rawPeer) [][]byte {
			all := append(append(good(p, 1, "good"), bad(p)...), good(p, 3, "after")...)
			return [][]byte{all}
		}},
		{name: "header split", writes: func(p *rawPeer) [][]byte {
			b := append(bad(p), good(p, 3, "after")...)
			return [][]byte{good(p, 1, "good"), b[:5], b[5:]}
		}},
		{name: "control only", writes: func(p *rawPeer) [][]byte {
			return [][]byte{good(p, 1, "good"), []byte("GARBAGE!"), good(p, 3, "after")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			x := newContext(t, r)
			rx := newRecorder(t, x, testSlot)
			bound, addr := bindLocal(t, x)
			events := closedEvents(bound)
			p, _ := connectRaw(t, addr, false)
			writes := tt.writes(p)
			p.write(writes[0])
			rx.waitN(t, 1)
			for _, w := range writes[1:] {
				// the socket may already be closed by the time the last
				// write goes out; that is fine
				_ = p.nc.SetWriteDeadline(time.Now().Add(waitTimeout))
				_, _ = p.nc.Write(w)
			}
			ev := testkit.Wait(t, events, "Closed")
			assert.Equal(t, ReasonLostTrack, ev.Reason)
			assert.Same(t, bound, ev.Conn)
			testkit.Wait(t, bound.Done(), "Done")
			assert.Equal(t, ReasonLostTrack, bound.CloseReason())
			testkit.Barrier(t, r)
			assert.Equal(t, []string{"good"}, payloads(rx.snapshot()))
		})
	}
}

func TestPackageTooLarge(t *testing.T) {
	const limit = 1 << 20
	tests := []struct {
		name   string
		length uint64
	}{
		{name: "1<<62", length: 1 << 62},
		{name: "max uint64", length: ^uint64(0)},
		{name: "limit+1", length: limit + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t, WithMaxPackageSize(limit))
			x := newContext(t, r)
			rx := newRecorder(t, x, testSlot)
			bound, addr := bindLocal(t, x)
			p, _ := connectRaw(t, addr, false)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			h := wire.AppendHeader(nil, wire.Header{Slot: testSlot, SourceID: p.id, SourceSeq: 1, Length: tt.length})
			p.write(append(h, "some of the body"...))
			testkit.Wait(t, bound.Done(), "Done")
			runtime.ReadMemStats(&after)
			assert.True(t, strings.HasPrefix(bound.CloseReason(), ReasonTooLarge), "reason %q", bound.CloseReason())
			assert.ErrorIs(t, bound.Err(), ErrProtocol)
			assert.ErrorIs(t, bound.Err(), ErrClosed)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "allocated for the claimed size")
			assert.Empty(t, rx.snapshot())
		})
	}
	t.Run("exactly the limit", func(t *testing.T) {
		r := newReactor(t, WithMaxPackageSize(limit))
		x := newContext(t, r)
		rx := newRecorder(t, x, testSlot)
		bound, addr := bindLocal(t, x)
		p, _ := connectRaw(t, addr, false)
		p.sendPkg(testSlot, 1, strings.Repeat("x", limit))
		got := rx.waitN(t, 1)
		assert.Len(t, got[0].Data, limit)
		assert.True(t, bound.IsConnected())
	})
}

func TestConnectToSelf(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	bound, addr := bindLocal(t, x)
	c, err := x.Connect(testkit.Context(t), addr, "")
	require.Error(t, err)
	assert.Nil(t, c)
	assert.ErrorIs(t, err, ErrConnect)
	assert.ErrorIs(t, err, ErrHandshake)
	assert.Contains(t, err.Error(), ReasonHandshakeSelf)
	assert.Equal(t, 0, x.ConnectionCount())
	// The bind refused only that peer: it still takes a real one.
	requireBindStillServes(t, r, x, bound, addr)
}

// TestStalledBodyCostsLittleAndIsClosed: peers that announce the largest
// package allowed and send only a few bytes of it reserve little memory
// (the buffer grows with what arrives) and are closed once the body stops
// arriving for the body time-out.
func TestStalledBodyCostsLittleAndIsClosed(t *testing.T) {
	r := newReactor(t, WithBodyTimeout(300*time.Millisecond))
	x := newContext(t, r)
	l, addr := listenLocal(t, x)
	const peers = 5
	var raws []*rawPeer
	for i := 0; i < peers; i++ {
		p, _ := connectRaw(t, addr, false)
		raws = append(raws, p)
	}
	waitConnections(t, l, peers)
	conns := l.Connections()
	var closed []<-chan ClosedEvent
	for _, c := range conns {
		closed = append(closed, closedEvents(c))
	}
	for _, p := range raws {
		hdr := wire.AppendHeader(nil, wire.Header{Slot: testSlot, SourceID: p.id, SourceSeq: 1, Length: DefaultMaxPackageSize})
		p.write(append(hdr, []byte("just a few bytes")...))
	}
	require.Eventually(t, func() bool {
		reading, reserved := 0, 0
		testkit.Do(t, r, func() {
			for _, c := range conns {
				if c.inBody && c.curN > 0 {
					reading++
					reserved += cap(c.cur.Data)
				}
			}
		})
		if reading == peers {
			assert.LessOrEqual(t, reserved, peers*bodyReserve, "reserved for bodies that did not come")
		}
		return reading == peers
	}, waitTimeout, time.Millisecond)
	for i, ch := range closed {
		ev := testkit.Wait(t, ch, "the stalled connection to close")
		assert.True(t, strings.HasPrefix(ev.Reason, ReasonBodyStalled), "peer %d: %q", i, ev.Reason)
	}
	assert.Equal(t, 0, l.ConnectionCount())
}

// TestLargeBodyArrivesWhole: a body larger than what is reserved from its
// header arrives intact, whether it comes in small pieces or in one go.
func TestLargeBodyArrivesWhole(t *testing.T) {
	for _, piece := range []int{1000, 3 * bodyReserve} {
		t.Run(fmt.Sprintf("pieces of %d", piece), func(t *testing.T) {
			r := newReactor(t)
			x := newContext(t, r)
			rx := newRecorder(t, x, testSlot)
			_, p := rawPair(t, x, false)
			body := make([]byte, 3*bodyReserve+12345)
			for i := range body {
				body[i] = byte(i * 7)
			}
			out := frame(wire.Header{Slot: testSlot, SourceID: p.id, SourceSeq: 1}, body)
			for len(out) > 0 {
				n := min(piece, len(out))
				p.write(out[:n])
				out = out[n:]
			}
			got := rx.waitN(t, 1)
			require.Len(t, got, 1)
			assert.True(t, bytes.Equal(body, got[0].Data), "body differs")
		})
	}
	_, err := New(WithBodyTimeout(0))
	assert.ErrorIs(t, err, ErrBadOption)
}
