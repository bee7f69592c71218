package interop

import (
	"fmt"
	"net"
	"testing"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/slots"
)

// quietPortName returns a port name whose port and the next one (where
// Debian's Python binds) lie above Linux's ephemeral range (32768-60999
// by default; PortHash gives 49152-65535) and are free now: inside that
// range, a client socket of a concurrent test could take one of them
// between this check and the bind ("address already in use").
func quietPortName(t *testing.T, seed uint64) string {
	t.Helper()
	for i := range 100_000 {
		name := fmt.Sprintf("goyoton-interop-name-%d-%d", seed%1000, i)
		port := slots.PortHash(name)
		if port <= 60999 || port+1 > 65535 {
			continue
		}
		free := true
		for _, p := range []int{port, port + 1} {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				break
			}
			_ = ln.Close()
		}
		if free {
			return name
		}
	}
	t.Fatal("no port name above the ephemeral range is free")
	return ""
}

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
	name := quietPortName(t, x.ID())
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
