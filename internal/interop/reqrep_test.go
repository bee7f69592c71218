package interop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/wire"
)

// pyHex is Python's hex() of a context id given as a decimal string.
func pyHex(t *testing.T, decimal string) string {
	t.Helper()
	return fmt.Sprintf("0x%x", mustUint(t, decimal, 10))
}

// shutdownWithTest shuts rep down (waiting for its workers) when the
// test ends.
func shutdownWithTest(t *testing.T, rep *channels.RepChannel) {
	t.Helper()
	t.Cleanup(func() {
		if err := rep.Shutdown(testkit.Context(t)); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
}

// goCall makes one call and waits for its outcome.
func goCall(t *testing.T, ctx context.Context, req *channels.ReqChannel, method string, args []any, kwargs channels.Kwargs) (any, error) {
	t.Helper()
	f, err := req.Call(method, args, kwargs)
	if err != nil {
		t.Fatalf("Call %s: %v", method, err)
	}
	return f.Result(ctx)
}

// remoteMessage returns the message of a *futures.RemoteError, failing
// the test for any other outcome.
func remoteMessage(t *testing.T, what string, err error) string {
	t.Helper()
	var re *futures.RemoteError
	if !errors.As(err, &re) || !errors.Is(err, futures.ErrRemote) {
		t.Fatalf("%s: want a remote error, got %v", what, err)
	}
	return re.Message
}

// TestReqGoToPythonRep: a Go ReqChannel calls a Python RepChannel
// (peer.py's PeerRep) in Python's event and thread modes, both ways of
// connecting: yoton's echo, methods with positional and keyword
// arguments, and Python exceptions arriving as RemoteErrors.
func TestReqGoToPythonRep(t *testing.T) {
	for _, mode := range []string{"event", "thread"} {
		for _, d := range directions {
			t.Run(mode+"/"+d.name, func(t *testing.T) {
				ctx := testkit.Context(t)
				x := newGoContext(t)
				p, pc := startPython(t, ctx, nil)
				d.link(t, x, p, "main", "c")
				p.call(map[string]any{"op": "rep", "slot": "rpc", "mode": mode}, nil)
				req, err := channels.NewReqChannel(x, "rpc")
				if err != nil {
					t.Fatal(err)
				}

				v, err := goCall(t, ctx, req, "echo", []any{"hé"}, nil)
				if err != nil {
					t.Fatalf("echo: %v", err)
				}
				if want := (wire.Tuple{"hé", pyHex(t, pc.ID)}); wire.Repr(v) != wire.Repr(want) {
					t.Errorf("echo returned %s, want %s", wire.Repr(v), wire.Repr(want))
				}
				v, err = goCall(t, ctx, req, "echo", []any{int64(5)}, channels.Kwargs{"sleep": 0.01})
				if err != nil || wire.Repr(v) != fmt.Sprintf("(5, '%s')", pyHex(t, pc.ID)) {
					t.Errorf("echo with sleep: %s, %v", wire.Repr(v), err)
				}

				sum, err := channels.Call[int](ctx, req, "add", 40, 2)
				if err != nil || sum != 42 {
					t.Errorf("add(40, 2) = %d, %v", sum, err)
				}
				s, err := channels.Call[string](ctx, req, "add", "a", "b")
				if err != nil || s != "ab" {
					t.Errorf("add('a', 'b') = %q, %v", s, err)
				}
				greet := channels.Method[string](req, "greet")
				s, err = greet(ctx, "bob", channels.Kwargs{"greeting": "Hi", "punctuation": "?"})
				if err != nil || s != "Hi, bob?" {
					t.Errorf("greet('bob', greeting='Hi', punctuation='?') = %q, %v", s, err)
				}

				inner := wire.NewDict()
				if err := inner.Set(wire.Tuple{int64(1), "k"}, []any{nil}); err != nil {
					t.Fatal(err)
				}
				v, err = goCall(t, ctx, req, "describe",
					[]any{1, 2.5, "x", nil, true, []int{1, 2}, wire.Tuple{3, wire.Tuple{}}},
					channels.Kwargs{"d": inner, "m": map[string]any{"z": 1, "a": "b"}})
				const want = "((1, 2.5, 'x', None, True, [1, 2], (3, ())), {'d': {(1, 'k'): [None]}, 'm': {'a': 'b', 'z': 1}})"
				if err != nil || wire.Repr(v) != want {
					t.Errorf("describe returned\n%s (%v), want\n%s", wire.Repr(v), err, want)
				}

				_, err = goCall(t, ctx, req, "fail", []any{"boom in Python"}, nil)
				if msg := remoteMessage(t, "fail", err); !strings.HasPrefix(msg, "boom in Python") {
					t.Errorf("fail: message %q", msg)
				}
				_, err = goCall(t, ctx, req, "nope", nil, nil)
				if msg := remoteMessage(t, "nope", err); !strings.HasPrefix(msg, "Method 'nope' not implemented.") {
					t.Errorf("unknown method: message %q", msg)
				}
				_, err = goCall(t, ctx, req, "add", []any{1}, nil)
				if msg := remoteMessage(t, "add(1)", err); !strings.Contains(msg, "missing 1 required positional argument") {
					t.Errorf("add(1): message %q", msg)
				}
				if n := req.Outstanding(); n != 0 {
					t.Errorf("%d calls outstanding", n)
				}
			})
		}
	}
}

// pyReq is peer.py's answer to "req".
type pyReq struct {
	Repr      string  `json:"repr"`
	Exception *string `json:"exception"`
}

// TestReqPythonToGoRep: a Python ReqChannel calls Go handlers, in the
// event and worker modes.
func TestReqPythonToGoRep(t *testing.T) {
	for _, mode := range []channels.RepMode{channels.RepEvent, channels.RepWorkers} {
		for _, d := range directions {
			t.Run(mode.String()+"/"+d.name, func(t *testing.T) {
				ctx := testkit.Context(t)
				x := newGoContext(t)
				p, _ := startPython(t, ctx, nil)
				d.link(t, x, p, "main", "c")
				rep, err := channels.NewRepChannel(x, "rpc", channels.WithWorkers(2))
				if err != nil {
					t.Fatal(err)
				}
				shutdownWithTest(t, rep)
				err = errors.Join(
					rep.Register("add", func(a, b int) int { return a + b }),
					rep.Register("greet", func(name string, kw channels.Kwargs) string {
						g, _ := kw["greeting"].(string)
						return g + ", " + name
					}),
					rep.Register("fail", func(msg string) error { return errors.New(msg) }),
					rep.Register("boom", func() { panic("kaput") }),
					rep.Register("pair", func(a []float64, m map[string]int) (any, error) {
						return wire.Tuple{len(a), m["n"]}, nil
					}),
					rep.SetMode(mode),
				)
				if err != nil {
					t.Fatal(err)
				}
				goHex := fmt.Sprintf("0x%x", x.ID())
				tests := []struct {
					method    string
					args      []any
					kwargs    map[string]any
					repr      string
					exception string // prefix
				}{
					{method: "echo", args: []any{"hi"}, repr: fmt.Sprintf("('hi', '%s')", goHex)},
					{method: "echo", args: []any{[]any{1, 2}}, kwargs: map[string]any{"sleep": 0.01}, repr: fmt.Sprintf("([1, 2], '%s')", goHex)},
					{method: "add", args: []any{3, 4}, repr: "7"},
					{method: "greet", args: []any{"bob"}, kwargs: map[string]any{"greeting": "Hi"}, repr: "'Hi, bob'"},
					{method: "pair", args: []any{[]any{1.5, 2, 3}, map[string]any{"n": 9}}, repr: "(3, 9)"},
					{method: "fail", args: []any{"it failed"}, exception: "it failed"},
					{method: "boom", exception: "panic in boom(): kaput"},
					{method: "nope", exception: "Method 'nope' not implemented."},
					{method: "add", args: []any{1, 2, 3}, exception: "add() takes 2 positional arguments but 3 were given"},
				}
				for _, tt := range tests {
					var r pyReq
					p.call(map[string]any{"op": "req", "slot": "rpc", "method": tt.method, "args": tt.args, "kwargs": tt.kwargs}, &r)
					switch {
					case tt.exception != "" && (r.Exception == nil || !strings.HasPrefix(*r.Exception, tt.exception)):
						t.Errorf("%s: Python got %+v, want the exception %q", tt.method, r, tt.exception)
					case tt.exception == "" && (r.Exception != nil || r.Repr != tt.repr):
						t.Errorf("%s: Python got %+v, want %s", tt.method, r, tt.repr)
					}
				}

				// Many calls at once from Python.
				calls := make([]map[string]any, 20)
				for i := range calls {
					calls[i] = map[string]any{"method": "add", "args": []any{i, 1000}}
				}
				var many struct {
					Results []struct {
						Repr string `json:"repr"`
					} `json:"results"`
				}
				p.call(map[string]any{"op": "req_many", "slot": "rpc", "calls": calls, "timeout": 15}, &many)
				for i, res := range many.Results {
					if want := fmt.Sprint(i + 1000); res.Repr != want {
						t.Errorf("call %d: Python got %q, want %s", i, res.Repr, want)
					}
				}
			})
		}
	}
}

// TestRepGoAndPythonShareSlot: one Go and one Python replier behind one
// slot, a Go requester connected to both. Whichever replier is slow
// (stuck in a handler), the other one serves the stream meanwhile, and
// the slow one takes nothing new while busy; both serve requests.
//
// To make the slow one take the first request deterministically, the
// other one is off until then.
func TestRepGoAndPythonShareSlot(t *testing.T) {
	for _, slow := range []string{"go", "py"} {
		t.Run("slow-"+slow, func(t *testing.T) {
			ctx := testkit.Context(t)
			a := newGoContext(t)
			b, err := a.Reactor().NewContext()
			if err != nil {
				t.Fatal(err)
			}
			p, _ := startPython(t, ctx, nil)
			goHosts(t, a, p, "main", "py")
			c, err := a.Bind("127.0.0.1:0", 1, "go")
			if err != nil {
				t.Fatal(err)
			}
			_, port := c.LocalAddr()
			if _, err := b.Connect(ctx, fmt.Sprintf("127.0.0.1:%d", port), ""); err != nil {
				t.Fatal(err)
			}

			// The Go replier: "work" returns ("go", i); when Go is the
			// slow one, its first call waits for the gate.
			gate := make(chan struct{})
			entered := make(chan struct{}, 1)
			rep, err := channels.NewRepChannel(b, "shared")
			if err != nil {
				t.Fatal(err)
			}
			shutdownWithTest(t, rep)
			first := true
			if err := rep.Register("work", func(ctx context.Context, i int) wire.Tuple {
				if slow == "go" && first { // one worker: calls do not overlap
					first = false
					entered <- struct{}{}
					select {
					case <-gate:
					case <-ctx.Done(): // the channel closed (the test failed)
					}
				}
				return wire.Tuple{"go", int64(i)}
			}); err != nil {
				t.Fatal(err)
			}
			// The Python replier (thread mode, so a held call blocks its
			// thread, not peer.py): PeerRep.work returns ("py", i).
			if slow == "py" {
				sub, err := channels.NewSubChannel(a, "entered", channels.Text)
				if err != nil {
					t.Fatal(err)
				}
				p.call(map[string]any{"op": "hold", "name": "work", "slot": "entered"}, nil)
				go func() {
					if m, err := sub.Recv(ctx); err == nil && m == "entered work" {
						entered <- struct{}{}
					}
				}()
				p.call(map[string]any{"op": "rep", "slot": "shared", "mode": "thread"}, nil)
			} else {
				p.call(map[string]any{"op": "rep", "slot": "shared", "mode": "off"}, nil)
				if err := rep.SetMode(channels.RepWorkers); err != nil {
					t.Fatal(err)
				}
			}

			req, err := channels.NewReqChannel(a, "shared")
			if err != nil {
				t.Fatal(err)
			}
			stuck, err := req.Call("work", []any{0}, nil)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-entered:
			case <-stuck.Done():
				t.Fatalf("the first call was served at once: %v", stuck.Err(ctx))
			case <-ctx.Done():
				t.Fatalf("the %s replier never took the first call", slow)
			}

			// Now switch the other replier on: it serves the stream.
			fast := "py"
			if slow == "py" {
				fast = "go"
				if err := rep.SetMode(channels.RepEvent); err != nil {
					t.Fatal(err)
				}
			} else {
				p.call(map[string]any{"op": "rep_mode", "slot": "shared", "mode": "thread"}, nil)
			}
			const stream = 12
			fs := make([]*futures.Future[any], stream)
			for i := range fs {
				if fs[i], err = req.Call("work", []any{i + 1}, nil); err != nil {
					t.Fatal(err)
				}
			}
			for i, f := range fs {
				v, err := f.Result(ctx)
				if want := fmt.Sprintf("('%s', %d)", fast, i+1); err != nil || wire.Repr(v) != want {
					t.Fatalf("call %d while the %s replier is stuck: %s, %v; want %s", i+1, slow, wire.Repr(v), err, want)
				}
			}
			if stuck.IsDone() {
				t.Fatalf("the stuck call finished before its release: %v", stuck.Err(ctx))
			}

			// Release the slow one: its call completes, from it.
			if slow == "go" {
				close(gate)
			} else {
				p.call(map[string]any{"op": "release", "name": "work"}, nil)
			}
			v, err := stuck.Result(ctx)
			if want := fmt.Sprintf("('%s', 0)", slow); err != nil || wire.Repr(v) != want {
				t.Errorf("the stuck call returned %s, %v; want %s", wire.Repr(v), err, want)
			}
			// Both serve afterwards.
			for i := range 4 {
				if _, err := goCall(t, ctx, req, "work", []any{100 + i}, nil); err != nil {
					t.Errorf("call after the release: %v", err)
				}
			}
		})
	}
}
