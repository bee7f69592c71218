package reactor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// This file holds yoton's event-loop controls in their Go form.
//
// Python yoton has one event queue per process that nothing processes
// unless the program calls process_events, start_event_loop (which calls
// it until stop_event_loop), or embeds the queue in another event loop
// with embed_event_loop. A Reactor's loop goroutine always runs: it never
// waits for the program to hand it control. So:
//
//   - start_event_loop is Run: it only blocks the caller (typically main)
//     until Stop, Close or the end of its ctx.
//   - stop_event_loop is Stop: it releases Run without closing anything.
//     Close stops the loop for good.
//   - process_events has no counterpart that processes anything: there is
//     nothing pending for the caller to run. Sync is the barrier a test or
//     a program that needs "everything queued so far has run" can wait on.
//   - embed_event_loop is OnQueued: a hook told whenever work is queued
//     for the loop, for a GUI toolkit that wants to refresh then. The
//     callbacks still run on the loop goroutine, never on the GUI's.

// loopControl is the state of Run, Stop and OnQueued.
type loopControl struct {
	onQueued atomic.Pointer[func()]

	mu          sync.Mutex
	runStop     chan struct{} // closed by Stop; nil while no Run waits
	running     int           // Run calls waiting on runStop
	stopPending bool          // a Stop came while no Run waited
}

// post queues fn on the loop, at the front of the queue when front is
// set. Post and postFront call it.
func (r *Reactor) post(fn func(), front bool) error {
	if r.closing.Load() {
		return ErrClosed
	}
	r.postMu.Lock()
	if front {
		r.postQ = append(r.postQ, nil)
		copy(r.postQ[1:], r.postQ)
		r.postQ[0] = fn
	} else {
		r.postQ = append(r.postQ, fn)
	}
	schedule := !r.postScheduled
	r.postScheduled = true
	r.postMu.Unlock()
	if !schedule {
		return nil
	}
	if err := r.loop.Execute(context.Background(), r.runPostedTask); err != nil {
		r.postMu.Lock()
		r.postScheduled = false
		r.postMu.Unlock()
		return fmt.Errorf("%w: %v", ErrClosed, err)
	}
	if hook := r.ctl.onQueued.Load(); hook != nil {
		(*hook)()
	}
	return nil
}

// postFront queues fn to run on the loop goroutine ahead of every
// function already waiting in the post queue (yoton's post_event_asap,
// call_later with a negative delay). Functions of a batch the loop is
// running at that moment finish first. Of several postFront calls the
// latest runs first. Safe for concurrent use; ErrClosed once the reactor
// is closing.
func (r *Reactor) postFront(fn func()) error { return r.post(fn, true) }

// Run blocks until Stop is called, the reactor is closed or ctx ends; it
// is yoton's start_event_loop. The loop does not need it: callbacks run
// on the loop goroutine whether or not anyone is in Run. It returns nil
// after Stop, ErrClosed once the reactor is closed and ctx's error when
// ctx ends. A Stop made while no Run waited makes the next Run return at
// once. Safe for concurrent use (every waiting Run returns on Stop); on
// the loop goroutine it returns ErrBlockingCall.
func (r *Reactor) Run(ctx context.Context) error {
	if r.OnLoop() {
		return ErrBlockingCall
	}
	c := &r.ctl
	c.mu.Lock()
	if c.stopPending {
		c.stopPending = false
		c.mu.Unlock()
		return nil
	}
	if c.runStop == nil {
		c.runStop = make(chan struct{})
	}
	ch := c.runStop
	c.running++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.runStop == ch {
			c.running--
			if c.running == 0 {
				c.runStop = nil
			}
		}
		c.mu.Unlock()
	}()
	select {
	case <-ch:
		return nil
	case <-r.stopped:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop makes every waiting Run return (yoton's stop_event_loop), or the
// next Run when none waits. It closes nothing: the loop keeps running
// until Close. Safe for concurrent use, including from a callback on the
// loop goroutine, where Close would return ErrBlockingCall.
func (r *Reactor) Stop() {
	c := &r.ctl
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runStop == nil {
		c.stopPending = true
		return
	}
	close(c.runStop)
	c.runStop = nil
	c.running = 0
}

// OnQueued sets the hook called whenever work is queued for the loop
// (Post, Do, CallLater, signal emits, due timers, channel Received
// handlers), once per burst: when the post queue goes from empty to
// non-empty. It is yoton's embed_event_loop for programs with an event
// loop of their own (a GUI toolkit) that want to know when yoton has
// work: the hook runs on the goroutine that queued the work, must return
// quickly and must not block on the loop. The work itself still runs on
// the loop goroutine. nil removes the hook. Safe for concurrent use.
func (r *Reactor) OnQueued(hook func()) {
	if hook == nil {
		r.ctl.onQueued.Store(nil)
		return
	}
	r.ctl.onQueued.Store(&hook)
}

// Sync waits until every function queued for the loop before the call
// (by Post, Do, CallLater, signal emits) has run. It is the
// closest Go form of yoton's process_events, which Go programs do not
// need: the loop processes events by itself. Useful in tests. Returns
// ctx's error when ctx ends first and ErrClosed when the reactor closes
// first. Safe for concurrent use; on the loop goroutine it returns
// ErrBlockingCall.
func (r *Reactor) Sync(ctx context.Context) error {
	if r.OnLoop() {
		return ErrBlockingCall
	}
	return r.Do(ctx, func() {})
}
