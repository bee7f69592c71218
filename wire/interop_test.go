package wire_test

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/wire"
)

// pyPeer starts peer.py (the real Python yoton), or skips the test
// without it (fails it on CI).
func pyPeer(t *testing.T) (*pypeer.Process, context.Context) {
	t.Helper()
	return pypeer.Require(t).Start(t, "peer.py"), testkit.Context(t)
}

// TestInteropSignalHeaders: HeartbeatHeader and CloseHeader are Python
// yoton's PACKAGE_HEARTBEAT and PACKAGE_CLOSE byte for byte, and read
// back as what they are.
func TestInteropSignalHeaders(t *testing.T) {
	p, ctx := pyPeer(t)
	type pkg struct {
		Header  string `json:"header"`
		DataLen int    `json:"data_len"`
	}
	var py struct {
		Heartbeat pkg `json:"heartbeat"`
		Close     pkg `json:"close"`
	}
	if err := p.Call(ctx, map[string]any{"op": "signal_packages"}, &py); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                 string
		py                   pkg
		h                    wire.Header
		isHeartbeat, isClose bool
	}{
		{name: "heartbeat", py: py.Heartbeat, h: wire.HeartbeatHeader(), isHeartbeat: true},
		{name: "close", py: py.Close, h: wire.CloseHeader(), isClose: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.py.DataLen != 0 {
				t.Fatalf("Python's %s has a %d-byte payload", tt.name, tt.py.DataLen)
			}
			if got := hex.EncodeToString(wire.AppendHeader(nil, tt.h)); got != tt.py.Header {
				t.Fatalf("Go %s header %s, Python's %s", tt.name, got, tt.py.Header)
			}
			b, err := hex.DecodeString(tt.py.Header)
			if err != nil {
				t.Fatal(err)
			}
			h, err := wire.DecodeHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			if h.IsHeartbeat() != tt.isHeartbeat || h.IsClose() != tt.isClose || !h.IsSignal() {
				t.Fatalf("Python's %s decodes as %+v: IsHeartbeat %v, IsClose %v, IsSignal %v",
					tt.name, h, h.IsHeartbeat(), h.IsClose(), h.IsSignal())
			}
		})
	}
}

// TestInteropDictOf: DictOf builds what the same Python dict literal
// builds (order, repeated and equal keys), byte for byte.
func TestInteropDictOf(t *testing.T) {
	p, ctx := pyPeer(t)
	tests := []struct {
		name  string
		expr  string // a Python literal
		pairs []any
	}{
		{name: "empty", expr: "{}", pairs: nil},
		{name: "order", expr: "{'b': 1, 'a': 2.5, 'c': None}", pairs: []any{"b", 1, "a", 2.5, "c", nil}},
		{
			name:  "repeated and equal keys",
			expr:  "{'b': 1, 'a': 2, (1, 'x'): None, 'b': 3, True: 'one', 1.0: 'uno'}",
			pairs: []any{"b", 1, "a", 2, wire.Tuple{1, "x"}, nil, "b", 3, true, "one", 1.0, "uno"},
		},
		{
			name:  "zero, false and -0.0",
			expr:  "{0: 'a', False: 'b', -0.0: 'c', 'x': [1, (2,)]}",
			pairs: []any{0, "a", false, "b", -0.0, "c", "x", []any{1, wire.Tuple{2}}},
		},
		{
			name:  "nested",
			expr:  "{'kw': {'sleep': 0.5}, ('t', 1): {}}",
			pairs: []any{"kw", wire.MustDictOf("sleep", 0.5), wire.Tuple{"t", 1}, wire.NewDict()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var py struct {
				Hex  string `json:"hex"`
				Repr string `json:"repr"`
			}
			if err := p.Call(ctx, map[string]any{"op": "pack_literal", "expr": tt.expr}, &py); err != nil {
				t.Fatal(err)
			}
			d, err := wire.DictOf(tt.pairs...)
			if err != nil {
				t.Fatal(err)
			}
			b, err := wire.EncodeObject(d)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(b); got != py.Hex {
				t.Errorf("encoded %s, Python %s", got, py.Hex)
			}
			if got := wire.Repr(d); got != py.Repr {
				t.Errorf("Repr %s, Python %s", got, py.Repr)
			}
		})
	}
}
