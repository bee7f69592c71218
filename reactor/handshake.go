package reactor

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/goyoton/yoton/wire"
)

// readHandshakeLine reads one CRLF-terminated line, at most
// MaxHandshakeLine bytes, until the deadline. It reads in chunks and
// returns what came after the CRLF too (the peer may send packages right
// after its line), for the connection to decode first. A line without
// CRLF comes back with ok false.
func readHandshakeLine(nc net.Conn, deadline time.Time) (line, rest []byte, ok bool) {
	_ = nc.SetReadDeadline(deadline)
	defer nc.SetReadDeadline(time.Time{})
	buf := make([]byte, 0, 128)
	for len(buf) < wire.MaxHandshakeLine {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, err := nc.Read(buf[len(buf):min(cap(buf), wire.MaxHandshakeLine)])
		from := max(0, len(buf)-1) // a CR may end the previous read
		buf = buf[:len(buf)+n]
		if i := bytes.Index(buf[from:], []byte("\r\n")); i >= 0 {
			end := from + i + 2
			if end < len(buf) {
				rest = buf[end:]
			}
			return buf[:end:end], rest, true
		}
		if err != nil {
			return buf, nil, false
		}
	}
	return buf, nil, false
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

// handshakeAsClient runs the connecting side of the handshake. rest holds
// what the host sent after its line (packages, to be decoded first).
func handshakeAsClient(nc net.Conn, id uint64, deadline time.Time) (peerID uint64, peerPID int, rest []byte, err error) {
	_ = nc.SetWriteDeadline(deadline)
	if _, werr := nc.Write(wire.HandshakeLine(id, os.Getpid())); werr != nil {
		return 0, 0, nil, fmt.Errorf("%w: %s (%v)", ErrHandshake, ReasonHandshakeFailed, werr)
	}
	_ = nc.SetWriteDeadline(time.Time{})
	line, rest, _ := readHandshakeLine(nc, deadline)
	if len(line) == 0 {
		return 0, 0, nil, fmt.Errorf("%w: %s", ErrHandshake, ReasonHandshakeTimeout)
	}
	peerID, peerPID, perr := wire.ParseHandshakeLine(line)
	if perr != nil {
		return 0, 0, nil, fmt.Errorf("%w: %s (peer answered %q)", ErrHandshake, ReasonHandshakeFailed, line)
	}
	if peerID == id {
		return 0, 0, nil, fmt.Errorf("%w: %s", ErrHandshake, ReasonHandshakeSelf)
	}
	return peerID, peerPID, rest, nil
}
