package clientserver_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goyoton/yoton/clientserver"
	"github.com/goyoton/yoton/reactor"
)

// A request server on a reactor, and DoRequest asking it something.
func ExampleDoRequest() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println("new reactor:", err)
		return
	}
	defer func() {
		if err := r.Close(); err != nil {
			fmt.Println("close reactor:", err)
		}
	}()

	// The handler runs on the reactor's loop goroutine; the request still
	// ends in CRLF, and the server appends one to the reply.
	upper := func(request string) string { return strings.ToUpper(request) }
	server, err := clientserver.NewRequestServer(r, "localhost:0", upper)
	if err != nil {
		fmt.Println("new server:", err)
		return
	}
	address := server.Addr().String()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := clientserver.DoRequest(ctx, address, "hello")
	if err != nil {
		fmt.Println("request:", err)
		return
	}
	fmt.Printf("%q\n", reply)

	if err := server.Close(); err != nil {
		fmt.Println("close server:", err)
		return
	}
	_, err = clientserver.DoRequest(ctx, address, "anyone?")
	fmt.Println("no server:", errors.Is(err, clientserver.ErrNoServer))
	// Output:
	// "HELLO\r\n"
	// no server: true
}
