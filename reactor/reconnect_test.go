package reactor

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/wire"
)

var fastReconnect = Reconnect{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}

// reconnectEvents reports a connection's Disconnected and Reconnected.
func reconnectEvents(c *Connection) (down <-chan DisconnectedEvent, up <-chan *Connection) {
	d := make(chan DisconnectedEvent, 16)
	u := make(chan *Connection, 16)
	c.Disconnected.Bind(func(e DisconnectedEvent) { d <- e })
	c.Reconnected.Bind(func(c *Connection) { u <- c })
	return d, u
}

func TestReconnectAfterPeerRestart(t *testing.T) {
	r := newReactor(t)
	host := newContext(t, r)
	_, addr := listenLocal(t, host)
	rx := newRecorder(t, host, testSlot)
	client := newContext(t, newReactor(t))
	c, err := client.Connect(testkit.Context(t), addr, "keep", WithReconnect(fastReconnect))
	require.NoError(t, err)
	closed := closedEvents(c)
	down, up := reconnectEvents(c)
	ownResend := make(chan struct{}, 8)
	client.onNewConnection(func() { ownResend <- struct{}{} })
	send(t, client, "before")
	assert.Equal(t, []string{"before"}, payloads(rx.waitN(t, 1)))

	// The host goes away (its context closes, as a process that exits).
	require.NoError(t, host.Close())
	ev := testkit.Wait(t, down, "Disconnected")
	assert.Equal(t, ReasonClosedFromThere, ev.Reason)
	assert.Same(t, c, ev.Conn)
	assert.Equal(t, StatusWaiting, c.Status())
	assert.False(t, c.IsConnected())
	assert.True(t, c.IsAlive())
	assert.Equal(t, 0, client.ConnectionCount())
	for i := 0; i < 3; i++ {
		send(t, client, fmt.Sprintf("during %d", i))
	}

	// A new host on the same port: the connection comes back by itself.
	host2 := newContext(t, r)
	newConn := make(chan struct{}, 8)
	host2.onNewConnection(func() { newConn <- struct{}{} })
	rx2 := newRecorder(t, host2, testSlot)
	l2, err := host2.Listen(addr)
	require.NoError(t, err)
	defer l2.Close()
	assert.Same(t, c, testkit.Wait(t, up, "Reconnected"))
	testkit.Wait(t, newConn, "NEW_CONNECTION announced again")
	testkit.Wait(t, ownResend, "the reconnecting side's own state channels resend")
	assert.Equal(t, StatusConnected, c.Status())
	assert.Equal(t, host2.ID(), c.PeerID())
	assert.Equal(t, 1, client.ConnectionCount())
	send(t, client, "after")
	assert.Equal(t, []string{"during 0", "during 1", "during 2", "after"}, payloads(rx2.waitN(t, 4)),
		"what waited goes out in order, none twice")
	select {
	case e := <-closed:
		t.Fatalf("Closed emitted: %+v", e)
	default:
	}
	assert.Equal(t, uint64(0), client.Discarded())

	// Close ends it for good.
	c.Close("")
	assert.Equal(t, ReasonDefault, testkit.Wait(t, closed, "Closed").Reason)
}

func TestReconnectOutageLongerThanQueue(t *testing.T) {
	r := newReactor(t)
	host := newContext(t, r)
	_, addr := listenLocal(t, host)
	client := newContext(t, newReactor(t), WithQueue(10, DiscardOld))
	// Handlers given with the policy are bound before any drop can come.
	down := make(chan DisconnectedEvent, 4)
	up := make(chan *Connection, 4)
	p := fastReconnect
	p.OnDisconnect = func(e DisconnectedEvent) { down <- e }
	p.OnReconnect = func(c *Connection) { up <- c }
	c, err := client.Connect(testkit.Context(t), addr, "", WithReconnect(p))
	require.NoError(t, err)
	assert.Equal(t, 1, c.Disconnected.HandlerCount())
	require.NoError(t, host.Close())
	testkit.Wait(t, down, "Disconnected")
	for i := 0; i < 25; i++ {
		send(t, client, fmt.Sprintf("m%02d", i))
	}
	host2 := newContext(t, r)
	rx := newRecorder(t, host2, testSlot)
	l2, err := host2.Listen(addr)
	require.NoError(t, err)
	defer l2.Close()
	testkit.Wait(t, up, "Reconnected")
	send(t, client, "end")
	got := payloads(rx.waitN(t, 11))
	// The queue kept the newest 10 of 25; NEW_CONNECTION (queued after
	// them on reconnect) displaced nothing.
	want := []string{"m15", "m16", "m17", "m18", "m19", "m20", "m21", "m22", "m23", "m24", "end"}
	assert.Equal(t, want, got)
	assert.Equal(t, uint64(15), client.Discarded())
}

