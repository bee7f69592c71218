package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
)

// Both roles use this slot and these queue parameters. The queues are
// count-bounded, so 1<<20 packages never discard in these runs: the
// publisher's backpressure (yoton's tiny queue) keeps them short.
const (
	benchSlot  = "bench"
	queueSize  = 1 << 20
	queueRule  = reactor.DiscardNew
	readyWord  = "READY"
	sentWord   = "SENT"
	childEnv   = "YOTONBENCH_CHILD" // set in role processes (lets the test binary act as one)
	firstGrace = 30 * time.Second   // extra wait for the first message
)

// Receive modes of the Go subscriber.
const (
	recvCallback  = "callback"  // Received handler draining RecvAll on the loop
	recvGoroutine = "goroutine" // one goroutine calling Recv per message
)

// result is the JSON line a subscriber prints when it is done.
type result struct {
	Count   int64   `json:"count"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"` // first message to last
	CPUUser float64 `json:"cpu_user"`
	CPUSys  float64 `json:"cpu_sys"`
}

type roleArgs struct {
	role       string
	addr       string
	size       int
	count      int64
	idle       time.Duration
	recvMode   string
	cpuprofile string
}

// runRole runs this process as a Go publisher or subscriber.
func runRole(a roleArgs, stdin io.Reader, stdout io.Writer) error {
	if a.cpuprofile != "" {
		f, err := os.Create(a.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	r, err := reactor.New()
	if err != nil {
		return err
	}
	defer r.Close()
	x, err := r.NewContext(reactor.WithQueue(queueSize, queueRule))
	if err != nil {
		return err
	}
	defer x.Close()
	switch a.role {
	case "sub":
		return runSub(x, a, stdin, stdout)
	case "pub":
		return runPub(x, a, stdin, stdout)
	}
	return fmt.Errorf("unknown role %q", a.role)
}

func runSub(x *reactor.Context, a roleArgs, stdin io.Reader, stdout io.Writer) error {
	sub, err := channels.NewSubChannel(x, benchSlot, channels.Binary)
	if err != nil {
		return err
	}
	conn, err := x.Bind("127.0.0.1:0", 1, "bench")
	if err != nil {
		return err
	}
	_, port := conn.LocalAddr()
	if _, err := fmt.Fprintf(stdout, "%s %d\n", readyWord, port); err != nil {
		return err
	}

	c := newCounter(a.count)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	switch a.recvMode {
	case recvCallback:
		sub.Received.Bind(func(s *channels.SubChannel[[]byte]) {
			msgs, _ := s.RecvAll()
			c.add(msgs...)
		})
	case recvGoroutine:
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := sub.Recv(ctx)
				if err != nil {
					return
				}
				c.add(m)
			}
		}()
	default:
		return fmt.Errorf("unknown -recv %q", a.recvMode)
	}

	// Wait until every message arrived, or nothing arrived for a.idle
	// (a.idle+firstGrace before the first one): then the result shows
	// how many are missing.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last, deadline := int64(0), time.Now().Add(a.idle+firstGrace)
wait:
	for {
		select {
		case <-c.done:
			break wait
		case now := <-tick.C:
			if n := c.progress.Load(); n != last {
				last, deadline = n, now.Add(a.idle)
			} else if now.After(deadline) {
				break wait
			}
		}
	}
	cancel()
	wg.Wait()

	res := c.result()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		res.CPUUser = time.Duration(ru.Utime.Nano()).Seconds()
		res.CPUSys = time.Duration(ru.Stime.Nano()).Seconds()
	}
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}
	// Stay connected until the runner closes stdin (after the publisher
	// ended), so that the publisher's Flush never meets a closed peer.
	return waitEOF(stdin)
}

// waitEOF reads r until it ends.
func waitEOF(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	if errors.Is(err, os.ErrClosed) {
		err = nil
	}
	return err
}

// counter counts arrived messages. add is called by one goroutine at a
// time (the loop, or the receiving goroutine); the main goroutine reads
// progress and waits on done.
type counter struct {
	target   int64
	progress atomic.Int64
	done     chan struct{} // closed when target messages arrived

	mu          sync.Mutex // guards the fields below
	count       int64
	bytes       int64
	first, last time.Time
}

func newCounter(target int64) *counter {
	return &counter{target: target, done: make(chan struct{})}
}

func (c *counter) add(msgs ...[]byte) {
	if len(msgs) == 0 {
		return
	}
	now := time.Now()
	c.mu.Lock()
	if c.count == 0 {
		c.first = now
	}
	c.last = now
	for _, m := range msgs {
		c.bytes += int64(len(m))
	}
	before := c.count
	c.count += int64(len(msgs))
	n := c.count
	c.mu.Unlock()
	c.progress.Store(n)
	if before < c.target && n >= c.target {
		close(c.done)
	}
}

func (c *counter) result() result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return result{Count: c.count, Bytes: c.bytes, Seconds: c.last.Sub(c.first).Seconds()}
}

func runPub(x *reactor.Context, a roleArgs, stdin io.Reader, stdout io.Writer) error {
	pub, err := channels.NewPubChannel(x, benchSlot, channels.Binary)
	if err != nil {
		return err
	}
	ctx := context.Background()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = x.Connect(cctx, a.addr, "bench")
	cancel()
	if err != nil {
		return err
	}
	// Binary takes ownership of a sent slice but never modifies it, so
	// one payload serves every Send.
	payload := make([]byte, a.size)
	for i := range payload {
		payload[i] = byte(i)
	}
	for i := int64(0); i < a.count; i++ {
		if err := pub.Send(ctx, payload); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := x.Flush(fctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if _, err := fmt.Fprintln(stdout, sentWord); err != nil {
		return err
	}
	// Stay connected until the runner closes stdin (after the subscriber
	// reported), so that closing never races the last packages.
	return waitEOF(stdin)
}

// roleFlags adds the flags of the role mode to fs.
func roleFlags(fs *flag.FlagSet, a *roleArgs) {
	fs.StringVar(&a.role, "role", "", "run as one side of a Go→Go run: sub or pub (used by the runner)")
	fs.StringVar(&a.addr, "addr", "", "pub: address of the subscriber")
	fs.IntVar(&a.size, "size", 64, "pub: payload size in bytes")
	fs.Int64Var(&a.count, "count", 1000, "pub: messages to send; sub: messages to expect")
	fs.DurationVar(&a.idle, "idle", 10*time.Second, "sub: give up after this long without a message")
	fs.StringVar(&a.recvMode, "recv", recvCallback, "sub: callback (Received + RecvAll on the loop) or goroutine (Recv loop)")
	fs.StringVar(&a.cpuprofile, "cpuprofile", "", "role: write a CPU profile to this file")
}
