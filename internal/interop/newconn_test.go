package interop

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/slots"
	"github.com/goyoton/yoton/wire"
)

// stateSlots are the state channels every leaf of the hub test holds; the
// leaf named in the slot owns (sets) it.
var stateSlots = []string{"hub.st.a", "hub.st.b", "hub.st.g"}

// textStates makes Go state channels on the slots and their Received
// events.
func textStates(t *testing.T, x *reactor.Context, slots []string) (map[string]*channels.StateChannel[string], map[string]<-chan string) {
	t.Helper()
	chs := map[string]*channels.StateChannel[string]{}
	events := map[string]<-chan string{}
	for _, slot := range slots {
		st, err := channels.NewStateChannel(x, slot, channels.Text)
		if err != nil {
			t.Fatal(err)
		}
		chs[slot] = st
		events[slot] = stateEvents(st)
	}
	return chs, events
}

// pyLeaf starts a Python process whose context holds the hub test's state
// channels and a SubChannel on "hub.news".
func pyLeaf(t *testing.T, ctx context.Context) *py {
	t.Helper()
	p, _ := startPython(t, ctx, nil)
	for _, slot := range stateSlots {
		p.call(map[string]any{"op": "state", "slot": slot}, nil)
	}
	p.call(map[string]any{"op": "sub", "slot": "hub.news"}, nil)
	return p
}

// stateIs waits until the Python state at slot is want.
func (p *py) stateIs(slot, want string) {
	p.t.Helper()
	p.call(map[string]any{"op": "state_recv", "slot": slot, "until": want, "timeout": 10}, nil)
}

func (p *py) setState(slot, v string) {
	p.t.Helper()
	p.call(map[string]any{"op": "send", "kind": "state", "slot": slot, "value": v}, nil)
}

// checkPythonLog fails the test when the Python process logged an unknown
// context message, an error or a traceback (the Go-only link messages
// must pass unnoticed).
func checkPythonLog(t *testing.T, name string, p *py) {
	t.Helper()
	var r struct {
		Lines []string `json:"lines"`
	}
	p.call(map[string]any{"op": "log"}, &r)
	for _, line := range append(r.Lines, strings.Split(p.proc.Stderr(), "\n")...) {
		l := strings.ToLower(line)
		if strings.Contains(l, "unknown context message") || strings.Contains(l, "error") ||
			strings.Contains(l, "traceback") || strings.Contains(l, "exception") {
			t.Errorf("Python leaf %s logged: %q", name, line)
		}
	}
}

