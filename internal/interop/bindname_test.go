package interop

import (
	"fmt"
	"testing"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/slots"
)

// bindPortReply is peer.py's answer to "bind" and "connect": the port
// bound, or, for connect, the port connected to (peer_port).
type bindPortReply struct {
	Port     int `json:"port"`
	PeerPort int `json:"peer_port"`
}

// TestBindByNameNextToPython: Debian's Python yoton binds one port above
// the one a name hashes to (its bind bug), Go binds the port itself. A Go
// and a Python host bound by the same name therefore both succeed, on
// neighbouring ports, and a client connecting by that name (Python's or
// Go's) reaches the Go host.
func TestBindByNameNextToPython(t *testing.T) {
	ctx := testkit.Context(t)
	x := newGoContext(t)
	p, _ := startPython(t, ctx, nil)
	name := fmt.Sprintf("goyoton-interop-name-%d", x.ID()%1000)
	want := int(slots.PortHash(name))

	var pyHost bindPortReply
	p.call(map[string]any{"op": "bind", "ctx": "main", "conn": "host", "addr": "localhost:" + name}, &pyHost)
	if pyHost.Port != want+1 {
		t.Logf("Python bound %d for %q (hash %d): not Debian's bind bug here", pyHost.Port, name, want)
	}
	goHost, err := x.Bind("localhost:"+name, 1, "")
	if err != nil {
		t.Fatalf("Go Bind by the same name next to Python's host: %v", err)
	}
	if _, port := goHost.LocalAddr(); port != want {
		t.Fatalf("Go bound %d, want the name's port %d", port, want)
	}

	var client bindPortReply
	p.call(map[string]any{"op": "context", "name": "client"}, nil)
	p.call(map[string]any{"op": "connect", "ctx": "client", "conn": "client", "addr": "localhost:" + name, "timeout": 5}, &client)
	if client.PeerPort != want {
		t.Fatalf("Python's client reached port %d, want the Go host's %d", client.PeerPort, want)
	}
	select {
	case <-goHost.Established():
	case <-ctx.Done():
		t.Fatal("the Go host never saw Python's client")
	}
}
