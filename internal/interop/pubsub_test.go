package interop

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// linked returns a Go context connected to a Python peer, for each
// direction of connecting.
func linked(t *testing.T, d linkFunc) (context.Context, *reactor.Context, *py) {
	t.Helper()
	ctx := testkit.Context(t)
	x := newGoContext(t)
	p, _ := startPython(t, ctx, nil)
	d(t, x, p, "main", "c")
	return ctx, x, p
}

var texts = []string{
	"hello",
	"h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \U0001f389",
	"\u4e2d\u6587 \u0421\u043b\u0430\u0432\u0430 \u0639\u0631\u0628\u064a",
	"tab\tnew\nline\r\ncrlf",
	"nul\x00inside",
	"'quotes' \"double\" \\backslash",
	strings.Repeat("\u00e9\U0001f600", 500),
}

func testBinaries() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	big[0], big[len(big)-1] = 0, 0
	return [][]byte{
		{0},
		{0, 0, 0, 0},
		{0x00, 0xff, 0x00, 0x80, 0x7f},
		[]byte("YOTON   looks like a header"),
		big,
	}
}

// TestTextGoToPython publishes text from Go; an empty message is never
// sent (yoton's rule), so Python's next message is the following one.
func TestTextGoToPython(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			ctx, x, p := linked(t, d.link)
			p.call(map[string]any{"op": "sub", "slot": "text"}, nil)
			pub, err := channels.NewPubChannel(x, "text", channels.Text)
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.Send(ctx, ""); err != nil {
				t.Fatalf("Send empty: %v", err)
			}
			for _, m := range texts {
				if err := pub.Send(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			got := p.recv("text", "text", len(texts))
			if !slices.Equal(got, texts) {
				t.Errorf("Python received\n%q\nwant\n%q", got, texts)
			}
		})
	}
}

func TestTextPythonToGo(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			ctx, x, p := linked(t, d.link)
			sub, err := channels.NewSubChannel(x, "text", channels.Text)
			if err != nil {
				t.Fatal(err)
			}
			p.call(map[string]any{"op": "pub", "slot": "text"}, nil)
			p.call(map[string]any{"op": "send", "slot": "text", "values": texts}, nil)
			got := recvN(t, ctx, sub, len(texts))
			if !slices.Equal(got, texts) {
				t.Errorf("Go received\n%q\nwant\n%q", got, texts)
			}
		})
	}
}

func TestBinaryGoToPython(t *testing.T) {
	bins := testBinaries()
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			ctx, x, p := linked(t, d.link)
			p.call(map[string]any{"op": "sub", "slot": "bin", "type": "binary"}, nil)
			pub, err := channels.NewPubChannel(x, "bin", channels.Binary)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bins {
				if err := pub.Send(ctx, slices.Clone(b)); err != nil {
					t.Fatal(err)
				}
			}
			got := p.recv("bin", "binary", len(bins))
			for i, b := range bins {
				if want := hex.EncodeToString(b); got[i] != want {
					t.Errorf("message %d (%d bytes): Python received %d hex digits, want %d (equal prefix %v)",
						i, len(b), len(got[i]), len(want), strings.HasPrefix(want, got[i][:min(len(got[i]), 64)]))
				}
			}
		})
	}
}

func TestBinaryPythonToGo(t *testing.T) {
	bins := testBinaries()
	hexes := make([]string, len(bins))
	for i, b := range bins {
		hexes[i] = hex.EncodeToString(b)
	}
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			ctx, x, p := linked(t, d.link)
			sub, err := channels.NewSubChannel(x, "bin", channels.Binary)
			if err != nil {
				t.Fatal(err)
			}
			p.call(map[string]any{"op": "pub", "slot": "bin", "type": "binary"}, nil)
			p.call(map[string]any{"op": "send", "slot": "bin", "type": "binary", "values": hexes}, nil)
			got := recvN(t, ctx, sub, len(bins))
			for i, b := range bins {
				if !slices.Equal(got[i], b) {
					t.Errorf("message %d: Go received %d bytes, want %d", i, len(got[i]), len(b))
				}
			}
		})
	}
}

// TestObjectsPythonToGo sends every value of peer.py's OBJECT_TABLE from
// Python; each must decode in Go to a value whose Python repr is Python's.
func TestObjectsPythonToGo(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			ctx, x, p := linked(t, d.link)
			var table struct {
				Names []string          `json:"names"`
				Reprs map[string]string `json:"reprs"`
			}
			p.call(map[string]any{"op": "table"}, &table)
			if len(table.Names) == 0 {
				t.Fatal("empty OBJECT_TABLE")
			}
			sub, err := channels.NewSubChannel(x, "obj", channels.Object)
			if err != nil {
				t.Fatal(err)
			}
			p.call(map[string]any{"op": "pub", "slot": "obj", "type": "object"}, nil)
			for _, name := range table.Names {
				var s struct {
					Repr string `json:"repr"`
				}
				p.call(map[string]any{"op": "send", "slot": "obj", "type": "object", "table": name}, &s)
				if s.Repr != table.Reprs[name] {
					t.Errorf("%s: sent repr %q, table says %q", name, s.Repr, table.Reprs[name])
				}
			}
			got := recvN(t, ctx, sub, len(table.Names))
			for i, name := range table.Names {
				if r := wire.Repr(got[i]); r != table.Reprs[name] {
					t.Errorf("%s: Go decoded %s, Python has %s", name, clip(r), clip(table.Reprs[name]))
				}
			}
		})
	}
}

