package futures_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

func newFuture[T any](t testing.TB, r *reactor.Reactor, opts ...futures.Option) *futures.Future[T] {
	t.Helper()
	f, err := futures.New[T](r, opts...)
	require.NoError(t, err)
	return f
}

func TestFutureNewNeedsLoop(t *testing.T) {
	_, err := futures.New[int](nil)
	require.ErrorIs(t, err, futures.ErrNilLoop)
}

func TestFutureNewRejectsBadOption(t *testing.T) {
	_, err := futures.New[int](reactorkit.NewReactor(t), futures.OnCancel(nil))
	require.ErrorIs(t, err, reactor.ErrBadOption)
	_, err = futures.New[int](reactorkit.NewReactor(t), nil)
	require.ErrorIs(t, err, reactor.ErrBadOption)
}

// TestFutureTransitions walks every transition of the state machine.
func TestFutureTransitions(t *testing.T) {
	r := reactorkit.NewReactor(t)
	remote := &futures.RemoteError{Message: "boom"}
	tests := []struct {
		name          string
		steps         func(f *futures.Future[int]) error
		wantVal       int
		wantErr       error
		wantCancelled bool
		wantRunning   bool
		wantDone      bool
	}{
		{
			name:  "pending",
			steps: func(*futures.Future[int]) error { return nil },
		},
		{
			name:        "running",
			steps:       func(f *futures.Future[int]) error { return expectRunning(f, true) },
			wantRunning: true,
		},
		{
			// yoton's set_result acts only on a running future.
			name:  "result on pending is refused",
			steps: func(f *futures.Future[int]) error { return refused(f.SetResult(7)) },
		},
		{
			name: "result from running",
			steps: func(f *futures.Future[int]) error {
				if err := expectRunning(f, true); err != nil {
					return err
				}
				return f.SetResult(8)
			},
			wantVal:  8,
			wantDone: true,
		},
		{
			// Go only: the owner of a call that never started says why.
			name:     "exception from pending",
			steps:    func(f *futures.Future[int]) error { return f.SetException(remote) },
			wantErr:  remote,
			wantDone: true,
		},
		{
			name: "exception from running",
			steps: func(f *futures.Future[int]) error {
				if err := expectRunning(f, true); err != nil {
					return err
				}
				return f.SetException(remote)
			},
			wantErr:  remote,
			wantDone: true,
		},
		{
			name: "cancel pending",
			steps: func(f *futures.Future[int]) error {
				if !f.Cancel() {
					return errors.New("Cancel of a pending future returned false")
				}
				if !f.Cancel() {
					return errors.New("second Cancel returned false")
				}
				return expectRunning(f, false)
			},
			wantErr:       futures.ErrCancelled,
			wantCancelled: true,
			wantDone:      true,
		},
		{
			name: "cancel running is refused",
			steps: func(f *futures.Future[int]) error {
				if err := expectRunning(f, true); err != nil {
					return err
				}
				if f.Cancel() {
					return errors.New("Cancel of a running future returned true")
				}
				return nil
			},
			wantRunning: true,
		},
		{
			// As yoton: true (the call is not running), and the result stays.
			name: "cancel after result answers true and changes nothing",
			steps: func(f *futures.Future[int]) error {
				if err := expectRunning(f, true); err != nil {
					return err
				}
				if err := f.SetResult(1); err != nil {
					return err
				}
				if !f.Cancel() {
					return errors.New("Cancel after SetResult returned false")
				}
				return nil
			},
			wantVal:  1,
			wantDone: true,
		},
		{
			name: "cancel after exception answers true and changes nothing",
			steps: func(f *futures.Future[int]) error {
				if err := f.SetException(remote); err != nil {
					return err
				}
				if !f.Cancel() {
					return errors.New("Cancel after SetException returned false")
				}
				return nil
			},
			wantErr:  remote,
			wantDone: true,
		},
		{
			name: "second completion is refused",
			steps: func(f *futures.Future[int]) error {
				if err := expectRunning(f, true); err != nil {
					return err
				}
				if err := f.SetResult(2); err != nil {
					return err
				}
				_, err := f.SetRunningOrNotifyCancel()
				return errors.Join(refused(f.SetResult(3)), refused(f.SetException(remote)), refused(err))
			},
			wantVal:  2,
			wantDone: true,
		},
		{
			name: "result after cancel is refused",
			steps: func(f *futures.Future[int]) error {
				f.Cancel()
				return errors.Join(refused(f.SetResult(3)), refused(f.SetException(remote)))
			},
			wantErr:       futures.ErrCancelled,
			wantCancelled: true,
			wantDone:      true,
		},
		{
			name: "running twice is refused",
			steps: func(f *futures.Future[int]) error {
				if err := expectRunning(f, true); err != nil {
					return err
				}
				_, err := f.SetRunningOrNotifyCancel()
				return refused(err)
			},
			wantRunning: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFuture[int](t, r)
			require.NoError(t, tt.steps(f))
			assert.Equal(t, tt.wantDone, f.IsDone(), "IsDone")
			assert.Equal(t, tt.wantCancelled, f.Cancelled(), "Cancelled")
			assert.Equal(t, tt.wantRunning, f.Running(), "Running")
			if !tt.wantDone {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				_, err := f.Result(ctx)
				assert.ErrorIs(t, err, futures.ErrTimeout)
				assert.ErrorIs(t, err, context.Canceled)
				return
			}
			select {
			case <-f.Done():
			default:
				t.Fatal("Done() not closed")
			}
			v, err := f.Result(testkit.Context(t))
			assert.Equal(t, tt.wantVal, v)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				assert.NoError(t, f.Err(testkit.Context(t)))
			} else {
				assert.ErrorIs(t, err, tt.wantErr)
				assert.ErrorIs(t, f.Err(testkit.Context(t)), tt.wantErr)
			}
		})
	}
}

