package timers

import (
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/goyoton/yoton/internal/loop"
)

// Errors of signals, usable with errors.Is.
var (
	// ErrNotOnLoop is returned by calls that must run on the loop
	// goroutine when made from another goroutine.
	ErrNotOnLoop = errors.New("yoton: must be called on the loop goroutine")
	// ErrAlreadyBound is returned by BindKey when a handler with an
	// equal key is bound already: the new one is not bound (yoton warns
	// and ignores the second bind of a handler).
	ErrAlreadyBound = errors.New("yoton: a handler with this key is bound already")
	// ErrBadHandler is returned by BindKey for a nil function, or a key
	// that is nil or not comparable.
	ErrBadHandler = errors.New("yoton: bad signal handler")
)

// Loop is the event loop signals and timers run on: a
// *reactor.Reactor. Its methods are the reactor's own business; users
// only pass it along.
type Loop interface {
	loop.Provider
}

// HandlerID identifies a handler bound to a Signal, for Unbind. Bind and
// BindKey return it; ids are never reused within a signal.
type HandlerID uint64

// Signal is yoton's Signal: a list of handlers called with a value of
// type T. Emit queues one call per handler on the loop goroutine; EmitNow
// makes the calls at once (loop goroutine only). Handlers always run on
// the loop goroutine, in the order they were bound. Bind, BindKey,
// Unbind, UnbindKey, UnbindAll, HandlerCount and Emit are safe for
// concurrent use.
//
// # Which handler is which
//
// Python yoton identifies a handler by the callable: a function by its
// identity, a bound method by its object and its name; a second bind of
// the same handler is ignored (with a warning), and unbind(f) finds it.
// Go func values cannot be compared, and nothing sound stands in for
// them: reflect's code pointer is the same for every closure made from
// one function literal, whatever each captured, and for the method values
// of one method on different receivers, so comparing it would merge
// handlers that differ (two subscribers' o.OnClosed would become one);
// the identity of a func value itself is not exposed by the language.
// So a handler is identified explicitly:
//
//   - Bind(fn) binds fn on every call and returns a new HandlerID, the
//     handle for Unbind. Binding one function twice binds it twice.
//   - BindKey(key, fn) names the handler with key, any comparable value
//     the caller chooses. A second BindKey with an equal key is ignored,
//     as Python ignores the second bind: it returns ErrAlreadyBound and
//     the id of the handler bound first, which stays where it is.
//     UnbindKey(key) unbinds it, as Python's unbind(f).
//
// Python's identities translate to keys directly: for a bound method
// o.M, a key holding the receiver and the method's name
// (struct{o *T; m string}{o, "M"}), or o itself when o binds one method;
// for a function, its name or a pointer to a variable of its own (not
// of a zero-size type: Go may give two of those the same address).
type Signal[T any] struct {
	loop     loop.Loop
	mu       sync.Mutex
	next     HandlerID
	handlers []boundHandler[T]
}

type boundHandler[T any] struct {
	id  HandlerID
	key any // nil for Bind: no key, never equal to another handler's
	fn  func(T)
}

// NewSignal returns a signal whose handlers run on loop's goroutine. Safe
// for concurrent use.
func NewSignal[T any](l Loop) *Signal[T] {
	return &Signal[T]{loop: loopOf(l)}
}

// loopOf returns l's loop; nil for a nil l, whose use panics as a nil
// pointer would.
func loopOf(l Loop) loop.Loop {
	if l == nil {
		return nil
	}
	return loop.Of(l)
}

// Bind adds fn to the handlers and returns its id (yoton's bind). fn
// runs on the loop goroutine. Every call binds fn anew, even a function
// bound already: Go cannot tell two func values apart (see "Which
// handler is which" above); use BindKey for yoton's one-bind-per-handler
// rule. Safe for concurrent use.
func (s *Signal[T]) Bind(fn func(T)) HandlerID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(nil, fn)
}

// BindKey adds fn to the handlers under key, unless a handler with an
// equal key is bound already: then fn is not bound, and BindKey returns
// the id of that handler and ErrAlreadyBound (yoton's bind of a handler
// already bound, which warns and is ignored). key is any comparable
// value (==), not nil; a nil key, a key that is not comparable (a slice,
// a map, a func, or a struct or array holding one) and a nil fn give
// ErrBadHandler. Keys and ids are per signal. fn runs on the loop
// goroutine. Safe for concurrent use.
func (s *Signal[T]) BindKey(key any, fn func(T)) (HandlerID, error) {
	if fn == nil {
		return 0, fmt.Errorf("%w: nil function", ErrBadHandler)
	}
	if key == nil {
		return 0, fmt.Errorf("%w: nil key", ErrBadHandler)
	}
	if !reflect.ValueOf(key).Comparable() {
		return 0, fmt.Errorf("%w: key of type %T is not comparable", ErrBadHandler, key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.findKeyLocked(key); i >= 0 {
		return s.handlers[i].id, ErrAlreadyBound
	}
	return s.addLocked(key, fn), nil
}

func (s *Signal[T]) addLocked(key any, fn func(T)) HandlerID {
	s.next++
	s.handlers = append(s.handlers, boundHandler[T]{id: s.next, key: key, fn: fn})
	return s.next
}

// findKeyLocked returns the position of the handler bound with key, or
// -1. Keys were checked comparable when bound, and key now, so == cannot
// panic.
func (s *Signal[T]) findKeyLocked(key any) int {
	for i, h := range s.handlers {
		if h.key != nil && h.key == key {
			return i
		}
	}
	return -1
}

// Unbind removes the handler with the given id, bound with Bind or
// BindKey, and reports whether it was bound (yoton's unbind(func)).
// Calls that Emit queued before still run. Safe for concurrent use.
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

// UnbindKey removes the handler bound with BindKey under key (or an
// equal key) and reports whether there was one (yoton's unbind(func)).
// A key that is nil or not comparable matches nothing. Calls that Emit
// queued before still run. Safe for concurrent use.
func (s *Signal[T]) UnbindKey(key any) bool {
	if key == nil || !reflect.ValueOf(key).Comparable() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.findKeyLocked(key)
	if i < 0 {
		return false
	}
	s.handlers = append(s.handlers[:i:i], s.handlers[i+1:]...)
	return true
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
