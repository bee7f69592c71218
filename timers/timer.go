package timers

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/goyoton/yoton/internal/loop"
)

// Errors of timers, usable with errors.Is.
var (
	// ErrBadInterval is returned for a timer interval that is not
	// positive (yoton raises ValueError).
	ErrBadInterval = errors.New("yoton: timer interval must be positive")
	// ErrBadMode is returned for a Mode that is neither OneShot nor
	// Repeating.
	ErrBadMode = errors.New("yoton: unknown timer mode")
)

// Mode says whether a Timer fires once or keeps firing.
type Mode int

// The two timer modes. OneShot is yoton's default (oneshot=True).
const (
	OneShot   Mode = iota // fire once, then stop
	Repeating             // fire every interval until Stop
)

// String returns "one-shot" or "repeating". Safe for concurrent use.
func (m Mode) String() string {
	switch m {
	case OneShot:
		return "one-shot"
	case Repeating:
		return "repeating"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Timer is yoton's Timer: a Signal whose handlers are called, on the loop
// goroutine, each time the timer runs out. Bind handlers with the
// embedded Signal (timer.Bind(func(t *timers.Timer) {...})); they get the
// timer itself.
//
// A timer is one entry in the loop's deadline heap while it runs: no
// goroutine and no runtime timer of its own, so thousands cost little. A
// repeating timer keeps its phase: its n-th timeout is due n intervals
// after Start, and timeouts missed while the loop was busy are skipped,
// not made up (yoton restarts the interval after each timeout and so
// drifts). At timeout each handler call is queued behind the work already
// queued on the loop, as yoton's timer emits its signal.
//
// All methods are safe for concurrent use except EmitNow of the embedded
// Signal, which is loop goroutine only. Started off the loop, a timer
// counts from the Start call; started on the loop, from the moment its
// heap entry is added (so timers started in order in one loop callback
// with growing intervals fire in that order).
type Timer struct {
	*Signal[*Timer]
	loop loop.Loop

	mu       sync.Mutex
	interval time.Duration
	mode     Mode
	gen      uint64 // bumped by every Start and Stop
	running  bool

	// Loop-owned.
	entry *loop.Entry
	due   time.Time
}

// NewTimer returns a stopped timer that, once started, runs out after
// interval (which must be positive) once or repeatedly, on loop. Safe
// for concurrent use.
func NewTimer(l Loop, interval time.Duration, mode Mode) (*Timer, error) {
	if err := checkTimer(interval, mode); err != nil {
		return nil, err
	}
	t := &Timer{loop: loopOf(l), interval: interval, mode: mode}
	t.Signal = NewSignal[*Timer](l)
	return t, nil
}

func checkTimer(interval time.Duration, mode Mode) error {
	if err := checkInterval(interval); err != nil {
		return err
	}
	return checkMode(mode)
}

func checkInterval(interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("%w: %v", ErrBadInterval, interval)
	}
	return nil
}

func checkMode(mode Mode) error {
	if mode != OneShot && mode != Repeating {
		return fmt.Errorf("%w %d", ErrBadMode, int(mode))
	}
	return nil
}

// Interval returns the timer's interval. Safe for concurrent use.
func (t *Timer) Interval() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.interval
}

// Mode returns whether the timer is one-shot or repeating. Safe for
// concurrent use.
func (t *Timer) Mode() Mode {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mode
}

// SetInterval sets the interval without starting or stopping the timer
// (yoton's interval property). As in yoton, a running timer keeps the
// deadline it has: the new interval counts from the next time the timer
// is started and, for a repeating timer, from the timeout now due (its
// next timeout is due interval after that one). interval must be
// positive: otherwise it returns ErrBadInterval and changes nothing, as
// yoton raises ValueError. Safe for concurrent use.
func (t *Timer) SetInterval(interval time.Duration) error {
	if err := checkInterval(interval); err != nil {
		return err
	}
	t.mu.Lock()
	t.interval = interval
	t.mu.Unlock()
	return nil
}

// SetMode sets whether the timer is one-shot or repeating without
// starting or stopping it (yoton's oneshot property). As in yoton, the
// mode is read when the timer runs out: a running repeating timer made
// OneShot fires once more, at the deadline it has, and then stops; a
// running one-shot timer made Repeating keeps firing after its timeout.
// An unknown mode gives ErrBadMode and changes nothing. Safe for
// concurrent use.
func (t *Timer) SetMode(mode Mode) error {
	if err := checkMode(mode); err != nil {
		return err
	}
	t.mu.Lock()
	t.mode = mode
	t.mu.Unlock()
	return nil
}

