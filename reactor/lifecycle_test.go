package reactor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
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

var closePackage = wire.Header{Slot: slots.ConnectionSlot, SourceSeq: 1}

func TestCloseTellsPeer(t *testing.T) {
	tests := []struct {
		name  string
		close func(bound, connected *Connection)
		// which end closed on command, and which heard of it
		closer func(bound, connected *Connection) *Connection
	}{
		{name: "bound end closes", close: func(b, _ *Connection) { b.Close("") },
			closer: func(b, _ *Connection) *Connection { return b }},
		{name: "connecting end closes", close: func(_, c *Connection) { c.Close("") },
			closer: func(_, c *Connection) *Connection { return c }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			a, b := newContext(t, r), newContext(t, r)
			bound, connected := connectPair(t, a, b)
			closer := tt.closer(bound, connected)
			other := bound
			if closer == bound {
				other = connected
			}
			tt.close(bound, connected)
			testkit.Wait(t, other.Done(), "other end to close")
			assert.Equal(t, ReasonDefault, closer.CloseReason())
			assert.Equal(t, ReasonClosedFromThere, other.CloseReason())
			assert.Equal(t, 0, a.ConnectionCount())
			assert.Equal(t, 0, b.ConnectionCount())
		})
	}
}

func TestCloseWritesClosePackage(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	addr, peers := listenRaw(t)
	c, err := x.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	p := testkit.Wait(t, peers, "raw peer")
	require.NotNil(t, p)
	// The first package a connecting context sends is NEW_CONNECTION.
	h, data, err := p.readFrame(waitTimeout)
	require.NoError(t, err)
	assert.Equal(t, slots.ContextSlot, h.Slot)
	assert.Equal(t, x.ID(), h.SourceID)
	assert.Equal(t, "NEW_CONNECTION", string(data))
	assert.Equal(t, p.id, c.PeerID())

	c.Close("my reason")
	frames := p.readUntilEOF()
	require.NotEmpty(t, frames)
	assert.Equal(t, closePackage, frames[len(frames)-1])
	for _, h := range frames[:len(frames)-1] {
		assert.True(t, isHeartbeat(h), "unexpected package %+v", h)
	}
	assert.Equal(t, "my reason", c.CloseReason())
}

func TestPeerDropsConnection(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	bound, addr := bindLocal(t, x)
	events := closedEvents(bound)
	p, _ := connectRaw(t, addr, false)
	waitEstablished(t, bound)
	// Half-close: the peer's FIN. (A full close with our heartbeats
	// unread in its buffer would reset the connection instead.)
	require.NoError(t, p.nc.(*net.TCPConn).CloseWrite())
	ev := testkit.Wait(t, events, "Closed")
	assert.Equal(t, ReasonEOF, ev.Reason)
	assert.Equal(t, ReasonEOF, bound.CloseReason())
	assert.Equal(t, StatusClosed, bound.Status())
}

func TestCloseOnProblemSendsNothing(t *testing.T) {
	tests := []struct {
		name, reason, want string
	}{
		{name: "given reason", reason: "it broke", want: "it broke"},
		{name: "default reason", reason: "", want: ReasonUnspecified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			x := newContext(t, r)
			bound, p := rawPair(t, x, false)
			bound.CloseOnProblem(tt.reason)
			for _, h := range p.readUntilEOF() {
				assert.True(t, isHeartbeat(h), "unexpected package %+v", h)
			}
			assert.Equal(t, tt.want, bound.CloseReason())
		})
	}
}

func TestContextCloseClosesAll(t *testing.T) {
	r := newReactor(t)
	x, b, c := newContext(t, r), newContext(t, r), newContext(t, r)
	hosting, atB := connectPair(t, x, b)
	atC, connecting := connectPair(t, c, x)
	waiting, _ := bindLocal(t, x)
	require.Equal(t, 2, x.ConnectionCount())
	require.Len(t, x.AllConnections(), 3)

	require.NoError(t, x.Close())
	for _, conn := range []*Connection{hosting, connecting, waiting} {
		testkit.Wait(t, conn.Done(), "Done")
		assert.Equal(t, ReasonByContext, conn.CloseReason())
	}
	for _, conn := range []*Connection{atB, atC} {
		testkit.Wait(t, conn.Done(), "peer's Done")
		assert.Equal(t, ReasonClosedFromThere, conn.CloseReason())
	}
	assert.Equal(t, 0, x.ConnectionCount())
	assert.Empty(t, x.AllConnections())
	assert.NoError(t, x.Close(), "Close is idempotent")
}

