package timers

import (
	"errors"
	"sync"
)

// ErrNotOnLoop is returned by calls that must run on the loop goroutine
// when made from another goroutine.
var ErrNotOnLoop = errors.New("yoton: must be called on the loop goroutine")

// Loop is what a Signal needs from an event loop: a way to queue a call
// onto the loop goroutine and a way to tell whether the caller is on it.
// *reactor.Reactor implements it.
type Loop interface {
	// Post queues fn to run on the loop goroutine. Safe for concurrent use.
	Post(fn func()) error
	// OnLoop reports whether the caller runs on the loop goroutine.
	OnLoop() bool
}

// HandlerID identifies a handler bound to a Signal, for Unbind.
type HandlerID uint64

// Signal is a list of handlers called with a value of type T. Emit queues
// the calls on the loop; EmitNow makes them at once (loop goroutine only).
// Bind, Unbind and Emit are safe for concurrent use.
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

// NewSignal returns a signal whose handlers run on loop.
func NewSignal[T any](loop Loop) *Signal[T] {
	return &Signal[T]{loop: loop}
}

// Bind adds fn to the handlers and returns its id. Handlers run in the
// order they were bound.
func (s *Signal[T]) Bind(fn func(T)) HandlerID {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.handlers = append(s.handlers, boundHandler[T]{id: s.next, fn: fn})
	return s.next
}

// Unbind removes the handler with the given id and reports whether it
// was bound.
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

// UnbindAll removes every handler.
func (s *Signal[T]) UnbindAll() {
	s.mu.Lock()
	s.handlers = nil
	s.mu.Unlock()
}

// HandlerCount returns the number of bound handlers.
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

// Emit queues one call of every handler bound now, with v, on the loop.
// Safe for concurrent use. It returns the loop's error if it is closed.
func (s *Signal[T]) Emit(v T) error {
	hs := s.snapshot()
	if len(hs) == 0 {
		return nil
	}
	return s.loop.Post(func() {
		for _, h := range hs {
			h.fn(v)
		}
	})
}

// EmitNow calls every handler with v before returning. Loop goroutine
// only: elsewhere it returns ErrNotOnLoop and calls nothing.
func (s *Signal[T]) EmitNow(v T) error {
	if !s.loop.OnLoop() {
		return ErrNotOnLoop
	}
	for _, h := range s.snapshot() {
		h.fn(v)
	}
	return nil
}
