package reactor

import "errors"

// Sentinel errors of the reactor, usable with errors.Is.
var (
	// ErrClosed is returned by calls on a closed Reactor, Context or Connection.
	ErrClosed = errors.New("yoton: closed")
	// ErrBlockingCall is returned at once by a blocking call made on the
	// loop goroutine (from a callback), where waiting would deadlock.
	ErrBlockingCall = errors.New("yoton: blocking call on the loop goroutine")
	// ErrSlotNotFree is returned when a context already has a channel
	// sending (or receiving) on a slot.
	ErrSlotNotFree = errors.New("yoton: slot not free")
	// ErrInvalidSlot is returned (wrapped) for an empty or blank slot
	// name, by Attach and by the channel constructors.
	ErrInvalidSlot = errors.New("yoton: invalid slot name")
	// ErrConnect is returned (wrapped) when Connect cannot reach or
	// handshake with a bound context.
	ErrConnect = errors.New("yoton: could not connect")
	// ErrBind is returned (wrapped) when Bind cannot listen on any port tried.
	ErrBind = errors.New("yoton: could not bind")
	// ErrHandshake is wrapped by handshake failures.
	ErrHandshake = errors.New("yoton: handshake failed")
	// ErrNotConnected is returned by Flush on a connection that is not connected.
	ErrNotConnected = errors.New("yoton: not connected")
	// ErrListen is returned (wrapped) when Listen cannot listen.
	ErrListen = errors.New("yoton: could not listen")
	// ErrBadOption is returned by constructors given an invalid option value.
	ErrBadOption = errors.New("yoton: invalid option")
)

// Reasons a Connection gives in its Closed signal. They are the strings
// Python yoton uses, so mixed networks report the same words.
const (
	ReasonDefault          = "Closed on command."
	ReasonUnspecified      = "Unspecified problem"
	ReasonByContext        = "Closed by the context."
	ReasonHandshakeTimeout = "Handshake timed out."
	ReasonHandshakeFailed  = "Handshake failed."
	ReasonHandshakeSelf    = "Handshake failed (context cannot connect to self)."
	ReasonClosedFromThere  = "Closed from other end."
	ReasonEOF              = "Other end dropped the connection."
	ReasonLostTrack        = "Lost track of the stream."
	ReasonSocketError      = "Socket error."
	ReasonTooLarge         = "Package too large."
	ReasonReactorClosed    = "Reactor closed."
	// ReasonTimedOut starts the reason of a WithReconnect connection
	// dropped because nothing arrived for its Timeout (Go only).
	ReasonTimedOut = "Timed out."
	// ReasonSlowConsumer starts the reason of a connection closed by
	// WithWriteDeadline (Go only).
	ReasonSlowConsumer = "Slow consumer."
	// ReasonBodyStalled starts the reason of a connection whose peer
	// stopped sending in the middle of a package (Go only).
	ReasonBodyStalled = "Package body stalled."
	// ReasonReconnectGaveUp starts the reason of a connection whose
	// WithReconnect policy ran out of attempts (Go only).
	ReasonReconnectGaveUp = "Reconnect gave up."
)
