package reactor

import (
	"context"
	"errors"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/goyoton/yoton/internal/testkit"
)

func TestFlushWaitsForTheKernel(t *testing.T) {
	const n, size = 96, 64 << 10
	r := newReactor(t)
	x := newContext(t, r)
	bound, p := rawPair(t, x, true)
	data := make([]byte, size)
	// Sent from the loop so that no Send waits for room: 6 MiB is more
	// than the kernel takes for a peer that does not read.
	testkit.Do(t, r, func() {
		for i := 0; i < n; i++ {
			require.NoError(t, x.send(context.Background(), testSlot, data, 0, 0))
		}
	})
	flushed := make(chan error, 1)
	go func() { flushed <- x.Flush(testkit.Context(t)) }()
	testkit.Barrier(t, r)
	testkit.Barrier(t, r)
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned (%v) while the peer had not read anything", err)
	default:
	}
	got := 0
	for got < n {
		h, body, err := p.readFrame(waitTimeout)
		require.NoError(t, err)
		if h.Length > 0 {
			require.Len(t, body, size)
			got++
		}
	}
	require.NoError(t, testkit.Wait(t, flushed, "Flush"))
	testkit.Do(t, r, func() {
		assert.Zero(t, bound.pending.Len())
		assert.Zero(t, bound.gc.OutboundBuffered())
	})
	// Nothing queued: Flush returns at once.
	require.NoError(t, bound.Flush(testkit.Context(t)))
}

func TestFlushEdgeCases(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	waiting, _ := bindLocal(t, x)
	assert.ErrorIs(t, waiting.Flush(testkit.Context(t)), ErrNotConnected)
	assert.NoError(t, x.Flush(testkit.Context(t)), "no connection: nothing to flush")

	a := newContext(t, r)
	bound, p := rawPair(t, a, true)
	testkit.Do(t, r, func() {
		for i := 0; i < 64; i++ {
			require.NoError(t, a.send(context.Background(), testSlot, make([]byte, 64<<10), 0, 0))
		}
	})
	t.Run("ctx ends first", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		flushed := make(chan error, 1)
		go func() { flushed <- bound.Flush(ctx) }()
		testkit.Barrier(t, r)
		cancel()
		assert.ErrorIs(t, testkit.Wait(t, flushed, "Flush"), context.Canceled)
	})
	t.Run("connection closes first", func(t *testing.T) {
		flushed := make(chan error, 1)
		go func() { flushed <- bound.Flush(testkit.Context(t)) }()
		testkit.Barrier(t, r)
		require.NoError(t, p.nc.Close())
		// ErrClosed if Flush was waiting, ErrNotConnected if it started late.
		err := testkit.Wait(t, flushed, "Flush")
		assert.True(t, errors.Is(err, ErrClosed) || errors.Is(err, ErrNotConnected), "Flush: %v", err)
	})
}

func TestBlockingCallsOnLoop(t *testing.T) {
	r := newReactor(t)
	x, y := newContext(t, r), newContext(t, r)
	bound, connected := connectPair(t, x, y)
	_, addr := bindLocal(t, newContext(t, r))
	tests := []struct {
		name string
		call func() error
	}{
		{name: "Context.Flush", call: func() error { return x.Flush(context.Background()) }},
		{name: "Connection.Flush", call: func() error { return bound.Flush(context.Background()) }},
		{name: "Connect", call: func() error {
			c, err := y.Connect(context.Background(), addr, "")
			if c != nil {
				return errors.New("got a connection")
			}
			return err
		}},
		{name: "Reactor.Close", call: r.Close},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan error, 1)
			require.NoError(t, r.Post(func() { got <- tt.call() }))
			assert.ErrorIs(t, testkit.Wait(t, got, "call on the loop"), ErrBlockingCall)
		})
	}
	assert.True(t, connected.IsConnected(), "nothing was closed")
	assert.False(t, r.OnLoop())
}

func TestReactorCloseEndsEverything(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	r, err := New()
	require.NoError(t, err)
	a, b, c := newContext(t, r), newContext(t, r), newContext(t, r)
	bound, connected := connectPair(t, a, b)
	waiting, _ := bindLocal(t, c)
	// A client in the middle of its handshake with a bind: the bind's
	// goroutine must not keep Close waiting for the handshake time-out.
	handshaking, addr := bindLocal(t, a)
	silent := dialRaw(t, addr, false)
	silent.write([]byte("YOTON!"))
	waitHandshaking(t, handshaking)
	started := time.Now()
	newRecorder(t, a, testSlot)
	send(t, b, "in flight")

	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")
	testkit.Wait(t, r.Done(), "Done")
	for _, conn := range []*Connection{bound, connected, waiting, handshaking} {
		assert.Equal(t, StatusClosed, conn.Status())
		assert.Equal(t, ReasonReactorClosed, conn.CloseReason())
	}
	// The silent client was dropped when the reactor closed, well before
	// its handshake would have timed out.
	require.NoError(t, silent.nc.SetReadDeadline(started.Add(HandshakeTimeout-250*time.Millisecond)))
	_, err = silent.br.Read(make([]byte, 8))
	// EOF, or a reset when the bind had not read all of "YOTON!" yet;
	// a time-out means Close waited for the handshake.
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "read: %v", err)

	assert.ErrorIs(t, r.Post(func() {}), ErrClosed)
	assert.ErrorIs(t, r.Do(context.Background(), func() {}), ErrClosed)
	_, err = r.NewContext()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, a.send(context.Background(), testSlot, []byte("late"), 0, 0), ErrClosed)
	_, err = a.Bind("127.0.0.1:0", 1, "")
	assert.ErrorIs(t, err, ErrClosed)
	goleak.VerifyNone(t, ignore)
}

// waitHandshaking waits until a bind has a handshake in progress. It
// asks the loop again until one is; there is no event to wait on.
func waitHandshaking(t *testing.T, c *Connection) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		in := 0
		require.NoError(t, c.x.r.Do(context.Background(), func() {
			if c.acc != nil {
				in = c.acc.inProgress()
			}
		}))
		if in > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("bind never started the handshake")
		}
		runtime.Gosched()
	}
}
