package clientserver_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/clientserver"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/slots"
)

var syscallEADDRINUSE = syscall.EADDRINUSE

func TestDoRequestNoServer(t *testing.T) {
	addr := fmt.Sprintf("localhost:%d", freePort(t))
	reply, err := clientserver.DoRequest(testkit.Context(t), addr, "anyone?")
	assert.ErrorIs(t, err, clientserver.ErrNoServer)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Empty(t, reply)
}

func TestDoRequestBadAddress(t *testing.T) {
	for _, addr := range []string{"no-port", "udp://localhost:1", "localhost:-1"} {
		_, err := clientserver.DoRequest(testkit.Context(t), addr, "x")
		assert.ErrorIs(t, err, slots.ErrInvalidAddress, addr)
	}
}

// rawServer accepts one client, reads its request until end of file, and
// answers with reply; with hold it then keeps the socket open until the
// test ends.
func rawServer(t *testing.T, reply string, hold bool) (addr string, request <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	got := make(chan string, 1)
	done := make(chan struct{})
	release := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			close(got)
			return
		}
		defer nc.Close()
		b, _ := io.ReadAll(nc)
		got <- string(b)
		_, _ = nc.Write([]byte(reply))
		if hold {
			<-release
		}
	}()
	t.Cleanup(func() {
		close(release)
		_ = ln.Close()
		<-done
	})
	return ln.Addr().String(), got
}

func TestDoRequestWire(t *testing.T) {
	tests := []struct {
		name    string
		request string
		sent    string // what the server must read, up to end of file
		reply   string // what the server sends, then closes
		want    string
	}{
		{name: "CRLF appended", request: "hi", sent: "hi\r\n", reply: "yes\r\n", want: "yes\r\n"},
		{name: "CRLF not doubled", request: "hi\r\n", sent: "hi\r\n", reply: "yes\r\n", want: "yes\r\n"},
		{name: "reply ends at first CRLF", request: "x", sent: "x\r\n", reply: "one\r\ntwo\r\n", want: "one\r\n"},
		{name: "reply ended by close", request: "x", sent: "x\r\n", reply: "no crlf", want: "no crlf"},
		{name: "empty reply", request: "x", sent: "x\r\n", reply: "", want: ""},
		{name: "invalid utf-8 dropped", request: "x", sent: "x\r\n", reply: "a\xffb\r\n", want: "ab\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, sent := rawServer(t, tt.reply, false)
			reply, err := clientserver.DoRequest(testkit.Context(t), addr, tt.request)
			require.NoError(t, err)
			assert.Equal(t, tt.want, reply)
			assert.Equal(t, tt.sent, <-sent, "DoRequest shuts down writing after the request")
		})
	}
}

func TestDoRequestContextEnds(t *testing.T) {
	addr, _ := rawServer(t, "partial", true) // never ends its reply
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	reply, err := clientserver.DoRequest(ctx, addr, "x")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	// What arrived, as Python's timeout returns it; on a machine too busy
	// to read it within the deadline, nothing.
	assert.Contains(t, []string{"partial", ""}, reply)
}
