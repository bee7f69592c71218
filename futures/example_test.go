package futures_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/reactor"
)

// A future completed by another goroutine: the callback runs on the
// loop goroutine, and Result waits up to the caller's deadline.
func ExampleFuture_AddDoneCallback() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		if err := r.Close(); err != nil {
			fmt.Println(err)
		}
	}()
	f, err := futures.New[string](r)
	if err != nil {
		fmt.Println(err)
		return
	}
	called := make(chan struct{})
	f.AddDoneCallback(func(f *futures.Future[string]) {
		defer close(called)
		v, err := f.Result(context.Background()) // done: no wait
		fmt.Println("callback on the loop:", r.OnLoop(), v, err)
	})
	// Whoever runs the call marks it running, then completes it.
	if _, err := f.SetRunningOrNotifyCancel(); err != nil {
		fmt.Println(err)
		return
	}
	go func() {
		if err := f.SetResult("hello"); err != nil {
			fmt.Println(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := f.Result(ctx)
	<-called
	fmt.Println("result:", v, err)
	// As in yoton: true (the call is no longer running), nothing changes.
	fmt.Println("cancel after the result:", f.Cancel(), f.Cancelled())
	// Output:
	// callback on the loop: true hello <nil>
	// result: hello <nil>
	// cancel after the result: true false
}

// Result's errors tell timed out, cancelled and failed apart.
func ExampleFuture_Result() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		if err := r.Close(); err != nil {
			fmt.Println(err)
		}
	}()
	pending, err := futures.New[int](r)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = pending.Result(ctx)
	fmt.Println(errors.Is(err, futures.ErrTimeout), errors.Is(err, context.DeadlineExceeded))

	pending.Cancel()
	_, err = pending.Result(context.Background())
	fmt.Println(errors.Is(err, futures.ErrCancelled))

	failed, err := futures.New[int](r)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := failed.SetException(&futures.RemoteError{Message: "division by zero"}); err != nil {
		fmt.Println(err)
		return
	}
	_, err = failed.Result(context.Background())
	var remote *futures.RemoteError
	fmt.Println(errors.As(err, &remote), remote.Message)
	// Output:
	// true true
	// true
	// true division by zero
}

// SetResult completes only a running future, as yoton's set_result.
func ExampleFuture_SetResult() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		if err := r.Close(); err != nil {
			fmt.Println(err)
		}
	}()
	f, err := futures.New[int](r)
	if err != nil {
		fmt.Println(err)
		return
	}
	// As in yoton, only a running future takes a result.
	err = f.SetResult(1)
	fmt.Println("pending:", errors.Is(err, futures.ErrInvalidState), f.IsDone())
	if _, err := f.SetRunningOrNotifyCancel(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("running:", f.SetResult(2), f.IsDone())
	err = f.SetResult(3)
	fmt.Println("done:", errors.Is(err, futures.ErrInvalidState))
	v, err := f.Result(context.Background())
	fmt.Println("result:", v, err)
	// Output:
	// pending: true false
	// running: <nil> true
	// done: true
	// result: 2 <nil>
}
