package timers_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

// waitTimeout bounds every wait; it guards against hangs and measures
// nothing.
const waitTimeout = 10 * time.Second

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func doOnLoop(t *testing.T, r *reactor.Reactor, fn func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, r.Do(ctx, fn))
}

// later returns a channel closed once a one-shot timer of d, started now
// on r, has fired: every timer due before it has fired by then.
func later(t *testing.T, r *reactor.Reactor, d time.Duration) <-chan struct{} {
	t.Helper()
	ch := make(chan struct{})
	require.NoError(t, timers.CallLater(r, d, func() { close(ch) }))
	return ch
}

func TestNewTimerValidates(t *testing.T) {
	r := newLoop(t)
	tests := []struct {
		name     string
		interval time.Duration
		mode     timers.Mode
		wantErr  bool
	}{
		{name: "one-shot", interval: time.Millisecond, mode: timers.OneShot},
		{name: "repeating", interval: time.Hour, mode: timers.Repeating},
		{name: "zero interval", interval: 0, mode: timers.OneShot, wantErr: true},
		{name: "negative interval", interval: -time.Second, mode: timers.Repeating, wantErr: true},
		{name: "unknown mode", interval: time.Second, mode: timers.Mode(7), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := timers.NewTimer(r, tt.interval, tt.mode)
			if tt.wantErr {
				assert.Error(t, err)
				assert.Nil(t, tm)
				if tt.interval <= 0 {
					assert.ErrorIs(t, err, timers.ErrBadInterval)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.interval, tm.Interval())
			assert.Equal(t, tt.mode, tm.Mode())
			assert.False(t, tm.Running())
		})
	}
}

func TestTimerOneShotFiresOnceOnLoop(t *testing.T) {
	r := newLoop(t)
	tm, err := timers.NewTimer(r, 5*time.Millisecond, timers.OneShot)
	require.NoError(t, err)
	fired := make(chan struct{})
	count := 0
	var got *timers.Timer
	onLoop := true
	tm.Bind(func(x *timers.Timer) {
		onLoop = onLoop && r.OnLoop()
		got = x
		count++
		if count == 1 {
			close(fired)
		}
	})
	start := time.Now()
	require.NoError(t, tm.Start())
	assert.True(t, tm.Running())
	waitFor(t, fired, "the timer")
	assert.GreaterOrEqual(t, time.Since(start), 5*time.Millisecond, "not early")
	assert.False(t, tm.Running(), "a one-shot timer stops when it runs out")
	waitFor(t, later(t, r, 30*time.Millisecond), "a later call")
	doOnLoop(t, r, func() {
		assert.Equal(t, 1, count)
		assert.Same(t, tm, got)
		assert.True(t, onLoop)
	})
}

func TestTimerRepeatingUntilStop(t *testing.T) {
	r := newLoop(t)
	tm, err := timers.NewTimer(r, time.Millisecond, timers.Repeating)
	require.NoError(t, err)
	stopped := make(chan struct{})
	count := 0
	tm.Bind(func(x *timers.Timer) {
		count++
		if count == 5 {
			x.Stop() // on the loop
			close(stopped)
		}
	})
	require.NoError(t, tm.Start())
	waitFor(t, stopped, "five timeouts")
	assert.False(t, tm.Running())
	// Had it kept running, timeouts every millisecond would come before
	// this call 30 ms later.
	waitFor(t, later(t, r, 30*time.Millisecond), "a later call")
	doOnLoop(t, r, func() { assert.Equal(t, 5, count) })
}

func TestTimerStopBeforeTimeout(t *testing.T) {
	r := newLoop(t)
	tm, err := timers.NewTimer(r, 10*time.Millisecond, timers.OneShot)
	require.NoError(t, err)
	count := 0
	tm.Bind(func(*timers.Timer) { count++ })
	require.NoError(t, tm.Start())
	tm.Stop()
	tm.Stop() // twice is fine
	assert.False(t, tm.Running())
	waitFor(t, later(t, r, 40*time.Millisecond), "a later call")
	doOnLoop(t, r, func() { assert.Zero(t, count) })
}

