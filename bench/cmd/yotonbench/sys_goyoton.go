package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
)

// Go yoton: this library. Every context holds queues of 1<<20 packages
// with DiscardNew; the publisher's backpressure (yoton's "tiny" queue)
// keeps them short, so nothing is discarded. With -defaults (scenario 6)
// the pub/sub contexts keep the library's defaults.
const (
	goQueueSize = 1 << 20
	goQueueRule = reactor.DiscardNew
)

// goContextOptions are the options of a pub/sub context: the benchmark's
// queues, or none with -defaults (10000 packages, DiscardOld).
func goContextOptions(a roleArgs) []reactor.ContextOption {
	if a.defaults {
		return nil
	}
	return []reactor.ContextOption{reactor.WithQueue(goQueueSize, goQueueRule)}
}

// Receive modes of the Go yoton subscriber.
const (
	recvCallback  = "callback"  // Received handler draining RecvAll on the loop
	recvGoroutine = "goroutine" // one goroutine calling Recv per message
)

func init() {
	registerRole(sysGoyoton, "sub", goyotonSub)
	registerRole(sysGoyoton, "pub", goyotonPub)
	registerRole(sysGoyoton, "hub", goyotonHub)
	registerRole(sysGoyoton, "clients", goyotonClients)
}

// goyotonSub binds a.subs contexts on one reactor (one loop), each with a
// SubChannel, and counts what arrives on all of them.
func goyotonSub(a roleArgs, io *childIO) error {
	r, err := reactor.New()
	if err != nil {
		return err
	}
	defer r.Close()
	c := newCounter(a.count * int64(a.subs))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	addrs := make([]string, a.subs)
	for i := range addrs {
		x, err := r.NewContext(goContextOptions(a)...)
		if err != nil {
			return err
		}
		sub, err := channels.NewSubChannel(x, benchSlot, channels.Binary)
		if err != nil {
			return err
		}
		switch a.recvMode {
		case recvCallback:
			sub.Received.Bind(func(s *channels.SubChannel[[]byte]) {
				msgs, _ := s.RecvAll()
				var b int64
				for _, m := range msgs {
					b += int64(len(m))
				}
				c.add(int64(len(msgs)), b)
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
					c.add(1, int64(len(m)))
				}
			}()
		default:
			return fmt.Errorf("unknown -recv %q", a.recvMode)
		}
		conn, err := x.Bind("127.0.0.1:0", 1, "bench")
		if err != nil {
			return err
		}
		host, port := conn.LocalAddr()
		addrs[i] = fmt.Sprintf("%s:%d", host, port)
	}
	if err := io.say("%s %s", readyWord, strings.Join(addrs, ",")); err != nil {
		return err
	}
	res := c.wait(a.idle)
	cancel()
	if err := io.sayJSON(resultWord, res); err != nil {
		return err
	}
	// Stay connected until the runner closes stdin (after the publisher
	// ended), so that the publisher's Flush never meets a closed peer.
	io.waitEOF()
	return nil
}

// goyotonPub connects one context to every subscriber and sends one
// preallocated payload a.count times.
func goyotonPub(a roleArgs, io *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	r, err := reactor.New()
	if err != nil {
		return err
	}
	defer r.Close()
	x, err := r.NewContext(goContextOptions(a)...)
	if err != nil {
		return err
	}
	pub, err := channels.NewPubChannel(x, benchSlot, channels.Binary)
	if err != nil {
		return err
	}
	ctx := context.Background()
	for _, addr := range addrs {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := x.Connect(cctx, addr, "bench")
		cancel()
		if err != nil {
			return err
		}
	}
	// Binary takes ownership of a sent slice but never modifies it, so
	// one payload serves every Send.
	payload := makePayload(a.size)
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
	if err := io.say(sentWord); err != nil {
		return err
	}
	// Stay connected until the runner closes stdin (after the subscriber
	// reported), so that closing never races the last packages.
	io.waitEOF()
	return nil
}

