package channels_test

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
)

// BenchmarkPubSub measures pub -> sub throughput of binary messages
// between two contexts on one reactor, over loopback TCP. The benchmark
// goroutine publishes and one goroutine reads with Recv; the time covers
// both ends.
//
// At most benchWindow bytes (and 4096 messages) are in flight: the
// publisher takes a credit before each Send and the reader returns it.
// Without a window a publisher that outruns the loop may see its
// messages discarded by the bounded queues; see benchPubSub.
func BenchmarkPubSub(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 64 << 10, 1 << 20} {
		b.Run(sizeName(size), func(b *testing.B) { benchPubSub(b, size) })
	}
}

// benchWindow bounds the bytes in flight in BenchmarkPubSub.
const benchWindow = 64 << 20

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func benchPubSub(b *testing.B, size int) {
	r := reactorkit.NewReactor(b)
	x, y := reactorkit.Pair(b, r)
	pub, err := channels.NewPubChannel(x, "bench", channels.Binary)
	require.NoError(b, err)
	sub, err := channels.NewSubChannel(y, "bench", channels.Binary)
	require.NoError(b, err)
	// The payload is shared by every Send: Binary takes ownership of
	// it, which only forbids modifying it, and nobody does.
	payload := bytes.Repeat([]byte{'y'}, size)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Every yoton queue is bounded and discards when full, and a lost
	// message would leave the reader waiting forever: keep the number
	// in flight well below the queue size (10000).
	credits := make(chan struct{}, min(4096, max(16, benchWindow/size)))

	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	done := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			m, err := sub.Recv(ctx)
			if err != nil {
				done <- err
				return
			}
			<-credits
			if len(m) != size {
				done <- fmt.Errorf("received %d bytes, want %d", len(m), size)
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < b.N; i++ {
		select {
		case credits <- struct{}{}:
		case err := <-done:
			b.Fatalf("reader stopped early: %v", err)
		}
		if err := pub.Send(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	require.Zero(b, sub.Discarded())
}

// BenchmarkCall measures request/reply between two contexts on one
// reactor, over loopback TCP: Call[T] of a registered add(a, b) with
// inFlight calls outstanding at once (one goroutine per call in flight),
// the replier in RepEvent mode. ns/op is per call.
func BenchmarkCall(b *testing.B) {
	for _, inFlight := range []int{1, 64} {
		b.Run(fmt.Sprintf("inflight=%d", inFlight), func(b *testing.B) { benchCall(b, inFlight) })
	}
}

func benchCall(b *testing.B, inFlight int) {
	r := reactorkit.NewReactor(b)
	x, y := reactorkit.Pair(b, r)
	rep, err := channels.NewRepChannel(y, "bench-call", channels.WithWindow(inFlight))
	require.NoError(b, err)
	require.NoError(b, rep.Register("add", func(a, c int64) int64 { return a + c }))
	require.NoError(b, rep.SetMode(channels.RepEvent))
	req, err := channels.NewReqChannel(x, "bench-call")
	require.NoError(b, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Warm up: the first call finds the replier.
	_, err = channels.Call[int64](ctx, req, "add", 1, 2)
	require.NoError(b, err)

	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	errs := make(chan error, inFlight)
	for range inFlight {
		go func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				sum, err := channels.Call[int64](ctx, req, "add", i, 1)
				if err == nil && sum != i+1 {
					err = fmt.Errorf("add(%d, 1) = %d", i, sum)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range inFlight {
		require.NoError(b, <-errs)
	}
	b.ReportMetric(float64(req.FastCalls())/float64(b.N+1)*100, "%fast")
}
