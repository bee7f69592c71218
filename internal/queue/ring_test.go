package queue

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func contents[T any](r *Ring[T]) []T {
	out := make([]T, r.Len())
	for i := range out {
		out[i] = r.At(i)
	}
	return out
}

func TestRingDiscardRules(t *testing.T) {
	tests := []struct {
		name     string
		limit    int
		rule     Discard
		push     []int
		want     []int
		accepted []bool
	}{
		{name: "old keeps the newest", limit: 3, rule: DiscardOld, push: []int{1, 2, 3, 4, 5},
			want: []int{3, 4, 5}, accepted: []bool{true, true, true, false, false}},
		{name: "new keeps the oldest", limit: 3, rule: DiscardNew, push: []int{1, 2, 3, 4, 5},
			want: []int{1, 2, 3}, accepted: []bool{true, true, true, false, false}},
		{name: "under the limit", limit: 10, rule: DiscardNew, push: []int{1, 2},
			want: []int{1, 2}, accepted: []bool{true, true}},
		{name: "limit 1, old", limit: 1, rule: DiscardOld, push: []int{1, 2, 3},
			want: []int{3}, accepted: []bool{true, false, false}},
		{name: "limit 0 means 1", limit: 0, rule: DiscardNew, push: []int{1, 2},
			want: []int{1}, accepted: []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New[int](tt.limit, tt.rule)
			for i, v := range tt.push {
				assert.Equal(t, tt.accepted[i], r.Push(v), "push %d", v)
				assert.LessOrEqual(t, r.Len(), r.Limit())
			}
			assert.Equal(t, tt.want, contents(r))
			assert.Equal(t, uint64(len(tt.push)-len(tt.want)), r.Discarded())
		})
	}
}

func TestRingPopFront(t *testing.T) {
	r := New[string](4, DiscardOld)
	_, ok := r.PopFront()
	assert.False(t, ok, "empty")
	for _, s := range []string{"a", "b", "c"} {
		r.Push(s)
	}
	for _, want := range []string{"a", "b", "c"} {
		v, ok := r.PopFront()
		require.True(t, ok)
		assert.Equal(t, want, v)
	}
	v, ok := r.PopFront()
	assert.False(t, ok)
	assert.Equal(t, "", v)
	assert.Equal(t, 0, r.Len())
}

func TestRingPushFront(t *testing.T) {
	r := New[int](3, DiscardOld)
	r.Push(1)
	r.Push(2)
	r.PushFront(0)
	assert.Equal(t, []int{0, 1, 2}, contents(r))
	// At the limit PushFront still goes in (it puts back what was just
	// popped), so the ring may hold one more than its limit...
	r.PushFront(-1)
	assert.Equal(t, []int{-1, 0, 1, 2}, contents(r))
	// ...and a Push then discards by the rule without growing further.
	assert.False(t, r.Push(3))
	assert.Equal(t, []int{0, 1, 2, 3}, contents(r))
	// Pop then PushFront is a no-op on the contents.
	v, _ := r.PopFront()
	r.PushFront(v)
	assert.Equal(t, []int{0, 1, 2, 3}, contents(r))

	empty := New[int](2, DiscardNew)
	empty.PushFront(7)
	assert.Equal(t, []int{7}, contents(empty))
}

func TestRingAt(t *testing.T) {
	r := New[int](8, DiscardOld)
	for i := 0; i < 6; i++ {
		r.Push(i)
	}
	r.PopFront()
	r.PopFront()
	r.Push(6)
	r.Push(7)
	r.Push(8) // wraps around the buffer
	assert.Equal(t, []int{2, 3, 4, 5, 6, 7, 8}, contents(r))
	for _, i := range []int{-1, r.Len(), 100} {
		assert.Panics(t, func() { r.At(i) }, "At(%d)", i)
	}
	assert.Panics(t, func() { New[int](1, DiscardOld).At(0) }, "At on empty")
}

func TestRingClear(t *testing.T) {
	r := New[*int](4, DiscardOld)
	for i := 0; i < 4; i++ {
		v := i
		r.Push(&v)
	}
	r.PopFront()
	r.Clear()
	assert.Equal(t, 0, r.Len())
	_, ok := r.PopFront()
	assert.False(t, ok)
	for i := range r.buf {
		assert.Nil(t, r.buf[i], "Clear must drop references")
	}
	v := 9
	assert.True(t, r.Push(&v))
	assert.Equal(t, 9, *r.At(0))
}

// TestRingMatchesModel runs random operations against a plain slice.
func TestRingMatchesModel(t *testing.T) {
	for _, rule := range []Discard{DiscardOld, DiscardNew} {
		t.Run(rule.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(rule)))
			const limit = 13
			r := New[int](limit, rule)
			var model []int
			var discarded uint64
			for step := 0; step < 20000; step++ {
				switch op := rng.IntN(10); {
				case op < 5:
					v := step
					ok := r.Push(v)
					switch {
					case len(model) < limit:
						model = append(model, v)
						assert.True(t, ok)
					case rule == DiscardOld:
						model = append(model[1:], v)
						discarded++
						assert.False(t, ok)
					default:
						discarded++
						assert.False(t, ok)
					}
				case op < 9:
					v, ok := r.PopFront()
					if len(model) == 0 {
						require.False(t, ok)
						continue
					}
					require.True(t, ok)
					require.Equal(t, model[0], v, "step %d", step)
					model = model[1:]
				default:
					if len(model) > 0 {
						i := rng.IntN(len(model))
						require.Equal(t, model[i], r.At(i))
					}
				}
				require.Equal(t, len(model), r.Len())
				require.LessOrEqual(t, r.Len(), limit)
			}
			assert.Equal(t, discarded, r.Discarded())
			assert.Equal(t, model, contents(r))
		})
	}
}

func TestDiscardString(t *testing.T) {
	assert.Equal(t, "old", DiscardOld.String())
	assert.Equal(t, "new", DiscardNew.String())
}

func TestRingByteBudget(t *testing.T) {
	size := func(s string) int { return len(s) }
	tests := []struct {
		name      string
		discard   Discard
		push      []string
		want      []string
		discarded uint64
	}{
		{name: "old: drops the oldest until it fits", discard: DiscardOld,
			push: []string{"aaaa", "bbbb", "cc", "dddddd"}, want: []string{"cc", "dddddd"}, discarded: 2},
		{name: "new: drops what does not fit", discard: DiscardNew,
			push: []string{"aaaa", "bbbb", "cc", "dddddd"}, want: []string{"aaaa", "bbbb", "cc"}, discarded: 1},
		{name: "a lone element larger than the budget goes in", discard: DiscardOld,
			push: []string{"aa", "0123456789abcdef"}, want: []string{"0123456789abcdef"}, discarded: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New[string](100, tt.discard).WithBytes(10, size)
			for _, s := range tt.push {
				r.Push(s)
				assert.LessOrEqual(t, r.Len(), 100)
			}
			assert.Equal(t, tt.want, contents(r))
			assert.Equal(t, tt.discarded, r.Discarded())
			total := 0
			for _, s := range tt.want {
				total += len(s)
			}
			assert.Equal(t, total, r.Bytes())
			for r.Len() > 0 {
				r.PopFront()
			}
			assert.Equal(t, 0, r.Bytes())
		})
	}
}
