package loop_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/loop"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// log records the order in which entries ran.
type log []string

func (l *log) fn(name string) func() { return func() { *l = append(*l, name) } }

func TestHeapOrdering(t *testing.T) {
	tests := []struct {
		name string
		add  []int // deadlines in ms, named by index
		now  int
		want []string
	}{
		{name: "earliest first", add: []int{30, 10, 20}, now: 100, want: []string{"1", "2", "0"}},
		{name: "only the due ones", add: []int{30, 10, 20}, now: 20, want: []string{"1", "2"}},
		{name: "nothing due", add: []int{30, 10}, now: 5, want: nil},
		{name: "equal deadlines in order of adding", add: []int{5, 5, 5, 1, 5}, now: 5, want: []string{"3", "0", "1", "2", "4"}},
		{name: "due exactly now", add: []int{7}, now: 7, want: []string{"0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h loop.Heap
			var l log
			for i, ms := range tt.add {
				h.Add(at(ms), l.fn(string(rune('0'+i))))
			}
			n := h.RunDue(at(tt.now))
			assert.Equal(t, tt.want, []string(l))
			assert.Equal(t, len(tt.want), n)
			assert.Equal(t, len(tt.add)-len(tt.want), h.Len())
		})
	}
}

func TestHeapEqualDeadlinesFIFO(t *testing.T) {
	var h loop.Heap
	var got []int
	for i := 0; i < 200; i++ {
		h.Add(at(1), func() { got = append(got, i) })
	}
	h.RunDue(at(1))
	for i, v := range got {
		require.Equal(t, i, v)
	}
	assert.Len(t, got, 200)
}

func TestHeapNextAndWhen(t *testing.T) {
	var h loop.Heap
	_, ok := h.Next()
	assert.False(t, ok, "empty heap")
	e := h.Add(at(20), func() {})
	h.Add(at(10), func() {})
	when, ok := h.Next()
	assert.True(t, ok)
	assert.Equal(t, at(10), when)
	assert.Equal(t, at(20), e.When())
	assert.Equal(t, 0, h.RunDue(at(9)))
}

func TestHeapAddFront(t *testing.T) {
	t.Run("before entries due at the same time", func(t *testing.T) {
		var h loop.Heap
		var l log
		h.Add(at(10), l.fn("a"))
		h.Add(at(10), l.fn("b"))
		h.AddFront(at(10), l.fn("front"))
		h.RunDue(at(10))
		assert.Equal(t, log{"front", "a", "b"}, l)
	})
	t.Run("before entries due earlier", func(t *testing.T) {
		var h loop.Heap
		var l log
		h.Add(at(5), l.fn("a"))
		h.Add(at(8), l.fn("b"))
		e := h.AddFront(at(10), l.fn("front"))
		assert.Equal(t, at(5), e.When(), "moved to the earliest deadline")
		h.RunDue(at(10))
		assert.Equal(t, log{"front", "a", "b"}, l)
	})
	t.Run("after entries due later keeps its time", func(t *testing.T) {
		var h loop.Heap
		var l log
		h.Add(at(50), l.fn("late"))
		h.AddFront(at(10), l.fn("front"))
		h.Add(at(10), l.fn("same time"))
		assert.Equal(t, 2, h.RunDue(at(10)))
		assert.Equal(t, log{"front", "same time"}, l)
	})
	t.Run("the latest front call goes first", func(t *testing.T) {
		var h loop.Heap
		var l log
		h.Add(at(1), l.fn("a"))
		h.AddFront(at(1), l.fn("front 1"))
		h.AddFront(at(1), l.fn("front 2"))
		h.RunDue(at(1))
		assert.Equal(t, log{"front 2", "front 1", "a"}, l)
	})
	t.Run("empty heap", func(t *testing.T) {
		var h loop.Heap
		var l log
		e := h.AddFront(at(3), l.fn("front"))
		assert.Equal(t, at(3), e.When())
		assert.Equal(t, 0, h.RunDue(at(2)))
		assert.Equal(t, 1, h.RunDue(at(3)))
	})
}

func TestHeapCancel(t *testing.T) {
	var h loop.Heap
	var l log
	a := h.Add(at(1), l.fn("a"))
	b := h.Add(at(2), l.fn("b"))
	c := h.Add(at(3), l.fn("c"))
	assert.True(t, b.Scheduled())
	assert.True(t, h.Cancel(b))
	assert.False(t, b.Scheduled())
	assert.False(t, h.Cancel(b), "twice")
	assert.False(t, h.Cancel(nil))
	var other loop.Heap
	foreign := other.Add(at(1), func() {})
	assert.False(t, h.Cancel(foreign), "entry of another heap")
	assert.True(t, foreign.Scheduled())
	assert.Equal(t, 2, h.Len())
	h.RunDue(at(10))
	assert.Equal(t, log{"a", "c"}, l)
	assert.False(t, a.Scheduled(), "ran")
	assert.False(t, h.Cancel(c), "already ran")
}

func TestHeapCancelDuringRun(t *testing.T) {
	var h loop.Heap
	var l log
	var b *loop.Entry
	h.Add(at(1), func() { l = append(l, "a"); assert.True(t, h.Cancel(b)) })
	b = h.Add(at(1), l.fn("b"))
	h.Add(at(1), l.fn("c"))
	assert.Equal(t, 2, h.RunDue(at(1)))
	assert.Equal(t, log{"a", "c"}, l)
}

func TestHeapRunDueSkipsEntriesAddedDuringRun(t *testing.T) {
	var h loop.Heap
	var l log
	h.Add(at(1), func() {
		l = append(l, "a")
		h.Add(at(0), l.fn("added, already due"))
	})
	assert.Equal(t, 1, h.RunDue(at(5)))
	assert.Equal(t, log{"a"}, l)
	assert.Equal(t, 1, h.Len())
	assert.Equal(t, 1, h.RunDue(at(5)))
	assert.Equal(t, log{"a", "added, already due"}, l)

	// A callback that reschedules itself at once cannot starve the caller.
	var again func()
	runs := 0
	again = func() { runs++; h.Add(at(0), again) }
	h.Add(at(0), again)
	assert.Equal(t, 1, h.RunDue(at(5)))
	assert.Equal(t, 1, h.RunDue(at(5)))
	assert.Equal(t, 2, runs)
}

// TestHeapMatchesModel checks random adds and cancels against a sort.
func TestHeapMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	type item struct {
		ms, seq int
		e       *loop.Entry
		live    bool
	}
	var h loop.Heap
	var items []*item
	var ran []int
	for i := 0; i < 3000; i++ {
		if rng.IntN(4) == 0 && len(items) > 0 {
			it := items[rng.IntN(len(items))]
			assert.Equal(t, it.live, h.Cancel(it.e))
			it.live = false
			continue
		}
		it := &item{ms: rng.IntN(50), seq: i, live: true}
		it.e = h.Add(at(it.ms), func() { ran = append(ran, it.seq) })
		items = append(items, it)
	}
	var want []*item
	for _, it := range items {
		if it.live {
			want = append(want, it)
		}
	}
	slices.SortStableFunc(want, func(a, b *item) int { return a.ms - b.ms })
	wantSeq := make([]int, len(want))
	for i, it := range want {
		wantSeq[i] = it.seq
	}
	assert.Equal(t, len(want), h.Len())
	h.RunDue(at(100))
	assert.Equal(t, wantSeq, ran)
	assert.Equal(t, 0, h.Len())
}
