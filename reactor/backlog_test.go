package reactor

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
)

// cancelledCtx is a context that has already ended: a Send given it
// fails at once if it would wait for room, so a nil error proves it
// did not wait.
func cancelledCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestWaitingConnectionNeverStallsSenders: a spare Bind waiting for its
// next peer (yoton keeps a backlog for it) and a reconnecting connection
// that is down never make a sender wait, however much they hold.
func TestWaitingConnectionNeverStallsSenders(t *testing.T) {
	tests := []struct {
		name    string
		backlog Backlog
		want    int // packages the late peer gets
	}{
		{name: "keep backlog", backlog: KeepBacklog, want: 3 * TinyQueueLength},
		{name: "drop backlog", backlog: DropBacklog, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			x := newContext(t, r, WithBacklog(tt.backlog))
			y := newContext(t, newReactor(t))
			rxY := newRecorder(t, y, testSlot)
			connectPair(t, x, y)
			spare, addr := bindLocal(t, x)
			// A reconnecting connection that is down.
			gone := newContext(t, r)
			_, goneAddr := listenLocal(t, gone)
			down, err := x.Connect(testkit.Context(t), goneAddr, "", WithReconnect(Reconnect{MinDelay: 1 << 40}))
			require.NoError(t, err)
			downEvents, _ := reconnectEvents(down)
			require.NoError(t, gone.Close())
			testkit.Wait(t, downEvents, "Disconnected")

			n := 3 * TinyQueueLength
			for i := 0; i < n; i++ {
				require.NoError(t, x.send(cancelledCtx(), testSlot, []byte(fmt.Sprintf("m%d", i)), 0, 0),
					"send %d waited", i)
			}
			assert.Len(t, rxY.waitN(t, n), n, "the connected peer got everything")
			testkit.Barrier(t, r)
			assert.False(t, x.backlogHigh.Load())

			late := newContext(t, r)
			rxLate := newRecorder(t, late, testSlot)
			_, err = late.Connect(testkit.Context(t), addr, "")
			require.NoError(t, err)
			waitEstablished(t, spare)
			send(t, x, "live")
			got := payloads(rxLate.waitN(t, tt.want+1))
			assert.Len(t, got, tt.want+1)
			assert.Equal(t, "live", got[len(got)-1])
			assert.Equal(t, uint64(0), x.Discarded(), "a connected peer took every package")
		})
	}
}

// TestDropBacklogWithNobodyConnected: with DropBacklog, packages sent
// while no peer is connected are dropped and counted, not kept for the
// first peer.
func TestDropBacklogWithNobodyConnected(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r, WithBacklog(DropBacklog))
	l, addr := listenLocal(t, x)
	for i := 0; i < 5; i++ {
		require.NoError(t, x.send(cancelledCtx(), testSlot, []byte("stale"), 0, 0))
	}
	testkit.Barrier(t, r)
	assert.Equal(t, uint64(5), x.Discarded())
	peer := newContext(t, r)
	rx := newRecorder(t, peer, testSlot)
	_, err := peer.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	// Until the host has the peer (its first package arrived), the host
	// drops what it sends: nobody is connected yet.
	waitConnections(t, l, 1)
	send(t, x, "fresh")
	assert.Equal(t, []string{"fresh"}, payloads(rx.waitN(t, 1)))

	_, err = r.NewContext(WithBacklog(Backlog(7)))
	assert.ErrorIs(t, err, ErrBadOption)
}
