package channels

import (
	"errors"

	"github.com/goyoton/yoton/reactor"
)

// Errors returned by channels, usable with errors.Is.
var (
	// ErrClosed is returned by Send on a closed channel (or one whose
	// context or reactor has closed), and by Recv on a closed channel with
	// no queued message left. It matches reactor.ErrClosed too, so one
	// errors.Is test catches a closed channel, context or reactor.
	ErrClosed error = channelClosed{}
	// ErrNoMessage is returned by TryRecv when no message is pending.
	ErrNoMessage = errors.New("yoton: no message pending")
	// ErrInvalidSlot is returned by the constructors for an empty or
	// blank slot name.
	ErrInvalidSlot = errors.New("yoton: invalid slot name")
	// ErrNilContext is returned by the constructors for a nil context.
	ErrNilContext = errors.New("yoton: nil context")
	// ErrNilMessageType is returned by the constructors for a nil message
	// type.
	ErrNilMessageType = errors.New("yoton: nil message type")
	// ErrBadMode is returned by RepChannel.SetMode for a mode that is none
	// of RepOff, RepEvent and RepWorkers.
	ErrBadMode = errors.New("yoton: unknown replier mode")
	// ErrBlockingCall is reactor.ErrBlockingCall: Recv on the loop
	// goroutine with nothing queued returns it instead of deadlocking.
	ErrBlockingCall = reactor.ErrBlockingCall
	// ErrSlotNotFree is reactor.ErrSlotNotFree: one channel per slot and
	// direction per context.
	ErrSlotNotFree = reactor.ErrSlotNotFree
)

// channelClosed is ErrClosed: "channel closed", matching reactor.ErrClosed.
type channelClosed struct{}

// Error returns the error's text. Safe for concurrent use.
func (channelClosed) Error() string { return "yoton: channel closed" }

// Unwrap makes ErrClosed match reactor.ErrClosed. Safe for concurrent
// use.
func (channelClosed) Unwrap() error { return reactor.ErrClosed }
