package channels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

// patternState is the state pattern, outgoing and incoming alike.
const patternState = "state"

// StateChannel holds a state shared by every StateChannel at the same
// slot in the network (yoton's StateChannel): any of them sets it with
// Send and all of them read it with Recv, which never waits. When a
// context joins the network (it sends NEW_CONNECTION after connecting),
// every StateChannel resends its state, so the newcomer learns it. If
// two channels set the state at about the same time, which one wins is
// undefined, as in yoton. Safe for concurrent use.
type StateChannel[T any] struct {
	base
	mt MessageType[T]

	// Received is emitted on the loop, with the channel, once per batch
	// of arrived states (several states may give one emit; Recv returns
	// the newest).
	Received *timers.Signal[*StateChannel[T]]

	mu      sync.Mutex
	cur     []byte        // encoding of the current state; nil while there is none
	msg     T             // the current state
	changed chan struct{} // closed (and replaced) when the state changes; nil until Next asks
	posted  bool          // loop-owned: a Received emit is queued
	// Stats counters: states sent (resends included) and arrived.
	sent, received atomic.Uint64

	// How Send decides "unchanged", as Python's != does (see Send).
	same     func(a, b T, ea, eb []byte) bool
	isObject bool // the Object type, whose state starts as None
}

// NewStateChannel attaches a state channel to x at slotBase: it sends
// and receives on slot slotBase.<type>.state. It fails with
// reactor.ErrSlotNotFree when x already has a channel sending or receiving on
// that slot, with reactor.ErrInvalidSlot for a blank slotBase, and with
// ErrNilContext or ErrNilMessageType for a nil x or mt. Safe for
// concurrent use.
func NewStateChannel[T any](x *reactor.Context, slotBase string, mt MessageType[T]) (*StateChannel[T], error) {
	if mt == nil {
		return nil, ErrNilMessageType
	}
	if x == nil {
		return nil, ErrNilContext
	}
	s := &StateChannel[T]{mt: mt, same: func(_, _ T, ea, eb []byte) bool { return bytes.Equal(ea, eb) }}
	if any(mt) == any(Object) {
		// Python compares the values: 1 == True == 1.0, and a dict's
		// order does not matter.
		s.same = func(a, b T, _, _ []byte) bool { return pyEqual(any(a), any(b)) }
		s.isObject = true
	}
	s.Received = timers.NewSignal[*StateChannel[T]](x.Reactor())
	if err := s.attach(x, slotBase, mt.Name(), patternState, patternState, (*stateReceiver[T])(s), s.Close); err != nil {
		return nil, err
	}
	s.ep.OnNewConnection(s.resend) // removed by Close (Detach)
	return s, nil
}

// Send sets the state to m and sends it, unless m equals the current
// state, in which case it sends nothing (yoton's send). Equal means what
// Python's == means for Object (1, True and 1.0 are equal; a list never
// equals a tuple; dicts compare their items in any order), and equal
// encodings for every other message type. Before any state, the current
// state is Python's: the decoding of no bytes (None for Object), so a
// first Send of nil on an Object channel sends nothing, as in yoton.
// A message whose encoding is empty is not a state: Send ignores it.
// The state changes at once (Recv returns it); the package leaves from
// the loop, so sends from several goroutines leave in the order they
// changed the state. Off the loop, Send waits until the loop has taken
// the package (ctx bounds that wait; the state is set regardless); on
// the loop it returns at once. A state send never waits for congested
// connections. Send returns reactor.ErrClosed once the channel, its context or
// its reactor is closed, and wraps ErrEncode when mt cannot encode m.
// Safe for concurrent use.
func (s *StateChannel[T]) Send(ctx context.Context, m T) error {
	if s.closed.Load() {
		return errClosed
	}
	b, err := s.mt.Encode(m)
	if err != nil {
		if !errors.Is(err, ErrEncode) {
			err = fmt.Errorf("%w (%s): %w", ErrEncode, s.mt.Name(), err)
		}
		return err
	}
	if len(b) == 0 {
		return nil
	}
	// As yoton, keep the state as decoded from what was sent, so that a
	// caller changing m afterwards does not change it.
	msg, derr := s.mt.Decode(b)
	if derr != nil {
		msg = m
	}
	s.mu.Lock()
	unchanged := s.cur != nil && s.same(s.msg, msg, s.cur, b)
	if s.cur == nil && s.isObject && derr == nil && any(msg) == nil {
		unchanged = true // Python's state starts as None
	}
	if unchanged {
		s.mu.Unlock()
		return nil
	}
	s.setLocked(b, msg)
	done, err := s.queueSendLocked()
	s.mu.Unlock()
	return s.wait(ctx, done, err)
}

// SendLast sends the current state again (yoton's send_last); without
// a state it does nothing. Contexts call it on every state channel when
// a newcomer connects. Waits and errors as Send. Safe for concurrent use.
func (s *StateChannel[T]) SendLast(ctx context.Context) error {
	if s.closed.Load() {
		return errClosed
	}
	s.mu.Lock()
	if s.cur == nil {
		s.mu.Unlock()
		return nil
	}
	done, err := s.queueSendLocked()
	s.mu.Unlock()
	return s.wait(ctx, done, err)
}