// TestContextReusedAfterClose: as yoton's, a closed context can be used
// again: Send queues for the next peer, Bind and Connect work, and what
// it sent reaches the new peer; once its reactor is closed, it is over.
func TestContextReusedAfterClose(t *testing.T) {
	r := newReactor(t)
	x, y := newContext(t, r), newContext(t, r)
	connectPair(t, x, y)
	require.NoError(t, x.Close())
	require.NoError(t, x.send(testkit.Context(t), testSlot, []byte("after close"), 0, 0), "queued for the next peer")

	z := newContext(t, r)
	rx := newRecorder(t, z, testSlot)
	bound, addr := bindLocal(t, x)
	_, err := z.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	waitEstablished(t, bound)
	send(t, x, "reused")
	assert.Equal(t, []string{"after close", "reused"}, payloads(rx.waitN(t, 2)))

	require.NoError(t, x.Close())
	short, cancel := context.WithTimeout(testkit.Context(t), 100*time.Millisecond)
	defer cancel()
	_, err = x.Connect(short, "127.0.0.1:1", "") // yoton retries until the deadline
	assert.ErrorIs(t, err, ErrConnect, "a closed context connects again (here to nobody)")

	require.NoError(t, r.Close())
	assert.ErrorIs(t, x.send(testkit.Context(t), testSlot, []byte("late"), 0, 0), ErrClosed)
	_, err = x.Bind("127.0.0.1:0", 1, "")
	assert.ErrorIs(t, err, ErrClosed)
	_, err = x.Connect(testkit.Context(t), "127.0.0.1:1", "")
	assert.ErrorIs(t, err, ErrClosed)
}

func TestCloseConnectionMessage(t *testing.T) {
	tests := []struct {
		name      string
		fromPeer  bool // source id is the peer's own id
		wantClose bool
	}{
		{name: "from the peer", fromPeer: true, wantClose: true},
		{name: "from another context", fromPeer: false, wantClose: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			x := newContext(t, r)
			rx := newRecorder(t, x, testSlot)
			bound, addr := bindLocal(t, x)
			p, _ := connectRaw(t, addr, false)
			src := p.id
			if !tt.fromPeer {
				src = nextRawID()
			}
			p.write(frame(wire.Header{Slot: slots.ContextSlot, SourceID: src, SourceSeq: 1}, []byte("CLOSE_CONNECTION")))
			if tt.wantClose {
				testkit.Wait(t, bound.Done(), "Done")
				assert.Equal(t, ReasonClosedFromThere, bound.CloseReason())
				return
			}
			// A package sent after it arrives: the message was handled.
			p.sendPkg(testSlot, 1, "still here")
			rx.waitN(t, 1)
			assert.True(t, bound.IsConnected())
		})
	}
}

func TestClosedFiresOnce(t *testing.T) {
	r := newReactor(t)
	a, b := newContext(t, r), newContext(t, r)
	bound, connected := connectPair(t, a, b)
	var calls atomic.Int32
	var offLoop atomic.Bool
	first := make(chan ClosedEvent, 1)
	bound.Closed.Bind(func(e ClosedEvent) {
		if !r.OnLoop() {
			offLoop.Store(true)
		}
		if calls.Add(1) == 1 {
			first <- e
		}
	})
	bound.Close("first")
	bound.Close("second")
	bound.CloseOnProblem("third")
	require.NoError(t, a.Close())
	ev := testkit.Wait(t, first, "Closed")
	testkit.Wait(t, connected.Done(), "peer's Done")
	testkit.Barrier(t, r) // emits queued by the later closes would have run
	testkit.Barrier(t, r)
	assert.Equal(t, int32(1), calls.Load())
	assert.Equal(t, "first", ev.Reason)
	assert.Same(t, bound, ev.Conn)
	assert.False(t, offLoop.Load(), "Closed handler ran off the loop")
	assert.Equal(t, "first", bound.CloseReason())
	select {
	case <-bound.Done():
	default:
		t.Fatal("Done not closed")
	}
}

