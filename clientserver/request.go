package clientserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/goyoton/yoton/slots"
)

// ErrNoServer is returned (wrapped, together with the dial error) by
// DoRequest when it cannot connect: nobody listens at the address, or it
// cannot be reached. Python yoton raises "No server is listening at the
// given port." then.
var ErrNoServer = errors.New("yoton: no server is listening at the given address")

// DoRequest sends request to the server at address and returns its reply
// (yoton's do_request). It connects, sends the request with CRLF appended
// unless it ends in one, shuts down its writing side, reads until CRLF or
// end of file, and closes. The reply is returned as sent, ending in CRLF
// when the server sent one (bytes after that CRLF are ignored), with
// invalid UTF-8 removed as Python's decode(errors="ignore") does.
//
// The server may be a RequestServer of Go or Python yoton or any server
// that answers one line per connection. address is "host:port" in any
// form slots.ParseAddress accepts. When no server is listening the error
// wraps ErrNoServer. When ctx ends first (Python's timeout), DoRequest
// returns the part of the reply read so far and an error wrapping ctx's.
//
// DoRequest blocks the calling goroutine on a connection of its own and
// needs no reactor; do not call it from a callback on a loop goroutine,
// which it would hold up. Safe for concurrent use.
func DoRequest(ctx context.Context, address, request string) (string, error) {
	addr, err := slots.ParseAddress(address)
	if err != nil {
		return "", err
	}
	if addr.Protocol != "tcp" {
		return "", fmt.Errorf("%w %q: protocol %q not supported (only tcp)", slots.ErrInvalidAddress, address, addr.Protocol)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, addr.Network(), net.JoinHostPort(addr.Host, strconv.Itoa(addr.Port)))
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("yoton: request to %s: %w", address, ctx.Err())
		}
		return "", fmt.Errorf("%w: %s: %w", ErrNoServer, address, err)
	}
	defer nc.Close()
	// Unblock the reads and writes below when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	fail := func(partial []byte, err error) (string, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return strings.ToValidUTF8(string(partial), ""), fmt.Errorf("yoton: request to %s: %w", address, err)
	}
	if !strings.HasSuffix(request, "\r\n") {
		request += "\r\n"
	}
	if _, err := io.WriteString(nc, request); err != nil {
		return fail(nil, err)
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		if err := tcp.CloseWrite(); err != nil {
			return fail(nil, err)
		}
	}
	var reply []byte
	chunk := make([]byte, 4096)
	for {
		n, err := nc.Read(chunk)
		if n > 0 {
			from := max(len(reply)-1, 0)
			reply = append(reply, chunk[:n]...)
			if i := bytes.Index(reply[from:], crlf); i >= 0 {
				reply = reply[:from+i+2]
				break
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(reply, err)
		}
	}
	return strings.ToValidUTF8(string(reply), ""), nil
}
