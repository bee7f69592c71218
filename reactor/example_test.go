package reactor_test

import (
	"context"
	"encoding/json"
	"expvar"
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

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := client.Connect(ctx, net.JoinHostPort(host, strconv.Itoa(port)), "to server")
	if err != nil {
		fmt.Println("connect:", err)
		return
	}
	// The bound side is established once the peer's first package
	// (yoton's NEW_CONNECTION) has arrived.
	select {
	case <-bound.Established():
	case <-ctx.Done():
		fmt.Println("not established:", ctx.Err())
		return
	}
	fmt.Println("server:", bound.Status(), server.ConnectionCount())
	fmt.Println("client:", conn.Status(), client.ConnectionCount())
	// Output:
	// bound: waiting
	// server: hosting 1
	// client: connected 1
}

// A hub listens on one port; any number of contexts connect to it.
func ExampleContext_Listen() {
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
	hub, err := r.NewContext()
	if err != nil {
		fmt.Println("new context:", err)
		return
	}
	l, err := hub.Listen("127.0.0.1:0", reactor.WithMaxConnections(100))
	if err != nil {
		fmt.Println("listen:", err)
		return
	}
	joined := make(chan *reactor.Connection, 3)
	l.Joined.Bind(func(c *reactor.Connection) { joined <- c }) // on the loop: never block
	host, port := l.Addr()
	addr := net.JoinHostPort(host, strconv.Itoa(port))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		leaf, err := r.NewContext()
		if err != nil {
			fmt.Println("new context:", err)
			return
		}
		if _, err := leaf.Connect(ctx, addr, ""); err != nil {
			fmt.Println("connect:", err)
			return
		}
	}
	for i := 0; i < 3; i++ {
		select {
		case c := <-joined:
			fmt.Println("joined:", c.Status())
		case <-ctx.Done():
			fmt.Println("waiting for joins:", ctx.Err())
			return
		}
	}
	fmt.Println("connections:", l.ConnectionCount())
	// Output:
	// joined: hosting
	// joined: hosting
	// joined: hosting
	// connections: 3
}

// A connection that comes back by itself when its peer restarts.
func ExampleWithReconnect() {
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
	l, err := server.Listen("127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		return
	}
	host, port := l.Addr()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	client, err := r.NewContext()
	if err != nil {
		fmt.Println("new context:", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := client.Connect(ctx, addr, "", reactor.WithReconnect(reactor.Reconnect{
		MinDelay: 10 * time.Millisecond, MaxDelay: time.Second,
	}))
	if err != nil {
		fmt.Println("connect:", err)
		return
	}
	events := make(chan string, 4)
	conn.Disconnected.Bind(func(e reactor.DisconnectedEvent) { events <- "disconnected: " + e.Reason })
	conn.Reconnected.Bind(func(*reactor.Connection) { events <- "reconnected" })

	// The server goes away (as a process that exits) and a new one
	// takes its port.
	if err := server.Close(); err != nil {
		fmt.Println("close server:", err)
		return
	}
	fmt.Println(<-events)
	fmt.Println("status while down:", conn.Status())
	server2, err := r.NewContext()
	if err != nil {
		fmt.Println("new context:", err)
		return
	}
	if _, err := server2.Listen(addr); err != nil {
		fmt.Println("listen again:", err)
		return
	}
	select {
	case e := <-events:
		fmt.Println(e)
	case <-ctx.Done():
		fmt.Println("no reconnect:", ctx.Err())
		return
	}
	fmt.Println("status:", conn.Status())
	// Output:
	// disconnected: Closed from other end.
	// status while down: waiting
	// reconnected
	// status: connected
}

// lineReceiver is the receiving side of a channel kind of this example's
// own: the loop hands it the packages that arrive at its slot.
type lineReceiver struct{ lines chan string }

func (r lineReceiver) Deposit(p reactor.Package) { r.lines <- string(p.Data) }
func (r lineReceiver) EndBatch()                 {}

// A channel kind of your own attaches through the same seam as the
// built-in ones: Attach gives an Endpoint to send through, and the
// Receiver gets what arrives.
func ExampleContext_Attach() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println("new reactor:", err)
		return
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, _ := r.NewContext()
	b, _ := r.NewContext()
	bound, err := a.Bind("127.0.0.1:0", 1, "")
	if err != nil {
		fmt.Println("bind:", err)
		return
	}
	host, port := bound.LocalAddr()
	if _, err := b.Connect(ctx, net.JoinHostPort(host, strconv.Itoa(port)), ""); err != nil {
		fmt.Println("connect:", err)
		return
	}

	out, err := a.Attach(reactor.Attachment{SendSlot: "news.line.pub-sub"})
	if err != nil {
		fmt.Println("attach:", err)
		return
	}
	in := lineReceiver{lines: make(chan string, 1)}
	if _, err := b.Attach(reactor.Attachment{RecvSlot: "news.line.pub-sub", Receiver: in}); err != nil {
		fmt.Println("attach:", err)
		return
	}
	if err := out.Send(ctx, []byte("hello"), reactor.Destination{}); err != nil {
		fmt.Println("send:", err)
		return
	}
	select {
	case line := <-in.lines:
		fmt.Println(line)
	case <-ctx.Done():
		fmt.Println("nothing arrived:", ctx.Err())
	}
	// Output: hello
}

// The counters of a context (and of its connections and channels) are
// JSON-tagged: publish them with expvar, which serves them at
// /debug/vars. The library itself does not import expvar.
func ExampleContext_Stats() {
	r, err := reactor.New()
	if err != nil {
		fmt.Println("new reactor:", err)
		return
	}
	defer r.Close()
	x, err := r.NewContext()
	if err != nil {
		fmt.Println("new context:", err)
		return
	}
	expvar.Publish("yoton", expvar.Func(func() any { return x.Stats() }))

	var st reactor.ContextStats
	if err := json.Unmarshal([]byte(expvar.Get("yoton").String()), &st); err != nil {
		fmt.Println("decode:", err)
		return
	}
	fmt.Println("connections:", st.Connections, "packages out:", st.PackagesOut)
	// Output: connections: 0 packages out: 0
}