func TestReactorCloseEmitsClosed(t *testing.T) {
	r, err := New()
	require.NoError(t, err)
	a, b := newContext(t, r), newContext(t, r)
	bound, connected := connectPair(t, a, b)
	evBound, evConnected := closedEvents(bound), closedEvents(connected)
	require.NoError(t, r.Close())
	for _, ch := range []<-chan ClosedEvent{evBound, evConnected} {
		select {
		case ev := <-ch:
			assert.Equal(t, ReasonReactorClosed, ev.Reason)
		default:
			t.Error("Closed did not fire before Reactor.Close returned")
		}
	}
}

func TestStatusTransitions(t *testing.T) {
	type state struct {
		status                    Status
		alive, connected, waiting bool
	}
	check := func(t *testing.T, c *Connection, want state) {
		t.Helper()
		assert.Equal(t, want.status, c.Status())
		assert.Equal(t, want.alive, c.IsAlive(), "IsAlive")
		assert.Equal(t, want.connected, c.IsConnected(), "IsConnected")
		assert.Equal(t, want.waiting, c.IsWaiting(), "IsWaiting")
	}
	r := newReactor(t)
	a, b := newContext(t, r), newContext(t, r)
	bound, addr := bindLocal(t, a)
	check(t, bound, state{StatusWaiting, true, false, true})
	assert.Equal(t, 0, a.ConnectionCount())
	assert.Empty(t, a.Connections())
	assert.Len(t, a.AllConnections(), 1)

	connected, err := b.Connect(testkit.Context(t), addr, "client")
	require.NoError(t, err)
	waitEstablished(t, bound)
	check(t, bound, state{StatusHosting, true, true, false})
	check(t, connected, state{StatusConnected, true, true, false})
	assert.Equal(t, 1, a.ConnectionCount())
	assert.Equal(t, 1, b.ConnectionCount())
	assert.Same(t, connected, b.Connections().ByName("client"))
	assert.Nil(t, b.Connections().ByName("nobody"))
	assert.Equal(t, b.ID(), bound.PeerID())
	assert.Equal(t, a.ID(), connected.PeerID())
	assert.Equal(t, a.ID(), bound.ID())
	assert.Equal(t, connected.PID(), bound.PeerPID())
	_, port := bound.PeerAddr()
	_, localPort := connected.LocalAddr()
	assert.Equal(t, localPort, port)
	assert.Equal(t, "", bound.CloseReason())

	connected.Close("")
	testkit.Wait(t, bound.Done(), "Done")
	check(t, bound, state{StatusClosed, false, false, false})
	check(t, connected, state{StatusClosed, false, false, false})
	assert.Equal(t, 0, a.ConnectionCount())
	assert.Empty(t, a.AllConnections())
}

func TestStatusString(t *testing.T) {
	tests := []struct {
		s    Status
		want string
	}{
		{StatusClosed, "closed"}, {StatusClosing, "closing"}, {StatusWaiting, "waiting"},
		{StatusHosting, "hosting"}, {StatusConnected, "connected"}, {Status(9), "Status(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) { assert.Equal(t, tt.want, tt.s.String()) })
	}
}

func TestSetTimeout(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	c, _ := bindLocal(t, x)
	assert.Equal(t, MinTimeout, c.Timeout(), "default")
	tests := []struct {
		d  time.Duration
		ok bool
	}{
		{-time.Second, false}, {0, false}, {MinTimeout - time.Nanosecond, false},
		{MinTimeout, true}, {3 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			before := c.Timeout()
			err := c.SetTimeout(tt.d)
			if !tt.ok {
				assert.ErrorIs(t, err, ErrBadOption)
				assert.Equal(t, before, c.Timeout(), "unchanged")
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tt.d, c.Timeout())
		})
	}
}

func TestTimedOut(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	bound, addr := bindLocal(t, x)
	events := make(chan TimedOutEvent, 8)
	bound.TimedOut.Bind(func(e TimedOutEvent) { events <- e })
	p, _ := connectRaw(t, addr, false)
	// The raw peer says nothing: after Timeout (0.5 s) the connection
	// reports it.
	ev := testkit.Wait(t, events, "TimedOut(true)")
	assert.True(t, ev.TimedOut)
	assert.Same(t, bound, ev.Conn)
	assert.True(t, bound.IsConnected(), "a time-out does not close")
	p.write(wire.AppendHeader(nil, wire.Header{Slot: slots.ConnectionSlot})) // heartbeat
	ev = testkit.Wait(t, events, "TimedOut(false)")
	assert.False(t, ev.TimedOut)
}

