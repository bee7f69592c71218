package channels_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
)

// connectedPair returns two contexts on r, the first bound on a free
// loopback port and the second connected to it.
func connectedPair(ctx context.Context, r *reactor.Reactor) (host, client *reactor.Context, err error) {
	if host, err = r.NewContext(); err != nil {
		return nil, nil, err
	}
	if client, err = r.NewContext(); err != nil {
		return nil, nil, err
	}
	conn, err := host.Bind("127.0.0.1:0", 1, "host")
	if err != nil {
		return nil, nil, err
	}
	_, port := conn.LocalAddr()
	if _, err = client.Connect(ctx, fmt.Sprintf("127.0.0.1:%d", port), "client"); err != nil {
		return nil, nil, err
	}
	return host, client, nil
}

// closeReactor closes r and prints the error, if any, so that the
// example's output shows it.
func closeReactor(r *reactor.Reactor) {
	if err := r.Close(); err != nil {
		fmt.Println("close:", err)
	}
}

// Two contexts on one reactor: one publishes text, the other subscribes.
func ExampleNewPubChannel() {
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

	pub, err := channels.NewPubChannel(host, "news", channels.Text)
	if err != nil {
		fmt.Println(err)
		return
	}
	sub, err := channels.NewSubChannel(client, "news", channels.Text)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pub.SlotOutgoing(), "->", sub.SlotIncoming())

	for _, m := range []string{"hello", "wörld"} {
		if err := pub.Send(ctx, m); err != nil {
			fmt.Println(err)
			return
		}
	}
	for range 2 {
		m, err := sub.Recv(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("received:", m)
	}
	// Output:
	// news.txt.pub-sub -> news.txt.pub-sub
	// received: hello
	// received: wörld
}

// A Received handler runs on the loop goroutine once per batch of
// arrived messages; here it drains the queue and reports when all came.
func ExampleSubChannel_Received() {
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
	pub, err := channels.NewPubChannel(host, "events", channels.Text)
	if err != nil {
		fmt.Println(err)
		return
	}
	sub, err := channels.NewSubChannel(client, "events", channels.Text)
	if err != nil {
		fmt.Println(err)
		return
	}

	const n = 3
	all := make(chan struct{})
	seen := 0 // only touched on the loop goroutine
	sub.Received.Bind(func(s *channels.SubChannel[string]) {
		// Never block here: read what is queued and return.
		for m, err := range s.Messages() {
			if err != nil {
				fmt.Println(err)
				continue
			}
			fmt.Println("event:", m)
			seen++
		}
		if seen == n {
			close(all)
		}
	})

	for i := range n {
		if err := pub.Send(ctx, fmt.Sprintf("#%d", i+1)); err != nil {
			fmt.Println(err)
			return
		}
	}
	select {
	case <-all:
		fmt.Println("all", n, "events handled")
	case <-ctx.Done():
		fmt.Println(ctx.Err())
	}
	// Output:
	// event: #1
	// event: #2
	// event: #3
	// all 3 events handled
}

// Reading is a user-defined message type: it travels as JSON, and its
// type name "reading" becomes part of the slot name, so a Python peer
// needs a MessageType whose message_type_name() returns "reading".
type Reading struct {
	Sensor string  `json:"sensor"`
	Value  float64 `json:"value"`
}

// A user-defined message type, made with a generic JSON codec.
func ExampleNewMessageType() {
	readingType := channels.NewMessageType("reading",
		func(m Reading) ([]byte, error) { return json.Marshal(m) },
		func(b []byte) (Reading, error) {
			var m Reading
			err := json.Unmarshal(b, &m)
			return m, err
		})

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
	pub, err := channels.NewPubChannel(host, "sensors", readingType)
	if err != nil {
		fmt.Println(err)
		return
	}
	sub, err := channels.NewSubChannel(client, "sensors", readingType)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := pub.Send(ctx, Reading{Sensor: "t1", Value: 21.5}); err != nil {
		fmt.Println(err)
		return
	}
	m, err := sub.Recv(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sub.SlotIncoming())
	fmt.Printf("%s = %.1f\n", m.Sensor, m.Value)
	// Output:
	// sensors.reading.pub-sub
	// t1 = 21.5
}
