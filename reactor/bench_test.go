package reactor

import (
	"context"
	"fmt"
	"testing"
)

// counter is a Receiver that closes done when it has seen want packages.
// Loop goroutine only, as Receivers are.
type counter struct {
	n, want int
	done    chan struct{}
}

func (c *counter) Deposit(Package) {
	c.n++
	if c.n == c.want {
		close(c.done)
	}
}

func (c *counter) EndBatch() {}

// BenchmarkSendToContext measures the Go-to-Go publish path: Context.Send
// on one context, through a loopback TCP connection, to the receiver of
// another context on the same reactor.
func BenchmarkSendToContext(b *testing.B) {
	for _, size := range []int{64, 64 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			r := newReactor(b)
			from, to := newContext(b, r), newContext(b, r)
			connectPair(b, to, from)
			rx := &counter{want: b.N, done: make(chan struct{})}
			if err := to.register(0, testSlot, rx, "bench"); err != nil {
				b.Fatal(err)
			}
			data := make([]byte, size) // read-only from here on: Send may share it
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := from.send(ctx, testSlot, data, 0, 0); err != nil {
					b.Fatal(err)
				}
			}
			<-rx.done
			b.StopTimer()
		})
	}
}

// BenchmarkListenJoin measures what one more peer costs a Listener: a
// context on another reactor connects (dial, handshake on both sides,
// link messages, NEW_CONNECTION) until the hub has it as a connection.
// The hub's connections stay open, so later joins meet a larger hub.
func BenchmarkListenJoin(b *testing.B) {
	hubR := newReactor(b)
	hub := newContext(b, hubR)
	joined := make(chan struct{}, 1)
	l, err := hub.Listen("127.0.0.1:0", WithJoinHandler(func(*Connection) { joined <- struct{}{} }))
	if err != nil {
		b.Fatal(err)
	}
	host, port := l.Addr()
	addr := fmt.Sprintf("%s:%d", host, port)
	leaves := newReactor(b)
	xs := make([]*Context, b.N)
	for i := range xs {
		xs[i] = newContext(b, leaves)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := xs[i].Connect(ctx, addr, ""); err != nil {
			b.Fatal(err)
		}
		<-joined
	}
	b.StopTimer()
}
