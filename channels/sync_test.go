package channels_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

// waitFor waits until cond holds, checking it every millisecond, and
// fails the test at the deadline. For conditions nothing signals (a
// PubChannel's lock is set on the loop when "full" arrives).
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// TestSyncModeSlowSubscriber: a subscriber whose consumer stalls holds
// its publisher back, so that a queue far smaller than the stream loses
// nothing; without sync mode the same run loses messages and the
// publisher is never held back.
//
// The queue must still hold what is in flight when "full" arrives: the
// publisher's reactor may have handed a few MiB to the kernel by then
// (its high-water mark and the loopback socket buffers). Runs here peak
// near a third of this queue.
func TestSyncModeSlowSubscriber(t *testing.T) {
	const (
		n         = 25000
		queueSize = 10000 // the subscriber's context: far below n, far above SyncHighWater
		batch     = 1000  // messages the consumer takes each time it is let go
		size      = 1 << 10
	)
	tests := []struct {
		name string
		sync bool
	}{
		{name: "sync", sync: true},
		{name: "no sync", sync: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reactorkit.NewReactor(t)
			a, b := reactorkit.PairWith(t, r, nil, []reactor.ContextOption{reactor.WithQueue(queueSize, reactor.DiscardOld)})
			ctx := testkit.Context(t)
			pub, err := channels.NewPubChannel(a, "flow", channels.Text)
			require.NoError(t, err)
			sub, err := channels.NewSubChannel(b, "flow", channels.Text)
			require.NoError(t, err)
			sub.SetSyncMode(tt.sync)
			require.Equal(t, tt.sync, sub.SyncMode())

			// The publisher sends n numbered messages as fast as it may.
			pubDone := make(chan error, 1)
			go func() {
				for i := range n {
					if err := pub.Send(ctx, numbered(i, size)); err != nil {
						pubDone <- err
						return
					}
				}
				pubDone <- nil
			}()

			// The consumer takes k messages each time the test sends k on
			// gate, then reports on idle (nil, or what stopped it).
			gate := make(chan int)
			idle := make(chan error, 1)
			exited := make(chan struct{})
			var got []string
			go func() {
				defer close(exited)
				for k := range gate {
					var err error
					for range k {
						var m string
						if m, err = sub.Recv(ctx); err != nil {
							break
						}
						got = append(got, m)
					}
					idle <- err
				}
			}()
			defer func() {
				close(gate)
				<-exited
			}()

			if !tt.sync {
				// Nothing holds the publisher back: it finishes while the
				// consumer has not taken anything, and the queue overflows.
				require.NoError(t, <-pubDone)
				require.NoError(t, a.Flush(ctx))
				newMarker(t, a, b).sync(t)
				require.False(t, pub.Throttled())
				require.Equal(t, queueSize, sub.Pending())
				require.Equal(t, uint64(n-queueSize), sub.Discarded())
				return
			}

			// While the consumer stalls, the subscriber fills past
			// SyncHighWater, says "full", and the publisher waits; each
			// time, the test lets the consumer take one batch.
			throttled, peak := 0, 0
			finished := false
			for len(got) < n {
				if !finished {
					waitFor(t, ctx, "the publisher is held back or done", func() bool {
						if pub.Throttled() {
							return true
						}
						select {
						case err := <-pubDone:
							require.NoError(t, err)
							finished = true
							return true
						default:
							return false
						}
					})
					if pub.Throttled() && !finished {
						throttled++
						peak = max(peak, sub.Pending())
						require.Zero(t, sub.Discarded(), "messages lost before the publisher was held back")
					}
				}
				gate <- min(batch, n-len(got))
				select {
				case err := <-idle:
					require.NoError(t, err, "consumer stopped")
				case <-ctx.Done():
					t.Fatalf("consumer stuck: pending %d, discarded %d, throttled %v, sync %v", sub.Pending(), sub.Discarded(), pub.Throttled(), sub.SyncMode())
				}
			}
			if !finished {
				require.NoError(t, <-pubDone)
			}

			require.Zero(t, sub.Discarded())
			require.Len(t, got, n)
			for i, m := range got {
				require.Equal(t, numbered(i, size), m)
			}
			require.GreaterOrEqual(t, throttled, 3, "the publisher was held back only %d times", throttled)
			t.Logf("publisher held back %d times; up to %d messages queued then", throttled, peak)

			// The consumer caught up: the subscriber said "ok".
			waitFor(t, ctx, "the publisher is released", func() bool { return !pub.Throttled() })
		})
	}
}

