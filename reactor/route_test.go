package reactor

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/wire"
)

// network is a set of contexts, each with a recorder on testSlot.
type network struct {
	nodes []*Context
	rx    []*recorder
}

// buildNetwork makes n contexts (on one reactor, or one reactor each)
// and joins them: for each edge {b, c}, node b binds and node c connects.
func buildNetwork(t *testing.T, n int, shared bool, edges [][2]int) *network {
	t.Helper()
	net := &network{}
	var r *Reactor
	for i := 0; i < n; i++ {
		if r == nil || !shared {
			r = newReactor(t)
		}
		x := newContext(t, r)
		net.nodes = append(net.nodes, x)
		net.rx = append(net.rx, newRecorder(t, x, testSlot))
	}
	for _, e := range edges {
		connectPair(t, net.nodes[e[0]], net.nodes[e[1]])
	}
	return net
}

func (n *network) index(id uint64) int {
	for i, x := range n.nodes {
		if x.ID() == id {
			return i
		}
	}
	return -1
}

func TestRouteTopologies(t *testing.T) {
	topologies := []struct {
		name  string
		n     int
		edges [][2]int // {binder, connector}
	}{
		{name: "line, middle binds twice", n: 3, edges: [][2]int{{1, 0}, {1, 2}}},
		{name: "line, middle connects twice", n: 3, edges: [][2]int{{0, 1}, {2, 1}}},
		{name: "ring of 3", n: 3, edges: [][2]int{{0, 1}, {1, 2}, {2, 0}}},
		{name: "ring of 4", n: 4, edges: [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 0}}},
	}
	for _, topo := range topologies {
		for _, shared := range []bool{true, false} {
			name := topo.name + ", one reactor"
			if !shared {
				name = topo.name + ", a reactor each"
			}
			t.Run(name, func(t *testing.T) {
				net := buildNetwork(t, topo.n, shared, topo.edges)
				// Two rounds: every node publishes once per round. A round-1
				// duplicate would travel ahead of round 2 on its path, so by
				// the time round 2 is complete everywhere it would be seen.
				for round := 1; round <= 2; round++ {
					for i, x := range net.nodes {
						send(t, x, fmt.Sprintf("round %d from %d", round, i))
					}
					for _, rx := range net.rx {
						rx.waitN(t, round*(topo.n-1))
					}
				}
				for i, rx := range net.rx {
					got := rx.snapshot()
					count := map[string]int{}
					for _, p := range got {
						from := net.index(p.SourceID)
						require.GreaterOrEqual(t, from, 0, "unknown source %x", p.SourceID)
						assert.NotEqual(t, i, from, "node %d got its own package %q", i, p.Data)
						assert.Contains(t, string(p.Data), fmt.Sprintf("from %d", from), "payload does not match its source")
						count[string(p.Data)]++
					}
					for round := 1; round <= 2; round++ {
						for j := range net.nodes {
							if j != i {
								msg := fmt.Sprintf("round %d from %d", round, j)
								assert.Equal(t, 1, count[msg], "node %d got %q %d times", i, msg, count[msg])
							}
						}
					}
					assert.Len(t, got, 2*(topo.n-1), "node %d got %q", i, payloads(got))
					for k := 1; k < len(got); k++ {
						assert.Greater(t, got[k].RecvSeq, got[k-1].RecvSeq, "RecvSeq must increase")
					}
				}
			})
		}
	}
}

func TestRouteDestID(t *testing.T) {
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			// A - B - C, B binds twice.
			net := buildNetwork(t, 3, shared, [][2]int{{1, 0}, {1, 2}})
			a, b, c := net.nodes[0], net.nodes[1], net.nodes[2]
			ctx := testkit.Context(t)
			require.NoError(t, a.send(ctx, testSlot, []byte("to C"), c.ID(), 7))
			require.NoError(t, a.send(ctx, testSlot, []byte("to B"), b.ID(), 0))
			require.NoError(t, a.send(ctx, testSlot, []byte("to all"), 0, 0))
			// Packages travel in order on each connection, so "to all"
			// arriving means the addressed ones would have arrived before.
			gotC := net.rx[2].waitN(t, 2)
			gotB := net.rx[1].waitN(t, 2)
			assert.Equal(t, []string{"to C", "to all"}, payloads(gotC))
			assert.Equal(t, c.ID(), gotC[0].DestID)
			assert.Equal(t, uint64(7), gotC[0].DestSeq)
			assert.Equal(t, a.ID(), gotC[0].SourceID)
			assert.Equal(t, []string{"to B", "to all"}, payloads(gotB))
			assert.Empty(t, net.rx[0].snapshot())
		})
	}
}

