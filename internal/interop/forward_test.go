package interop

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
)

const forwardCount = 300

func numbered(prefix string) []string {
	out := make([]string, forwardCount)
	for i := range out {
		out[i] = fmt.Sprintf("%s %03d", prefix, i)
	}
	return out
}

// TestForwardThroughPython: Go A — Python P — Go B. P hosts A and
// connects to B (one connection each way of connecting). Messages from A
// reach B (and B's reach A) exactly once and in order, and P, the middle
// node, also receives each once.
func TestForwardThroughPython(t *testing.T) {
	ctx := testkit.Context(t)
	a := newGoContext(t)
	b := newGoContext(t)
	p, _ := startPython(t, ctx, nil)
	pyHosts(t, a, p, "main", "left")
	goHosts(t, b, p, "main", "right")

	p.call(map[string]any{"op": "sub", "slot": "line.ab"}, nil)
	p.call(map[string]any{"op": "sub", "slot": "line.ba"}, nil)
	for _, dir := range []struct {
		name     string
		from, to string
	}{{"A to B", "a", "b"}, {"B to A", "b", "a"}} {
		from, to := a, b
		if dir.from == "b" {
			from, to = b, a
		}
		slot := "line." + dir.from + dir.to
		pub, err := channels.NewPubChannel(from, slot, channels.Text)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := channels.NewSubChannel(to, slot, channels.Text)
		if err != nil {
			t.Fatal(err)
		}
		want := numbered(dir.from)
		marker := dir.from + " end"
		for _, m := range append(slices.Clone(want), marker) {
			if err := pub.Send(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if got := recvN(t, ctx, sub, forwardCount); !slices.Equal(got, want) {
			t.Errorf("%s: far end received out of order, altered or duplicated: first difference at %d of %q",
				dir.name, firstDiff(got, want), got)
		}
		if got := recvN(t, ctx, sub, 1)[0]; got != marker {
			t.Errorf("%s: after %d messages the far end got %q, want the marker %q", dir.name, forwardCount, got, marker)
		}
		if got := p.recv(slot, "text", forwardCount+1); !slices.Equal(got, append(want, marker)) {
			t.Errorf("%s: middle node received out of order or duplicated: first difference at %d",
				dir.name, firstDiff(got, append(want, marker)))
		}
	}
	expectNothingMore(t, ctx, p, "main")
}

// TestForwardThroughGo: Python P1 — Go G — Python P2. G connects to P1
// and hosts P2. Messages between the Pythons cross our context exactly
// once and in order; G also receives each once.
func TestForwardThroughGo(t *testing.T) {
	ctx := testkit.Context(t)
	g := newGoContext(t)
	p1, _ := startPython(t, ctx, nil)
	p2, _ := startPython(t, ctx, nil)
	pyHosts(t, g, p1, "main", "up")
	goHosts(t, g, p2, "main", "down")

	for _, dir := range []struct {
		name     string
		from, to *py
		slot     string
	}{{"P1 to P2", p1, p2, "line.p1p2"}, {"P2 to P1", p2, p1, "line.p2p1"}} {
		dir.to.call(map[string]any{"op": "sub", "slot": dir.slot}, nil)
		mid, err := channels.NewSubChannel(g, dir.slot, channels.Text)
		if err != nil {
			t.Fatal(err)
		}
		dir.from.call(map[string]any{"op": "pub", "slot": dir.slot}, nil)
		want := numbered(dir.slot)
		marker := dir.slot + " end"
		dir.from.call(map[string]any{"op": "send", "slot": dir.slot, "values": want}, nil)
		if got := dir.to.recv(dir.slot, "text", forwardCount); !slices.Equal(got, want) {
			t.Errorf("%s: far end received out of order, altered or duplicated: first difference at %d",
				dir.name, firstDiff(got, want))
		}
		dir.from.call(map[string]any{"op": "send", "slot": dir.slot, "value": marker}, nil)
		if got := dir.to.recv(dir.slot, "text", 1)[0]; got != marker {
			t.Errorf("%s: after %d messages the far end got %q, want the marker %q", dir.name, forwardCount, got, marker)
		}
		if got := recvN(t, ctx, mid, forwardCount+1); !slices.Equal(got, append(want, marker)) {
			t.Errorf("%s: Go middle node received out of order or duplicated: first difference at %d",
				dir.name, firstDiff(got, append(want, marker)))
		}
		if n := mid.Pending(); n != 0 {
			t.Errorf("%s: Go middle node has %d more messages", dir.name, n)
		}
	}
}

// expectNothingMore checks that the Python context pyCtx has no pending
// message on the subs of TestForwardThroughPython.
func expectNothingMore(t *testing.T, ctx context.Context, p *py, pyCtx string) {
	t.Helper()
	for _, slot := range []string{"line.ab", "line.ba"} {
		var r struct {
			Messages []string `json:"messages"`
		}
		err := p.proc.Call(ctx, map[string]any{"op": "recv", "ctx": pyCtx, "slot": slot, "count": 1, "timeout": 0}, &r)
		var remote *pypeer.RemoteError
		switch {
		case err == nil:
			t.Errorf("middle node has an extra message on %s: %q", slot, r.Messages)
		case !errors.As(err, &remote) || !strings.Contains(remote.Message, "timed out after 0 of 1"):
			t.Errorf("recv on %s: %v", slot, err)
		}
	}
}
