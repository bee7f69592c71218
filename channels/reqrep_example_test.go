package channels_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/reactor"
)

// A call whose reply is handled by a callback, on the loop goroutine,
// as with yoton's future.add_done_callback; then the same call made
// with the typed helper, which waits.
func ExampleReqChannel_Call() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := reactor.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeReactor(r)
	host, client, err := connectedPair(ctx, r)
	if err != nil {
		fmt.Println(err)
		return
	}

	rep, err := channels.NewRepChannel(host, "calc")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := rep.Register("add", func(a, b int) int { return a + b }); err != nil {
		fmt.Println(err)
		return
	}
	if err := rep.SetMode(channels.RepEvent); err != nil {
		fmt.Println(err)
		return
	}
	req, err := channels.NewReqChannel(client, "calc")
	if err != nil {
		fmt.Println(err)
		return
	}

	f, err := req.Call("add", []any{3, 4}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	handled := make(chan struct{})
	f.AddDoneCallback(func(f *futures.Future[any]) {
		defer close(handled)
		// On the loop goroutine, with f done: Result does not wait.
		v, err := f.Result(context.Background())
		if err != nil {
			fmt.Println("call failed:", err)
			return
		}
		fmt.Println("callback got", v)
	})
	select {
	case <-handled:
	case <-ctx.Done():
		fmt.Println(ctx.Err())
		return
	}

	sum, err := channels.Call[int](ctx, req, "add", 40, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sum", sum)
	// Output:
	// callback got 7
	// sum 42
}

// Plain Go functions become request handlers: arguments are converted
// to the parameter types, a Kwargs parameter takes the keyword
// arguments, and a returned error reaches the caller as a RemoteError.
func ExampleRepChannel_Register() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := reactor.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeReactor(r)
	host, client, err := connectedPair(ctx, r)
	if err != nil {
		fmt.Println(err)
		return
	}

	rep, err := channels.NewRepChannel(host, "text", channels.WithWorkers(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		if err := rep.Shutdown(ctx); err != nil {
			fmt.Println(err)
		}
	}()
	err = errors.Join(
		rep.Register("repeat", func(s string, n int, kw channels.Kwargs) (string, error) {
			if n < 0 {
				return "", fmt.Errorf("cannot repeat %d times", n)
			}
			sep, _ := kw["sep"].(string)
			return strings.TrimSuffix(strings.Repeat(s+sep, n), sep), nil
		}),
		rep.SetMode(channels.RepWorkers), // handlers run on 2 worker goroutines
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	req, err := channels.NewReqChannel(client, "text")
	if err != nil {
		fmt.Println(err)
		return
	}
	repeat := channels.Method[string](req, "repeat")
	s, err := repeat(ctx, "ab", 3, channels.Kwargs{"sep": "-"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s)

	_, err = repeat(ctx, "ab", -1)
	var remote *futures.RemoteError
	if errors.As(err, &remote) {
		fmt.Println("remote error:", remote.Message)
	}
	// Output:
	// ab-ab-ab
	// remote error: cannot repeat -1 times
}