func TestHeartbeat(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	_, p := rawPair(t, x, false)
	// Nothing else is sent on this connection: after the Go-only link
	// message, the first package is a heartbeat, sent after
	// HeartbeatInterval (0.25 s) of silence.
	h, data, err := p.readAnyFrame(waitTimeout)
	require.NoError(t, err)
	assert.Equal(t, wire.Header{Slot: linkSlot, SourceID: x.ID(), Length: uint64(len(data))}, h)
	assert.Equal(t, linkPrefix+" new-connection=0 heartbeat=0", string(data))
	require.NoError(t, p.nc.SetReadDeadline(time.Now().Add(waitTimeout)))
	var got [wire.HeaderSize]byte
	_, err = io.ReadFull(p.br, got[:])
	require.NoError(t, err)
	assert.Equal(t, wire.AppendHeader(nil, wire.Header{Slot: slots.ConnectionSlot}), got[:])
	// And they keep coming.
	h, _, err = p.readFrame(waitTimeout)
	require.NoError(t, err)
	assert.True(t, isHeartbeat(h))
}

func TestConnectFailures(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	// A port nobody listens on: a listener closed again at once.
	other := newContext(t, r)
	c, addr := bindLocal(t, other)
	c.Close("")
	tests := []struct {
		name    string
		address string
		wantIs  error
	}{
		{name: "nobody listens", address: addr, wantIs: ErrConnect},
		{name: "not tcp", address: "itc://127.0.0.1:5000", wantIs: ErrConnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := x.Connect(ctx, tt.address, "")
			assert.ErrorIs(t, err, tt.wantIs)
			assert.Equal(t, 0, x.ConnectionCount())
		})
	}
	t.Run("bad address", func(t *testing.T) {
		_, err := x.Connect(testkit.Context(t), "no-colon", "")
		assert.Error(t, err)
	})
}

// TestWriteFailure makes the loop's writes fail (the socket is shut down
// for writing under gnet's feet): gnet then closes the connection from
// inside the write, and the reactor must cope with that re-entry.
func TestWriteFailure(t *testing.T) {
	tests := []struct {
		name       string
		act        func(t *testing.T, x *Context, c *Connection)
		wantReason string
		wantPrefix bool
	}{
		{name: "while sending", wantReason: ReasonSocketError, wantPrefix: true,
			act: func(t *testing.T, x *Context, _ *Connection) { send(t, x, "doomed") }},
		{name: "while closing", wantReason: "closing",
			act: func(_ *testing.T, _ *Context, c *Connection) { c.Close("closing") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			x := newContext(t, r)
			bound, _ := rawPair(t, x, false)
			events := closedEvents(bound)
			testkit.Do(t, r, func() {
				require.NoError(t, syscall.Shutdown(bound.gc.Fd(), syscall.SHUT_WR))
			})
			tt.act(t, x, bound)
			ev := testkit.Wait(t, events, "Closed")
			if tt.wantPrefix {
				assert.True(t, strings.HasPrefix(ev.Reason, tt.wantReason), "reason %q", ev.Reason)
			} else {
				assert.Equal(t, tt.wantReason, ev.Reason)
			}
			testkit.Barrier(t, r)
			assert.Empty(t, events, "Closed fired twice")
			assert.Equal(t, StatusClosed, bound.Status())
		})
	}
}