// Running reports whether the timer is started and has not run out (a
// one-shot timer stops when it runs out). Safe for concurrent use.
func (t *Timer) Running() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.running
}

// Start starts the timer with its current interval and mode; a running
// timer starts counting again. Safe for concurrent use. It returns the
// loop's error (and the timer stays stopped) when the loop is closed.
func (t *Timer) Start() error {
	return t.start(0, 0, false)
}

// StartWith sets a new interval and mode, then starts the timer as Start
// does (yoton's start(interval, oneshot)); SetInterval and SetMode set
// them without starting. Safe for concurrent use.
func (t *Timer) StartWith(interval time.Duration, mode Mode) error {
	if err := checkTimer(interval, mode); err != nil {
		return err
	}
	return t.start(interval, mode, true)
}

func (t *Timer) start(interval time.Duration, mode Mode, set bool) error {
	t.mu.Lock()
	if set {
		t.interval, t.mode = interval, mode
	}
	t.gen++
	g := t.gen
	t.running = true
	d := t.interval
	t.mu.Unlock()
	if t.loop.OnLoop() {
		t.arm(g, d)
		return nil
	}
	deadline := time.Now().Add(d)
	if err := t.loop.Post(func() { t.arm(g, time.Until(deadline)) }); err != nil {
		t.mu.Lock()
		if t.gen == g {
			t.running = false
		}
		t.mu.Unlock()
		return err
	}
	return nil
}

// Stop stops the timer; a timeout whose handlers were already queued
// still runs them. Stopping a stopped timer does nothing. Safe for
// concurrent use.
func (t *Timer) Stop() {
	t.mu.Lock()
	t.gen++
	g := t.gen
	t.running = false
	t.mu.Unlock()
	if t.loop.OnLoop() {
		t.disarm(g)
		return
	}
	// A closed loop runs no timers: nothing left to cancel then.
	_ = t.loop.Post(func() { t.disarm(g) })
}

// arm replaces the heap entry with one for start generation g, unless a
// later Start or Stop came meanwhile. Loop goroutine.
func (t *Timer) arm(g uint64, d time.Duration) {
	if !t.current(g) {
		return
	}
	t.cancelEntry()
	t.entry = t.loop.AfterFunc(d, func() { t.fire(g) })
	t.due = t.entry.When()
}

// disarm removes the heap entry for Stop generation g. Loop goroutine.
func (t *Timer) disarm(g uint64) {
	if t.current(g) {
		t.cancelEntry()
	}
}

func (t *Timer) cancelEntry() {
	if t.entry != nil {
		t.loop.CancelTimer(t.entry)
		t.entry = nil
	}
}

func (t *Timer) current(g uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gen == g
}

// fire runs when the heap entry of generation g is due. Loop goroutine.
func (t *Timer) fire(g uint64) {
	t.mu.Lock()
	if t.gen != g {
		t.mu.Unlock()
		return
	}
	interval, mode := t.interval, t.mode
	if mode == OneShot {
		t.running = false
	}
	t.mu.Unlock()
	t.entry = nil
	if mode == Repeating {
		next := t.due.Add(interval)
		if now := time.Now(); !next.After(now) {
			missed := now.Sub(t.due) / interval
			next = t.due.Add((missed + 1) * interval)
		}
		t.entry = t.loop.AfterFunc(time.Until(next), func() { t.fire(g) })
		t.due = next
	}
	_ = t.Emit(t)
}

// CallLater calls fn on loop's goroutine after delay (yoton's
// call_later): a positive delay schedules it in the loop's deadline heap,
// zero queues it behind the work already queued, and a negative delay
// queues it in front of that work. Safe for concurrent use. It returns the
// loop's error when the loop is closed; a call scheduled in the heap is
// dropped if the loop closes before it is due.
func CallLater(l Loop, delay time.Duration, fn func()) error {
	loop := loopOf(l)
	switch {
	case delay == 0:
		return loop.Post(fn)
	case delay < 0:
		return loop.PostFront(fn)
	}
	// At the deadline, fn is queued like any other call rather than run
	// inside the heap's batch, so a panic in it cannot stop the timers
	// due with it.
	due := func() { _ = loop.Post(fn) }
	if loop.OnLoop() {
		loop.AfterFunc(delay, due)
		return nil
	}
	deadline := time.Now().Add(delay)
	return loop.Post(func() { loop.AfterFunc(time.Until(deadline), due) })
}