// TestListenHubNewConnection: a Go hub Listens; Python leaves and Go
// leaves join one by one, and every newcomer gets the states the network
// already holds, through NEW_CONNECTION forwarded by the hub:
// Python leaf A sets its state and joins; Python leaf B joins and gets
// A's; a Go leaf with state channels joins and gets A's and B's, and the
// Python leaves get the Go leaf's. Then a Go leaf without state channels
// (it tells the hub, in a Go-only link message, that it needs no
// NEW_CONNECTION) joins while the Go leaf streams to everyone: the
// stream reaches every leaf whole, the newcomer from its joining on, and
// states still flow both ways. Neither Python leaf logs an unknown context
// message or any error: the link messages pass unnoticed.
func TestListenHubNewConnection(t *testing.T) {
	ctx := testkit.Context(t)
	hub := newGoContext(t)
	l, addr, joined := listenGo(t, hub)

	a := pyLeaf(t, ctx)
	a.setState("hub.st.a", "A says hi")
	a.connect("main", "hub", addr)
	awaitJoined(t, ctx, joined)

	b := pyLeaf(t, ctx)
	b.connect("main", "hub", addr)
	awaitJoined(t, ctx, joined)
	b.stateIs("hub.st.a", "A says hi")
	b.setState("hub.st.b", "B says hi")
	a.stateIs("hub.st.b", "B says hi")

	// A Go leaf with state channels, on its own reactor.
	g := newGoContext(t)
	gStates, gEvents := textStates(t, g, stateSlots)
	if _, err := g.Connect(ctx, addr, "hub"); err != nil {
		t.Fatalf("Go leaf Connect: %v", err)
	}
	awaitJoined(t, ctx, joined)
	show := func(s string) string { return s }
	awaitState(t, ctx, gEvents["hub.st.a"], show, "A says hi")
	awaitState(t, ctx, gEvents["hub.st.b"], show, "B says hi")
	if err := gStates["hub.st.g"].Send(ctx, "G says hi"); err != nil {
		t.Fatal(err)
	}
	a.stateIs("hub.st.g", "G says hi")
	b.stateIs("hub.st.g", "G says hi")

	// A Go leaf without state channels joins mid-stream.
	news, err := channels.NewPubChannel(g, "hub.news", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	q := newGoContext(t)
	qNews, err := channels.NewSubChannel(q, "hub.news", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	s := startStream(t, ctx, news, 20)
	s.awaitReached(t, ctx)
	if _, err := q.Connect(ctx, addr, "hub"); err != nil {
		t.Fatalf("stateless Go leaf Connect: %v", err)
	}
	awaitJoined(t, ctx, joined)
	firstQ := tickIndex(t, recvN(t, ctx, qNews, 1)[0])
	const during = 30
	checkTicks(t, "stateless Go leaf", recvN(t, ctx, qNews, during), firstQ+1)
	total := s.finish(t)
	checkTicks(t, "stateless Go leaf", recvN(t, ctx, qNews, total-firstQ-1-during), firstQ+1+during)
	for _, leaf := range []struct {
		name string
		p    *py
	}{{"A", a}, {"B", b}} {
		checkTicks(t, "Python leaf "+leaf.name, leaf.p.recv("hub.news", "text", total), 0)
	}
	t.Logf("stream of %d messages; the stateless Go leaf joined at message %d", total, firstQ)

	// States still flow, both ways, after the stateless leaf joined.
	a.setState("hub.st.a", "A again")
	b.stateIs("hub.st.a", "A again")
	awaitState(t, ctx, gEvents["hub.st.a"], show, "A again")
	if err := gStates["hub.st.g"].Send(ctx, "G again"); err != nil {
		t.Fatal(err)
	}
	a.stateIs("hub.st.g", "G again")
	b.stateIs("hub.st.g", "G again")

	if n := l.ConnectionCount(); n != 4 {
		t.Errorf("hub ConnectionCount() = %d, want 4 leaves", n)
	}
	checkPythonLog(t, "A", a)
	checkPythonLog(t, "B", b)
}

// TestPythonLogsUnknownContextMessage is the control for checkPythonLog:
// a raw yoton client sends a Python host a Go-only link message (source
// sequence 0, slot 3), then an unknown context message; Python logs the
// second, through the log checkPythonLog reads, and nothing about the
// first.
func TestPythonLogsUnknownContextMessage(t *testing.T) {
	ctx := testkit.Context(t)
	p, _ := startPython(t, ctx, nil)
	var b bindReply
	p.call(map[string]any{"op": "bind", "conn": "raw", "addr": "127.0.0.1:0"}, &b)

	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", b.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	const id = 0x1234_5678_9abc_def0
	if _, err := nc.Write(wire.HandshakeLine(id, os.Getpid())); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "YOTON!") {
		t.Fatalf("Python's handshake answer %q, %v", line, err)
	}
	var out []byte
	for _, pkg := range []struct {
		slot, seq uint64
		data      string
	}{
		{slot: 3, seq: 0, data: "goyoton-link/1 new-connection=0"},
		{slot: slots.ContextSlot, seq: 1, data: "NOT_A_CONTEXT_MESSAGE"},
	} {
		out = wire.AppendHeader(out, wire.Header{Slot: pkg.slot, SourceID: id, SourceSeq: pkg.seq, Length: uint64(len(pkg.data))})
		out = append(out, pkg.data...)
	}
	if _, err := nc.Write(out); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Lines []string `json:"lines"`
	}
	p.call(map[string]any{"op": "wait_log", "contains": "unknown context message", "timeout": 10}, &r)
	unknown := 0
	for _, l := range r.Lines {
		if strings.Contains(l, "goyoton-link") {
			t.Errorf("Python logged the link message: %q", l)
		}
		if strings.Contains(l, "unknown context message") {
			unknown++
			if !strings.Contains(l, "NOT_A_CONTEXT_MESSAGE") {
				t.Errorf("unexpected log line %q", l)
			}
		}
	}
	if unknown != 1 {
		t.Errorf("Python logged %d unknown context messages, want 1: %q", unknown, r.Lines)
	}
}