func goObjects(t *testing.T) []any {
	t.Helper()
	tupleKeys := wire.NewDict()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tupleKeys.Set(wire.Tuple{int64(1), int64(2)}, "a"))
	must(tupleKeys.Set(wire.Tuple{"x", wire.Tuple{3.5, nil}}, []any{int64(4), int64(5)}))
	inner := wire.NewDict()
	must(inner.Set("inner", wire.Tuple{nil}))
	must(tupleKeys.Set("plain", inner))
	must(tupleKeys.Set(int64(-7), false))
	must(tupleKeys.Set(2.5, "float key"))
	must(tupleKeys.Set(nil, "none key"))

	long := make([]rune, 300)
	for i := range long {
		long[i] = rune('a' + i%26)
	}
	list300 := make([]any, 300)
	for i := range list300 {
		list300[i] = int64(i * i)
	}
	return []any{
		nil, true, false,
		int64(0), int64(-1), int64(255), int64(256),
		int64(math.MaxInt64), int64(math.MinInt64), int64(math.MinInt64 + 1),
		1e16, 0.1, math.Copysign(0, -1), 1e-5, 123456789.125, 1.0, -2.5e-300,
		math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64,
		"", "hello", "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c \U0001f389", "it's \"quoted\"\n",
		string(long), strings.Repeat("\u00e9", 255),
		list300,
		[]any{}, wire.Tuple{}, wire.NewDict(),
		[]any{int64(1), 2.5, "three", nil, true, false},
		wire.Tuple{int64(1), wire.Tuple{int64(2), wire.Tuple{int64(3), wire.Tuple{"four", []any{int64(5), wire.Tuple{int64(6)}}}}}, wire.Tuple{}},
		tupleKeys,
		wire.Tuple{"echo", wire.Tuple{"arg"}, inner},
	}
}

// TestObjectsGoToPython sends Go-built values; Python's repr of what it
// decoded must equal wire.Repr of the value sent.
func TestObjectsGoToPython(t *testing.T) {
	values := goObjects(t)
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			ctx, x, p := linked(t, d.link)
			p.call(map[string]any{"op": "sub", "slot": "obj", "type": "object"}, nil)
			pub, err := channels.NewPubChannel(x, "obj", channels.Object)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range values {
				if err := pub.Send(ctx, v); err != nil {
					t.Fatalf("Send %s: %v", clip(wire.Repr(v)), err)
				}
			}
			got := p.recv("obj", "object", len(values))
			for i, v := range values {
				if want := wire.Repr(v); got[i] != want {
					t.Errorf("value %d: Python decoded %s, Go sent %s", i, clip(got[i]), clip(want))
				}
			}
		})
	}
}

// TestOrder sends 1000 numbered messages each way; they arrive in order.
func TestOrder(t *testing.T) {
	const n = 1000
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("message %04d", i)
	}
	ctx, x, p := linked(t, goHosts)

	p.call(map[string]any{"op": "sub", "slot": "order.go"}, nil)
	pub, err := channels.NewPubChannel(x, "order.go", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range want {
		if err := pub.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.recv("order.go", "text", n); !slices.Equal(got, want) {
		t.Errorf("Python received %d messages out of order or altered: first difference at %d", len(got), firstDiff(got, want))
	}

	sub, err := channels.NewSubChannel(x, "order.py", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	p.call(map[string]any{"op": "pub", "slot": "order.py"}, nil)
	p.call(map[string]any{"op": "send", "slot": "order.py", "values": want}, nil)
	if got := recvN(t, ctx, sub, n); !slices.Equal(got, want) {
		t.Errorf("Go received messages out of order or altered: first difference at %d", firstDiff(got, want))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// clip shortens long reprs in failure messages.
func clip(s string) string {
	if len(s) > 200 {
		return s[:120] + fmt.Sprintf("...(%d bytes)...", len(s)) + s[len(s)-60:]
	}
	return s
}

// TestStartupQueue: messages published before any connection exists are
// kept in the context's startup queue and delivered through the first
// connection, on both sides.
func TestStartupQueue(t *testing.T) {
	want := []string{"early 1", "early 2", "early 3"}
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			ctx := testkit.Context(t)
			x := newGoContext(t)
			p, _ := startPython(t, ctx, nil)

			pub, err := channels.NewPubChannel(x, "early.go", channels.Text)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range want {
				if err := pub.Send(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			sub, err := channels.NewSubChannel(x, "early.py", channels.Text)
			if err != nil {
				t.Fatal(err)
			}
			p.call(map[string]any{"op": "sub", "slot": "early.go"}, nil)
			p.call(map[string]any{"op": "pub", "slot": "early.py"}, nil)
			p.call(map[string]any{"op": "send", "slot": "early.py", "values": want}, nil)

			d.link(t, x, p, "main", "c")
			if got := p.recv("early.go", "text", len(want)); !slices.Equal(got, want) {
				t.Errorf("Python received %q, want %q", got, want)
			}
			if got := recvN(t, ctx, sub, len(want)); !slices.Equal(got, want) {
				t.Errorf("Go received %q, want %q", got, want)
			}
		})
	}
}
