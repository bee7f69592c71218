package reactor

import (
	"errors"
	"fmt"
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

// CloseError is why a connection closed (or, in a DisconnectedEvent,
// went down to reconnect), as an error. errors.Is matches ErrClosed and
// the kind of close: ErrPeerClosed, ErrConnTimedOut, ErrSlowConsumer,
// ErrProtocol, ErrAuth, or ErrConnect for a reconnect that gave up. A
// close asked for by Close, CloseOnProblem or the context matches
// ErrClosed only. Unwrap gives the underlying error (a socket's, a
// dial's), if any. The kind is set where the connection closes, never
// read back from the reason text. Values are immutable: safe for
// concurrent use.
type CloseError struct {
	// Reason is yoton's reason string, in Python yoton's words where
	// Python has them (the Reason constants) and followed by details.
	Reason string
	kind   error // one of the kinds above; nil for a close on command
	cause  error
}

// closeError is a close of the given kind (nil: on command) for reason.
func closeError(kind error, reason string) *CloseError {
	return &CloseError{Reason: reason, kind: kind}
}

// closeErrorf is closeError with a formatted reason.
func closeErrorf(kind error, format string, args ...any) *CloseError {
	return closeError(kind, fmt.Sprintf(format, args...))
}

// closeErrorCause is closeError with the underlying error.
func closeErrorCause(kind error, reason string, cause error) *CloseError {
	return &CloseError{Reason: reason, kind: kind, cause: cause}
}

// Error returns "yoton: connection closed: " and the reason. Safe for
// concurrent use.
func (e *CloseError) Error() string { return "yoton: connection closed: " + e.Reason }

// Is matches ErrClosed and the kind of close. Safe for concurrent use.
func (e *CloseError) Is(target error) bool {
	return target == ErrClosed || (e.kind != nil && target == e.kind)
}

// Unwrap returns the underlying error, nil when there is none. Safe for
// concurrent use.
func (e *CloseError) Unwrap() error { return e.cause }

// Err returns why the connection closed, as a *CloseError. Safe for
// concurrent use.
func (e ClosedEvent) Err() error {
	if e.err == nil {
		return &CloseError{Reason: e.Reason}
	}
	return e.err
}

// Err returns why the connection went down, as a *CloseError. Safe for
// concurrent use.
func (e DisconnectedEvent) Err() error {
	if e.err == nil {
		return &CloseError{Reason: e.Reason}
	}
	return e.err
}

// Err returns why the connection closed, as a *CloseError, or nil while
// it is not closed. Safe for concurrent use.
func (c *Connection) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr == nil {
		return nil
	}
	return c.closeErr
}
