// Package futures is yoton's Future (PEP 3148 semantics) in Go: the
// result of a call that completes later, typically a request made with a
// channels.ReqChannel.
//
// A Future[T] is pending, then possibly running, and finally done in
// exactly one of three ways: it succeeded (SetResult), failed
// (SetException) or was cancelled (Cancel, or its auto-cancel timeout).
// As in yoton, only a pending future can be cancelled and only a running
// one gets a result; SetException also fails a pending one (Go only: the
// owner of a call that could not start says why). Completion happens
// once; a later attempt changes nothing: Cancel answers true (yoton's
// answer), SetResult and SetException return ErrInvalidState (yoton
// ignores them silently).
//
//	               Cancel                SetResult        SetException
//	pending        cancels it, true      ErrInvalidState  fails it
//	running        false                 completes it     fails it
//	done           true, no change       ErrInvalidState  ErrInvalidState
//
// # Goroutines
//
// A future belongs to an event loop (a timers.Loop, in practice a
// *reactor.Reactor) and starts no goroutine of its own:
//
//   - Done returns a channel closed at completion, so a future composes
//     with select. Result, Err and ResultOrCancel wait on it until the
//     caller's ctx ends; on the loop goroutine they never wait (they
//     return reactor.ErrBlockingCall while the future is not done).
//   - Callbacks given to AddDoneCallback run on the loop goroutine, one
//     queued loop call each, in the order they were added; one added
//     after completion is queued at once. A panicking callback is logged
//     by the loop and does not keep the others from running.
//   - SetAutoCancelTimeout is one entry in the loop's deadline heap, not a
//     goroutine or a runtime timer: ten thousand futures cost ten
//     thousand heap entries.
//
// Every method is safe for concurrent use.
//
// # Errors
//
// Result and Err report why there is no value with errors usable with
// errors.Is and errors.As: ErrTimeout (the caller's ctx ended first; the
// ctx's own error is wrapped too), ErrCancelled, and *RemoteError (which
// matches ErrRemote) for a failure reported by the remote side. Other
// errors given to SetException come back as they were given. The
// reactor's sentinels are not re-exported: a wait on the loop goroutine
// returns reactor.ErrBlockingCall itself.
//
// New checks its options: without a loop it fails with ErrNilLoop, and
// with an invalid option (OnCancel(nil)) with an error wrapping
// reactor.ErrBadOption.
//
// # From Python yoton
//
//	future.done()                     f.IsDone(), or <-f.Done()
//	future.cancel()                   f.Cancel()
//	future.cancelled(), running()     f.Cancelled(), f.Running()
//	future.result(timeout)            f.Result(ctx)
//	future.exception(timeout)         f.Err(ctx)
//	future.result_or_cancel(timeout)  f.ResultOrCancel(ctx)
//	future.add_done_callback(fn)      f.AddDoneCallback(fn)
//	future.set_auto_cancel_timeout(t) f.SetAutoCancelTimeout(d)
//	set_running_or_notify_cancel()    f.SetRunningOrNotifyCancel()
//	set_result(r), set_exception(e)   f.SetResult(r), f.SetException(err)
//	TimeoutError, CancelledError      ErrTimeout, ErrCancelled
//
// # Example
//
//	f, _ := req.Call("add", []any{3, 4}, nil) // a *futures.Future[any]
//	f.AddDoneCallback(func(f *futures.Future[any]) {
//		// on the loop goroutine; f is done, Result does not wait
//		v, err := f.Result(context.Background())
//		...
//	})
//	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
//	defer cancel()
//	v, err := f.Result(ctx) // waits at most 2 s
//	if errors.Is(err, futures.ErrTimeout) { ... }
package futures