// refused returns nil for ErrInvalidState and an error otherwise.
func refused(err error) error {
	if errors.Is(err, futures.ErrInvalidState) {
		return nil
	}
	return fmt.Errorf("want ErrInvalidState, got %v", err)
}

// expectRunning calls SetRunningOrNotifyCancel and checks its answer.
func expectRunning(f *futures.Future[int], want bool) error {
	ok, err := f.SetRunningOrNotifyCancel()
	if err != nil {
		return err
	}
	if ok != want {
		return errors.New("SetRunningOrNotifyCancel answered the unexpected")
	}
	return nil
}

// running returns a future that SetRunningOrNotifyCancel put in the
// running state, ready for SetResult.
func running[T any](t testing.TB, r *reactor.Reactor) *futures.Future[T] {
	t.Helper()
	f := newFuture[T](t, r)
	ok, err := f.SetRunningOrNotifyCancel()
	require.NoError(t, err)
	require.True(t, ok)
	return f
}

func TestFutureCancelledNotifiesRunner(t *testing.T) {
	r := reactorkit.NewReactor(t)
	f := newFuture[int](t, r)
	require.True(t, f.Cancel())
	ok, err := f.SetRunningOrNotifyCancel()
	require.NoError(t, err)
	require.False(t, ok, "a cancelled future must not start running")
}

func TestFutureRemoteError(t *testing.T) {
	r := reactorkit.NewReactor(t)
	f := newFuture[string](t, r)
	require.NoError(t, f.SetException(&futures.RemoteError{Message: "Method 'x' not implemented."}))
	_, err := f.Result(testkit.Context(t))
	require.ErrorIs(t, err, futures.ErrRemote)
	require.NotErrorIs(t, err, futures.ErrCancelled)
	var re *futures.RemoteError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "Method 'x' not implemented.", re.Message)
}