// resend is the context's NEW_CONNECTION hook. Loop goroutine.
func (s *StateChannel[T]) resend() {
	if s.closed.Load() {
		return
	}
	s.mu.Lock()
	if s.cur != nil {
		_, _ = s.queueSendLocked()
	}
	s.mu.Unlock()
}

// queueSendLocked queues the sending of the current state on the loop.
// Called under mu, so the sends are queued in the order the state
// changed. The returned channel gets the outcome.
func (s *StateChannel[T]) queueSendLocked() (<-chan error, error) {
	b := s.cur // never modified: the same slice may go out more than once
	done := make(chan error, 1)
	err := s.x.Reactor().Post(func() {
		err := s.ep.Send(context.Background(), b, everyone) // never waits on the loop
		if err == nil {
			s.sent.Add(1)
		}
		if errors.Is(err, reactor.ErrClosed) {
			err = fmt.Errorf("%w: %w", errClosed, err)
		}
		done <- err
	})
	if err != nil {
		err = fmt.Errorf("%w: %w", errClosed, err)
	}
	return done, err
}

// wait waits for a queued send, off the loop.
func (s *StateChannel[T]) wait(ctx context.Context, done <-chan error, err error) error {
	if err != nil || s.x.Reactor().OnLoop() {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.x.Reactor().Done():
		select {
		case err := <-done:
			return err
		default:
			return errClosed
		}
	}
}

// Recv returns the current state, set here or received, and whether
// there is one; without one it returns the zero value and false. It
// never waits. The value is shared with other callers (a slice or map
// inside it is the channel's own): treat it as read-only. Safe for
// concurrent use.
func (s *StateChannel[T]) Recv() (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msg, s.cur != nil
}

// Pending returns 0: a state channel keeps only the current state, which
// Recv returns, and queues nothing (yoton's bypasses its queue too).
// Safe for concurrent use.
func (s *StateChannel[T]) Pending() int { return 0 }

// StateStats counts what a StateChannel did. JSON-tagged for expvar.
type StateStats struct {
	Sent     uint64 `json:"sent"`     // states sent: changes, and resends to newcomers
	Received uint64 `json:"received"` // states that arrived (undecodable ones included)
}

// Stats returns the channel's counters. Safe for concurrent use.
func (s *StateChannel[T]) Stats() StateStats {
	return StateStats{Sent: s.sent.Load(), Received: s.received.Load()}
}

// deposit makes an arrived state the current one; a payload that does
// not decode is ignored. Loop goroutine (through its receiver adapter).
func (s *StateChannel[T]) deposit(p reactor.Package) {
	if s.closed.Load() || len(p.Data) == 0 {
		return
	}
	s.received.Add(1)
	m, err := s.mt.Decode(p.Data)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.cur != nil && s.same(s.msg, m, s.cur, p.Data) {
		// The same state again (resent to a newcomer): not a change,
		// so Next keeps waiting.
		s.cur, s.msg = p.Data, m
	} else {
		s.setLocked(p.Data, m)
	}
	s.mu.Unlock()
}

// setLocked makes (b, m) the current state and wakes Next. Under mu.
func (s *StateChannel[T]) setLocked(b []byte, m T) {
	s.cur, s.msg = b, m
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// Next waits until the state changes after the call (set by Send here,
// or arrived from the network) and returns the new state; a state that
// arrives equal to the current one (by Send's rule; a peer resends its
// state to every newcomer) is not a change. It is the
// waiting form of Recv, for a caller that must react to the next state
// rather than poll. It returns ctx's error when ctx ends first, reactor.ErrClosed
// when the channel closes, and reactor.ErrBlockingCall on the loop goroutine
// (where waiting would stop the loop: bind Received there). Safe for
// concurrent use.
func (s *StateChannel[T]) Next(ctx context.Context) (T, error) {
	var zero T
	if s.closed.Load() {
		return zero, errClosed
	}
	if s.x.Reactor().OnLoop() {
		return zero, reactor.ErrBlockingCall
	}
	s.mu.Lock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	ch := s.changed
	s.mu.Unlock()
	select {
	case <-ch:
		if s.closed.Load() {
			return zero, errClosed
		}
		m, _ := s.Recv()
		return m, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// endBatch queues one Received emit. Loop goroutine (through its receiver adapter).
func (s *StateChannel[T]) endBatch() { emitOnce(s.x.Reactor(), &s.posted, s.Received, s) }

// Close detaches the channel: it no longer sends, receives or resends
// its state; Recv still returns the last state. Idempotent; safe for
// concurrent use.
func (s *StateChannel[T]) Close() error {
	if !s.close() {
		return nil
	}
	s.mu.Lock()
	if s.changed != nil { // wakes Next, which reports errClosed
		close(s.changed)
		s.changed = nil
	}
	s.mu.Unlock()
	return nil
}
