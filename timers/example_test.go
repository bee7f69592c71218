package timers_test

import (
	"context"
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
