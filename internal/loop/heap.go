package loop

import (
	"container/heap"
	"time"
)

// Entry is one scheduled call in a Heap. Its fields are owned by the heap;
// keep the pointer only to Cancel it. When is safe for concurrent use;
// Scheduled, like the heap, belongs to the heap's owner goroutine.
type Entry struct {
	when  time.Time
	seq   int64
	index int
	fn    func()
	// inBatch is true between RunDue taking the entry and calling it.
	inBatch bool
}

// When returns the time the entry is due. It is fixed once Add or
// AddFront has returned the entry, so When is safe for concurrent use.
func (e *Entry) When() time.Time { return e.when }

// Scheduled reports whether the entry is still waiting in its heap. The
// heap's owner goroutine only (the loop goroutine, for an entry of
// Loop.AfterFunc): the heap changes what it reads.
func (e *Entry) Scheduled() bool { return e.index >= 0 || e.inBatch }

// Heap is a min-heap of deadlines. Entries due at the same time run in the
// order they were added. It is not safe for concurrent use: one goroutine
// (the loop) owns it, and every method is for that owner goroutine only.
// The zero value is an empty heap.
type Heap struct {
	items    entries
	batch    []*Entry
	seq      int64
	frontSeq int64
}

// Add schedules fn at when and returns its entry. Owner goroutine only.
func (h *Heap) Add(when time.Time, fn func()) *Entry {
	h.seq++
	e := &Entry{when: when, seq: h.seq, fn: fn}
	heap.Push(&h.items, e)
	return e
}

// AddFront schedules fn before every entry already due at or before when
// (yoton's call_later with a negative delay puts a call at the front).
// Owner goroutine only.
func (h *Heap) AddFront(when time.Time, fn func()) *Entry {
	h.frontSeq--
	e := &Entry{when: when, seq: h.frontSeq, fn: fn}
	if len(h.items) > 0 && h.items[0].when.Before(when) {
		e.when = h.items[0].when
	}
	heap.Push(&h.items, e)
	return e
}

// Cancel removes e if it is still scheduled and reports whether it was.
// Owner goroutine only.
func (h *Heap) Cancel(e *Entry) bool {
	if e != nil && e.inBatch {
		e.inBatch = false
		return true
	}
	if e == nil || e.index < 0 || e.index >= len(h.items) || h.items[e.index] != e {
		return false
	}
	heap.Remove(&h.items, e.index)
	return true
}

// Len returns the number of scheduled entries. Owner goroutine only.
func (h *Heap) Len() int { return len(h.items) }

// Next returns the earliest deadline; ok is false when the heap is empty.
// Owner goroutine only.
func (h *Heap) Next() (when time.Time, ok bool) {
	if len(h.items) == 0 {
		return time.Time{}, false
	}
	return h.items[0].when, true
}

// RunDue removes every entry due at or before now and calls it, earliest
// first (entries due at the same time in the order they were added).
// Entries added by those calls wait for the next RunDue, even when they
// are already due, so a callback that reschedules itself at 0 delay
// cannot starve the loop; an entry cancelled by an earlier call of the
// same run does not run. It returns how many entries ran. Owner
// goroutine only: the calls run on it.
func (h *Heap) RunDue(now time.Time) int {
	due := h.batch[:0]
	for len(h.items) > 0 && !h.items[0].when.After(now) {
		e := heap.Pop(&h.items).(*Entry)
		e.inBatch = true
		due = append(due, e)
	}
	n := 0
	for i, e := range due {
		due[i] = nil
		if !e.inBatch {
			continue // cancelled meanwhile
		}
		e.inBatch = false
		n++
		e.fn()
	}
	h.batch = due[:0]
	return n
}

// entries is the heap.Interface under Heap; its methods, called by
// container/heap, are for the heap's owner goroutine only.
type entries []*Entry

func (s entries) Len() int { return len(s) }
func (s entries) Less(i, j int) bool {
	if s[i].when.Equal(s[j].when) {
		return s[i].seq < s[j].seq
	}
	return s[i].when.Before(s[j].when)
}
func (s entries) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].index = i
	s[j].index = j
}
func (s *entries) Push(x any) {
	e := x.(*Entry)
	e.index = len(*s)
	*s = append(*s, e)
}
func (s *entries) Pop() any {
	old := *s
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*s = old[:n-1]
	return e
}
