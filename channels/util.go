package channels

import (
	"errors"

	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// emitOnce queues one emit of sig with v on loop, unless one is queued
// already (*posted) or nobody listens: the Received signals fire once per
// batch of arrivals. Loop goroutine.
func emitOnce[T any](loop *reactor.Reactor, posted *bool, sig *timers.Signal[T], v T) {
	if *posted || sig.HandlerCount() == 0 {
		return
	}
	*posted = true
	_ = loop.Post(func() {
		*posted = false
		_ = sig.EmitNow(v)
	})
}