// numbered returns message i, size bytes long.
func numbered(i, size int) string {
	s := strconv.Itoa(i) + ":"
	return s + strings.Repeat("x", size-len(s))
}

// TestSyncModeStatusMessages watches what a subscriber in sync mode says
// on its sub-pub slot as its queue grows and shrinks.
func TestSyncModeStatusMessages(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)
	sub, err := channels.NewSubChannel(b, "st", channels.Text)
	require.NoError(t, err)
	status := listen(t, a, "st.txt.sub-pub") // where a PubChannel would listen
	pubSub := attachSender(t, a, "st.txt.pub-sub")
	mark, back := newMarker(t, a, b), backMarker(t, b, a)
	send := func(k int) {
		t.Helper()
		for i := range k {
			require.NoError(t, pubSub.Send(ctx, []byte(fmt.Sprint(i)), reactor.Destination{}))
		}
		mark.sync(t)
	}

	// Not in sync mode: silence, however long the queue.
	send(channels.SyncHighWater + 10)
	back.sync(t) // whatever b said before is in
	require.Empty(t, status.got)
	_, err = sub.RecvAll()
	require.NoError(t, err)

	// The first check in sync mode says "ok" (yoton's status time starts
	// in the past); crossing SyncHighWater says "full".
	sub.SetSyncMode(true)
	send(1)
	require.Equal(t, "ok", status.next(t))
	send(channels.SyncHighWater - 1) // 32 queued: not past the mark
	send(1)
	require.Equal(t, "full", status.next(t))
	send(5)

	// Reading below SyncHighWater but not below SyncLowWater: still full.
	for range 38 - channels.SyncLowWater {
		_, err := sub.TryRecv()
		require.NoError(t, err)
	}
	require.Equal(t, channels.SyncLowWater, sub.Pending())
	_, err = sub.Recv(ctx) // 15 left: "ok"
	require.NoError(t, err)
	require.Equal(t, "ok", status.next(t))

	// Turning sync mode off while full says "ok"; then silence.
	send(channels.SyncHighWater + 10)
	require.Equal(t, "full", status.next(t))
	sub.SetSyncMode(false)
	require.False(t, sub.SyncMode())
	require.Equal(t, "ok", status.next(t))
	_, err = sub.RecvAll()
	require.NoError(t, err)
	send(channels.SyncHighWater + 10)

	// Closing while full says "ok" too (yoton leaves its publishers
	// locked until the lock expires).
	sub.SetSyncMode(true)
	send(1) // 43 queued
	require.Equal(t, "full", status.next(t))
	require.NoError(t, sub.Close())
	require.Equal(t, "ok", status.next(t))

	back.sync(t)
	require.Empty(t, status.got)
}

// backMarker is a marker from b to a, on a slot of its own.
func backMarker(t *testing.T, from, to *reactor.Context) *marker {
	t.Helper()
	return &marker{pub: mustPub(t, from, "test-marker-back"), sub: mustSub(t, to, "test-marker-back")}
}

// TestSyncModeRepeats: the status is said again once SyncRepeat has
// passed, at the next check (an arrival here).
func TestSyncModeRepeats(t *testing.T) {
	if testing.Short() {
		t.Skip("waits SyncRepeat")
	}
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)
	sub, err := channels.NewSubChannel(b, "rep", channels.Text)
	require.NoError(t, err)
	status := listen(t, a, "rep.txt.sub-pub")
	pubSub := attachSender(t, a, "rep.txt.pub-sub")
	mark, back := newMarker(t, a, b), backMarker(t, b, a)
	sub.SetSyncMode(true)
	require.NoError(t, pubSub.Send(ctx, []byte("first"), reactor.Destination{}))
	require.Equal(t, "ok", status.next(t))
	start := time.Now()

	require.NoError(t, pubSub.Send(ctx, []byte("soon"), reactor.Destination{}))
	mark.sync(t)
	back.sync(t)
	if time.Since(start) < channels.SyncRepeat/2 {
		require.Empty(t, status.got, "repeated before SyncRepeat")
	}

	// What is tested is the passing of time.
	<-time.After(channels.SyncRepeat - time.Since(start) + 10*time.Millisecond)
	_, err = sub.TryRecv() // a read checks too
	require.NoError(t, err)
	require.Equal(t, "ok", status.next(t))
}
