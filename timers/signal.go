package timers

import (
	"errors"
	"sync"
	"time"
)

// ErrNotOnLoop is returned by calls that must run on the loop goroutine
// when made from another goroutine.
var ErrNotOnLoop = errors.New("yoton: must be called on the loop goroutine")

// Loop is what the event system needs from an event loop: queueing calls
// onto the loop goroutine and a deadline heap that goroutine drives.
// *reactor.Reactor implements it.
type Loop interface {
	// Post queues fn to run on the loop goroutine, after everything
	// already queued. Safe for concurrent use.
	Post(fn func()) error
	// PostFront queues fn to run on the loop goroutine before everything
	// already queued. Safe for concurrent use.
	PostFront(fn func()) error
	// OnLoop reports whether the caller runs on the loop goroutine.
	OnLoop() bool
	// AfterFunc schedules fn on the loop goroutine after d and returns
	// its entry. Loop goroutine only.
	AfterFunc(d time.Duration, fn func()) *Entry
	// CancelTimer cancels an entry of AfterFunc and reports whether it
	// was still scheduled. Loop goroutine only.
	CancelTimer(e *Entry) bool
}

// HandlerID identifies a handler bound to a Signal, for Unbind. Python
// yoton unbinds a handler by the callable itself; Go functions cannot be
// compared, so Bind returns an id instead (and binding the same function
// twice binds it twice, where Python warns and ignores the second bind).
type HandlerID uint64

// Signal is yoton's Signal: a list of handlers called with a value of
// type T. Emit queues one call per handler on the loop goroutine; EmitNow
// makes the calls at once (loop goroutine only). Handlers always run on
// the loop goroutine, in the order they were bound. Bind, Unbind,
// UnbindAll, HandlerCount and Emit are safe for concurrent use.
type Signal[T any] struct {
	loop     Loop
	mu       sync.Mutex
	next     HandlerID
	handlers []boundHandler[T]
}

type boundHandler[T any] struct {
	id HandlerID
	fn func(T)
}

// NewSignal returns a signal whose handlers run on loop's goroutine.
func NewSignal[T any](loop Loop) *Signal[T] {
	return &Signal[T]{loop: loop}
}

// Bind adds fn to the handlers and returns its id (yoton's bind). fn
// runs on the loop goroutine. Safe for concurrent use.
func (s *Signal[T]) Bind(fn func(T)) HandlerID {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.handlers = append(s.handlers, boundHandler[T]{id: s.next, fn: fn})
	return s.next
}

// Unbind removes the handler with the given id and reports whether it
// was bound (yoton's unbind(func)). Calls that Emit queued before still
// run. Safe for concurrent use.
func (s *Signal[T]) Unbind(id HandlerID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, h := range s.handlers {
		if h.id == id {
			s.handlers = append(s.handlers[:i:i], s.handlers[i+1:]...)
			return true
		}
	}
	return false
}

// UnbindAll removes every handler (yoton's unbind()). Safe for
// concurrent use.
func (s *Signal[T]) UnbindAll() {
	s.mu.Lock()
	s.handlers = nil
	s.mu.Unlock()
}

// HandlerCount returns the number of bound handlers. Safe for concurrent
// use.
func (s *Signal[T]) HandlerCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.handlers)
}

func (s *Signal[T]) snapshot() []boundHandler[T] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.handlers) == 0 {
		return nil
	}
	return append([]boundHandler[T](nil), s.handlers...)
}

// Emit queues one call of every handler bound now, with v, on the loop,
// behind the work already queued there (yoton's emit). Each call is a
// queued function of its own, so a handler that panics (the reactor logs
// it) does not keep the others from running. Safe for concurrent use,
// including on the loop goroutine. It returns the loop's error when the
// loop is closed.
func (s *Signal[T]) Emit(v T) error {
	for _, h := range s.snapshot() {
		fn := h.fn
		if err := s.loop.Post(func() { fn(v) }); err != nil {
			return err
		}
	}
	return nil
}

// EmitNow calls every handler with v before returning (yoton's
// emit_now). A handler that panics stops the handlers after it; the
// panic goes on to the caller. Loop goroutine only: elsewhere it returns
// ErrNotOnLoop and calls nothing.
func (s *Signal[T]) EmitNow(v T) error {
	if !s.loop.OnLoop() {
		return ErrNotOnLoop
	}
	for _, h := range s.snapshot() {
		h.fn(v)
	}
	return nil
}
