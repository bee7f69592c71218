package channels

import (
	"errors"
	"fmt"

	"github.com/goyoton/yoton/reactor"
)

// Errors returned by channels, usable with errors.Is.
var (
	// ErrNoMessage is returned by TryRecv when no message is pending.
	ErrNoMessage = errors.New("yoton: no message pending")
	// ErrNilContext is returned by the constructors for a nil context.
	ErrNilContext = errors.New("yoton: nil context")
	// ErrNilMessageType is returned by the constructors for a nil message
	// type.
	ErrNilMessageType = errors.New("yoton: nil message type")
	// ErrBadMode is returned by RepChannel.SetMode for a mode that is none
	// of RepOff, RepEvent and RepWorkers.
	ErrBadMode = errors.New("yoton: unknown replier mode")
)

// errClosed is what a closed channel returns: reactor.ErrClosed (the one
// "closed" of the library, for channels, contexts and reactors alike)
// saying that it is the channel.
var errClosed = fmt.Errorf("%w: channel closed", reactor.ErrClosed)