func TestTimerRestartCountsAgain(t *testing.T) {
	r := newLoop(t)
	tm, err := timers.NewTimer(r, 20*time.Millisecond, timers.OneShot)
	require.NoError(t, err)
	var order []string
	tm.Bind(func(*timers.Timer) { order = append(order, "timer") })
	// On the loop, so that the order of the heap entries is exact: the
	// timer, restarted after a 10 ms marker was scheduled... is due at 20
	// ms, after the marker and before a 30 ms one.
	marker := func(name string) func() { return func() { order = append(order, name) } }
	done := make(chan struct{})
	doOnLoop(t, r, func() {
		require.NoError(t, tm.Start())
		require.NoError(t, timers.CallLater(r, 10*time.Millisecond, marker("10ms")))
		require.NoError(t, tm.Start()) // restart: one timeout only
		require.NoError(t, timers.CallLater(r, 30*time.Millisecond, marker("30ms")))
		require.NoError(t, timers.CallLater(r, 60*time.Millisecond, func() { close(done) }))
	})
	waitFor(t, done, "the last marker")
	doOnLoop(t, r, func() { assert.Equal(t, []string{"10ms", "timer", "30ms"}, order) })
}

func TestTimerStartWith(t *testing.T) {
	r := newLoop(t)
	tm, err := timers.NewTimer(r, time.Hour, timers.OneShot)
	require.NoError(t, err)
	assert.ErrorIs(t, tm.StartWith(0, timers.Repeating), timers.ErrBadInterval)
	assert.False(t, tm.Running(), "a refused StartWith does not start")
	assert.Equal(t, time.Hour, tm.Interval())

	three := make(chan struct{})
	count := 0
	tm.Bind(func(x *timers.Timer) {
		count++
		if count == 3 {
			x.Stop()
			close(three)
		}
	})
	require.NoError(t, tm.StartWith(time.Millisecond, timers.Repeating))
	assert.Equal(t, time.Millisecond, tm.Interval())
	assert.Equal(t, timers.Repeating, tm.Mode())
	waitFor(t, three, "three timeouts of the new interval")
}

func TestTimerOnClosedLoop(t *testing.T) {
	r, err := reactor.New()
	require.NoError(t, err)
	tm, err := timers.NewTimer(r, time.Millisecond, timers.OneShot)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.ErrorIs(t, tm.Start(), reactor.ErrClosed)
	assert.False(t, tm.Running())
	tm.Stop()
	assert.ErrorIs(t, timers.CallLater(r, 0, func() {}), reactor.ErrClosed)
	assert.ErrorIs(t, timers.CallLater(r, -1, func() {}), reactor.ErrClosed)
	assert.ErrorIs(t, timers.CallLater(r, time.Second, func() {}), reactor.ErrClosed)
}

func TestModeString(t *testing.T) {
	assert.Equal(t, "one-shot", timers.OneShot.String())
	assert.Equal(t, "repeating", timers.Repeating.String())
	assert.Equal(t, "Mode(9)", timers.Mode(9).String())
}

