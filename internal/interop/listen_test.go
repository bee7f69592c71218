package interop

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

// listenGo makes x listen on a free port of 127.0.0.1 and returns the
// listener, its address and the connections its Joined signal reports
// (subscribed before anyone can join). The listener closes with the test.
func listenGo(t *testing.T, x *reactor.Context, opts ...reactor.ListenOption) (*reactor.Listener, string, <-chan *reactor.Connection) {
	t.Helper()
	l, err := x.Listen("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Listener.Close: %v", err)
		}
	})
	joined := make(chan *reactor.Connection, 64)
	l.Joined.Bind(func(c *reactor.Connection) {
		select {
		case joined <- c:
		default:
		}
	})
	host, port := l.Addr()
	if host != "127.0.0.1" || port == 0 {
		t.Fatalf("Listener.Addr() = %s:%d", host, port)
	}
	return l, fmt.Sprintf("%s:%d", host, port), joined
}

// awaitJoined waits for the next connection the listener reports.
func awaitJoined(t *testing.T, ctx context.Context, joined <-chan *reactor.Connection) *reactor.Connection {
	t.Helper()
	select {
	case c := <-joined:
		return c
	case <-ctx.Done():
		t.Fatalf("no connection joined the listener: %v", ctx.Err())
		return nil
	}
}

// pyConnect lets Python context pyCtx connect (with yoton's ordinary
// connect) to addr as connection conn.
func (p *py) connect(pyCtx, conn, addr string) connectReply {
	p.t.Helper()
	var r connectReply
	p.call(map[string]any{"op": "connect", "ctx": pyCtx, "conn": conn, "addr": addr, "timeout": 5}, &r)
	return r
}

// tick is message i of a stream.
func tick(i int) string { return fmt.Sprintf("tick %05d", i) }

// tickIndex parses a message made by tick.
func tickIndex(t *testing.T, m string) int {
	t.Helper()
	i, err := strconv.Atoi(strings.TrimPrefix(m, "tick "))
	if err != nil || tick(i) != m {
		t.Fatalf("%q is not a stream message", m)
	}
	return i
}

// checkTicks fails the test unless got is tick(from), tick(from+1), ...
func checkTicks(t *testing.T, who string, got []string, from int) {
	t.Helper()
	for j, m := range got {
		if want := tick(from + j); m != want {
			t.Fatalf("%s: message %d of the run is %q, want %q (lost, duplicated or out of order)", who, j, m, want)
		}
	}
}

// stream publishes tick(0), tick(1), ... on pub from its own goroutine,
// one every 2 ms, until stopped; reached is closed once tick(at) went out.
type stream struct {
	stop    chan struct{}
	reached chan struct{}
	done    chan struct{}
	once    sync.Once
	sent    int
	err     error
}

func startStream(t *testing.T, ctx context.Context, pub *channels.PubChannel[string], at int) *stream {
	t.Helper()
	s := &stream{stop: make(chan struct{}), reached: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		pace := time.NewTicker(2 * time.Millisecond) // pacing only: nothing waits on it
		defer pace.Stop()
		for {
			if err := pub.Send(ctx, tick(s.sent)); err != nil {
				s.err = err
				return
			}
			if s.sent == at {
				close(s.reached)
			}
			s.sent++
			select {
			case <-s.stop:
				return
			case <-ctx.Done():
				s.err = ctx.Err()
				return
			case <-pace.C:
			}
		}
	}()
	t.Cleanup(func() { s.halt() })
	return s
}

func (s *stream) halt() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// finish stops the stream and returns how many messages it sent.
func (s *stream) finish(t *testing.T) int {
	t.Helper()
	s.halt()
	if s.err != nil {
		t.Fatalf("stream publisher: %v after %d messages", s.err, s.sent)
	}
	return s.sent
}

// awaitReached waits until the stream sent tick(at).
func (s *stream) awaitReached(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-s.reached:
	case <-s.done:
		t.Fatalf("stream ended after %d messages: %v", s.sent, s.err)
	case <-ctx.Done():
		t.Fatalf("stream did not get going: %v", ctx.Err())
	}
}

