package interop

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// py is one Python peer process with one or more yoton contexts.
type py struct {
	t    *testing.T
	ctx  context.Context
	proc *pypeer.Process
}

// contextReply is peer.py's answer to "context".
type contextReply struct {
	ID    string `json:"id"`
	IDHex string `json:"id_hex"`
	PID   int    `json:"pid"`
}

// startPython starts peer.py and creates its context "main". extra adds
// fields to the context command (e.g. "id").
func startPython(t *testing.T, ctx context.Context, extra map[string]any) (*py, contextReply) {
	t.Helper()
	peer := pypeer.Require(t)
	p := &py{t: t, ctx: ctx, proc: peer.Start(t, "peer.py")}
	cmd := map[string]any{"op": "context"}
	for k, v := range extra {
		cmd[k] = v
	}
	var r contextReply
	p.call(cmd, &r)
	return p, r
}

// call runs one command and fails the test on error.
func (p *py) call(cmd map[string]any, reply any) {
	p.t.Helper()
	if err := p.proc.Call(p.ctx, cmd, reply); err != nil {
		p.t.Fatalf("python %v: %v", cmd["op"], err)
	}
}

// recv asks the Python sub at slot for count messages of type typ
// (text messages as is, binary as hex, objects as repr).
func (p *py) recv(slot, typ string, count int) []string {
	p.t.Helper()
	var r struct {
		Messages []string `json:"messages"`
	}
	p.call(map[string]any{"op": "recv", "slot": slot, "type": typ, "count": count, "timeout": 10}, &r)
	return r.Messages
}

// newGoContext starts a reactor with one context; both close with the test.
func newGoContext(t *testing.T) *reactor.Context {
	t.Helper()
	pypeer.Require(t) // every test here needs the peer: skip before starting anything
	return reactorkit.NewContext(t, reactorkit.NewReactor(t))
}

func mustUint(t *testing.T, s string, base int) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

// connectReply is peer.py's answer to "connect" and "wait_connected".
type connectReply struct {
	PeerID   string `json:"peer_id"`
	PeerPID  int    `json:"peer_pid"`
	Port     int    `json:"port"`
	PeerPort int    `json:"peer_port"`
}

// goHosts binds x on a free port and lets Python context pyCtx connect to
// it as connection conn. It returns once the Go connection is connected
// (a message from Python has arrived through it).
func goHosts(t *testing.T, x *reactor.Context, p *py, pyCtx, conn string) (*reactor.Connection, connectReply) {
	t.Helper()
	c, err := x.Bind("127.0.0.1:0", 1, conn)
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	_, port := c.LocalAddr()
	var r connectReply
	p.call(map[string]any{"op": "connect", "ctx": pyCtx, "conn": conn,
		"addr": fmt.Sprintf("127.0.0.1:%d", port), "timeout": 5}, &r)
	awaitLink(t, p.ctx, x, p, pyCtx)
	if !c.IsConnected() {
		t.Fatalf("Go bind connection is %v after a message came through it", c.Status())
	}
	return c, r
}

// bindReply is peer.py's answer to "bind".
type bindReply struct {
	Port int `json:"port"`
}

// pyHosts lets Python context pyCtx bind a free port as connection conn
// (peer.py reports the port really bound: Debian's yoton binds one above
// the one requested) and connects x to it.
func pyHosts(t *testing.T, x *reactor.Context, p *py, pyCtx, conn string) (*reactor.Connection, connectReply) {
	t.Helper()
	var b bindReply
	p.call(map[string]any{"op": "bind", "ctx": pyCtx, "conn": conn, "addr": "127.0.0.1:0"}, &b)
	c, err := x.Connect(p.ctx, fmt.Sprintf("127.0.0.1:%d", b.Port), conn)
	if err != nil {
		t.Fatalf("Connect to Python on port %d: %v", b.Port, err)
	}
	var r connectReply
	p.call(map[string]any{"op": "wait_connected", "ctx": pyCtx, "conn": conn}, &r)
	if r.PeerPort != 0 {
		if _, port := c.LocalAddr(); port != r.PeerPort {
			t.Errorf("Python sees our port as %d, we have %d", r.PeerPort, port)
		}
	}
	return c, r
}

var linkSeq atomic.Int64

// awaitLink waits until a message published by Python context pyCtx
// reaches x: afterwards the connection between them carries traffic.
func awaitLink(t *testing.T, ctx context.Context, x *reactor.Context, p *py, pyCtx string) {
	t.Helper()
	slot := fmt.Sprintf("interop.link.%d", linkSeq.Add(1))
	sub, err := channels.NewSubChannel(x, slot, channels.Text)
	if err != nil {
		t.Fatalf("NewSubChannel: %v", err)
	}
	defer sub.Close()
	p.call(map[string]any{"op": "pub", "ctx": pyCtx, "slot": slot}, nil)
	p.call(map[string]any{"op": "send", "ctx": pyCtx, "slot": slot, "value": "link"}, nil)
	if m, err := sub.Recv(ctx); err != nil || m != "link" {
		t.Fatalf("waiting for a message from Python through the new connection: %q, %v", m, err)
	}
}

// recvN receives n messages from sub, failing the test when ctx ends.
func recvN[T any](t *testing.T, ctx context.Context, sub *channels.SubChannel[T], n int) []T {
	t.Helper()
	out := make([]T, 0, n)
	for len(out) < n {
		m, err := sub.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv after %d of %d messages: %v", len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

// closedEvents subscribes to c's Closed signal; the handler runs on the
// loop and never blocks.
func closedEvents(c *reactor.Connection) <-chan reactor.ClosedEvent {
	ch := make(chan reactor.ClosedEvent, 4)
	c.Closed.Bind(func(ev reactor.ClosedEvent) {
		select {
		case ch <- ev:
		default:
		}
	})
	return ch
}

// waitClosed waits for both the Closed signal and Done of c and returns
// the signalled reason.
func waitClosed(t *testing.T, ctx context.Context, c *reactor.Connection, events <-chan reactor.ClosedEvent) string {
	t.Helper()
	var ev reactor.ClosedEvent
	select {
	case ev = <-events:
	case <-ctx.Done():
		t.Fatalf("no Closed signal (status %v, reason %q)", c.Status(), c.CloseReason())
	}
	if ev.Conn != c {
		t.Errorf("Closed signal carries connection %v, want %v", ev.Conn, c)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatalf("Closed signal fired (%q) but Done() is not closed", ev.Reason)
	}
	if got := c.CloseReason(); got != ev.Reason {
		t.Errorf("CloseReason() = %q, the signal said %q", got, ev.Reason)
	}
	if c.Status() != reactor.StatusClosed {
		t.Errorf("status after Closed = %v", c.Status())
	}
	return ev.Reason
}