// TestManyTimersInOneHeap starts 10,000 timers: they add no goroutine
// (each is an entry in the loop's heap) and fire in deadline order, none
// early.
func TestManyTimersInOneHeap(t *testing.T) {
	const n = 10000
	const step = 20 * time.Microsecond
	r := newLoop(t)
	ts := make([]*timers.Timer, n)
	var order []int
	early := 0
	var started time.Time
	done := make(chan struct{})
	for i := range ts {
		tm, err := timers.NewTimer(r, time.Millisecond+time.Duration(i)*step, timers.OneShot)
		require.NoError(t, err)
		tm.Bind(func(x *timers.Timer) {
			if time.Since(started) < x.Interval() {
				early++
			}
			order = append(order, i)
			if len(order) == n {
				close(done)
			}
		})
		ts[i] = tm
	}
	before := runtime.NumGoroutine()
	var during int
	doOnLoop(t, r, func() {
		started = time.Now()
		for _, tm := range ts {
			require.NoError(t, tm.Start())
		}
		during = runtime.NumGoroutine()
	})
	assert.Less(t, during-before, 10, "goroutines: %d before, %d with %d timers running", before, during, n)
	waitFor(t, done, "10,000 timers")
	doOnLoop(t, r, func() {
		assert.Zero(t, early, "timers fired early")
		for i, v := range order {
			if v != i {
				t.Fatalf("timer %d fired in place %d", v, i)
			}
		}
	})
	for _, tm := range ts {
		assert.False(t, tm.Running())
	}
}

func TestCallLater(t *testing.T) {
	r := newLoop(t)
	var order []string
	add := func(name string) func() { return func() { order = append(order, name) } }
	// Hold the loop so that everything below queues up behind it.
	release := make(chan struct{})
	held := make(chan struct{})
	require.NoError(t, r.Post(func() { close(held); <-release }))
	waitFor(t, held, "the loop to be held")
	require.NoError(t, timers.CallLater(r, 0, add("zero 1")))
	require.NoError(t, timers.CallLater(r, 20*time.Millisecond, add("20ms")))
	require.NoError(t, timers.CallLater(r, 5*time.Millisecond, add("5ms")))
	require.NoError(t, timers.CallLater(r, 0, add("zero 2")))
	require.NoError(t, timers.CallLater(r, -1, add("front 1")))
	require.NoError(t, timers.CallLater(r, -time.Second, add("front 2")))
	close(release)
	waitFor(t, later(t, r, 50*time.Millisecond), "a later call")
	doOnLoop(t, r, func() {
		assert.Equal(t, []string{"front 2", "front 1", "zero 1", "zero 2", "5ms", "20ms"}, order)
	})
}

func TestCallLaterOnLoop(t *testing.T) {
	r := newLoop(t)
	var order []string
	add := func(name string) func() { return func() { order = append(order, name) } }
	done := make(chan struct{})
	doOnLoop(t, r, func() {
		require.NoError(t, timers.CallLater(r, 10*time.Millisecond, add("10ms")))
		require.NoError(t, timers.CallLater(r, time.Millisecond, add("1ms")))
		require.NoError(t, timers.CallLater(r, 0, add("zero")))
		require.NoError(t, timers.CallLater(r, -1, add("front")))
		require.NoError(t, timers.CallLater(r, 30*time.Millisecond, func() { close(done) }))
	})
	waitFor(t, done, "the last call")
	doOnLoop(t, r, func() {
		assert.Equal(t, []string{"front", "zero", "1ms", "10ms"}, order)
	})
}

// A panicking handler does not keep the other handlers, or the timers
// due at the same time, from running (the reactor logs the panic).
func TestTimerHandlerPanicIsContained(t *testing.T) {
	r := newLoop(t)
	a, err := timers.NewTimer(r, 2*time.Millisecond, timers.OneShot)
	require.NoError(t, err)
	b, err := timers.NewTimer(r, 2*time.Millisecond, timers.OneShot)
	require.NoError(t, err)
	var got []string
	a.Bind(func(*timers.Timer) { panic("handler failed") })
	a.Bind(func(*timers.Timer) { got = append(got, "a2") })
	b.Bind(func(*timers.Timer) { got = append(got, "b") })
	doOnLoop(t, r, func() {
		require.NoError(t, a.Start())
		require.NoError(t, b.Start())
	})
	waitFor(t, later(t, r, 30*time.Millisecond), "a later call")
	doOnLoop(t, r, func() { assert.Equal(t, []string{"a2", "b"}, got) })
}
