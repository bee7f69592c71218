package channels_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/reactor"
)

// Greeter is the Go port of a Python replier:
//
//	class Greeter(yoton.RepChannel):
//	    def greet(self, name, greeting="Hello"):
//	        return "%s, %s!" % (greeting, name)
//	    def add_numbers(self, a, b):
//	        return a + b
type Greeter struct{}

// GreetOptions holds greet's keyword arguments.
type GreetOptions struct {
	Greeting string `yoton:"greeting"`
}

// Greet is served as greet.
func (Greeter) Greet(name string, o GreetOptions) string {
	if o.Greeting == "" {
		o.Greeting = "Hello" // Python's default
	}
	return o.Greeting + ", " + name + "!"
}

// AddNumbers is served as add_numbers.
func (Greeter) AddNumbers(a, b int) int { return a + b }

// Every exported method of a value becomes a handler under its Python
// name; a struct parameter takes the keyword arguments.
func ExampleRepChannel_RegisterService() {
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

	rep, err := channels.NewRepChannel(host, "greeter")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := errors.Join(rep.RegisterService(Greeter{}), rep.SetMode(channels.RepEvent)); err != nil {
		fmt.Println(err)
		return
	}
	req, err := channels.NewReqChannel(client, "greeter")
	if err != nil {
		fmt.Println(err)
		return
	}

	// Python: req.greet("bob"), req.greet("ann", greeting="Hi"),
	// req.add_numbers(40, 2), req.greet("x", mood="happy").
	greet := channels.Method[string](req, "greet")
	for _, args := range [][]any{{"bob"}, {"ann", channels.Kwargs{"greeting": "Hi"}}} {
		s, err := greet(ctx, args...)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(s)
	}
	sum, err := channels.Call[int](ctx, req, "add_numbers", 40, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum)
	_, err = greet(ctx, "x", channels.Kwargs{"mood": "happy"})
	var remote *futures.RemoteError
	if errors.As(err, &remote) {
		fmt.Println("remote error:", remote.Message)
	}
	// Output:
	// Hello, bob!
	// Hi, ann!
	// 42
	// remote error: greet() got an unexpected keyword argument 'mood'
}
