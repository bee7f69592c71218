package clientserver_test

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/clientserver"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// newServer starts a server on a free loopback port; it is closed with
// the test (before the reactor).
func newServer(t *testing.T, r *reactor.Reactor, h clientserver.Handler, opts ...clientserver.Option) (*clientserver.RequestServer, string) {
	t.Helper()
	s, err := clientserver.NewRequestServer(r, "localhost:0", h, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s, "localhost:" + strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
}

func doRequest(t *testing.T, addr, request string) string {
	t.Helper()
	reply, err := clientserver.DoRequest(testkit.Context(t), addr, request)
	require.NoError(t, err)
	return reply
}

// dial connects a raw client to addr.
func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	if host == "localhost" {
		host = "127.0.0.1"
	}
	nc, err := net.Dial("tcp4", net.JoinHostPort(host, port))
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	return nc.(*net.TCPConn)
}

// readAll reads what the server sends until it closes.
func readAll(t *testing.T, nc net.Conn) string {
	t.Helper()
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(testkit.Timeout)))
	b, err := io.ReadAll(nc)
	require.NoError(t, err)
	return string(b)
}

// freePort returns a loopback port nobody listens on (it was free a
// moment ago).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// logger collects the server's diagnostics.
type logger struct{ lines chan string }

func newLogger() *logger { return &logger{lines: make(chan string, 100)} }

func (l *logger) Printf(format string, args ...any) {
	select {
	case l.lines <- fmt.Sprintf(format, args...):
	default:
	}
}
