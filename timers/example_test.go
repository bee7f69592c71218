package timers_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

// Handlers of a Signal run on the reactor's loop goroutine, in the order
// they were bound; Emit queues the calls and returns at once.
func ExampleSignal() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println("new reactor:", err)
		return
	}
	defer func() {
		if err := r.Close(); err != nil {
			fmt.Println("close:", err)
		}
	}()

	greeted := timers.NewSignal[string](r)
	greeted.Bind(func(name string) { fmt.Println("hello,", name) })
	id := greeted.Bind(func(name string) { fmt.Println("hi,", name) })
	if err := greeted.Emit("world"); err != nil {
		fmt.Println("emit:", err)
		return
	}
	greeted.Unbind(id)
	if err := greeted.Emit("yoton"); err != nil {
		fmt.Println("emit:", err)
		return
	}

	// Wait until the queued handler calls have run.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Sync(ctx); err != nil {
		fmt.Println("sync:", err)
		return
	}
	// Output:
	// hello, world
	// hi, world
	// hello, yoton
}

// A repeating timer calls its handlers on the loop goroutine every
// interval until it is stopped.
func ExampleTimer() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println("new reactor:", err)
		return
	}
	defer func() {
		if err := r.Close(); err != nil {
			fmt.Println("close:", err)
		}
	}()

	tick, err := timers.NewTimer(r, 10*time.Millisecond, timers.Repeating)
	if err != nil {
		fmt.Println("new timer:", err)
		return
	}
	done := make(chan struct{})
	n := 0 // touched on the loop goroutine only
	tick.Bind(func(t *timers.Timer) {
		n++
		fmt.Println("tick", n)
		if n == 3 {
			t.Stop()
			close(done)
		}
	})
	if err := tick.Start(); err != nil {
		fmt.Println("start:", err)
		return
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		fmt.Println("timed out")
		return
	}
	fmt.Println("running:", tick.Running())
	// Output:
	// tick 1
	// tick 2
	// tick 3
	// running: false
}

// CallLater runs a function on the loop: after a delay, at the back of the
// queue (delay 0) or at its front (negative delay).
func ExampleCallLater() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println("new reactor:", err)
		return
	}
	defer func() {
		if err := r.Close(); err != nil {
			fmt.Println("close:", err)
		}
	}()

	done := make(chan struct{})
	calls := []struct {
		delay time.Duration
		fn    func()
	}{
		{20 * time.Millisecond, func() { fmt.Println("after 20 ms"); close(done) }},
		{0, func() { fmt.Println("queued") }},
		{-1, func() { fmt.Println("front of the queue") }},
	}
	// Queue them from the loop goroutine so that nothing runs in between.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var callErr error
	if err := r.Do(ctx, func() {
		for _, c := range calls {
			if err := timers.CallLater(r, c.delay, c.fn); err != nil {
				callErr = err
			}
		}
	}); err != nil {
		fmt.Println("do:", err)
		return
	}
	if callErr != nil {
		fmt.Println("call later:", callErr)
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
		fmt.Println("timed out")
	}
	// Output:
	// front of the queue
	// queued
	// after 20 ms
}

// BindKey binds a handler once per key: a second bind with an equal key
// is ignored, as Python yoton ignores the second bind of a handler.
func ExampleSignal_BindKey() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println("new reactor:", err)
		return
	}
	defer func() {
		if err := r.Close(); err != nil {
			fmt.Println("close:", err)
		}
	}()

	type logger struct{ prefix string }
	type method struct {
		recv *logger
		name string
	}
	l := &logger{prefix: "log:"}
	onClosed := func(reason string) { fmt.Println(l.prefix, reason) }

	closed := timers.NewSignal[string](r)
	first, err := closed.BindKey(method{l, "onClosed"}, onClosed)
	if err != nil {
		fmt.Println("bind:", err)
		return
	}
	again, err := closed.BindKey(method{l, "onClosed"}, onClosed)
	fmt.Println(errors.Is(err, timers.ErrAlreadyBound), again == first, closed.HandlerCount())
	if err := closed.Emit("Closed from other end."); err != nil {
		fmt.Println("emit:", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Sync(ctx); err != nil {
		fmt.Println("sync:", err)
		return
	}
	fmt.Println(closed.UnbindKey(method{l, "onClosed"}), closed.HandlerCount())
	// Output:
	// true true 1
	// log: Closed from other end.
	// true 0
}

// SetMode and SetInterval change a timer without starting it, and a
// running timer reads them when it runs out, as yoton's oneshot and
// interval properties: a repeating timer made one-shot fires once more.
func ExampleTimer_SetMode() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println("new reactor:", err)
		return
	}
	defer func() {
		if err := r.Close(); err != nil {
			fmt.Println("close:", err)
		}
	}()

	tm, err := timers.NewTimer(r, time.Hour, timers.OneShot)
	if err != nil {
		fmt.Println("new timer:", err)
		return
	}
	if err := tm.SetInterval(10 * time.Millisecond); err != nil {
		fmt.Println("set interval:", err)
		return
	}
	if err := tm.SetMode(timers.Repeating); err != nil {
		fmt.Println("set mode:", err)
		return
	}
	fmt.Println(tm.Interval(), tm.Mode(), "running:", tm.Running())

	fired := make(chan struct{}, 8)
	tm.Bind(func(*timers.Timer) {
		select {
		case fired <- struct{}{}:
		default: // the reader has some to read already
		}
	})
	if err := tm.Start(); err != nil {
		fmt.Println("start:", err)
		return
	}
	<-fired
	<-fired // repeating
	if err := tm.SetMode(timers.OneShot); err != nil {
		fmt.Println("set mode:", err)
		return
	}
	// It may have run out once more meanwhile; it stops at the latest at
	// its next timeout.
	for tm.Running() {
		<-fired
	}
	fmt.Println(tm.Mode(), "running:", tm.Running())
	// Output:
	// 10ms repeating running: false
	// one-shot running: false
}
