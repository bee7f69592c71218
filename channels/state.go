package channels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

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

	mu     sync.Mutex
	cur    []byte // encoding of the current state; nil while there is none
	msg    T      // the current state
	posted bool   // loop-owned: a Received emit is queued
	unhook func() // unregisters the NEW_CONNECTION hook
}

// NewStateChannel attaches a state channel to x at slotBase: it sends
// and receives on slot slotBase.<type>.state. It fails with
// ErrSlotNotFree when x already has a channel sending or receiving on
// that slot, and with ErrInvalidSlot for a blank slotBase or a nil x or
// mt. Safe for concurrent use.
func NewStateChannel[T any](x *reactor.Context, slotBase string, mt MessageType[T]) (*StateChannel[T], error) {
	if mt == nil {
		return nil, fmt.Errorf("%w: nil message type", ErrInvalidSlot)
	}
	if x == nil {
		return nil, fmt.Errorf("%w: nil context", ErrInvalidSlot)
	}
	s := &StateChannel[T]{mt: mt}
	s.Received = timers.NewSignal[*StateChannel[T]](x.Reactor())
	if err := s.init(x, slotBase, mt.Name(), patternState, patternState, s); err != nil {
		return nil, err
	}
	s.unhook = x.OnNewConnection(s.resend)
	s.track(s)
	return s, nil
}

// Send sets the state to m and sends it, unless m is the current state
// already (the two encodings are equal), in which case it sends nothing.
// A message whose encoding is empty is not a state: Send ignores it.
// The state changes at once (Recv returns it); the package leaves from
// the loop, so sends from several goroutines leave in the order they
// changed the state. Off the loop, Send waits until the loop has taken
// the package (ctx bounds that wait; the state is set regardless); on
// the loop it returns at once. A state send never waits for congested
// connections. Send returns ErrClosed once the channel, its context or
// its reactor is closed, and wraps ErrEncode when mt cannot encode m.
// Safe for concurrent use.
func (s *StateChannel[T]) Send(ctx context.Context, m T) error {
	if s.closed.Load() {
		return ErrClosed
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
	if s.cur != nil && bytes.Equal(s.cur, b) {
		s.mu.Unlock()
		return nil
	}
	s.cur, s.msg = b, msg
	done, err := s.queueSendLocked()
	s.mu.Unlock()
	return s.wait(ctx, done, err)
}

// SendLast sends the current state again (yoton's send_last); without
// a state it does nothing. Contexts call it on every state channel when
// a newcomer connects. Waits and errors as Send. Safe for concurrent use.
func (s *StateChannel[T]) SendLast(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
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
		err := s.x.Send(context.Background(), s.slotOutID, b, 0, 0) // never waits on the loop
		if errors.Is(err, reactor.ErrClosed) {
			err = fmt.Errorf("%w: %w", ErrClosed, err)
		}
		done <- err
	})
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrClosed, err)
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
			return ErrClosed
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

// Deposit makes an arrived state the current one; a payload that does
// not decode is ignored. Loop goroutine (reactor.Receiver).
func (s *StateChannel[T]) Deposit(p reactor.Package) {
	if s.closed.Load() || len(p.Data) == 0 {
		return
	}
	m, err := s.mt.Decode(p.Data)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.cur, s.msg = p.Data, m
	s.mu.Unlock()
}

// EndBatch queues one Received emit. Loop goroutine (reactor.Receiver).
func (s *StateChannel[T]) EndBatch() {
	if !s.posted && s.Received.HandlerCount() > 0 {
		s.posted = true
		_ = s.x.Reactor().Post(func() {
			s.posted = false
			_ = s.Received.EmitNow(s)
		})
	}
}

// Close detaches the channel: it no longer sends, receives or resends
// its state; Recv still returns the last state. Idempotent; safe for
// concurrent use.
func (s *StateChannel[T]) Close() error {
	if s.close() && s.unhook != nil {
		s.unhook()
	}
	return nil
}
