package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/goyoton/yoton/slots"
)

// Connect connects to a context bound at address and returns the
// connected Connection. It retries refused connections until ctx's
// deadline (DefaultConnectTimeout, 1 s as in yoton, when ctx has none),
// then runs the handshake. After it returns the peer has been told
// NEW_CONNECTION, and packages sent before any connection existed have
// been queued on it. Not on the loop goroutine.
func (x *Context) Connect(ctx context.Context, address, name string) (*Connection, error) {
	if x.r.OnLoop() {
		return nil, ErrBlockingCall
	}
	addr, err := slots.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	if addr.Protocol != "tcp" {
		return nil, fmt.Errorf("%w: protocol %q not supported (only tcp)", ErrConnect, addr.Protocol)
	}
	if x.isClosed() {
		return nil, ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultConnectTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	target := net.JoinHostPort(addr.Host, strconv.Itoa(addr.Port))
	var nc net.Conn
	var d net.Dialer
	retry := time.NewTimer(0)
	defer retry.Stop()
	<-retry.C
	for {
		nc, err = d.DialContext(ctx, "tcp4", target)
		if err == nil {
			break
		}
		retry.Reset(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				err = ctx.Err()
			}
			return nil, fmt.Errorf("%w: cannot connect to %s on %d: %w", ErrConnect, addr.Host, addr.Port, err)
		case <-retry.C:
		}
	}
	// The handshake gets yoton's 2 s, or less if ctx ends sooner.
	hsDeadline := time.Now().Add(HandshakeTimeout)
	if deadline.Before(hsDeadline) {
		hsDeadline = deadline
	}
	peerID, peerPID, err := handshakeAsClient(nc, x.id, hsDeadline)
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("%w: %w", ErrConnect, err)
	}
	c := newConnection(x, name)
	c.status.Store(int32(statusHandover))
	if !x.r.enter() {
		_ = nc.Close()
		return nil, ErrClosed
	}
	c.adopt(nc, peerID, peerPID)
	x.r.leave()
	// adopt returns once gnet has run OnOpen, which listed the
	// connection and sent NEW_CONNECTION; wait for that turn to end.
	if err := x.r.Do(ctx, func() {}); err != nil {
		return nil, err
	}
	if !c.IsConnected() {
		return nil, fmt.Errorf("%w: connection closed during set-up: %s", ErrConnect, c.CloseReason())
	}
	return c, nil
}
