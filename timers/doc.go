// Package timers is yoton's event system (yoton.events) for the Go
// reactor: Signal, Timer and CallLater, which run their callbacks on the
// loop goroutine of the Loop they are given. A Loop is a
// *reactor.Reactor; its loop operations (scheduling in its deadline
// heap, posting in front of its queue) are not part of the reactor's API,
// and this package reaches them through the module's internal loop seam.
//
// # Goroutines
//
// Nothing here starts a goroutine. The reactor keeps one deadline heap on
// its loop goroutine and one runtime timer that wakes the loop for the
// earliest deadline. A running Timer is one entry in that heap, so
// thousands of timers cost thousands of heap entries and no goroutine.
// Signal handlers, timer handlers and CallLater functions all run on the
// loop goroutine; Signal.Emit, Signal.Bind, Signal.BindKey, Timer.Start,
// Timer.Stop, Timer.SetInterval, Timer.SetMode and CallLater may be
// called from any goroutine.
//
// # From Python yoton
//
//	Signal()                  timers.NewSignal[T](loop)
//	signal.bind(f)            s.BindKey(key, f)  (a second bind with key: ErrAlreadyBound, ignored)
//	                          id := s.Bind(f)    (binds every time: Go functions cannot be compared)
//	signal.unbind(f)          s.UnbindKey(key), s.Unbind(id)
//	signal.unbind()           s.UnbindAll()
//	signal.emit(...)          s.Emit(v)      (one queued call per handler)
//	signal.emit_now(...)      s.EmitNow(v)   (loop goroutine only)
//	Timer(interval, oneshot)  timers.NewTimer(loop, interval, timers.OneShot)
//	timer.interval = i        t.SetInterval(i), t.Interval()
//	timer.oneshot = b         t.SetMode(timers.OneShot / timers.Repeating), t.Mode()
//	timer.start(i, oneshot)   t.Start(), t.StartWith(i, timers.Repeating)
//	timer.stop(), .running    t.Stop(), t.Running()
//	call_later(f, timeout)    timers.CallLater(loop, delay, f)
//	app.post_event(e)         r.Post(f)      (r, the loop: a *reactor.Reactor)
//	app.post_event_asap(e)    timers.CallLater(r, -1, f)  (a negative delay: before the queued work)
//
// # Example
//
//	tick, _ := timers.NewTimer(r, time.Second, timers.Repeating)
//	tick.Bind(func(t *timers.Timer) { fmt.Println("tick") }) // on the loop
//	_ = tick.Start()
//	...
//	tick.Stop()
package timers