func TestFutureResultWaitsForCaller(t *testing.T) {
	r := reactorkit.NewReactor(t)
	f := running[int](t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := f.Result(ctx)
	require.ErrorIs(t, err, futures.ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, f.IsDone(), "a timed-out wait must not change the future")

	got := make(chan int, 1)
	go func() {
		v, _ := f.Result(testkit.Context(t))
		got <- v
	}()
	require.NoError(t, f.SetResult(42))
	select {
	case v := <-got:
		require.Equal(t, 42, v)
	case <-testkit.Context(t).Done():
		t.Fatal("waiter not woken")
	}
}

func TestFutureResultOrCancel(t *testing.T) {
	r := reactorkit.NewReactor(t)
	f := newFuture[int](t, r)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.ResultOrCancel(ctx)
	require.ErrorIs(t, err, futures.ErrTimeout)
	require.True(t, f.Cancelled())

	g := newFuture[int](t, r)
	_, err = g.SetRunningOrNotifyCancel()
	require.NoError(t, err)
	_, err = g.ResultOrCancel(ctx)
	require.ErrorIs(t, err, futures.ErrTimeout)
	require.True(t, g.Running(), "a running future cannot be cancelled")

	h := running[int](t, r)
	require.NoError(t, h.SetResult(5))
	v, err := h.ResultOrCancel(ctx) // done wins over an ended ctx
	require.NoError(t, err)
	require.Equal(t, 5, v)
}

// TestFutureSelect composes Done with select.
func TestFutureSelect(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := newFuture[int](t, r), running[int](t, r)
	go func() { _ = b.SetResult(2) }()
	select {
	case <-a.Done():
		t.Fatal("a is never completed")
	case <-b.Done():
	case <-testkit.Context(t).Done():
		t.Fatal("b not done")
	}
}

// TestFutureCallbacks: callbacks run on the loop goroutine in the order
// added; one added after completion still runs, later, on the loop.
func TestFutureCallbacks(t *testing.T) {
	r := reactorkit.NewReactor(t)
	f := running[int](t, r)
	type call struct {
		n      int
		onLoop bool
	}
	calls := make(chan call, 8)
	add := func(n int) {
		f.AddDoneCallback(func(g *futures.Future[int]) {
			require.Same(t, f, g)
			calls <- call{n, r.OnLoop()}
		})
	}
	add(1)
	add(2)
	add(3)
	require.NoError(t, f.SetResult(1))
	add(4)
	var inline atomic.Bool
	require.NoError(t, r.Do(testkit.Context(t), func() {
		// Added on the loop after completion: queued, not run inline.
		f.AddDoneCallback(func(*futures.Future[int]) { inline.Store(true); calls <- call{5, r.OnLoop()} })
		if inline.Load() {
			t.Error("callback ran inside AddDoneCallback")
		}
	}))
	for want := 1; want <= 5; want++ {
		select {
		case c := <-calls:
			require.Equal(t, want, c.n, "callback order")
			require.True(t, c.onLoop, "callback %d not on the loop goroutine", c.n)
		case <-testkit.Context(t).Done():
			t.Fatalf("callback %d did not run", want)
		}
	}
}

// TestFutureCallbackPanic: a panicking callback does not keep the next
// one from running.
func TestFutureCallbackPanic(t *testing.T) {
	r := reactorkit.NewReactor(t)
	f := newFuture[int](t, r)
	ran := make(chan struct{})
	f.AddDoneCallback(func(*futures.Future[int]) { panic("callback failure") })
	f.AddDoneCallback(func(*futures.Future[int]) { close(ran) })
	require.True(t, f.Cancel())
	select {
	case <-ran:
	case <-testkit.Context(t).Done():
		t.Fatal("second callback did not run")
	}
}

func TestFutureWaitOnLoop(t *testing.T) {
	r := reactorkit.NewReactor(t)
	f := running[int](t, r)
	var err error
	require.NoError(t, r.Do(testkit.Context(t), func() { _, err = f.Result(context.Background()) }))
	require.ErrorIs(t, err, reactor.ErrBlockingCall)
	require.NoError(t, f.SetResult(3))
	var v int
	require.NoError(t, r.Do(testkit.Context(t), func() { v, err = f.Result(context.Background()) }))
	require.NoError(t, err)
	require.Equal(t, 3, v)
}

func TestFutureAutoCancel(t *testing.T) {
	r := reactorkit.NewReactor(t)
	var hooks atomic.Int32
	f := newFuture[int](t, r, futures.OnCancel(func() { hooks.Add(1) }))
	require.NoError(t, f.SetAutoCancelTimeout(10*time.Millisecond))
	_, err := f.Result(testkit.Context(t))
	require.ErrorIs(t, err, futures.ErrCancelled)
	require.True(t, f.Cancelled())
	require.Equal(t, int32(1), hooks.Load(), "OnCancel calls")
	require.True(t, f.Cancel(), "Cancel of a cancelled future")
	require.Equal(t, int32(1), hooks.Load(), "OnCancel calls after a second Cancel")
}

// TestFutureAutoCancelRunning: as in yoton, the auto-cancel timeout
// cancels only a pending future (with an error that matches every
// timeout sentinel); a running one, set running before or after the
// timeout was set, completes with its result.
func TestFutureAutoCancelRunning(t *testing.T) {
	r := reactorkit.NewReactor(t)
	runningFirst := newFuture[int](t, r)
	_, err := runningFirst.SetRunningOrNotifyCancel()
	require.NoError(t, err)
	require.NoError(t, runningFirst.SetAutoCancelTimeout(5*time.Millisecond))
	takenLater := newFuture[int](t, r)
	require.NoError(t, takenLater.SetAutoCancelTimeout(10*time.Millisecond))
	ok, err := takenLater.SetRunningOrNotifyCancel()
	require.NoError(t, err)
	require.True(t, ok)
	untaken := newFuture[int](t, r)
	require.NoError(t, untaken.SetAutoCancelTimeout(20*time.Millisecond))
	// Heap entries run in deadline order: once the untaken one is
	// cancelled, the others' deadlines have passed.
	<-untaken.Done()
	err = untaken.Err(testkit.Context(t))
	var auto *futures.AutoCancelError
	require.ErrorAs(t, err, &auto)
	assert.Equal(t, 20*time.Millisecond, auto.Timeout)
	assert.ErrorIs(t, err, futures.ErrCancelled)
	assert.ErrorIs(t, err, futures.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "nobody took it within its auto-cancel timeout of 20ms")
	assert.True(t, untaken.Cancelled())

	for _, f := range []*futures.Future[int]{runningFirst, takenLater} {
		assert.False(t, f.IsDone(), "a running future is not auto-cancelled")
		require.NoError(t, f.SetResult(7))
		v, err := f.Result(testkit.Context(t))
		require.NoError(t, err)
		assert.Equal(t, 7, v)
	}
}

// TestFutureAutoCancelRemoved: d <= 0 removes the limit, and a future
// done in time is not cancelled. Heap entries run in deadline order, so
// once a later future's timeout fired, the earlier deadlines have passed.
func TestFutureAutoCancelRemoved(t *testing.T) {
	r := reactorkit.NewReactor(t)
	removed := newFuture[int](t, r)
	require.NoError(t, removed.SetAutoCancelTimeout(time.Millisecond))
	require.NoError(t, removed.SetAutoCancelTimeout(0))
	finished := newFuture[int](t, r)
	require.NoError(t, finished.SetAutoCancelTimeout(2*time.Millisecond))
	failure := errors.New("failed in time")
	require.NoError(t, finished.SetException(failure))
	later := newFuture[int](t, r)
	require.NoError(t, later.SetAutoCancelTimeout(20*time.Millisecond))
	<-later.Done()
	require.True(t, later.Cancelled())
	require.False(t, removed.IsDone(), "a removed timeout fired")
	require.False(t, finished.Cancelled())
	require.ErrorIs(t, finished.Err(testkit.Context(t)), failure)
}

// TestFutureCompletesOnce races every way of completing a future.
func TestFutureCompletesOnce(t *testing.T) {
	r := reactorkit.NewReactor(t)
	for range 50 {
		var hooks atomic.Int32
		f := newFuture[int](t, r, futures.OnCancel(func() { hooks.Add(1) }))
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch i % 4 {
				case 0:
					// A runner: once it has the call, it completes it.
					if ok, _ := f.SetRunningOrNotifyCancel(); ok {
						if f.SetResult(i) == nil {
							wins.Add(1)
						}
					}
				case 1:
					if f.SetResult(i) == nil {
						wins.Add(1)
					}
				case 2:
					if f.SetException(errors.New("x")) == nil {
						wins.Add(1)
					}
				case 3:
					f.Cancel()
				}
			}()
		}
		wg.Wait()
		<-f.Done()
		if f.Cancelled() {
			require.Equal(t, int32(0), wins.Load())
			require.Equal(t, int32(1), hooks.Load())
		} else {
			require.Equal(t, int32(1), wins.Load())
			require.Equal(t, int32(0), hooks.Load())
		}
	}
}

