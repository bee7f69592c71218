package futures

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/goyoton/yoton/internal/loop"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

// Errors of futures, usable with errors.Is.
var (
	// ErrTimeout is returned (wrapping the ctx's own error) by Result,
	// Err and ResultOrCancel when the caller's ctx ends before the future
	// is done. yoton's TimeoutError.
	ErrTimeout = errors.New("yoton: result unavailable within the specified time")
	// ErrCancelled is returned by Result and Err of a cancelled future.
	// yoton's CancelledError.
	ErrCancelled = errors.New("yoton: result unavailable because the request was cancelled")
	// ErrRemote is matched (errors.Is) by every *RemoteError.
	ErrRemote = errors.New("yoton: remote error")
	// ErrInvalidState is returned when a future cannot make the asked
	// transition, which then changes nothing: SetResult on a future that
	// is not running, SetException on one that is done, or
	// SetRunningOrNotifyCancel on one that is running or done (not
	// cancelled).
	ErrInvalidState = errors.New("yoton: future is not in a state that allows this")
	// ErrNilLoop is returned by New without a loop.
	ErrNilLoop = errors.New("yoton: future needs a loop")
)

// RemoteError is a failure reported by the other end, for a request
// the text of the error raised while handling it (Python yoton's
// ("yoton_ERROR_HANDLING_REQUEST", message) reply). It matches ErrRemote
// with errors.Is. Use errors.As to read Message.
type RemoteError struct {
	// Message is the remote side's text, as it sent it. Python yoton
	// appends a line naming where the error was raised.
	Message string
}

// Error returns "yoton: remote error: " and the message. Safe for
// concurrent use.
func (e *RemoteError) Error() string { return "yoton: remote error: " + e.Message }

// Unwrap returns ErrRemote. Safe for concurrent use.
func (e *RemoteError) Unwrap() error { return ErrRemote }

// state is where a future is in its life.
type state uint8

const (
	statePending state = iota
	stateRunning
	stateCancelled
	stateFailed
	stateSucceeded
)

func (s state) done() bool { return s >= stateCancelled }

// Option configures a Future. New validates it: an invalid value is an
// error wrapping reactor.ErrBadOption. Options are immutable values, safe
// for concurrent use.
type Option interface{ apply(*config) error }

type config struct {
	onCancel func()
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// OnCancel sets a function called once when the future is cancelled (by
// Cancel or by its auto-cancel timeout), for implementers that must tell
// the other side; a ReqChannel sends yoton's "req-" from it. fn runs on
// the goroutine that cancelled the future, once the future is marked
// cancelled (Cancelled reports true) but before Done closes and the
// callbacks are queued, so waiters see what fn did; it must not block
// for long and must not wait for the future. OnCancel itself is safe for
// concurrent use.
func OnCancel(fn func()) Option {
	return optionFunc(func(c *config) error {
		if fn == nil {
			return fmt.Errorf("%w: OnCancel(nil)", reactor.ErrBadOption)
		}
		c.onCancel = fn
		return nil
	})
}

// Future is the result of a call that completes later (yoton's Future).
// Every method is safe for concurrent use; on the loop goroutine the
// waiting ones (Result, Err, ResultOrCancel) return reactor.ErrBlockingCall while
// the future is not done. Callbacks run on the loop goroutine. See the
// package documentation.
type Future[T any] struct {
	loop     loop.Loop
	onCancel func()
	created  time.Time
	done     chan struct{}

	mu          sync.Mutex
	st          state
	val         T
	err         error
	callbacks   []func(*Future[T])
	fired       bool          // done is closed and the callbacks are queued
	autoGen     uint64        // bumped by SetAutoCancelTimeout and completion
	autoArmed   bool          // a heap entry may exist
	autoTimeout time.Duration // the last SetAutoCancelTimeout's d

	autoEntry *loop.Entry // loop-owned
}

// New returns a pending future whose callbacks and auto-cancel timeout
// run on l (a *reactor.Reactor). It fails with ErrNilLoop when l is nil,
// and with an error wrapping reactor.ErrBadOption for an invalid option. Safe for
// concurrent use.
func New[T any](l timers.Loop, opts ...Option) (*Future[T], error) {
	if l == nil {
		return nil, ErrNilLoop
	}
	var cfg config
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", reactor.ErrBadOption)
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	return &Future[T]{
		loop:     loop.Of(l),
		onCancel: cfg.onCancel,
		created:  time.Now(),
		done:     make(chan struct{}),
	}, nil
}

// Done returns a channel that is closed when the future is done
// (succeeded, failed or cancelled). Safe for concurrent use.
func (f *Future[T]) Done() <-chan struct{} { return f.done }

// IsDone reports whether the future is done: it succeeded, failed or was
// cancelled (yoton's done()). Safe for concurrent use.
func (f *Future[T]) IsDone() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// Cancelled reports whether the future was cancelled. Safe for
// concurrent use.
func (f *Future[T]) Cancelled() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st == stateCancelled
}

