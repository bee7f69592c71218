package interop

import (
	"strconv"
	"testing"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// linkFunc connects a Go context and a Python context one way or the other.
type linkFunc func(t *testing.T, x *reactor.Context, p *py, pyCtx, conn string) (*reactor.Connection, connectReply)

var directions = []struct {
	name string
	link linkFunc
}{
	{name: "go-binds", link: goHosts},
	{name: "python-binds", link: pyHosts},
}

// TestConnect connects both ways and exchanges a message each way.
func TestConnect(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			ctx := testkit.Context(t)
			x := newGoContext(t)
			p, pc := startPython(t, ctx, nil)
			c, r := d.link(t, x, p, "main", "c")

			if !c.IsConnected() {
				t.Fatalf("Go connection status %v", c.Status())
			}
			if got := c.PeerPID(); got != pc.PID || got != p.proc.Pid() {
				t.Errorf("PeerPID() = %d; Python reports pid %d, process is %d", got, pc.PID, p.proc.Pid())
			}
			if r.PeerPID != c.PID() {
				t.Errorf("Python sees pid %d, ours is %d", r.PeerPID, c.PID())
			}
			if n := x.ConnectionCount(); n != 1 {
				t.Errorf("ConnectionCount() = %d, want 1", n)
			}

			p.call(map[string]any{"op": "pub", "slot": "hello.py"}, nil)
			p.call(map[string]any{"op": "sub", "slot": "hello.go"}, nil)
			pub, err := channels.NewPubChannel(x, "hello.go", channels.Text)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := channels.NewSubChannel(x, "hello.py", channels.Text)
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.Send(ctx, "from go"); err != nil {
				t.Fatal(err)
			}
			if got := p.recv("hello.go", "text", 1); got[0] != "from go" {
				t.Errorf("Python received %q", got)
			}
			p.call(map[string]any{"op": "send", "slot": "hello.py", "value": "from python"}, nil)
			if got := recvN(t, ctx, sub, 1); got[0] != "from python" {
				t.Errorf("Go received %q", got)
			}
		})
	}
}

// TestHandshakeIDs checks the ids both sides learn in the handshake.
// Python's UID.get_hex pads on the right (ljust), so a Python id below
// 2^60 travels as id*16 (more generally, shifted left until 16 digits);
// the Go side must report what Python actually sent. We pad on the left,
// so Python must see our real id.
func TestHandshakeIDs(t *testing.T) {
	const small = 0x0123456789abcdef // < 2^60: hex() gives 15 digits
	ids := []struct {
		name   string
		forced string // Python context id, decimal; "" lets Python choose
	}{
		{name: "python-id"},
		{name: "python-id-below-2^60", forced: strconv.FormatUint(small, 10)},
	}
	for _, id := range ids {
		for _, d := range directions {
			t.Run(id.name+"/"+d.name, func(t *testing.T) {
				ctx := testkit.Context(t)
				x := newGoContext(t)
				extra := map[string]any{}
				if id.forced != "" {
					extra["id"] = id.forced
				}
				p, pc := startPython(t, ctx, extra)
				c, r := d.link(t, x, p, "main", "c")

				pyID := mustUint(t, pc.ID, 10)
				sent := mustUint(t, pc.IDHex, 16) // what Python wrote in its handshake line
				if got := c.PeerID(); got != sent {
					t.Errorf("PeerID() = %#x, Python sent %q", got, pc.IDHex)
				}
				// Independently: the right padding multiplies by 16 per
				// missing digit.
				want := pyID
				for want < 1<<60 {
					want <<= 4
				}
				if sent != want {
					t.Errorf("Python's handshake id %q is not %#x padded on the right (%#x)", pc.IDHex, pyID, want)
				}
				if id.forced != "" && c.PeerID() != small<<4 {
					t.Errorf("PeerID() = %#x, want %#x", c.PeerID(), uint64(small)<<4)
				}
				t.Logf("Python id %#x sent as %s (Go sees %#x)", pyID, pc.IDHex, c.PeerID())

				if got := mustUint(t, r.PeerID, 10); got != x.ID() {
					t.Errorf("Python's conn.id2 = %#x, our context id is %#x", got, x.ID())
				}
				if c.ID() != x.ID() {
					t.Errorf("Connection.ID() = %#x, context id %#x", c.ID(), x.ID())
				}
				if x.ID() < 1<<60 {
					t.Logf("our id %#x is below 2^60: left padding exercised", x.ID())
				}
			})
		}
	}
}
