package interop

import (
	"context"
	"fmt"
	"testing"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// startFlowPeer starts peer.py with its flow module (state channels and
// sync mode) and creates its context "main"; extra adds fields to that
// command (e.g. "queue_params").
func startFlowPeer(t *testing.T, ctx context.Context, extra map[string]any) *py {
	t.Helper()
	peer := pypeer.Require(t)
	p := &py{t: t, ctx: ctx, proc: peer.StartModule(t, "flow")}
	cmd := map[string]any{"op": "context"}
	for k, v := range extra {
		cmd[k] = v
	}
	p.call(cmd, nil)
	return p
}

// stateEvents returns a channel that gets the state of ch each time its
// Received signal is emitted (the handler runs on the loop and never
// blocks: Recv does not wait).
func stateEvents[T any](ch *channels.StateChannel[T]) <-chan T {
	out := make(chan T, 64)
	ch.Received.Bind(func(s *channels.StateChannel[T]) {
		if v, ok := s.Recv(); ok {
			select {
			case out <- v:
			default:
			}
		}
	})
	return out
}

// awaitState waits until a Received state of ch, shown with show, is want.
func awaitState[T any](t *testing.T, ctx context.Context, events <-chan T, show func(T) string, want string) {
	t.Helper()
	var last string
	for {
		select {
		case v := <-events:
			if last = show(v); last == want {
				return
			}
		case <-ctx.Done():
			t.Fatalf("state never became %s (last %q)", want, last)
		}
	}
}

// stateKinds are the message types the state tests run with: how Python
// is given a value and how Go shows one, to compare with Python's repr.
var stateKinds = []struct {
	name    string
	typ     string
	pyValue any    // as peer.py takes it
	want    string // as peer.py reports it (objects by repr)
	goValue any
}{
	{name: "text", typ: "text", pyValue: "ready \u2713 h\u00e9", want: "ready \u2713 h\u00e9", goValue: "ready \u2713 h\u00e9"},
	{name: "object", typ: "object", pyValue: map[string]any{"tuple": []any{"ready", 3, 2.5, nil}},
		want: "('ready', 3, 2.5, None)", goValue: wire.Tuple{"ready", int64(3), 2.5, nil}},
}

// TestStatePythonToLateGo: a state set in Python, after its startup
// queue went out, reaches a Go context that connects afterwards (Python
// resends it on the Go side's NEW_CONNECTION); later changes flow both
// ways.
func TestStatePythonToLateGo(t *testing.T) {
	for _, k := range stateKinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := testkit.Context(t)
			x := newGoContext(t)
			p := startFlowPeer(t, ctx, nil)

			// Python's main context is already in a network (with aux)
			// when it sets the state.
			p.call(map[string]any{"op": "context", "name": "aux"}, nil)
			var b bindReply
			p.call(map[string]any{"op": "bind", "conn": "first", "addr": "127.0.0.1:0"}, &b)
			p.call(map[string]any{"op": "connect", "ctx": "aux", "conn": "aux",
				"addr": fmt.Sprintf("127.0.0.1:%d", b.Port), "timeout": 5}, nil)
			p.call(map[string]any{"op": "wait_connected", "conn": "first"}, nil)
			for _, c := range []string{"main", "aux"} {
				p.call(map[string]any{"op": "state", "ctx": c, "slot": "st", "type": k.typ}, nil)
			}
			p.call(map[string]any{"op": "send", "kind": "state", "slot": "st", "type": k.typ, "value": k.pyValue}, nil)
			p.call(map[string]any{"op": "state_recv", "ctx": "aux", "slot": "st", "type": k.typ, "until": k.want}, nil)

			switch k.typ {
			case "text":
				lateGo(t, ctx, x, p, channels.Text, func(s string) string { return s }, k.want, "changed")
			default:
				lateGo(t, ctx, x, p, channels.Object, wire.Repr, k.want, any(wire.Tuple{"changed"}))
			}
		})
	}
}