// Running reports whether the call is being executed (a replier took the
// request) and can no longer be cancelled with Cancel. Safe for
// concurrent use.
func (f *Future[T]) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st == stateRunning
}

// AutoCancelError is the failure Result and Err report for a future that
// its auto-cancel timeout cancelled: nobody took the call within Timeout
// (a ReqChannel's: no replier offered to run the request). It matches
// ErrCancelled (the future was cancelled, as in yoton), ErrTimeout and
// context.DeadlineExceeded (a deadline passed, as when the caller's ctx
// ends), so that one errors.Is test catches every timeout of a call.
type AutoCancelError struct {
	Timeout time.Duration // the auto-cancel timeout that passed
}

// Error says that nobody took the call within the timeout. Safe for
// concurrent use.
func (e *AutoCancelError) Error() string {
	return fmt.Sprintf("yoton: request was cancelled: nobody took it within its auto-cancel timeout of %v", e.Timeout)
}

// Is matches ErrCancelled, ErrTimeout and context.DeadlineExceeded. Safe
// for concurrent use.
func (e *AutoCancelError) Is(target error) bool {
	return target == ErrCancelled || target == ErrTimeout || target == context.DeadlineExceeded
}

// Cancel cancels a pending future and reports whether the call is not
// running, as yoton's cancel() does: it returns false only for a running
// future (a replier took the call, which can no longer be stopped), and
// true otherwise. A pending future is cancelled by this call (Done
// closes, the OnCancel function runs and the callbacks are queued); a
// future that is already done, cancelled or not, is left as it is, with
// its result or failure. So true does not mean "cancelled now": ask
// Cancelled for that.
//
// concurrent.futures (PEP 3148) answers false for a future that already
// has its result or failure; yoton answers true there, and so does this
// method, since Python yoton is the reference. Safe for concurrent use.
func (f *Future[T]) Cancel() bool {
	return f.cancel(nil)
}

// cancel cancels a pending future; err (if not nil) is the failure it
// then reports instead of ErrCancelled.
func (f *Future[T]) cancel(err error) bool {
	f.mu.Lock()
	switch f.st {
	case stateRunning:
		f.mu.Unlock()
		return false
	case stateCancelled, stateFailed, stateSucceeded:
		f.mu.Unlock()
		return true
	}
	f.st = stateCancelled
	f.err = err
	f.mu.Unlock()
	// The OnCancel function runs before waiters wake, so that what it
	// does (a ReqChannel forgets the call) is visible to them.
	if f.onCancel != nil {
		f.onCancel()
	}
	f.mu.Lock()
	f.completeLocked(stateCancelled)
	f.mu.Unlock()
	f.afterComplete()
	return true
}

// SetRunningOrNotifyCancel marks a pending future running, for whoever
// executes the call (yoton's set_running_or_notify_cancel). It returns
// true when the future is now running, false (and nil) when it was
// cancelled, and ErrInvalidState (changing nothing) when it was running
// or done already, where yoton raises RuntimeError. A running future can
// no longer be cancelled, by Cancel or by its auto-cancel timeout (which
// is dropped). Safe for concurrent use.
func (f *Future[T]) SetRunningOrNotifyCancel() (bool, error) {
	f.mu.Lock()
	switch f.st {
	case statePending:
		f.st = stateRunning
		f.autoGen++
		f.mu.Unlock()
		f.afterComplete() // drops the auto-cancel entry
		return true, nil
	case stateCancelled:
		f.mu.Unlock()
		return false, nil
	}
	f.mu.Unlock()
	return false, ErrInvalidState
}