// goyotonHub is the scale hub: one context that listens on one port
// (Context.Listen: any number of peers), says READY with its address, is
// UP once a.conns client contexts joined, then publishes one message per
// SEND line to all of them.
func goyotonHub(a roleArgs, io *childIO) error {
	r, err := reactor.New()
	if err != nil {
		return err
	}
	x, err := r.NewContext(reactor.WithQueue(goQueueSize, goQueueRule))
	if err != nil {
		return err
	}
	pub, err := channels.NewPubChannel(x, benchSlot, channels.Binary)
	if err != nil {
		return err
	}
	l, err := x.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	full := make(chan struct{}, 1) // a join brought the count to a.conns
	l.Joined.Bind(func(*reactor.Connection) {
		if l.ConnectionCount() >= a.conns {
			select {
			case full <- struct{}{}:
			default:
			}
		}
	})
	before := settledRSS()
	host, port := l.Addr()
	if err := io.say("%s %s", readyWord, net.JoinHostPort(host, strconv.Itoa(port))); err != nil {
		return err
	}
	start := time.Now()
	// Progress every second, so that a runner that gives up knows how far
	// it got (it gives up after -scale-setup and kills the hub).
	t := time.NewTicker(time.Second)
	for l.ConnectionCount() < a.conns {
		select {
		case <-t.C:
			_ = io.say("%s %d %d", connectingWord, l.ConnectionCount(), rss())
		case <-full:
		case <-l.Done():
			t.Stop()
			return fmt.Errorf("listener stopped with %d of %d connections", l.ConnectionCount(), a.conns)
		}
	}
	t.Stop()
	setup := time.Since(start).Seconds()
	after := settledRSS()
	if err := io.sayJSON(upWord, result{Conns: l.ConnectionCount(), RSSBefore: before, RSSAfter: after, Setup: setup}); err != nil {
		return err
	}
	return hubRounds(io, func(round uint64, payload []byte) error {
		return pub.Send(context.Background(), payload)
	})
}

// goyotonClients creates a.conns contexts on one reactor, each with a
// SubChannel, connects them to the hub (64 Connects in flight), says
// CONNECTED, and says GOT when all of them received a round.
func goyotonClients(a roleArgs, io *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	r, err := reactor.New()
	if err != nil {
		return err
	}
	g := newGotRounds(io, a.conns)
	xs := make([]*reactor.Context, a.conns)
	for i := range xs {
		x, err := r.NewContext(reactor.WithQueue(goQueueSize, goQueueRule))
		if err != nil {
			return err
		}
		sub, err := channels.NewSubChannel(x, benchSlot, channels.Binary)
		if err != nil {
			return err
		}
		sub.Received.Bind(func(s *channels.SubChannel[[]byte]) {
			msgs, _ := s.RecvAll()
			for _, m := range msgs {
				g.got(m)
			}
		})
		xs[i] = x
	}
	if err := parallel(len(xs), 64, func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := xs[i].Connect(ctx, addrs[0], "")
		return err
	}); err != nil {
		return err
	}
	if err := io.say(connectedWord); err != nil {
		return err
	}
	io.waitEOF()
	return nil
}

// hubRounds answers each SEND <round> line: it stamps the time, publishes
// one 64-byte message carrying the round, and says SENT <round> <unixnano>.
func hubRounds(io *childIO, publish func(round uint64, payload []byte) error) error {
	for l := range io.lines {
		var round uint64
		if _, err := fmt.Sscanf(l, sendWord+" %d", &round); err != nil {
			return fmt.Errorf("bad line %q", l)
		}
		payload := make([]byte, 64)
		binary.LittleEndian.PutUint64(payload, round)
		t := time.Now().UnixNano()
		if err := publish(round, payload); err != nil {
			return err
		}
		if err := io.say("%s %d %d", sentWord, round, t); err != nil {
			return err
		}
	}
	return nil
}

// gotRounds counts, per round, the clients of this process that received
// it, and says GOT <round> <unixnano> when the last one did.
type gotRounds struct {
	io   *childIO
	want int
	mu   sync.Mutex
	n    map[uint64]int
}

func newGotRounds(io *childIO, want int) *gotRounds {
	return &gotRounds{io: io, want: want, n: map[uint64]int{}}
}

func (g *gotRounds) got(m []byte) {
	if len(m) < 8 {
		return
	}
	now := time.Now().UnixNano()
	round := binary.LittleEndian.Uint64(m)
	g.mu.Lock()
	g.n[round]++
	done := g.n[round] == g.want
	g.mu.Unlock()
	if done {
		_ = g.io.say("%s %d %d", gotWord, round, now)
	}
}

// parallel runs fn(0..n-1) on up to workers goroutines and returns the
// first error.
func parallel(n, workers int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}
