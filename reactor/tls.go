package reactor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
)

// TLS between Go contexts (WithTLS).
//
// gnet drives plain sockets only, so a TLS connection costs two
// goroutines of its own: they copy between the TLS connection and one end
// of a unix socket pair, and the loop drives the other end like any
// socket. The yoton handshake and everything after it run through the
// pair, on the loop, exactly as over TCP. Plain TCP connections cost no
// goroutine.

// ErrTLS is returned (wrapped) when a TLS handshake fails.
var ErrTLS = errors.New("yoton: TLS handshake failed")

// WithTLS makes every connection of the context run over TLS: Bind and
// Listen use cfg as a server (it needs Certificates), Connect as a client
// (it needs RootCAs, or InsecureSkipVerify, and a ServerName unless the
// address is the certificate's). Both ends must be Go contexts made
// WithTLS; a Python peer's plain handshake fails. Each TLS connection
// costs two goroutines and copies every byte twice more (see the package
// documentation). cfg is not copied: do not change it afterwards. Safe
// for concurrent use.
func WithTLS(cfg *tls.Config) ContextOption {
	return contextOptionFunc(func(c *contextConfig) error {
		if cfg == nil {
			return fmt.Errorf("%w: nil TLS config", ErrBadOption)
		}
		c.tls = cfg
		return nil
	})
}

// pumps counts the copying goroutines of TLS connections; Reactor.Close
// waits for them after the engine has stopped (which closes their pairs).
type pumps struct{ wg sync.WaitGroup }

// relayTLS returns a plain socket that carries tc's traffic in both
// directions, and starts the two goroutines that copy it. Closing either
// side ends both goroutines and closes tc. On failure it closes tc.
func (r *Reactor) relayTLS(tc *tls.Conn) (net.Conn, error) {
	fds, err := socketPair()
	if err != nil {
		_ = tc.Close()
		return nil, fmt.Errorf("yoton: TLS relay: %w", err)
	}
	plain, err := fileConn(fds[0], "tls-loop")
	if err != nil {
		closeFd(fds[1])
		_ = tc.Close()
		return nil, err
	}
	inner, err := fileConn(fds[1], "tls-pump")
	if err != nil {
		_ = plain.Close()
		_ = tc.Close()
		return nil, err
	}
	r.pumps.wg.Add(2)
	pump := func(dst io.Writer, src io.Reader) {
		defer r.pumps.wg.Done()
		_, _ = io.Copy(dst, src)
		_ = tc.Close()
		_ = inner.Close()
	}
	go pump(inner, tc)
	go pump(tc, inner)
	return plain, nil
}

func fileConn(fd int, name string) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	c, err := net.FileConn(f) // a duplicate of fd
	if err != nil {
		return nil, fmt.Errorf("yoton: TLS relay: %w", err)
	}
	return c, nil
}

// tlsServer runs the server side of TLS on an accepted socket until ctx
// ends, and returns the relayed plain socket.
func (r *Reactor) tlsServer(ctx context.Context, nc net.Conn, cfg *tls.Config) (net.Conn, error) {
	tc := tls.Server(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = tc.Close()
		return nil, fmt.Errorf("%w: %v", ErrTLS, err)
	}
	return r.relayTLS(tc)
}

// tlsClient runs the client side of TLS on a dialed socket and returns
// the relayed plain socket.
func (r *Reactor) tlsClient(ctx context.Context, nc net.Conn, cfg *tls.Config, host string) (net.Conn, error) {
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = tc.Close()
		return nil, fmt.Errorf("%w: %v", ErrTLS, err)
	}
	return r.relayTLS(tc)
}
