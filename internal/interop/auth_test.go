package interop

import (
	"testing"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// TestSecretRefusesPython: a Go context made WithSecret turns a Python
// context away after the handshake (Python cannot answer the challenge):
// Python's connection closes with "Closed from other end." instead of
// hanging, nothing of it reaches the Go side, and a Go context with the
// secret still gets in.
func TestSecretRefusesPython(t *testing.T) {
	ctx := testkit.Context(t)
	r := newGoContext(t).Reactor() // skips without the Python peer
	host, err := r.NewContext(reactor.WithSecret([]byte("s3cret")))
	if err != nil {
		t.Fatal(err)
	}
	l, addr, joined := listenGo(t, host)
	p, _ := startPython(t, ctx, nil)
	p.connect("main", "c", addr) // the handshake itself succeeds
	var closed pyClosed
	p.call(map[string]any{"op": "closed", "conn": "c", "timeout": 10}, &closed)
	if closed.Reason != reactor.ReasonClosedFromThere {
		t.Errorf("Python's connection closed with %q, want %q", closed.Reason, reactor.ReasonClosedFromThere)
	}
	if n := l.ConnectionCount(); n != 0 {
		t.Errorf("the listener holds %d connections", n)
	}
	select {
	case c := <-joined:
		t.Errorf("a refused peer joined: %s", c)
	default:
	}

	friend, err := r.NewContext(reactor.WithSecret([]byte("s3cret")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := friend.Connect(ctx, addr, ""); err != nil {
		t.Fatalf("Connect with the secret: %v", err)
	}
	awaitJoined(t, ctx, joined)
}