func TestReconnectGivesUp(t *testing.T) {
	r := newReactor(t)
	host := newContext(t, r)
	_, addr := listenLocal(t, host)
	client := newContext(t, r)
	p := fastReconnect
	p.MaxAttempts = 3
	c, err := client.Connect(testkit.Context(t), addr, "", WithReconnect(p))
	require.NoError(t, err)
	closed := closedEvents(c)
	down, _ := reconnectEvents(c)
	require.NoError(t, host.Close())
	testkit.Wait(t, down, "Disconnected")
	ev := testkit.Wait(t, closed, "Closed after the last attempt")
	assert.True(t, strings.HasPrefix(ev.Reason, ReasonReconnectGaveUp), "reason %q", ev.Reason)
	assert.Contains(t, ev.Reason, "3 attempts")
	assert.Equal(t, StatusClosed, c.Status())
}

func TestReconnectClosedWhileDown(t *testing.T) {
	r := newReactor(t)
	host := newContext(t, r)
	_, addr := listenLocal(t, host)
	client := newContext(t, r)
	c, err := client.Connect(testkit.Context(t), addr, "", WithReconnect(Reconnect{MinDelay: time.Hour}))
	require.NoError(t, err)
	closed := closedEvents(c)
	down, _ := reconnectEvents(c)
	require.NoError(t, host.Close())
	testkit.Wait(t, down, "Disconnected")
	c.Close("stop")
	assert.Equal(t, "stop", testkit.Wait(t, closed, "Closed").Reason)
	// The redial goroutine, waiting an hour, ended with it (goleak at
	// the end of the package checks).
}

func TestReconnectOnTimeout(t *testing.T) {
	// A host that answers the handshake and then says nothing at all,
	// not even heartbeats.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	accepted := make(chan net.Conn, 4)
	go func() { // ends when the listener closes
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(nc)
			if _, err := br.ReadBytes('\n'); err != nil {
				_ = nc.Close()
				continue
			}
			_, _ = nc.Write(wire.HandshakeLine(nextRawID(), 1))
			accepted <- nc
		}
	}()
	t.Cleanup(func() {
		for {
			select {
			case nc := <-accepted:
				_ = nc.Close()
			default:
				return
			}
		}
	})
	r := newReactor(t)
	client := newContext(t, r)
	p := fastReconnect
	p.OnTimeout = true
	c, err := client.Connect(testkit.Context(t), ln.Addr().String(), "", WithReconnect(p))
	require.NoError(t, err)
	down, up := reconnectEvents(c)
	first := testkit.Wait(t, accepted, "first connection")
	defer first.Close()
	ev := testkit.Wait(t, down, "Disconnected after the time-out")
	assert.True(t, strings.HasPrefix(ev.Reason, ReasonTimedOut), "reason %q", ev.Reason)
	second := testkit.Wait(t, accepted, "the redial")
	defer second.Close()
	testkit.Wait(t, up, "Reconnected")
}

func TestConnectOptionsRejectBadValues(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	for _, p := range []Reconnect{
		{MinDelay: -1}, {MaxDelay: -1}, {MaxAttempts: -1},
		{MinDelay: time.Second, MaxDelay: time.Millisecond},
	} {
		_, err := x.Connect(context.Background(), "127.0.0.1:1", "", WithReconnect(p))
		assert.ErrorIs(t, err, ErrBadOption, "%+v", p)
	}
}

// TestReconnectOptionShared: one WithReconnect option may serve several
// Connect calls at once (each fills in its own copy's defaults; the race
// detector would catch a shared write).
func TestReconnectOptionShared(t *testing.T) {
	x := newContext(t, newReactor(t))
	opt := WithReconnect(Reconnect{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := x.Connect(ctx, "127.0.0.1:1", "", opt)
			assert.ErrorIs(t, err, ErrConnect)
		}()
	}
	wg.Wait()
}
