package reactor_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/goyoton/yoton/reactor"
)

// Two contexts on one reactor: one binds, the other connects to it.
func ExampleContext_Bind() {
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
	server, err := r.NewContext()
	if err != nil {
		fmt.Println("new context:", err)
		return
	}
	client, err := r.NewContext()
	if err != nil {
		fmt.Println("new context:", err)
		return
	}

	// Port 0: the system picks a free port; LocalAddr tells which.
	bound, err := server.Bind("127.0.0.1:0", 1, "to client")
	if err != nil {
		fmt.Println("bind:", err)
		return
	}
	fmt.Println("bound:", bound.Status())
	host, port := bound.LocalAddr()

	// The connecting side tells the bound side NEW_CONNECTION once it is
	// connected; the bound side learns that the peer is there from it.
	arrived := make(chan struct{}, 1)
	server.OnNewConnection(func() { arrived <- struct{}{} })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := client.Connect(ctx, net.JoinHostPort(host, strconv.Itoa(port)), "to server")
	if err != nil {
		fmt.Println("connect:", err)
		return
	}
	select {
	case <-arrived:
	case <-ctx.Done():
		fmt.Println("no NEW_CONNECTION:", ctx.Err())
		return
	}
	fmt.Println("server:", bound.Status(), server.ConnectionCount())
	fmt.Println("client:", conn.Status(), client.ConnectionCount())
	// Output:
	// bound: waiting
	// server: hosting 1
	// client: connected 1
}
