// Package loop is the seam between the reactor and the packages built on
// it (timers, futures, channels, clientserver): the deadline heap the
// loop goroutine drives, and the loop operations those packages need but
// users do not call. Nothing here is part of the user API.
package loop

import (
	"context"
	"log/slog"
	"time"
)

// Loop is the reactor's event loop as sibling packages use it.
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
	// WaitSignal waits until ch is closed or at most d (nil then), ctx
	// ends (its error) or the loop stops (the reactor's ErrClosed). Off
	// the loop goroutine; on it, it returns the reactor's
	// ErrBlockingCall at once.
	WaitSignal(ctx context.Context, ch <-chan struct{}, d time.Duration) error
	// Logf sends a diagnostic to the reactor's logger (WithLogger or
	// WithSlog, at level); without one it does nothing. Any goroutine.
	Logf(level slog.Level, format string, args ...any)
}

// Provider is implemented by the values that carry a Loop without
// showing it in their API: *reactor.Reactor, by embedding an Anchor.
// Only types embedding Anchor can implement it.
type Provider interface {
	loopOf() Loop
}

// Anchor, embedded in a type, makes that type a Provider of its loop.
// It has no exported field or method, so that nothing of the loop is
// promoted into the embedding type's API.
type Anchor struct {
	l Loop
}

// NewAnchor returns an Anchor for l.
func NewAnchor(l Loop) Anchor { return Anchor{l: l} }

func (a *Anchor) loopOf() Loop { return a.l }

// Of returns p's loop, nil for a nil p.
func Of(p Provider) Loop {
	if p == nil {
		return nil
	}
	return p.loopOf()
}
