package reactor

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/goyoton/yoton/wire"
)

// readHandshakeLine reads one CRLF-terminated line byte by byte, so that
// nothing after it is consumed, until the deadline or MaxHandshakeLine.
// It returns what it got; a line without CRLF comes back with ok false.
func readHandshakeLine(nc net.Conn, deadline time.Time) (line []byte, ok bool) {
	_ = nc.SetReadDeadline(deadline)
	defer nc.SetReadDeadline(time.Time{})
	var b [1]byte
	for len(line) < wire.MaxHandshakeLine {
		n, err := nc.Read(b[:])
		if n == 1 {
			line = append(line, b[0])
			if bytes.HasSuffix(line, []byte("\r\n")) {
				return line, true
			}
		}
		if err != nil {
			return line, false
		}
	}
	return line, false
}

// hostAnswer decides the hosting side of yoton's handshake from the line
// the peer sent (complete is false when the line did not end in CRLF
// before the deadline or the length limit). It returns the bytes to write
// back (nil for none) and, on success, the peer's id and pid; a failure's
// error text is one of yoton's reasons. Pure: the caller does the I/O.
func hostAnswer(line []byte, complete bool, id uint64) (reply []byte, peerID uint64, peerPID int, err error) {
	if len(line) == 0 {
		return nil, 0, 0, fmt.Errorf("%w: %s", ErrHandshake, ReasonHandshakeTimeout)
	}
	if !bytes.HasPrefix(line, []byte("YOTON!")) {
		return []byte(wire.ReplyNotYoton), 0, 0, fmt.Errorf("%w: %s (peer sent %q)", ErrHandshake, ReasonHandshakeFailed, line)
	}
	if !complete {
		// Python takes what arrived in 2 s; a YOTON! line cut short
		// cannot carry a pid, so it fails to parse like Python's.
		return []byte(wire.ReplyBadID), 0, 0, fmt.Errorf("%w: %s (incomplete line %q)", ErrHandshake, ReasonHandshakeFailed, line)
	}
	peerID, peerPID, perr := wire.ParseHandshakeLine(line)
	if perr != nil {
		return []byte(wire.ReplyBadID), 0, 0, fmt.Errorf("%w: %s (%v)", ErrHandshake, ReasonHandshakeFailed, perr)
	}
	reply = wire.HandshakeLine(id, os.Getpid())
	if peerID == id {
		// Python answers with its own line, then gives up.
		return reply, 0, 0, fmt.Errorf("%w: %s", ErrHandshake, ReasonHandshakeSelf)
	}
	return reply, peerID, peerPID, nil
}

// handshakeAsClient runs the connecting side of the handshake.
func handshakeAsClient(nc net.Conn, id uint64, deadline time.Time) (peerID uint64, peerPID int, err error) {
	_ = nc.SetWriteDeadline(deadline)
	if _, werr := nc.Write(wire.HandshakeLine(id, os.Getpid())); werr != nil {
		return 0, 0, fmt.Errorf("%w: %s (%v)", ErrHandshake, ReasonHandshakeFailed, werr)
	}
	_ = nc.SetWriteDeadline(time.Time{})
	line, _ := readHandshakeLine(nc, deadline)
	if len(line) == 0 {
		return 0, 0, fmt.Errorf("%w: %s", ErrHandshake, ReasonHandshakeTimeout)
	}
	peerID, peerPID, perr := wire.ParseHandshakeLine(line)
	if perr != nil {
		return 0, 0, fmt.Errorf("%w: %s (peer answered %q)", ErrHandshake, ReasonHandshakeFailed, line)
	}
	if peerID == id {
		return 0, 0, fmt.Errorf("%w: %s", ErrHandshake, ReasonHandshakeSelf)
	}
	return peerID, peerPID, nil
}
