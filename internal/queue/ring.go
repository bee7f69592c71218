// Package queue holds the bounded FIFO used for every yoton queue: a
// channel's incoming queue, a context's startup queue and a connection's
// outgoing queue. It is not safe for concurrent use; owners lock around it.
package queue

// Discard says which element a full Ring gives up when another is pushed.
type Discard int

const (
	// DiscardOld drops the oldest element to make room (yoton's 'old').
	DiscardOld Discard = iota
	// DiscardNew drops the element being pushed (yoton's 'new').
	DiscardNew
)

// String returns yoton's name for the rule: "old" or "new".
func (d Discard) String() string {
	if d == DiscardNew {
		return "new"
	}
	return "old"
}

// Ring is a bounded FIFO of T backed by a growable circular buffer.
// Its length never exceeds its limit, nor (with a byte budget, see
// WithBytes) the sum of its elements' sizes its budget, except that one
// element alone is always taken: a push into a full ring discards
// according to its rule. The zero value is not usable; call New.
type Ring[T any] struct {
	buf       []T
	head, n   int
	limit     int
	discard   Discard
	discarded uint64

	sizeOf    func(T) int // nil: no byte budget
	byteLimit int
	bytes     int
}

// WithBytes gives the ring a byte budget: the sizes (as sizeOf tells)
// of the queued elements add up to at most limit, except for a lone
// element larger than that. It returns r.
func (r *Ring[T]) WithBytes(limit int, sizeOf func(T) int) *Ring[T] {
	r.byteLimit, r.sizeOf = max(limit, 1), sizeOf
	return r
}

// Bytes returns the sum of the queued elements' sizes (0 without a byte
// budget).
func (r *Ring[T]) Bytes() int { return r.bytes }

func (r *Ring[T]) size(v T) int {
	if r.sizeOf == nil {
		return 0
	}
	return r.sizeOf(v)
}

// full reports whether v cannot go in without a discard.
func (r *Ring[T]) full(v T) bool {
	if r.n >= r.limit {
		return true
	}
	return r.sizeOf != nil && r.n > 0 && r.bytes+r.size(v) > r.byteLimit
}

// New returns an empty ring holding at most limit elements (limit >= 1).
func New[T any](limit int, discard Discard) *Ring[T] {
	if limit < 1 {
		limit = 1
	}
	return &Ring[T]{limit: limit, discard: discard}
}

// Len returns the number of queued elements.
func (r *Ring[T]) Len() int { return r.n }

// Limit returns the most elements the ring holds.
func (r *Ring[T]) Limit() int { return r.limit }

// Discarded returns how many elements the ring has dropped so far.
func (r *Ring[T]) Discarded() uint64 { return r.discarded }

// Push appends v. When the ring is full it applies its discard rule (v
// itself, or as many of the oldest as it takes to make room) and reports
// false if anything was dropped; Discarded counts every element dropped.
func (r *Ring[T]) Push(v T) bool {
	if !r.full(v) {
		r.pushBack(v)
		return true
	}
	if r.discard == DiscardNew {
		r.discarded++
		return false
	}
	r.PopFront()
	r.discarded++
	for r.n > 0 && r.sizeOf != nil && r.bytes+r.size(v) > r.byteLimit {
		r.PopFront()
		r.discarded++
	}
	r.pushBack(v)
	return false
}

// PushFront puts v at the front, ignoring the limit (yoton's insert,
// used to put back an element that was just popped).
func (r *Ring[T]) PushFront(v T) {
	r.bytes += r.size(v)
	r.grow()
	r.head = (r.head - 1 + len(r.buf)) % len(r.buf)
	r.buf[r.head] = v
	r.n++
}

func (r *Ring[T]) pushBack(v T) {
	r.bytes += r.size(v)
	r.grow()
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
}

func (r *Ring[T]) grow() {
	if r.n < len(r.buf) {
		return
	}
	size := 2 * len(r.buf)
	if size == 0 {
		size = 8
	}
	nb := make([]T, size)
	for i := 0; i < r.n; i++ {
		nb[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = nb, 0
}

// PopFront removes and returns the oldest element; ok is false when empty.
func (r *Ring[T]) PopFront() (v T, ok bool) {
	if r.n == 0 {
		return v, false
	}
	var zero T
	v = r.buf[r.head]
	r.bytes -= r.size(v)
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	if r.n == 0 {
		r.head = 0
	}
	return v, true
}

// At returns the i-th element from the front (0 is the oldest) without
// removing it. It panics when i is out of range.
func (r *Ring[T]) At(i int) T {
	if i < 0 || i >= r.n {
		panic("queue: index out of range")
	}
	return r.buf[(r.head+i)%len(r.buf)]
}

// Clear removes every element.
func (r *Ring[T]) Clear() {
	var zero T
	for i := 0; i < r.n; i++ {
		r.buf[(r.head+i)%len(r.buf)] = zero
	}
	r.head, r.n, r.bytes = 0, 0, 0
}
