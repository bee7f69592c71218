package interop

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// stateRecorder keeps the reprs of the object states that arrive on one
// slot, per source context.
type stateRecorder struct {
	mu  sync.Mutex
	got map[uint64][]string
}

func (r *stateRecorder) Deposit(p reactor.Package) {
	v, err := wire.DecodeObject(p.Data)
	s := wire.Repr(v)
	if err != nil {
		s = "undecodable: " + err.Error()
	}
	r.mu.Lock()
	r.got[p.SourceID] = append(r.got[p.SourceID], s)
	r.mu.Unlock()
}

func (r *stateRecorder) EndBatch() {}

func (r *stateRecorder) of(id uint64) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got[id])
}

// TestStateEqualityAsPython: the same sequence of object states, set on a
// Python StateChannel and on a Go one, puts the same packages on the wire:
// both skip what Python's == calls unchanged (None first; True after 1;
// 1.0 after True; [1.0] after [1]; a dict with its items in another order).
func TestStateEqualityAsPython(t *testing.T) {
	ctx := testkit.Context(t)
	hub := newGoContext(t)
	p, pyCtx := startPython(t, ctx, nil)
	goHosts(t, hub, p, "main", "py")
	sender, err := hub.Reactor().NewContext()
	if err != nil {
		t.Fatal(err)
	}
	c, err := hub.Bind("127.0.0.1:0", 1, "go")
	if err != nil {
		t.Fatal(err)
	}
	_, port := c.LocalAddr()
	if _, err := sender.Connect(ctx, fmt.Sprintf("127.0.0.1:%d", port), ""); err != nil {
		t.Fatal(err)
	}
	// Each side on a slot of its own: a state channel takes the states
	// that arrive, which would change what the other side compares with.
	rec := &stateRecorder{got: map[uint64][]string{}}
	for _, name := range []string{"eqpy", "eqgo"} {
		if _, err := hub.Attach(reactor.Attachment{RecvSlot: name + ".obj.state", Receiver: rec}); err != nil {
			t.Fatal(err)
		}
	}

	jsonValues := []any{nil, 1, true, 1.0, 2, []any{1}, []any{1.0}, map[string]any{"a": 1, "b": 2}, map[string]any{"b": 2, "a": 1}, "end"}
	p.call(map[string]any{"op": "state", "slot": "eqpy", "type": "object"}, nil)
	p.call(map[string]any{"op": "send", "kind": "state", "slot": "eqpy", "type": "object", "values": jsonValues}, nil)

	st, err := channels.NewStateChannel(sender, "eqgo", channels.Object)
	if err != nil {
		t.Fatal(err)
	}
	ab, ba := wire.MustDictOf("a", 1, "b", 2), wire.MustDictOf("b", 2, "a", 1)
	for _, v := range []any{nil, int64(1), true, 1.0, int64(2), []any{int64(1)}, []any{1.0}, ab, ba, "end"} {
		if err := st.Send(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	pyID := mustUint(t, pyCtx.ID, 10)
	for {
		py, gov := rec.of(pyID), rec.of(sender.ID())
		if len(py) > 0 && py[len(py)-1] == "'end'" && len(gov) > 0 && gov[len(gov)-1] == "'end'" {
			// Python's NEW_CONNECTION resends may repeat a state: compare
			// the sequences of changes.
			if !slices.Equal(slices.Compact(py), slices.Compact(gov)) {
				t.Fatalf("Python sent %q, Go sent %q", py, gov)
			}
			want := []string{"1", "2", "[1]", "{'a': 1, 'b': 2}", "'end'"}
			if !slices.Equal(slices.Compact(gov), want) {
				t.Fatalf("Go sent %q, want %q", gov, want)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("gave up: Python sent %q, Go sent %q", py, gov)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