// SetResult completes a running future with v (one that
// SetRunningOrNotifyCancel put in the running state). On a future that
// is not running it changes nothing, as yoton's set_result, which acts
// only on a running future and silently ignores the call otherwise; it
// then returns ErrInvalidState: a pending future (nobody ran the call, so
// there is no result to have) or a done one (cancelled meanwhile, or
// completed before). Python has no way to tell the caller; here a caller
// that does not care ignores the error, one that does (a reply that lost
// a race with a cancel) can count or log it. Safe for concurrent use.
func (f *Future[T]) SetResult(v T) error {
	f.mu.Lock()
	if f.st != stateRunning {
		f.mu.Unlock()
		return ErrInvalidState
	}
	f.val = v
	f.completeLocked(stateSucceeded)
	f.mu.Unlock()
	f.afterComplete()
	return nil
}

// SetException completes a running or pending future with the failure
// err (nil is replaced by an error saying so). Result and Err return err
// as given; a remote failure should be a *RemoteError. On a done future
// it changes nothing and returns ErrInvalidState (yoton's set_exception
// silently ignores it; see SetResult for why Go reports it).
//
// Unlike yoton's set_exception, which acts only on a running future, it
// also fails a pending one: that is how the owner of a call that could
// not start reports why (a ReqChannel fails its outstanding calls with
// its reactor.ErrClosed when it closes, and a call whose announcement could not
// be sent with that error), where Python yoton can only cancel such a
// call and the reason is lost. Safe for concurrent use.
func (f *Future[T]) SetException(err error) error {
	if err == nil {
		err = errors.New("yoton: future failed with a nil error")
	}
	f.mu.Lock()
	if f.st.done() {
		f.mu.Unlock()
		return ErrInvalidState
	}
	f.err = err
	f.completeLocked(stateFailed)
	f.mu.Unlock()
	f.afterComplete()
	return nil
}

// completeLocked moves the future to its final state, wakes waiters and
// queues the callbacks. Queueing under the lock keeps the callbacks in
// the order they were added, also relative to ones added concurrently
// after completion. Under f.mu.
func (f *Future[T]) completeLocked(st state) {
	f.st = st
	f.autoGen++
	f.fired = true
	close(f.done)
	for i, fn := range f.callbacks {
		f.queue(fn)
		f.callbacks[i] = nil
	}
	f.callbacks = nil
}

// afterComplete drops the auto-cancel entry, if any, from the loop's
// heap so that a done future is not kept alive until its timeout.
func (f *Future[T]) afterComplete() {
	f.mu.Lock()
	armed := f.autoArmed
	f.autoArmed = false
	f.mu.Unlock()
	if !armed {
		return
	}
	if f.loop.OnLoop() {
		f.disarm()
		return
	}
	_ = f.loop.Post(f.disarm) // a closed loop runs no timers anyway
}

// disarm removes the auto-cancel entry. Loop goroutine.
func (f *Future[T]) disarm() {
	if f.autoEntry != nil {
		f.loop.CancelTimer(f.autoEntry)
		f.autoEntry = nil
	}
}

func (f *Future[T]) queue(fn func(*Future[T])) {
	// A closed loop runs nothing: the callback is dropped.
	_ = f.loop.Post(func() { fn(f) })
}

// AddDoneCallback queues fn to run on the loop goroutine, with the
// future, once it is done; callbacks run in the order they were added.
// On a future that is already done, fn is queued at once (it still runs
// on the loop goroutine, never inside this call). Callbacks are dropped
// when the loop has closed. Safe for concurrent use.
func (f *Future[T]) AddDoneCallback(fn func(*Future[T])) {
	if fn == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fired {
		f.queue(fn)
		return
	}
	f.callbacks = append(f.callbacks, fn)
}

