package reactor

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/wire"
)

func TestBackpressureStalledPeer(t *testing.T) {
	const (
		hwm       = 4 << 10
		queueSize = 100
		payload   = 16 << 10
	)
	r := newReactor(t, WithHighWaterMark(hwm))
	x := newContext(t, r, WithQueue(queueSize, DiscardOld))
	bound, addr := bindLocal(t, x)
	// The peer shakes hands and then never reads.
	_, _ = connectRaw(t, addr, true)
	waitEstablished(t, bound)
	data := make([]byte, payload)

	checkBounded := func(t *testing.T) {
		t.Helper()
		x.subMu.Lock()
		submitted := len(x.subQ)
		x.subMu.Unlock()
		assert.LessOrEqual(t, submitted, submitLimit+1, "submission queue grew")
		testkit.Do(t, r, func() {
			assert.LessOrEqual(t, bound.pending.Len(), queueSize, "pending queue past its size")
			if bound.gc != nil {
				assert.LessOrEqual(t, bound.gc.OutboundBuffered(), hwm+payload+wire.HeaderSize,
					"outbound buffer past the high-water mark")
			}
		})
	}

	// 1. Senders on a user goroutine end up waiting for room: with a
	// short deadline, Send gives up with the context's error.
	waited := 0
	for i := 0; i < 5000 && waited < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := x.send(ctx, testSlot, data, 0, 0)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			waited++
			continue
		}
		require.NoError(t, err)
	}
	require.Equal(t, 3, waited, "Send never waited for a stalled peer")
	assert.True(t, x.backlogHigh.Load())
	checkBounded(t)

	// 2. Without a deadline the wait is bounded (SendWait) and the
	// package goes in anyway, under the queue's discard rule.
	done := make(chan error, 1)
	go func() { done <- x.send(context.Background(), testSlot, data, 0, 0) }()
	assert.NoError(t, testkit.Wait(t, done, "Send to return after SendWait"))
	checkBounded(t)

	// 3. On the loop goroutine Send never waits (waiting there would
	// block the very loop that drains the queue).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	require.NoError(t, r.Do(ctx, func() {
		for i := 0; i < 20; i++ {
			errs = append(errs, x.send(context.Background(), testSlot, data, 0, 0))
		}
	}), "Send on the loop waited")
	for _, err := range errs {
		assert.NoError(t, err)
	}
	checkBounded(t)
	assert.True(t, bound.IsConnected(), "a slow peer is not a reason to close")
}

func TestBackpressureReleasesWhenPeerReads(t *testing.T) {
	const hwm = 4 << 10
	r := newReactor(t, WithHighWaterMark(hwm))
	x := newContext(t, r)
	_, p := rawPair(t, x, true)
	// 3 × 64 packages of 64 KiB: more than the kernel's send buffer takes
	// (4 MiB at most on Linux), so the queue must back up.
	data := make([]byte, 64<<10)
	// Fill the queue past the tiny length from the loop (no waiting).
	const n = 3 * TinyQueueLength
	testkit.Do(t, r, func() {
		for i := 0; i < n; i++ {
			require.NoError(t, x.send(context.Background(), testSlot, data, 0, 0))
		}
	})
	testkit.Barrier(t, r)
	require.True(t, x.backlogHigh.Load(), "queue should be congested")
	// Once the peer reads, the backlog clears and every package arrives.
	got := 0
	for got < n {
		h, body, err := p.readFrame(waitTimeout)
		require.NoError(t, err)
		if h.Length > 0 {
			require.Len(t, body, len(data))
			got++
		}
	}
	testkit.Barrier(t, r)
	assert.False(t, x.backlogHigh.Load())
	// A sender from a user goroutine is not held up any more.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, x.send(ctx, testSlot, data, 0, 0))
	h, _, err := p.readFrame(waitTimeout)
	for err == nil && isHeartbeat(h) {
		h, _, err = p.readFrame(waitTimeout)
	}
	require.NoError(t, err)
	assert.Equal(t, uint64(len(data)), h.Length)
}

