package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/goyoton/yoton/slots"
)

// Bind listens at address ("host:port", see slots.ParseAddress) and
// returns a waiting Connection at once. A goroutine accepts peers: the
// first one that completes yoton's handshake becomes the connection and
// the listening socket is closed; a failed handshake (an HTTP client, a
// peer that says nothing for 2 s) is logged and dropped, and the bind
// keeps waiting. Packages sent while waiting are queued on it.
//
// maxTries > 1 tries the next ports when one is taken (port, port+1, ...);
// port 0 lets the system choose (read it with LocalAddr). name names the
// connection for Connections().ByName.
func (x *Context) Bind(address string, maxTries int, name string) (*Connection, error) {
	addr, err := slots.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	if addr.Protocol != "tcp" {
		return nil, fmt.Errorf("%w: protocol %q not supported (only tcp)", ErrBind, addr.Protocol)
	}
	if maxTries < 1 {
		maxTries = 1
	}
	var ln net.Listener
	var lastErr error
	for i := 0; i < maxTries; i++ {
		port := addr.Port
		if port != 0 {
			port += i
		}
		if port > 65535 {
			break
		}
		ln, lastErr = net.Listen("tcp4", net.JoinHostPort(addr.Host, strconv.Itoa(port)))
		if lastErr == nil {
			break
		}
	}
	if ln == nil {
		return nil, fmt.Errorf("%w: %s after %d tries: %v", ErrBind, address, maxTries, lastErr)
	}
	c := newConnection(x, name)
	tcp := ln.Addr().(*net.TCPAddr)
	c.host1, c.port1 = tcp.IP.String(), tcp.Port
	c.listener = ln
	c.status.Store(int32(StatusWaiting))
	if err := x.r.Do(context.Background(), func() {
		if x.isClosed() {
			err = ErrClosed
			return
		}
		if !x.r.enter() {
			err = ErrClosed
			return
		}
		x.addConnection(c)
	}); err != nil {
		_ = ln.Close()
		return nil, err
	}
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	go c.acceptLoop(ln)
	return c, nil
}

func (x *Context) isClosed() bool {
	x.subMu.Lock()
	defer x.subMu.Unlock()
	return x.closed
}

// acceptLoop waits for the one peer of a bind. It ends when a peer is
// connected or the listener is closed (Close, Context.Close, Reactor.Close);
// closing also ends a handshake in progress.
func (c *Connection) acceptLoop(ln net.Listener) {
	defer c.x.r.leave()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || !c.IsWaiting() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			c.x.r.logf("yoton: accept on %s: %v", ln.Addr(), err)
			_ = c.x.r.Post(func() { c.closeOnLoop(ReasonSocketError+" "+err.Error(), false) })
			return
		}
		c.mu.Lock()
		if !c.IsWaiting() {
			c.mu.Unlock()
			_ = nc.Close()
			return
		}
		c.handshaking = nc
		c.mu.Unlock()
		peerID, peerPID, herr := handshakeAsHost(nc, c.x.id)
		c.mu.Lock()
		closed := c.handshaking == nil
		c.handshaking = nil
		c.mu.Unlock()
		if closed {
			_ = nc.Close()
			return
		}
		if herr != nil {
			c.x.r.logf("yoton: %v", herr)
			_ = nc.Close()
			continue
		}
		if !c.IsWaiting() {
			_ = nc.Close()
			return
		}
		_ = ln.Close()
		c.adopt(nc, peerID, peerPID)
		return
	}
}

// adopt records the peer and hands the socket to the loop. The caller
// holds an enter of the reactor, so the engine is still running.
func (c *Connection) adopt(nc net.Conn, peerID uint64, peerPID int) {
	local := nc.LocalAddr().(*net.TCPAddr)
	remote := nc.RemoteAddr().(*net.TCPAddr)
	c.mu.Lock()
	c.host1, c.port1 = local.IP.String(), local.Port
	c.host2, c.port2 = remote.IP.String(), remote.Port
	c.id2, c.pid2 = peerID, peerPID
	c.mu.Unlock()
	if tcp, ok := nc.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true)
	}
	// EnrollContext returns once the loop has registered the socket and
	// run OnOpen; if registering failed, OnOpen never ran and gc is nil.
	if _, err := c.x.r.client.EnrollContext(nc, c); err != nil {
		_ = c.x.r.Post(func() { c.closeOnLoop(ReasonSocketError+" "+err.Error(), false) })
		return
	}
	_ = c.x.r.Post(func() {
		if c.gc == nil && (c.Status() == StatusWaiting || c.Status() == statusHandover) {
			c.closeOnLoop(ReasonSocketError+" the event loop did not take the socket", false)
		}
	})
}
