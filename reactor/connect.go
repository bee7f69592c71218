package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/goyoton/yoton/slots"
)

// Connect connects to a context bound (Bind) or listening (Listen) at
// address and returns the connected Connection. It retries refused
// connections until ctx's deadline (DefaultConnectTimeout, 1 s as in
// yoton, when ctx has none), then runs the handshake. After it returns the
// peer has been told NEW_CONNECTION, and packages sent before any
// connection existed have been queued on it. WithReconnect keeps the
// connection across drops. Safe for concurrent use; on the loop
// goroutine it returns ErrBlockingCall.
func (x *Context) Connect(ctx context.Context, address, name string, opts ...ConnectOption) (*Connection, error) {
	if x.r.OnLoop() {
		return nil, ErrBlockingCall
	}
	var cfg connectConfig
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrBadOption)
		}
		if err := o.applyConnect(&cfg); err != nil {
			return nil, err
		}
	}
	addr, err := slots.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	if addr.Protocol != "tcp" && addr.Protocol != "ipc" {
		return nil, fmt.Errorf("%w: protocol %q not supported (tcp or ipc)", ErrConnect, addr.Protocol)
	}
	if err := x.reopen(); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultConnectTimeout)
		defer cancel()
	}
	target := addr.String()
	if addr.Protocol == "ipc" {
		target = "ipc://" + addr.Host
	}
	nc, peerID, peerPID, rest, err := x.dialAndHandshake(ctx, target, true)
	if err != nil {
		return nil, err
	}
	c := newConnection(x, name)
	if p := cfg.reconnect; p != nil {
		c.redial = newRedialer(target, *p)
		if p.OnDisconnect != nil {
			c.Disconnected.Bind(p.OnDisconnect)
		}
		if p.OnReconnect != nil {
			c.Reconnected.Bind(p.OnReconnect)
		}
	}
	c.status.Store(int32(statusHandover))
	if !x.r.enter() {
		_ = nc.Close()
		return nil, ErrClosed
	}
	c.adopt(nc, peerID, peerPID, rest)
	x.r.leave()
	// adopt returns once gnet has run OnOpen (the whole loop turn that
	// listed the connection and sent NEW_CONNECTION). A socket gnet did
	// not open is still being handed over: close it on the loop.
	if c.Status() == statusHandover {
		if err := x.r.Do(ctx, func() {
			if c.Status() == statusHandover {
				c.closeOnLoop(closeError(nil, ReasonSocketError+" the event loop did not take the socket"), false)
			}
		}); err != nil {
			return nil, err
		}
	}
	if !c.IsConnected() {
		if c.Status() == StatusClosing {
			// Closing on the loop right now: its reason is complete
			// once it is done (within the same loop turn).
			select {
			case <-c.Done():
			case <-ctx.Done():
			}
		}
		return nil, fmt.Errorf("%w: connection closed during set-up: %s", ErrConnect, c.CloseReason())
	}
	return c, nil
}

// dialNetwork splits a dial target into network and address: "ipc://path"
// is a unix-domain socket, anything else "host:port" over TCP.
func dialNetwork(target string) (network, address string) {
	if path, ok := strings.CutPrefix(target, "ipc://"); ok {
		return "unix", path
	}
	host, _, _ := net.SplitHostPort(target)
	return tcpNetwork(host), target
}

// dialAndHandshake dials target (retrying refusals every 10 ms until ctx
// ends, when retry is set) and runs the connecting side of the handshake
// within yoton's 2 s or ctx's deadline, whichever comes first (after TLS
// and before the shared-secret proof, when the context has them).
func (x *Context) dialAndHandshake(ctx context.Context, target string, retry bool) (nc net.Conn, peerID uint64, peerPID int, rest []byte, err error) {
	d := tcpDialer
	pause := time.NewTimer(0)
	defer pause.Stop()
	<-pause.C
	for {
		network, address := dialNetwork(target)
		nc, err = d.DialContext(ctx, network, address)
		if err == nil {
			break
		}
		if retry {
			pause.Reset(10 * time.Millisecond)
			select {
			case <-ctx.Done():
			case <-pause.C:
				continue
			}
		}
		if ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			err = ctx.Err()
		}
		return nil, 0, 0, nil, fmt.Errorf("%w: cannot connect to %s: %w", ErrConnect, target, err)
	}
	hsDeadline := time.Now().Add(HandshakeTimeout)
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(hsDeadline) {
		hsDeadline = deadline
	}
	if x.tls != nil {
		hctx, cancel := context.WithDeadline(ctx, hsDeadline)
		host, _, _ := net.SplitHostPort(target)
		nc, err = x.r.tlsClient(hctx, nc, x.tls, host)
		cancel()
		if err != nil {
			return nil, 0, 0, nil, fmt.Errorf("%w: %w", ErrConnect, err)
		}
	}
	peerID, peerPID, rest, err = handshakeAsClient(nc, x.id, hsDeadline)
	if err == nil && x.secret != nil {
		rest, err = clientAuth(nc, rest, x.secret, x.id, peerID, hsDeadline)
	}
	if err != nil {
		_ = nc.Close()
		return nil, 0, 0, nil, fmt.Errorf("%w: %w", ErrConnect, err)
	}
	return nc, peerID, peerPID, rest, nil
}
