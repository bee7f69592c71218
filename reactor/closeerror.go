package reactor

import (
	"errors"
	"strings"
)

// Kinds of connection close, matched (errors.Is) by a CloseError. Every
// CloseError also matches ErrClosed.
var (
	// ErrPeerClosed: the other end closed the connection, with yoton's
	// close package or by dropping the socket.
	ErrPeerClosed = errors.New("yoton: closed by the peer")
	// ErrConnTimedOut: nothing arrived for the connection's Timeout (a
	// WithReconnect connection with OnTimeout).
	ErrConnTimedOut = errors.New("yoton: connection timed out")
	// ErrSlowConsumer: the peer took nothing for WithWriteDeadline.
	ErrSlowConsumer = errors.New("yoton: slow consumer")
	// ErrProtocol: the peer broke the protocol (a bad or stalled package,
	// a lost stream, a failed handshake).
	ErrProtocol = errors.New("yoton: protocol error")
)

// CloseError is why a connection closed, as an error: Reason is yoton's
// reason string (see the Reason constants), and errors.Is matches
// ErrClosed and the kind of close (ErrPeerClosed, ErrConnTimedOut,
// ErrSlowConsumer, ErrProtocol, ErrAuth, ErrConnect for a reconnect that
// gave up). Values are immutable: safe for concurrent use.
type CloseError struct {
	Reason string
}

// Error returns "yoton: connection closed: " and the reason.
func (e *CloseError) Error() string { return "yoton: connection closed: " + e.Reason }

// Is matches ErrClosed and the kind of close the reason names.
func (e *CloseError) Is(target error) bool {
	if target == ErrClosed {
		return true
	}
	r := e.Reason
	switch target {
	case ErrPeerClosed:
		return r == ReasonClosedFromThere || strings.HasPrefix(r, ReasonEOF)
	case ErrConnTimedOut:
		return strings.HasPrefix(r, ReasonTimedOut)
	case ErrSlowConsumer:
		return strings.HasPrefix(r, ReasonSlowConsumer)
	case ErrProtocol:
		for _, p := range []string{ReasonLostTrack, ReasonTooLarge, ReasonBodyStalled, ReasonHandshakeTimeout, ReasonHandshakeFailed} {
			if strings.HasPrefix(r, p) {
				return true
			}
		}
	case ErrAuth:
		return strings.HasPrefix(r, ReasonAuth)
	case ErrConnect:
		return strings.HasPrefix(r, ReasonReconnectGaveUp)
	}
	return false
}

// Err returns why the connection closed as a *CloseError. Safe for
// concurrent use.
func (e ClosedEvent) Err() error { return &CloseError{Reason: e.Reason} }

// Err returns why the connection closed, as a *CloseError, or nil while
// it is not closed. Safe for concurrent use.
func (c *Connection) Err() error {
	if c.Status() != StatusClosed {
		return nil
	}
	return &CloseError{Reason: c.CloseReason()}
}
