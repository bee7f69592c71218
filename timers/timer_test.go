package timers_test

import (
	"errors"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

// later returns a channel closed once a one-shot timer of d, started now
// on r, has fired: every timer due before it has fired by then.
func later(t *testing.T, r *reactor.Reactor, d time.Duration) <-chan struct{} {
	t.Helper()
	ch := make(chan struct{})
	require.NoError(t, timers.CallLater(r, d, func() { close(ch) }))
	return ch
}

func TestNewTimerValidates(t *testing.T) {
	r := reactorkit.NewReactor(t)
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
	r := reactorkit.NewReactor(t)
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
	testkit.Wait(t, fired, "the timer")
	assert.GreaterOrEqual(t, time.Since(start), 5*time.Millisecond, "not early")
	assert.False(t, tm.Running(), "a one-shot timer stops when it runs out")
	testkit.Wait(t, later(t, r, 30*time.Millisecond), "a later call")
	testkit.Do(t, r, func() {
		assert.Equal(t, 1, count)
		assert.Same(t, tm, got)
		assert.True(t, onLoop)
	})
}

func TestTimerRepeatingUntilStop(t *testing.T) {
	r := reactorkit.NewReactor(t)
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
	testkit.Wait(t, stopped, "five timeouts")
	assert.False(t, tm.Running())
	// Had it kept running, timeouts every millisecond would come before
	// this call 30 ms later.
	testkit.Wait(t, later(t, r, 30*time.Millisecond), "a later call")
	testkit.Do(t, r, func() { assert.Equal(t, 5, count) })
}

func TestTimerStopBeforeTimeout(t *testing.T) {
	r := reactorkit.NewReactor(t)
	tm, err := timers.NewTimer(r, 10*time.Millisecond, timers.OneShot)
	require.NoError(t, err)
	count := 0
	tm.Bind(func(*timers.Timer) { count++ })
	require.NoError(t, tm.Start())
	tm.Stop()
	tm.Stop() // twice is fine
	assert.False(t, tm.Running())
	testkit.Wait(t, later(t, r, 40*time.Millisecond), "a later call")
	testkit.Do(t, r, func() { assert.Zero(t, count) })
}

func TestTimerRestartCountsAgain(t *testing.T) {
	r := reactorkit.NewReactor(t)
	tm, err := timers.NewTimer(r, 20*time.Millisecond, timers.OneShot)
	require.NoError(t, err)
	var order []string
	tm.Bind(func(*timers.Timer) { order = append(order, "timer") })
	// On the loop, so that the order of the heap entries is exact: the
	// timer, restarted after a 10 ms marker was scheduled... is due at 20
	// ms, after the marker and before a 30 ms one.
	marker := func(name string) func() { return func() { order = append(order, name) } }
	done := make(chan struct{})
	testkit.Do(t, r, func() {
		require.NoError(t, tm.Start())
		require.NoError(t, timers.CallLater(r, 10*time.Millisecond, marker("10ms")))
		require.NoError(t, tm.Start()) // restart: one timeout only
		require.NoError(t, timers.CallLater(r, 30*time.Millisecond, marker("30ms")))
		require.NoError(t, timers.CallLater(r, 60*time.Millisecond, func() { close(done) }))
	})
	testkit.Wait(t, done, "the last marker")
	testkit.Do(t, r, func() { assert.Equal(t, []string{"10ms", "timer", "30ms"}, order) })
}

func TestTimerStartWith(t *testing.T) {
	r := reactorkit.NewReactor(t)
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
	testkit.Wait(t, three, "three timeouts of the new interval")
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
	r := reactorkit.NewReactor(t)
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
	testkit.Do(t, r, func() {
		started = time.Now()
		for _, tm := range ts {
			require.NoError(t, tm.Start())
		}
		during = runtime.NumGoroutine()
	})
	assert.Less(t, during-before, 10, "goroutines: %d before, %d with %d timers running", before, during, n)
	testkit.Wait(t, done, "10,000 timers")
	testkit.Do(t, r, func() {
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
	r := reactorkit.NewReactor(t)
	var order []string
	add := func(name string) func() { return func() { order = append(order, name) } }
	// Hold the loop so that everything below queues up behind it.
	release := make(chan struct{})
	held := make(chan struct{})
	require.NoError(t, r.Post(func() { close(held); <-release }))
	testkit.Wait(t, held, "the loop to be held")
	require.NoError(t, timers.CallLater(r, 0, add("zero 1")))
	require.NoError(t, timers.CallLater(r, 20*time.Millisecond, add("20ms")))
	require.NoError(t, timers.CallLater(r, 5*time.Millisecond, add("5ms")))
	require.NoError(t, timers.CallLater(r, 0, add("zero 2")))
	require.NoError(t, timers.CallLater(r, -1, add("front 1")))
	require.NoError(t, timers.CallLater(r, -time.Second, add("front 2")))
	close(release)
	testkit.Wait(t, later(t, r, 50*time.Millisecond), "a later call")
	testkit.Do(t, r, func() {
		assert.Equal(t, []string{"front 2", "front 1", "zero 1", "zero 2", "5ms", "20ms"}, order)
	})
}

func TestCallLaterOnLoop(t *testing.T) {
	r := reactorkit.NewReactor(t)
	var order []string
	add := func(name string) func() { return func() { order = append(order, name) } }
	done := make(chan struct{})
	testkit.Do(t, r, func() {
		require.NoError(t, timers.CallLater(r, 10*time.Millisecond, add("10ms")))
		require.NoError(t, timers.CallLater(r, time.Millisecond, add("1ms")))
		require.NoError(t, timers.CallLater(r, 0, add("zero")))
		require.NoError(t, timers.CallLater(r, -1, add("front")))
		require.NoError(t, timers.CallLater(r, 30*time.Millisecond, func() { close(done) }))
	})
	testkit.Wait(t, done, "the last call")
	testkit.Do(t, r, func() {
		assert.Equal(t, []string{"front", "zero", "1ms", "10ms"}, order)
	})
}

// A panicking handler does not keep the other handlers, or the timers
// due at the same time, from running (the reactor logs the panic).
func TestTimerHandlerPanicIsContained(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, err := timers.NewTimer(r, 2*time.Millisecond, timers.OneShot)
	require.NoError(t, err)
	b, err := timers.NewTimer(r, 2*time.Millisecond, timers.OneShot)
	require.NoError(t, err)
	var got []string
	a.Bind(func(*timers.Timer) { panic("handler failed") })
	a.Bind(func(*timers.Timer) { got = append(got, "a2") })
	b.Bind(func(*timers.Timer) { got = append(got, "b") })
	testkit.Do(t, r, func() {
		require.NoError(t, a.Start())
		require.NoError(t, b.Start())
	})
	testkit.Wait(t, later(t, r, 30*time.Millisecond), "a later call")
	testkit.Do(t, r, func() { assert.Equal(t, []string{"a2", "b"}, got) })
}

func TestTimerSettersValidate(t *testing.T) {
	r := reactorkit.NewReactor(t)
	tm, err := timers.NewTimer(r, time.Second, timers.OneShot)
	require.NoError(t, err)
	tests := []struct {
		name    string
		set     func() error
		wantErr error
	}{
		{name: "zero interval", set: func() error { return tm.SetInterval(0) }, wantErr: timers.ErrBadInterval},
		{name: "negative interval", set: func() error { return tm.SetInterval(-time.Second) }, wantErr: timers.ErrBadInterval},
		{name: "unknown mode", set: func() error { return tm.SetMode(timers.Mode(7)) }, wantErr: timers.ErrBadMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.set(), tt.wantErr)
			assert.Equal(t, time.Second, tm.Interval(), "unchanged")
			assert.Equal(t, timers.OneShot, tm.Mode(), "unchanged")
			assert.False(t, tm.Running())
		})
	}
	_, err = timers.NewTimer(r, time.Second, timers.Mode(-1))
	assert.ErrorIs(t, err, timers.ErrBadMode)
}

// timerSemantics is what setting a timer's interval and mode does, in
// the scenarios of peer.py's timer_semantics (Python yoton's Timer
// interval and oneshot properties); the fields are named as there.
type timerSemantics struct {
	OneshotWhileRunning struct {
		Fires   int  `json:"fires"`
		Running bool `json:"running"`
	} `json:"oneshot_while_running"`
	RepeatingWhileRunning struct {
		Repeats bool `json:"repeats"`
		Running bool `json:"running"`
	} `json:"repeating_while_running"`
	IntervalWhileRunning struct {
		FirstAtOldDeadline bool    `json:"first_at_old_deadline"`
		ThenNewInterval    bool    `json:"then_new_interval"`
		Interval           float64 `json:"interval"`
	} `json:"interval_while_running"`
	SetWhileStopped struct {
		RunningAfterSet   bool    `json:"running_after_set"`
		RepeatsAfterStart bool    `json:"repeats_after_start"`
		Interval          float64 `json:"interval"`
	} `json:"set_while_stopped"`
	BadInterval map[string]string `json:"bad_interval"`
}

// wantTimerSemantics is what Python yoton answers (checked by
// TestInteropTimerSetters).
func wantTimerSemantics() timerSemantics {
	var w timerSemantics
	w.OneshotWhileRunning.Fires = 1
	w.RepeatingWhileRunning.Repeats = true
	w.RepeatingWhileRunning.Running = true
	w.IntervalWhileRunning.FirstAtOldDeadline = true
	w.IntervalWhileRunning.ThenNewInterval = true
	w.IntervalWhileRunning.Interval = 0.01
	w.SetWhileStopped.RepeatsAfterStart = true
	w.SetWhileStopped.Interval = 0.01
	w.BadInterval = map[string]string{"0": "ValueError", "-1": "ValueError"}
	return w
}

// goTimerSemantics runs the scenarios on Go timers. Where a scenario
// checks that something did not happen by a time, it waits for a marker
// in the loop's deadline heap, which runs after every entry due before
// it: no sleep.
func goTimerSemantics(t *testing.T, r *reactor.Reactor) timerSemantics {
	t.Helper()
	var got timerSemantics
	newTimer := func(d time.Duration, m timers.Mode) *timers.Timer {
		t.Helper()
		tm, err := timers.NewTimer(r, d, m)
		require.NoError(t, err)
		t.Cleanup(tm.Stop)
		return tm
	}

	// A running repeating timer made one-shot fires once more, then
	// stops: by a marker 100 ms after that timeout (5 intervals), no
	// other timeout came.
	{
		tm := newTimer(20*time.Millisecond, timers.Repeating)
		marker := make(chan struct{})
		fires := 0 // loop goroutine
		tm.Bind(func(*timers.Timer) {
			fires++
			if fires == 1 {
				assert.NoError(t, timers.CallLater(r, 100*time.Millisecond, func() { close(marker) }))
			}
		})
		testkit.Do(t, r, func() {
			assert.NoError(t, tm.Start())
			assert.NoError(t, tm.SetMode(timers.OneShot))
		})
		testkit.Wait(t, marker, "the marker after the timeout")
		testkit.Do(t, r, func() { got.OneshotWhileRunning.Fires = fires })
		got.OneshotWhileRunning.Running = tm.Running()
	}

	// A running one-shot timer made repeating keeps firing.
	{
		tm := newTimer(20*time.Millisecond, timers.OneShot)
		three := make(chan struct{})
		fires := 0
		tm.Bind(func(*timers.Timer) {
			fires++
			if fires == 3 {
				close(three)
			}
		})
		testkit.Do(t, r, func() {
			assert.NoError(t, tm.Start())
			assert.NoError(t, tm.SetMode(timers.Repeating))
		})
		testkit.Wait(t, three, "three timeouts")
		got.RepeatingWhileRunning.Repeats = true
		got.RepeatingWhileRunning.Running = tm.Running()
		tm.Stop()
	}

	// A running timer given a new interval keeps its deadline (500 ms);
	// its next timeout comes at the new interval (10 ms): before a marker
	// set 250 ms after the first timeout.
	{
		tm := newTimer(500*time.Millisecond, timers.Repeating)
		marker := make(chan struct{})
		var started time.Time
		var first time.Duration
		fires, firesAtMarker := 0, 0
		tm.Bind(func(*timers.Timer) {
			fires++
			if fires == 1 {
				first = time.Since(started)
				assert.NoError(t, timers.CallLater(r, 250*time.Millisecond, func() {
					firesAtMarker = fires
					close(marker)
				}))
			}
		})
		testkit.Do(t, r, func() {
			started = time.Now()
			assert.NoError(t, tm.Start())
			assert.NoError(t, tm.SetInterval(10*time.Millisecond))
		})
		testkit.Wait(t, marker, "the marker after the first timeout")
		testkit.Do(t, r, func() {
			got.IntervalWhileRunning.FirstAtOldDeadline = first >= 400*time.Millisecond
			got.IntervalWhileRunning.ThenNewInterval = firesAtMarker >= 2
		})
		got.IntervalWhileRunning.Interval = tm.Interval().Seconds()
		tm.Stop()
	}

	// Set while stopped: nothing starts; Start uses the new values.
	{
		tm := newTimer(time.Second, timers.OneShot)
		require.NoError(t, tm.SetInterval(10*time.Millisecond))
		require.NoError(t, tm.SetMode(timers.Repeating))
		got.SetWhileStopped.RunningAfterSet = tm.Running()
		three := make(chan struct{})
		fires := 0
		tm.Bind(func(*timers.Timer) {
			fires++
			if fires == 3 {
				close(three)
			}
		})
		require.NoError(t, tm.Start())
		testkit.Wait(t, three, "three timeouts")
		got.SetWhileStopped.RepeatsAfterStart = true
		got.SetWhileStopped.Interval = tm.Interval().Seconds()
		tm.Stop()
	}

	got.BadInterval = map[string]string{}
	for _, s := range []int{0, -1} {
		tm := newTimer(time.Second, timers.OneShot)
		got.BadInterval[strconv.Itoa(s)] = "accepted"
		if errors.Is(tm.SetInterval(time.Duration(s)*time.Second), timers.ErrBadInterval) {
			got.BadInterval[strconv.Itoa(s)] = "ValueError"
		}
	}
	return got
}

// TestTimerSetters: SetInterval and SetMode behave as Python yoton's
// interval and oneshot properties (TestInteropTimerSetters runs the same
// scenarios against Python).
func TestTimerSetters(t *testing.T) {
	r := reactorkit.NewReactor(t)
	assert.Equal(t, wantTimerSemantics(), goTimerSemantics(t, r))
}