func lateGo[T any](t *testing.T, ctx context.Context, x *reactor.Context, p *py, mt channels.MessageType[T], show func(T) string, want string, next T) {
	t.Helper()
	st, err := channels.NewStateChannel(x, "st", mt)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Recv(); ok {
		t.Fatal("a state before connecting")
	}
	events := stateEvents(st)
	pyHosts(t, x, p, "main", "late")
	awaitState(t, ctx, events, show, want)
	if v, ok := st.Recv(); !ok || show(v) != want {
		t.Fatalf("Recv = %s, %v; want %s", show(v), ok, want)
	}

	// A change in Go reaches both Python contexts; aux through main.
	if err := st.Send(ctx, next); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"main", "aux"} {
		p.call(map[string]any{"op": "state_recv", "ctx": c, "slot": "st", "type": typeName(mt), "until": show(next)}, nil)
	}
}

func typeName[T any](mt channels.MessageType[T]) string {
	if mt.Name() == "obj" {
		return "object"
	}
	return "text"
}

// TestStateGoToLatePython: a state set in Go, after its startup queue
// went out, reaches a Python context that connects afterwards (Go
// resends it on Python's NEW_CONNECTION); later changes flow both ways.
func TestStateGoToLatePython(t *testing.T) {
	for _, k := range stateKinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := testkit.Context(t)
			x := newGoContext(t)
			p := startFlowPeer(t, ctx, nil)

			// x is already in a network (with y) when it sets the state.
			y, err := x.Reactor().NewContext()
			if err != nil {
				t.Fatal(err)
			}
			c, err := x.Bind("127.0.0.1:0", 1, "first")
			if err != nil {
				t.Fatal(err)
			}
			_, port := c.LocalAddr()
			if _, err := y.Connect(ctx, fmt.Sprintf("127.0.0.1:%d", port), "first"); err != nil {
				t.Fatal(err)
			}
			switch v := k.goValue.(type) {
			case string:
				goToLatePython(t, ctx, x, y, p, channels.Text, v, k.typ, k.want, func(s string) string { return s })
			default:
				goToLatePython(t, ctx, x, y, p, channels.Object, any(v), k.typ, k.want, wire.Repr)
			}
		})
	}
}

func goToLatePython[T any](t *testing.T, ctx context.Context, x, y *reactor.Context, p *py, mt channels.MessageType[T], v T, typ, want string, show func(T) string) {
	t.Helper()
	st, err := channels.NewStateChannel(x, "st", mt)
	if err != nil {
		t.Fatal(err)
	}
	sy, err := channels.NewStateChannel(y, "st", mt)
	if err != nil {
		t.Fatal(err)
	}
	ey := stateEvents(sy)
	if err := st.Send(ctx, v); err != nil {
		t.Fatal(err)
	}
	awaitState(t, ctx, ey, show, want)

	p.call(map[string]any{"op": "state", "slot": "st", "type": typ}, nil)
	var before struct {
		Set bool `json:"set"`
	}
	p.call(map[string]any{"op": "state_recv", "slot": "st", "type": typ}, &before)
	if before.Set {
		t.Fatal("Python has a state before connecting")
	}
	goHosts(t, x, p, "main", "late")
	var got struct {
		Value string `json:"value"`
	}
	p.call(map[string]any{"op": "state_recv", "slot": "st", "type": typ, "until": want}, &got)
	if got.Value != want {
		t.Fatalf("Python state %s, want %s", got.Value, want)
	}

	// A change in Python reaches x, and y through x.
	value := any("from python")
	wantNext := "from python"
	if typ == "object" {
		value = map[string]any{"tuple": []any{"from python", -1}}
		wantNext = "('from python', -1)"
	}
	ex := stateEvents(st)
	p.call(map[string]any{"op": "send", "kind": "state", "slot": "st", "type": typ, "value": value}, nil)
	awaitState(t, ctx, ex, show, wantNext)
	awaitState(t, ctx, ey, show, wantNext)
}
