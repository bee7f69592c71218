package reactor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
)

// holdLoop blocks r's loop goroutine until the returned function is
// called; work posted meanwhile queues up behind it.
func holdLoop(t *testing.T, r *Reactor) (release func()) {
	t.Helper()
	started := make(chan struct{})
	ch := make(chan struct{})
	require.NoError(t, r.Post(func() { close(started); <-ch }))
	testkit.Wait(t, started, "the loop to be held")
	return func() { close(ch) }
}

func TestLoopRunReturnsOnStop(t *testing.T) {
	r := newReactor(t)
	ret := make(chan error, 1)
	go func() { ret <- r.Run(context.Background()) }()
	// Stop from a callback on the loop, as a yoton program calls
	// stop_event_loop from a handler. Run may or may not wait yet: a
	// Stop before Run is kept for it.
	require.NoError(t, r.Post(r.Stop))
	assert.NoError(t, testkit.Wait(t, ret, "Run to return"))
}

func TestLoopStopBeforeRun(t *testing.T) {
	r := newReactor(t)
	r.Stop()
	r.Stop() // one pending stop, not two
	assert.NoError(t, r.Run(context.Background()), "the pending Stop")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, r.Run(ctx), context.DeadlineExceeded, "the Stop was used up")
}

func TestLoopRunEndsWithReactor(t *testing.T) {
	r, err := New()
	require.NoError(t, err)
	ret := make(chan error, 1)
	go func() { ret <- r.Run(context.Background()) }()
	require.NoError(t, r.Close())
	assert.ErrorIs(t, testkit.Wait(t, ret, "Run to return"), ErrClosed)
	assert.ErrorIs(t, r.Run(context.Background()), ErrClosed, "Run on a closed reactor")
	assert.ErrorIs(t, r.Sync(context.Background()), ErrClosed)
	assert.ErrorIs(t, r.postFront(func() {}), ErrClosed)
}

func TestLoopBlockingControlsOnLoop(t *testing.T) {
	r := newReactor(t)
	var runErr, syncErr error
	testkit.Do(t, r, func() {
		runErr = r.Run(context.Background())
		syncErr = r.Sync(context.Background())
	})
	assert.ErrorIs(t, runErr, ErrBlockingCall)
	assert.ErrorIs(t, syncErr, ErrBlockingCall)
}

func TestLoopSync(t *testing.T) {
	r := newReactor(t)
	var n atomic.Int64
	for range 100 {
		require.NoError(t, r.Post(func() { n.Add(1) }))
	}
	require.NoError(t, r.Sync(testkit.Context(t)))
	assert.Equal(t, int64(100), n.Load())
}

func TestLoopPostFront(t *testing.T) {
	r := newReactor(t)
	var order []string
	add := func(name string) func() { return func() { order = append(order, name) } }
	release := holdLoop(t, r)
	require.NoError(t, r.Post(add("a")))
	require.NoError(t, r.Post(add("b")))
	require.NoError(t, r.postFront(add("front 1")))
	require.NoError(t, r.postFront(add("front 2")))
	release()
	testkit.Barrier(t, r)
	testkit.Do(t, r, func() { assert.Equal(t, []string{"front 2", "front 1", "a", "b"}, order) })
}

func TestLoopOnQueued(t *testing.T) {
	r := newReactor(t)
	release := holdLoop(t, r)
	var calls atomic.Int64
	r.OnQueued(func() { calls.Add(1) })
	for range 3 {
		require.NoError(t, r.Post(func() {}))
	}
	require.NoError(t, r.postFront(func() {}))
	assert.Equal(t, int64(1), calls.Load(), "once per burst of queued work")
	release()
	testkit.Barrier(t, r) // may join the burst above
	before := calls.Load()
	require.NoError(t, r.Post(func() {})) // the queue was empty: a new burst
	assert.Equal(t, before+1, calls.Load())
	testkit.Barrier(t, r)
	before = calls.Load()
	r.OnQueued(nil)
	testkit.Barrier(t, r)
	assert.Equal(t, before, calls.Load(), "hook removed")
}
