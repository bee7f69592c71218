package reactor

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
)

// The attributes of the reactor's structured log records (WithSlog).

func (x *Context) logAttr() slog.Attr { return slog.String("context", fmt.Sprintf("%016x", x.id)) }

// logAttrs describes c (its context, name, peer and status), then extra.
func (c *Connection) logAttrs(extra ...slog.Attr) []slog.Attr {
	host, port := c.PeerAddr()
	attrs := make([]slog.Attr, 0, 4+len(extra))
	attrs = append(attrs, c.x.logAttr(), slog.String("conn", c.Name()), slog.String("status", c.Status().String()))
	if port != 0 {
		attrs = append(attrs, slog.String("peer", net.JoinHostPort(host, strconv.Itoa(port))))
	}
	return append(attrs, extra...)
}

// closeAttrs describes why a connection closed: its reason, its kind and
// the underlying error.
func closeAttrs(why *CloseError) []slog.Attr {
	attrs := []slog.Attr{slog.String("reason", why.Reason)}
	if k := kindName(why.kind); k != "" {
		attrs = append(attrs, slog.String("kind", k))
	}
	if why.cause != nil {
		attrs = append(attrs, slog.String("err", why.cause.Error()))
	}
	return attrs
}

// closeLevel is the level of a close's record: Info for a close on
// command or by the peer, Warn for the others.
func closeLevel(why *CloseError) slog.Level {
	if why.kind == nil && why.cause == nil || why.kind == ErrPeerClosed {
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// kindName names a close kind for the logs.
func kindName(kind error) string {
	switch kind {
	case ErrPeerClosed:
		return "peer-closed"
	case ErrConnTimedOut:
		return "timed-out"
	case ErrSlowConsumer:
		return "slow-consumer"
	case ErrProtocol:
		return "protocol"
	case ErrAuth:
		return "auth"
	case ErrConnect:
		return "connect"
	}
	return ""
}

// acceptAttrs describes a socket at an acceptor: the context, the
// listening address and the remote address.
func (a *acceptor) acceptAttrs(remote string, err error) []slog.Attr {
	attrs := []slog.Attr{a.x.logAttr(), slog.String("listen", a.addr), slog.String("remote", remote)}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	return attrs
}
