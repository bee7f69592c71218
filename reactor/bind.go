package reactor

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"

	"github.com/panjf2000/gnet/v2"

	"github.com/goyoton/yoton/slots"
)

// Bind listens at address ("host:port", see slots.ParseAddress) and
// returns a waiting Connection at once: yoton's bind, which serves exactly
// one peer (Listen serves any number). Handshakes run on the loop, any
// number at once: the first peer that completes yoton's handshake and
// then sends its first package becomes the connection, and the listening
// socket is closed. A failed handshake (an HTTP client, a peer that says
// nothing for 2 s, one that gives up half-way) is logged and dropped, and
// the bind keeps waiting; so do accept errors such as running out of file
// descriptors (it backs off and tries again). Packages sent while waiting
// are queued on it (see WithBacklog).
//
// maxTries > 1 tries the next ports when one is taken (port, port+1, ...);
// port 0 lets the system choose (read it with LocalAddr). name names the
// connection for Connections().ByName. Of the ListenOptions, Bind takes
// WithAcceptFilter, WithHandshakeTimeout and WithMaxHandshakes (the others
// are about many peers: ErrBadOption). Safe for concurrent use.
func (x *Context) Bind(address string, maxTries int, name string, opts ...ListenOption) (*Connection, error) {
	cfg, err := newListenConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.maxConns != 0 || cfg.onJoin != nil {
		return nil, fmt.Errorf("%w: WithMaxConnections and WithJoinHandler are for Listen, not Bind", ErrBadOption)
	}
	if err := x.reopen(); err != nil {
		return nil, err
	}
	ln, err := listenTCP(address, maxTries)
	if err != nil {
		return nil, err
	}
	c := newConnection(x, name)
	c.host1, c.port1 = hostPort(ln.Addr())
	c.status.Store(int32(StatusWaiting))
	x.r.logEvent(slog.LevelInfo, c.logAttrs(slog.String("listen", net.JoinHostPort(c.host1, strconv.Itoa(c.port1)))), "Yoton: waiting at %s:%d.", c.host1, c.port1)
	acc := newAcceptor(x, ln, bindPeer{c}, cfg.acceptConfig)
	if derr := x.r.Do(context.Background(), func() {
		if x.isClosed() || !x.r.enter() {
			err = ErrClosed
			return
		}
		c.acc = acc
		x.addConnection(c)
	}); derr != nil {
		err = derr
	}
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	acc.start()
	return c, nil
}

// listenTCP parses address and listens on it, trying the next ports when
// maxTries > 1 and one is taken. "ipc://path" listens on a unix-domain
// socket (maxTries does not apply).
func listenTCP(address string, maxTries int) (net.Listener, error) {
	addr, err := slots.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	switch addr.Protocol {
	case "tcp":
	case "ipc":
		ln, err := tcpListenConfig.Listen(context.Background(), "unix", addr.Host)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBind, address, err)
		}
		return ln, nil
	default:
		return nil, fmt.Errorf("%w: protocol %q not supported (tcp or ipc)", ErrBind, addr.Protocol)
	}
	maxTries = max(maxTries, 1)
	var lastErr error
	for i := 0; i < maxTries; i++ {
		port := addr.Port
		if port != 0 {
			port += i
		}
		if port > 65535 {
			break
		}
		ln, err := tcpListenConfig.Listen(context.Background(), tcpNetwork(addr.Host), net.JoinHostPort(addr.Host, strconv.Itoa(port)))
		if err == nil {
			return ln, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("%w: %s after %d tries: %v", ErrBind, address, maxTries, lastErr)
}

// reopen makes a closed context usable again, as yoton's ("a Context
// instance can be reused after closing"): Bind, Listen, Connect and Send
// call it. It fails with ErrClosed only once the reactor is closing. Any
// goroutine.
func (x *Context) reopen() error {
	x.subMu.Lock()
	defer x.subMu.Unlock()
	if !x.closed {
		return nil
	}
	if x.r.closing.Load() {
		return ErrClosed
	}
	x.closed = false
	// Back into the reactor's list (loop-owned), before whatever the
	// caller posts next: posts run in order.
	return x.r.Post(func() {
		if !slices.Contains(x.r.contexts, x) {
			x.r.contexts = append(x.r.contexts, x)
		}
	})
}

func (x *Context) isClosed() bool {
	x.subMu.Lock()
	defer x.subMu.Unlock()
	return x.closed
}

// tcpNetwork is "tcp6" for an IPv6 host and "tcp4" otherwise.
func tcpNetwork(host string) string { return slots.Address{Host: host}.Network() }

// hostPort is an address as a host (a unix socket's path) and a port (0
// for a unix socket).
func hostPort(a net.Addr) (string, int) {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.String(), a.Port
	case *net.UnixAddr:
		return a.Name, 0
	}
	return "", 0
}

// tcpListenConfig and tcpDialer leave TCP keep-alive off: yoton's heartbeats
// and time-outs already watch every connection, and each keep-alive
// setting costs a system call per socket (thousands, for a hub).
var (
	tcpListenConfig = net.ListenConfig{KeepAlive: -1}
	tcpDialer       = net.Dialer{KeepAlive: -1}
)

// bindPeer is a Bind's waiting connection as the owner of its acceptor:
// it takes the first peer and then closes the acceptor.
type bindPeer struct{ c *Connection }

const replyBindTaken = "ERROR: this bind already has its peer.\r\n"

func (b bindPeer) refusal() string {
	if b.c.Status() != StatusWaiting {
		return replyBindTaken
	}
	return ""
}

func (b bindPeer) take(gc gnet.Conn, peerID uint64, peerPID int, rest []byte) {
	c := b.c
	if c.acc != nil {
		c.acc.close() // one peer: stop accepting, drop the other handshakes
		c.acc = nil
	}
	c.attach(gc, peerID, peerPID, StatusHosting)
	c.consume(gc, rest)
}

// adopt records the peer of a Connect and hands the socket to the loop.
// The caller holds an enter of the reactor, so the engine is still running.
func (c *Connection) adopt(nc net.Conn, peerID uint64, peerPID int, early []byte) {
	c.mu.Lock()
	c.id2, c.pid2 = peerID, peerPID
	c.mu.Unlock()
	c.early = early // read by the loop in opened, after EnrollContext
	// EnrollContext sets TCP_NODELAY on its duplicate of the socket.
	// EnrollContext returns once the loop has registered the socket and
	// run OnOpen; if registering failed, OnOpen never ran and gc is nil.
	if _, err := c.x.r.client.EnrollContext(nc, c); err != nil {
		_ = c.x.r.Post(func() { c.adoptFailed(closeErrorCause(nil, ReasonSocketError+" "+err.Error(), err)) })
	}
}