// TestQueueByteBudget: large packages published to a peer that does not
// read stay within the connection queue's byte budget (the heap holds at
// most the budget, the high-water mark and slack), the rest is dropped and
// counted, and once the peer reads, everything not counted as dropped
// arrives, in order and once.
func TestQueueByteBudget(t *testing.T) {
	const (
		budget  = 8 << 20
		payload = 1 << 20
		n       = 96
	)
	r := newReactor(t)
	x := newContext(t, r, WithQueueBytes(budget))
	bound, p := rawPair(t, x, true) // shakes hands, then does not read
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		data := make([]byte, payload) // a fresh buffer each: the queue owns it
		binary.LittleEndian.PutUint64(data, uint64(i))
		require.NoError(t, x.send(testkit.Context(t), testSlot, data, 0, 0))
	}
	testkit.Barrier(t, r)
	testkit.Do(t, r, func() {
		assert.LessOrEqual(t, bound.pending.Bytes(), budget)
	})
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapInuse) - int64(before.HeapInuse)
	assert.Less(t, grown, int64(budget+DefaultHighWaterMark+16<<20), "heap grew by %d MiB", grown>>20)
	dropped := x.Discarded()
	assert.NotZero(t, dropped)

	// The peer reads now: what was not dropped arrives, in order.
	var got []uint64
	for uint64(len(got))+dropped < n {
		h, data, err := p.readFrame(waitTimeout)
		require.NoError(t, err, "after %d packages (%d dropped)", len(got), dropped)
		if h.Slot != testSlot {
			continue
		}
		got = append(got, binary.LittleEndian.Uint64(data))
	}
	assert.Equal(t, uint64(n), uint64(len(got))+dropped)
	for i := 1; i < len(got); i++ {
		assert.Less(t, got[i-1], got[i], "in order, once")
	}
	assert.Equal(t, uint64(n-1), got[len(got)-1], "the newest is kept (discard old)")
}

// TestSlowConsumerDisconnected: with WithWriteDeadline, a peer that stops
// reading is closed once it has taken nothing for the deadline, while a
// peer that reads stays; the context's senders are free again.
func TestSlowConsumerDisconnected(t *testing.T) {
	r := newReactor(t, WithWriteDeadline(300*time.Millisecond), WithHighWaterMark(4<<10))
	x := newContext(t, r)
	l, addr := listenLocal(t, x)
	reader := newContext(t, newReactor(t))
	rx := newRecorder(t, reader, testSlot)
	_, err := reader.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	_, _ = connectRaw(t, addr, true) // shakes hands, then does not read
	waitConnections(t, l, 2)
	var slow *Connection
	for _, c := range l.Connections() {
		if c.PeerID() != reader.ID() {
			slow = c
		}
	}
	require.NotNil(t, slow)
	closed := closedEvents(slow)
	data := make([]byte, 16<<10)
	sent := 0
	limit := testkit.Context(t)
	for done := false; !done; {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := x.send(ctx, testSlot, data, 0, 0)
		cancel()
		if err == nil {
			sent++
		} else {
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		select {
		case ev := <-closed:
			assert.True(t, strings.HasPrefix(ev.Reason, ReasonSlowConsumer), "reason %q", ev.Reason)
			assert.ErrorIs(t, ev.Err(), ErrSlowConsumer)
			assert.NotErrorIs(t, ev.Err(), ErrPeerClosed)
			done = true
		case <-limit.Done():
			t.Fatal("the slow consumer was never closed")
		default:
		}
	}
	assert.Equal(t, 1, l.ConnectionCount(), "the reader stays")
	require.NoError(t, x.send(cancelledCtx(), testSlot, []byte("free again"), 0, 0))
	got := payloads(rx.waitN(t, sent+1))
	assert.Equal(t, "free again", got[len(got)-1])
}