func TestRouteDropsDuplicates(t *testing.T) {
	r := newReactor(t)
	x, b := newContext(t, r), newContext(t, r)
	rxX, rxB := newRecorder(t, x, testSlot), newRecorder(t, b, testSlot)
	connectPair(t, x, b)
	_, p := rawPair(t, x, false)
	other := nextRawID()
	var stream []byte
	add := func(src, seq uint64, data string) {
		stream = append(stream, frame(wire.Header{Slot: testSlot, SourceID: src, SourceSeq: seq}, []byte(data))...)
	}
	add(p.id, 5, "a")
	add(p.id, 5, "duplicate")
	add(p.id, 3, "old")
	add(x.ID(), 1000, "x's own, echoed back")
	add(p.id, 6, "b")
	add(other, 1, "c")
	add(other, 1, "duplicate of c")
	add(p.id, 7, "d")
	p.write(stream)
	want := []string{"a", "b", "c", "d"}
	assert.Equal(t, want, payloads(rxX.waitN(t, len(want))))
	assert.Equal(t, want, payloads(rxB.waitN(t, len(want))), "forwarded")
	// "d" came last on the stream: nothing else is still on its way.
	assert.Len(t, rxX.snapshot(), len(want))
	assert.Len(t, rxB.snapshot(), len(want))
}

func TestStartupQueueGoesToFirstConnection(t *testing.T) {
	tests := []struct {
		name string
		// join connects x (which sent before any connection) with peer.
		join func(t *testing.T, x, peer *Context)
	}{
		{name: "x connects", join: func(t *testing.T, x, peer *Context) { connectPair(t, peer, x) }},
		{name: "x binds", join: func(t *testing.T, x, peer *Context) { connectPair(t, x, peer) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReactor(t)
			x, peer := newContext(t, r), newContext(t, r)
			rx := newRecorder(t, peer, testSlot)
			want := []string{"one", "two", "three"}
			for _, m := range want {
				send(t, x, m)
			}
			testkit.Barrier(t, r)
			tt.join(t, x, peer)
			got := rx.waitN(t, len(want))
			assert.Equal(t, want, payloads(got))
			for i, p := range got {
				assert.Equal(t, uint64(i+1), p.SourceSeq)
			}
			// A second connection does not get them again.
			third := newContext(t, r)
			rx3 := newRecorder(t, third, testSlot)
			connectPair(t, third, x)
			send(t, x, "after")
			assert.Equal(t, []string{"after"}, payloads(rx3.waitN(t, 1)))
		})
	}
}

func TestNewConnectionHook(t *testing.T) {
	r := newReactor(t)
	a, b := newContext(t, r), newContext(t, r)
	hookA := make(chan bool, 4)
	hookB := make(chan bool, 4)
	a.onNewConnection(func() { hookA <- r.OnLoop() })
	b.onNewConnection(func() { hookB <- r.OnLoop() })
	rxB := newRecorder(t, b, testSlot)
	connectPair(t, a, b)
	assert.True(t, testkit.Wait(t, hookA, "NEW_CONNECTION at the bound side"), "hook ran off the loop")
	// The bound side sends no NEW_CONNECTION: a package sent after the
	// connection came up arrives at b with no hook call before it.
	send(t, a, "after")
	rxB.waitN(t, 1)
	assert.Empty(t, hookB)
	assert.Empty(t, hookA, "hook ran more than once")
}

// TestDedupIsBounded: packages from ever new source ids (a flood of forged
// ids) do not grow the context's memory past DedupSources, and an active
// source's duplicates are still dropped.
func TestDedupIsBounded(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	rx := newRecorder(t, x, testSlot)
	_, p := rawPair(t, x, false)
	const n = DedupSources + DedupSources/2
	var burst []byte
	for i := 0; i < n; i++ {
		burst = append(burst, frame(wire.Header{Slot: 12345, SourceID: uint64(1000 + i), SourceSeq: 1}, []byte("x"))...)
		if len(burst) > 1<<20 {
			p.write(burst)
			burst = burst[:0]
		}
	}
	p.write(burst)
	p.sendPkg(testSlot, 5, "active")
	p.sendPkg(testSlot, 5, "active again") // a duplicate: dropped
	p.sendPkg(testSlot, 6, "next")
	assert.Equal(t, []string{"active", "next"}, payloads(rx.waitN(t, 2)))
	size := 0
	testkit.Do(t, r, func() { size = x.seen.size() })
	assert.LessOrEqual(t, size, DedupSources)
}
