package channels

import (
	"errors"

	"github.com/goyoton/yoton/reactor"
)

// Errors returned by channels, usable with errors.Is.
var (
	// ErrClosed is returned by Send on a closed channel (or one whose
	// context or reactor has closed), and by Recv on a closed channel with
	// no queued message left.
	ErrClosed = errors.New("yoton: channel closed")
	// ErrNoMessage is returned by TryRecv when no message is pending.
	ErrNoMessage = errors.New("yoton: no message pending")
	// ErrInvalidSlot is returned by the constructors for an empty slot
	// name, a nil context or a nil message type.
	ErrInvalidSlot = errors.New("yoton: invalid slot name")
	// ErrBlockingCall is reactor.ErrBlockingCall: Recv on the loop
	// goroutine with nothing queued returns it instead of deadlocking.
	ErrBlockingCall = reactor.ErrBlockingCall
	// ErrSlotNotFree is reactor.ErrSlotNotFree: one channel per slot and
	// direction per context.
	ErrSlotNotFree = reactor.ErrSlotNotFree
)