// TestCloseDeliversBacklog closes connections whose peer reads slowly:
// what was queued still arrives, then the close signal, then EOF.
func TestCloseDeliversBacklog(t *testing.T) {
	const size = 64 << 10
	tests := []struct {
		name    string
		opts    []ContextOption
		sent    int
		want    int  // data packages the peer gets
		reactor bool // close the whole reactor instead of the connection
	}{
		{name: "4 MiB queued", sent: 64, want: 64},
		{name: "full queue, discard new", opts: []ContextOption{WithQueue(4, DiscardNew)}, sent: 20, want: 4},
		{name: "reactor closes", sent: 64, want: 64, reactor: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			x := newContext(t, r, tt.opts...)
			bound, p := rawPair(t, x, true)
			testkit.Do(t, r, func() {
				for i := 0; i < tt.sent; i++ {
					data := bytes.Repeat([]byte{byte(i)}, size)
					require.NoError(t, x.send(context.Background(), testSlot, data, 0, 0))
				}
				x.drain() // into the connection's queue...
				if !tt.reactor {
					bound.Close("") // ...and close before any of it is written
				}
			})
			closed := make(chan error, 1)
			if tt.reactor {
				go func() { closed <- r.Close() }()
			}
			var got []byte
			for {
				h, body, err := p.readFrame(waitTimeout)
				require.NoError(t, err, "after %d packages", len(got))
				if isHeartbeat(h) {
					continue
				}
				if h.Length == 0 {
					assert.Equal(t, closePackage, h)
					break
				}
				require.Len(t, body, size)
				got = append(got, body[0])
				if tt.reactor && len(got) == 1 {
					select {
					case <-r.Done():
						t.Fatal("Reactor.Close returned before the backlog was written out")
					default:
					}
				}
			}
			_, _, err := p.readFrame(waitTimeout)
			assert.ErrorIs(t, err, io.EOF)
			require.Len(t, got, tt.want)
			for i, b := range got {
				assert.Equal(t, byte(i), b, "package %d out of order", i)
			}
			if tt.reactor {
				assert.NoError(t, testkit.Wait(t, closed, "Reactor.Close"))
			}
		})
	}
}

// TestVerboseLog: with a logger, a context reports what Python's verbose
// mode prints, in Python's words: waiting and hosting at, connected at,
// and each connection's close with its status and reason.
func TestVerboseLog(t *testing.T) {
	logged := make(chanLogger, 64)
	r := newReactor(t, WithLogger(logged))
	x, y := newContext(t, r), newContext(t, r)
	bound, addr := bindLocal(t, x)
	_, port := bound.LocalAddr()
	_, err := y.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	waitEstablished(t, bound)
	require.NoError(t, x.Close())
	testkit.Wait(t, bound.Done(), "closed")
	want := []string{
		fmt.Sprintf("Yoton: waiting at 127.0.0.1:%d.", port),
		fmt.Sprintf("Yoton: hosting at 127.0.0.1:%d.", port),
		fmt.Sprintf("Yoton: connected at 127.0.0.1:%d.", port),
		"Yoton: hosting connection closed: " + ReasonByContext,
		"Yoton: connected connection closed: " + ReasonClosedFromThere,
	}
	var got []string
	for len(got) < len(want) {
		line := testkit.Wait(t, (<-chan string)(logged), "log line")
		if strings.HasPrefix(line, "Yoton: ") {
			got = append(got, line)
		}
	}
	assert.ElementsMatch(t, want, got)
}

// TestFlushAfterPeerReset: a Flush whose write meets a reset peer returns
// an error at once instead of waiting for its ctx (the connection goes
// down under it), and Flush never reports success for a connection that
// is gone.
func TestFlushAfterPeerReset(t *testing.T) {
	for range 20 {
		r := newReactor(t)
		x := newContext(t, r)
		bound, p := rawPair(t, x, false)
		require.NoError(t, p.nc.(*net.TCPConn).SetLinger(0))
		require.NoError(t, p.nc.Close()) // a reset
		send(t, x, "into the reset")
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		err := bound.Flush(ctx)
		cancel()
		require.NotErrorIs(t, err, context.DeadlineExceeded, "Flush waited for its ctx")
		if err == nil {
			continue // written before the reset arrived
		}
		assert.True(t, errors.Is(err, ErrNotConnected) || errors.Is(err, ErrClosed), "Flush: %v", err)
	}
}

// TestCloseErrorKinds: a closed connection's Err (and its Closed event's)
// matches ErrClosed and the kind of close; an open one has none.
func TestCloseErrorKinds(t *testing.T) {
	r := newReactor(t)
	x, y := newContext(t, r), newContext(t, r)
	bound, connected := connectPair(t, x, y)
	assert.NoError(t, connected.Err(), "open: no error")
	events := closedEvents(connected)
	bound.Close("")
	ev := testkit.Wait(t, events, "closed from the other end")
	for _, err := range []error{ev.Err(), connected.Err()} {
		assert.ErrorIs(t, err, ErrClosed)
		assert.ErrorIs(t, err, ErrPeerClosed)
		assert.NotErrorIs(t, err, ErrProtocol)
		var ce *CloseError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, ReasonClosedFromThere, ce.Reason)
	}
	assert.ErrorIs(t, bound.Err(), ErrClosed)
	assert.NotErrorIs(t, bound.Err(), ErrPeerClosed, "closed here, not by the peer")
}