// TestListenPythonLeaves: one Go Listen serves three Python contexts that
// join with yoton's ordinary connect. Publish/subscribe works both ways
// (Go to each Python, each Python to Go, every message once and in
// order), the listener counts its three connections, and a fourth Python
// context (another process) joining while Go keeps publishing gets the
// stream from its joining on, without a gap, while the first three lose
// nothing.
func TestListenPythonLeaves(t *testing.T) {
	ctx := testkit.Context(t)
	x := newGoContext(t)
	l, addr, joined := listenGo(t, x)

	down, err := channels.NewPubChannel(x, "listen.down", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	ticks, err := channels.NewPubChannel(x, "listen.ticks", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	up, err := channels.NewSubChannel(x, "listen.up", channels.Text)
	if err != nil {
		t.Fatal(err)
	}

	p, main := startPython(t, ctx, nil)
	leaves := []string{"main", "b", "c"}
	wantPeers := map[uint64]string{mustUint(t, main.IDHex, 16): "main"}
	for _, leaf := range leaves[1:] {
		var r contextReply
		p.call(map[string]any{"op": "context", "name": leaf}, &r)
		wantPeers[mustUint(t, r.IDHex, 16)] = leaf
	}
	for _, leaf := range leaves {
		for _, ch := range []struct{ kind, slot string }{{"sub", "listen.down"}, {"sub", "listen.ticks"}, {"pub", "listen.up"}} {
			p.call(map[string]any{"op": ch.kind, "ctx": leaf, "slot": ch.slot}, nil)
		}
		r := p.connect(leaf, leaf+"-hub", addr)
		if got := mustUint(t, r.PeerID, 10); got != x.ID() {
			t.Errorf("%s: Python's conn.id2 = %#x, the listening context is %#x", leaf, got, x.ID())
		}
	}
	for range leaves {
		c := awaitJoined(t, ctx, joined)
		leaf, ok := wantPeers[c.PeerID()]
		if !ok {
			t.Fatalf("joined connection's peer id %#x is none of the Python contexts %v", c.PeerID(), wantPeers)
		}
		delete(wantPeers, c.PeerID())
		if c.Status() != reactor.StatusHosting || c.Context() != x {
			t.Errorf("%s: joined connection status %v, context %v", leaf, c.Status(), c.Context())
		}
	}
	if n := l.ConnectionCount(); n != 3 {
		t.Errorf("ConnectionCount() = %d, want 3", n)
	}
	if n := len(l.Connections()); n != 3 {
		t.Errorf("len(Connections()) = %d, want 3", n)
	}
	if n := x.ConnectionCount(); n != 3 {
		t.Errorf("context ConnectionCount() = %d, want 3", n)
	}

	// Go to every Python.
	want := numbered("go")
	for _, m := range want {
		if err := down.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, leaf := range leaves {
		var r struct {
			Messages []string `json:"messages"`
		}
		p.call(map[string]any{"op": "recv", "ctx": leaf, "slot": "listen.down", "count": len(want), "timeout": 10}, &r)
		if !slices.Equal(r.Messages, want) {
			t.Errorf("%s received out of order, altered or duplicated: first difference at %d", leaf, firstDiff(r.Messages, want))
		}
	}

	// Every Python to Go: the three streams interleave, each in order.
	const perLeaf = 100
	for _, leaf := range leaves {
		values := make([]string, perLeaf)
		for i := range values {
			values[i] = fmt.Sprintf("%s %03d", leaf, i)
		}
		p.call(map[string]any{"op": "send", "ctx": leaf, "slot": "listen.up", "values": values}, nil)
	}
	next := map[string]int{}
	for _, m := range recvN(t, ctx, up, perLeaf*len(leaves)) {
		leaf, _, _ := strings.Cut(m, " ")
		if want := fmt.Sprintf("%s %03d", leaf, next[leaf]); m != want {
			t.Fatalf("Go received %q, want %q next from %s", m, want, leaf)
		}
		next[leaf]++
	}
	for _, leaf := range leaves {
		if next[leaf] != perLeaf {
			t.Errorf("Go received %d messages from %s, want %d", next[leaf], leaf, perLeaf)
		}
	}

	// A fourth Python context joins while Go keeps publishing.
	p4, ctx4 := startPython(t, ctx, nil)
	p4.call(map[string]any{"op": "sub", "slot": "listen.ticks"}, nil)
	s := startStream(t, ctx, ticks, 20)
	s.awaitReached(t, ctx)
	p4.connect("main", "hub", addr)
	if c := awaitJoined(t, ctx, joined); c.PeerID() != mustUint(t, ctx4.IDHex, 16) {
		t.Errorf("fourth joined connection's peer %#x, want the new Python context %s", c.PeerID(), ctx4.IDHex)
	}
	if n := l.ConnectionCount(); n != 4 {
		t.Errorf("ConnectionCount() = %d after the fourth joined, want 4", n)
	}
	first := tickIndex(t, p4.recv("listen.ticks", "text", 1)[0])
	const during = 30 // received while the stream still runs
	checkTicks(t, "late joiner", p4.recv("listen.ticks", "text", during), first+1)
	total := s.finish(t)
	if rest := total - first - 1 - during; rest > 0 {
		checkTicks(t, "late joiner", p4.recv("listen.ticks", "text", rest), first+1+during)
	}
	t.Logf("stream of %d messages; the fourth context joined at message %d", total, first)
	for _, leaf := range leaves {
		var r struct {
			Messages []string `json:"messages"`
		}
		p.call(map[string]any{"op": "recv", "ctx": leaf, "slot": "listen.ticks", "count": total, "timeout": 10}, &r)
		checkTicks(t, leaf, r.Messages, 0)
	}

	// Closing the listener stops accepting; its connections live on.
	if err := l.Close(); err != nil {
		t.Fatalf("Listener.Close: %v", err)
	}
	select {
	case <-l.Done():
	case <-ctx.Done():
		t.Fatal("Listener.Done not closed after Close")
	}
	p4.call(map[string]any{"op": "context", "name": "refused"}, nil)
	err = p4.proc.Call(ctx, map[string]any{"op": "connect", "ctx": "refused", "conn": "refused", "addr": addr, "timeout": 0.3}, nil)
	if remote := (*pypeer.RemoteError)(nil); !errors.As(err, &remote) || !strings.Contains(remote.Message, "Cannot connect") {
		t.Errorf("Python connect to a closed listener: %v, want yoton's \"Cannot connect\"", err)
	}
	if n := l.ConnectionCount(); n != 4 {
		t.Errorf("ConnectionCount() = %d after Close, want the 4 connections to live on", n)
	}
	if err := down.Send(ctx, "after close"); err != nil {
		t.Fatal(err)
	}
	for _, leaf := range leaves {
		var r struct {
			Messages []string `json:"messages"`
		}
		p.call(map[string]any{"op": "recv", "ctx": leaf, "slot": "listen.down", "count": 1, "timeout": 10}, &r)
		if r.Messages[0] != "after close" {
			t.Errorf("%s received %q after the listener closed", leaf, r.Messages)
		}
	}
}

// TestListenDropBacklog: a context made WithBacklog(DropBacklog) drops
// (and counts) what it publishes while no peer is connected, so a Python
// context joining its Listen later gets only what follows (with the
// default, TestStartupQueue shows yoton's startup queue delivering it).
func TestListenDropBacklog(t *testing.T) {
	ctx := testkit.Context(t)
	pypeer.Require(t)
	r := reactorkit.NewReactor(t)
	x := reactorkit.NewContext(t, r, reactor.WithBacklog(reactor.DropBacklog))
	_, addr, joined := listenGo(t, x)
	pub, err := channels.NewPubChannel(x, "drop.news", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	early := []string{"stale 1", "stale 2", "stale 3"}
	for _, m := range early {
		if err := pub.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := x.Discarded(); n != uint64(len(early)) {
		t.Errorf("Discarded() = %d with nobody connected, want %d", n, len(early))
	}

	p, _ := startPython(t, ctx, nil)
	p.call(map[string]any{"op": "sub", "slot": "drop.news"}, nil)
	p.connect("main", "hub", addr)
	awaitJoined(t, ctx, joined)
	if err := pub.Send(ctx, "fresh"); err != nil {
		t.Fatal(err)
	}
	if got := p.recv("drop.news", "text", 1)[0]; got != "fresh" {
		t.Errorf("late Python context received %q first, want %q (the stale messages dropped)", got, "fresh")
	}
}

// TestListenMaxConnections: a Listen with WithMaxConnections(1) turns a
// second Python context away in the handshake (Python's connect fails
// with "Handshake failed."), and a Go Connect with ErrHandshake, while
// the first connection keeps working; once the first peer leaves, the
// next one gets in.
func TestListenMaxConnections(t *testing.T) {
	ctx := testkit.Context(t)
	x := newGoContext(t)
	l, addr, joined := listenGo(t, x, reactor.WithMaxConnections(1))
	down, err := channels.NewPubChannel(x, "max.down", channels.Text)
	if err != nil {
		t.Fatal(err)
	}

	p, _ := startPython(t, ctx, nil)
	p.call(map[string]any{"op": "context", "name": "b"}, nil)
	for _, leaf := range []string{"main", "b"} {
		p.call(map[string]any{"op": "sub", "ctx": leaf, "slot": "max.down"}, nil)
	}
	p.connect("main", "main-hub", addr)
	first := awaitJoined(t, ctx, joined)

	err = p.proc.Call(ctx, map[string]any{"op": "connect", "ctx": "b", "conn": "b-hub", "addr": addr, "timeout": 5}, nil)
	var remote *pypeer.RemoteError
	switch {
	case err == nil:
		t.Fatal("a second Python context connected to a listener limited to one connection")
	case !errors.As(err, &remote):
		t.Fatalf("second Python connect: %v", err)
	case !strings.Contains(remote.Message, "Handshake failed"):
		t.Errorf("second Python connect failed with %q, want a failed handshake", remote.Message)
	default:
		t.Logf("second Python connect refused: %s", remote.Message)
	}

	g := newGoContext(t)
	if _, err := g.Connect(ctx, addr, "hub"); !errors.Is(err, reactor.ErrHandshake) {
		t.Errorf("Go Connect to a full listener: %v, want ErrHandshake", err)
	}
	if n := l.ConnectionCount(); n != 1 {
		t.Errorf("ConnectionCount() = %d after the refusals, want 1", n)
	}
	if err := down.Send(ctx, "still here"); err != nil {
		t.Fatal(err)
	}
	if got := p.recv("max.down", "text", 1); got[0] != "still here" {
		t.Errorf("first Python context received %q", got)
	}

	// The first peer leaves; its place is free again.
	p.call(map[string]any{"op": "close_conn", "conn": "main-hub"}, nil)
	select {
	case <-first.Done():
	case <-ctx.Done():
		t.Fatalf("first connection did not close: %v", first.Status())
	}
	if n := l.ConnectionCount(); n != 0 {
		t.Errorf("ConnectionCount() = %d after the peer left, want 0", n)
	}
	p.call(map[string]any{"op": "connect", "ctx": "b", "conn": "b-hub2", "addr": addr, "timeout": 5}, nil)
	awaitJoined(t, ctx, joined)
	if err := down.Send(ctx, "welcome b"); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Messages []string `json:"messages"`
	}
	p.call(map[string]any{"op": "recv", "ctx": "b", "slot": "max.down", "count": 1, "timeout": 10}, &r)
	if r.Messages[0] != "welcome b" {
		t.Errorf("second Python context received %q", r.Messages)
	}
}
