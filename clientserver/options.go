package clientserver

import (
	"fmt"
	"net"
	"time"

	"github.com/goyoton/yoton/reactor"
)

// Defaults of a RequestServer.
const (
	// DefaultRequestTimeout is how long a client has, from connecting, to
	// end its request with CRLF (or by shutting down its side); then the
	// server answers what arrived, as Python yoton's server does after
	// one second.
	DefaultRequestTimeout = time.Second
	// DefaultMaxRequestSize bounds the bytes a client may send before
	// its CRLF; a client sending more is dropped.
	DefaultMaxRequestSize = 1 << 20
)

type config struct {
	async          bool
	requestTimeout time.Duration
	maxRequestSize int
	filter         func(remote net.Addr) bool
}

// Option configures a RequestServer.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// WithAcceptFilter calls allow with each client's address as it is
// accepted; a client it returns false for is closed at once, before it is
// read. allow runs on the accepting goroutine: it must be safe for
// concurrent use and quick. WithAcceptFilter itself is safe for
// concurrent use.
func WithAcceptFilter(allow func(remote net.Addr) bool) Option {
	return optionFunc(func(c *config) error {
		if allow == nil {
			return fmt.Errorf("%w: nil accept filter", reactor.ErrBadOption)
		}
		c.filter = allow
		return nil
	})
}

// WithAsync makes the server call its handler on a goroutine of its own
// for every request (yoton's async_val=True), for handlers that take
// long or block. Without it the handler runs on the loop goroutine, one
// request at a time, and must return quickly. Safe for concurrent use.
func WithAsync() Option {
	return optionFunc(func(c *config) error { c.async = true; return nil })
}

// WithRequestTimeout sets how long a client has, from connecting, to
// end its request; a client that has not by then is answered with what
// it sent so far (possibly nothing), as Python yoton's server does after
// its fixed second. Default DefaultRequestTimeout. (Python checks the
// time only while no byte is waiting, so a client that keeps sending
// without CRLF keeps it reading past the second; this server answers at
// the timeout, and drops a client that sends more than
// WithMaxRequestSize first.) Safe for concurrent use.
func WithRequestTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: request timeout %v <= 0", reactor.ErrBadOption, d)
		}
		c.requestTimeout = d
		return nil
	})
}

// WithMaxRequestSize sets how many bytes a request may have; a client
// that sends more without a CRLF is dropped. Default
// DefaultMaxRequestSize. Safe for concurrent use.
func WithMaxRequestSize(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: max request size %d < 1", reactor.ErrBadOption, n)
		}
		c.maxRequestSize = n
		return nil
	})
}