// SetAutoCancelTimeout makes the future cancel itself when it is not
// done d after it was created (yoton's set_auto_cancel_timeout; a
// ReqChannel sets its timeout, 10 s by default, on every future it
// returns). As in yoton, it cancels only a pending future: once the call
// runs (a replier took it) the timeout no longer applies, and a caller
// bounds its wait with a ctx instead. The cancelled future then reports
// an *AutoCancelError. A deadline
// already past cancels the future at once, on the loop. d <= 0 removes
// the limit. It does nothing on a future that is already done. The
// timeout is one entry in the loop's deadline heap. It does nothing on a
// running future either. Safe for concurrent
// use; it returns the loop's error when the loop is closed.
func (f *Future[T]) SetAutoCancelTimeout(d time.Duration) error {
	f.mu.Lock()
	if f.st.done() || f.st == stateRunning {
		f.mu.Unlock()
		return nil
	}
	f.autoGen++
	g := f.autoGen
	wasArmed := f.autoArmed
	f.autoArmed = d > 0
	f.autoTimeout = d
	f.mu.Unlock()
	if d <= 0 && !wasArmed {
		return nil
	}
	deadline := f.created.Add(d)
	arm := func() { f.arm(g, d > 0, deadline) }
	if f.loop.OnLoop() {
		arm()
		return nil
	}
	return f.loop.Post(arm)
}

// arm replaces the auto-cancel entry with one for generation g, unless a
// later SetAutoCancelTimeout or the completion came meanwhile. Loop
// goroutine.
func (f *Future[T]) arm(g uint64, on bool, deadline time.Time) {
	if !f.currentGen(g) {
		return
	}
	f.disarm()
	if on {
		f.autoEntry = f.loop.AfterFunc(time.Until(deadline), func() { f.autoFire(g) })
	}
}

func (f *Future[T]) autoFire(g uint64) {
	f.autoEntry = nil
	f.mu.Lock()
	current, d := f.autoGen == g, f.autoTimeout
	f.mu.Unlock()
	if current {
		f.cancel(&AutoCancelError{Timeout: d})
	}
}

func (f *Future[T]) currentGen(g uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.autoGen == g
}

// wait waits for completion or the end of ctx. Off the loop goroutine
// only, unless the future is done.
func (f *Future[T]) wait(ctx context.Context) error {
	select {
	case <-f.done:
		return nil
	default:
	}
	if f.loop.OnLoop() {
		return reactor.ErrBlockingCall
	}
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		// Done wins a tie: a result that is there is not thrown away.
		select {
		case <-f.done:
			return nil
		default:
		}
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
}

// outcome returns the final value or error of a done future.
func (f *Future[T]) outcome() (T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var zero T
	switch f.st {
	case stateSucceeded:
		return f.val, nil
	case stateFailed:
		return zero, f.err
	}
	if f.err != nil {
		return zero, f.err // an *AutoCancelError
	}
	return zero, ErrCancelled
}

// Result waits until the future is done or ctx ends and returns its
// value. The error is ErrTimeout (wrapping ctx's error) when ctx ended
// first, ErrCancelled for a cancelled future, and the failure (a
// *RemoteError for a remote one) for a failed future. On the loop
// goroutine it never waits: a future that is not done yet gives
// reactor.ErrBlockingCall. Safe for concurrent use.
func (f *Future[T]) Result(ctx context.Context) (T, error) {
	if err := f.wait(ctx); err != nil {
		var zero T
		return zero, err
	}
	return f.outcome()
}

// Err waits as Result does and returns only the error: nil for a future
// that succeeded, the failure of one that failed (yoton's exception()),
// ErrCancelled, ErrTimeout or reactor.ErrBlockingCall. Safe for concurrent use.
func (f *Future[T]) Err(ctx context.Context) error {
	_, err := f.Result(ctx)
	return err
}

// ResultOrCancel waits as Result does; when ctx ends first it cancels
// the future (which a running future refuses) and returns ErrTimeout.
// yoton's result_or_cancel, which returns None instead of an error.
// Safe for concurrent use.
func (f *Future[T]) ResultOrCancel(ctx context.Context) (T, error) {
	v, err := f.Result(ctx)
	if errors.Is(err, ErrTimeout) {
		f.Cancel()
	}
	return v, err
}