// TestFutureTenThousandCancelled: 10,000 pending futures, each with an
// auto-cancel timeout and a callback, cancelled at once, leave no
// goroutine behind and run every callback.
func TestFutureTenThousandCancelled(t *testing.T) {
	r := reactorkit.NewReactor(t)
	const n = 10000
	before := runtime.NumGoroutine()
	fs := make([]*futures.Future[int], n)
	var called sync.WaitGroup
	called.Add(n)
	for i := range fs {
		fs[i] = newFuture[int](t, r)
		require.NoError(t, fs[i].SetAutoCancelTimeout(time.Minute))
		fs[i].AddDoneCallback(func(*futures.Future[int]) { called.Done() })
	}
	if g := runtime.NumGoroutine(); g > before+2 {
		t.Errorf("%d pending futures run %d goroutines", n, g-before)
	}
	for _, f := range fs {
		require.True(t, f.Cancel())
	}
	allCalled := make(chan struct{})
	go func() { called.Wait(); close(allCalled) }()
	select {
	case <-allCalled:
	case <-testkit.Context(t).Done():
		t.Fatal("callbacks did not all run")
	}
	require.NoError(t, r.Sync(testkit.Context(t)))
	if g := runtime.NumGoroutine(); g > before+2 {
		t.Errorf("%d goroutines left after cancelling (%d before)", g, before)
	}
}
