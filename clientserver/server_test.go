package clientserver_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/clientserver"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/slots"
)

func TestDefaultHandlerReplies(t *testing.T) {
	r := reactorkit.NewReactor(t)
	_, syncAddr := newServer(t, r, nil)
	_, asyncAddr := newServer(t, r, nil, clientserver.WithAsync())
	tests := []struct {
		name    string
		request string
		want    string
	}{
		{name: "CRLF appended", request: "hello", want: "Requested: hello\r\n"},
		{name: "CRLF kept", request: "hello\r\n", want: "Requested: hello\r\n"},
		{name: "newline inside", request: "a\nb", want: "Requested: a\nb\r\n"},
		{name: "empty", request: "", want: "Requested: \r\n"},
		{name: "wait is not special on the wire", request: "wait", want: "Requested: wait\r\n"},
		{name: "stop is not special on the wire", request: "stop", want: "Requested: stop\r\n"},
		{name: "utf-8", request: "grüße ✓", want: "Requested: grüße ✓\r\n"},
		{name: "ends at the first CRLF", request: "one\r\ntwo", want: "Requested: one\r\n"},
	}
	for _, tt := range tests {
		for _, addr := range []string{syncAddr, asyncAddr} {
			t.Run(tt.name, func(t *testing.T) {
				assert.Equal(t, tt.want, doRequest(t, addr, tt.request))
			})
		}
	}
	assert.Equal(t, "Requested: x", clientserver.DefaultHandler("x"))
}

func TestHandlerGetsCRLFAndRunsWhereAsked(t *testing.T) {
	r := reactorkit.NewReactor(t)
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			var onLoop []bool
			h := func(req string) string {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, req)
				onLoop = append(onLoop, r.OnLoop())
				return "reply ends in CRLF already\r\n"
			}
			var opts []clientserver.Option
			if async {
				opts = append(opts, clientserver.WithAsync())
			}
			_, addr := newServer(t, r, h, opts...)
			assert.Equal(t, "reply ends in CRLF already\r\n", doRequest(t, addr, "ping"))
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, []string{"ping\r\n"}, got)
			assert.Equal(t, []bool{!async}, onLoop)
		})
	}
}

func TestAsyncHandlesConcurrently(t *testing.T) {
	r := reactorkit.NewReactor(t)
	const n = 4
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	h := func(req string) string {
		arrived.Done()
		<-all // returns only once all n requests are being handled at once
		return "done " + req
	}
	_, addr := newServer(t, r, h, clientserver.WithAsync())
	replies := make(chan string, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			reply, err := clientserver.DoRequest(testkit.Context(t), addr, strconv.Itoa(i))
			errs <- err
			replies <- reply
		}()
	}
	got := map[string]bool{}
	for range n {
		require.NoError(t, <-errs)
		got[<-replies] = true
	}
	for i := range n {
		assert.True(t, got["done "+strconv.Itoa(i)+"\r\n"], "reply %d", i)
	}
}

func TestLargeReplies(t *testing.T) {
	r := reactorkit.NewReactor(t)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB, no CRLF inside
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			var opts []clientserver.Option
			if async {
				opts = append(opts, clientserver.WithAsync())
			}
			_, addr := newServer(t, r, func(string) string { return big }, opts...)
			// DoRequest shuts down its side at once: the reply must
			// survive that.
			reply := doRequest(t, addr, "big")
			assert.Equal(t, len(big)+2, len(reply))
			assert.True(t, reply == big+"\r\n")
		})
	}
}

// A client that does not end its request (no CRLF, its side still open)
// is answered with what it sent by the request timeout, possibly
// nothing, as Python yoton's server answers after one second; such
// clients do not keep other clients waiting meanwhile.
func TestSlowClientAnsweredWithWhatArrived(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration // 0: the default, yoton's second
		async   bool
	}{
		{name: "default timeout"},
		{name: "async", timeout: 50 * time.Millisecond, async: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := newLogger()
			r := reactorkit.NewReactor(t, reactor.WithLogger(log)) // the server logs through its reactor
			var opts []clientserver.Option
			timeout := clientserver.DefaultRequestTimeout
			if tt.timeout > 0 {
				timeout = tt.timeout
				opts = append(opts, clientserver.WithRequestTimeout(timeout))
			}
			if tt.async {
				opts = append(opts, clientserver.WithAsync())
			}
			requests := make(chan string, 8)
			_, addr := newServer(t, r, func(req string) string {
				requests <- req
				return clientserver.DefaultHandler(req)
			}, opts...)

			start := time.Now()
			silent := dial(t, addr)
			partial := dial(t, addr)
			_, err := partial.Write([]byte("no end of line"))
			require.NoError(t, err)
			type answer struct {
				reply   string
				elapsed time.Duration
			}
			answers := make([]chan answer, 2)
			for i, nc := range []*net.TCPConn{silent, partial} {
				answers[i] = make(chan answer, 1)
				go func() {
					_ = nc.SetReadDeadline(time.Now().Add(testkit.Timeout))
					b, _ := io.ReadAll(nc)
					answers[i] <- answer{string(b), time.Since(start)}
				}()
			}
			wantRequests := []string{"", "no end of line"}
			if !tt.async {
				// Served while both wait.
				for i := range 3 {
					assert.Equal(t, "Requested: "+strconv.Itoa(i)+"\r\n", doRequest(t, addr, strconv.Itoa(i)))
					wantRequests = append(wantRequests, strconv.Itoa(i)+"\r\n")
				}
			}
			want := []string{"Requested: \r\n", "Requested: no end of line\r\n"}
			for i, ch := range answers {
				select {
				case a := <-ch:
					assert.Equal(t, want[i], a.reply)
					assert.GreaterOrEqual(t, a.elapsed, timeout, "answered before the timeout")
				case <-time.After(testkit.Timeout):
					t.Fatal("waiting clients were not answered")
				}
			}
			var got []string
			for range wantRequests {
				got = append(got, <-requests)
			}
			assert.ElementsMatch(t, wantRequests, got, "the handler got what arrived, without CRLF")
			assert.Contains(t, <-log.lines, "no CRLF from")
		})
	}
}

func TestRequestEndedByEOF(t *testing.T) {
	r := reactorkit.NewReactor(t)
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			var opts []clientserver.Option
			if async {
				opts = append(opts, clientserver.WithAsync())
			}
			_, addr := newServer(t, r, nil, opts...)
			nc := dial(t, addr)
			_, err := nc.Write([]byte("no CRLF"))
			require.NoError(t, err)
			require.NoError(t, nc.CloseWrite())
			assert.Equal(t, "Requested: no CRLF\r\n", readAll(t, nc))

			empty := dial(t, addr)
			require.NoError(t, empty.CloseWrite())
			assert.Equal(t, "Requested: \r\n", readAll(t, empty), "as Python: an empty request")
		})
	}
}

func TestRequestTooLargeDropped(t *testing.T) {
	r := reactorkit.NewReactor(t)
	_, addr := newServer(t, r, nil, clientserver.WithMaxRequestSize(16))
	nc := dial(t, addr)
	_, err := nc.Write([]byte(strings.Repeat("x", 100)))
	require.NoError(t, err)
	assert.Equal(t, "", readAll(t, nc))
	assert.Equal(t, "Requested: short\r\n", doRequest(t, addr, "short"))
}

func TestHandlerPanicDropsOneClient(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			log := newLogger()
			r := reactorkit.NewReactor(t, reactor.WithLogger(log)) // the server logs through its reactor
			var opts []clientserver.Option
			if async {
				opts = append(opts, clientserver.WithAsync())
			}
			_, addr := newServer(t, r, func(req string) string {
				if req == "panic\r\n" {
					panic("handler failed")
				}
				return "fine"
			}, opts...)
			reply, err := clientserver.DoRequest(testkit.Context(t), addr, "panic")
			assert.NoError(t, err, "the server closed without a reply")
			assert.Empty(t, reply)
			assert.Contains(t, <-log.lines, "panic in handler: handler failed")
			assert.Equal(t, "fine\r\n", doRequest(t, addr, "again"))
		})
	}
}

func TestStopFromHandler(t *testing.T) {
	r := reactorkit.NewReactor(t)
	var s *clientserver.RequestServer
	ready := make(chan struct{})
	s, addr := newServer(t, r, func(req string) string {
		<-ready
		if req == "stop\r\n" {
			s.Stop()
			return "stopping"
		}
		return "ok"
	})
	close(ready)
	assert.Equal(t, "ok\r\n", doRequest(t, addr, "x"))
	assert.Equal(t, "stopping\r\n", doRequest(t, addr, "stop"), "the request that stops still gets its reply")
	testkit.Wait(t, s.Done(), "Done")
	_, err := clientserver.DoRequest(testkit.Context(t), addr, "x")
	assert.ErrorIs(t, err, clientserver.ErrNoServer)
	s.Stop() // again: nothing
}

func TestCloseDropsWaitingClients(t *testing.T) {
	r := reactorkit.NewReactor(t)
	s, err := clientserver.NewRequestServer(r, "127.0.0.1:0", nil, clientserver.WithRequestTimeout(time.Hour))
	require.NoError(t, err)
	addr := s.Addr().String()
	nc := dial(t, addr)
	// The server has taken the client once a request on another
	// connection, accepted after it, is answered.
	assert.Equal(t, "Requested: x\r\n", doRequest(t, addr, "x"))
	require.NoError(t, s.Close())
	assert.Equal(t, "", readAll(t, nc), "dropped without waiting for the hour")
	testkit.Wait(t, s.Done(), "Done")
	require.NoError(t, s.Close(), "idempotent")
}

func TestCloseOnLoop(t *testing.T) {
	r := reactorkit.NewReactor(t)
	s, _ := newServer(t, r, nil)
	var err error
	testkit.Do(t, r, func() { err = s.Close() })
	assert.ErrorIs(t, err, reactor.ErrBlockingCall)
}

func TestServerEndsWithReactor(t *testing.T) {
	r, err := reactor.New()
	require.NoError(t, err)
	s, err := clientserver.NewRequestServer(r, "127.0.0.1:0", nil)
	require.NoError(t, err)
	nc := dial(t, s.Addr().String())
	require.NoError(t, r.Close())
	testkit.Wait(t, s.Done(), "Done after the reactor closed")
	_ = nc.SetReadDeadline(time.Now().Add(testkit.Timeout))
	_, _ = nc.Read(make([]byte, 1)) // EOF, or reset if the server never took it
	require.NoError(t, s.Close())

	_, err = clientserver.NewRequestServer(r, "127.0.0.1:0", nil)
	assert.ErrorIs(t, err, reactor.ErrClosed)
}

func TestNewRequestServerErrors(t *testing.T) {
	r := reactorkit.NewReactor(t)
	taken, addr := newServer(t, r, nil)
	_ = taken
	tests := []struct {
		name    string
		address string
		opts    []clientserver.Option
		want    error
	}{
		{name: "no port", address: "localhost", want: slots.ErrInvalidAddress},
		{name: "not tcp", address: "udp://localhost:0", want: slots.ErrInvalidAddress},
		{name: "port taken", address: addr},
		{name: "bad timeout", address: "localhost:0", opts: []clientserver.Option{clientserver.WithRequestTimeout(0)}, want: reactor.ErrBadOption},
		{name: "bad size", address: "localhost:0", opts: []clientserver.Option{clientserver.WithMaxRequestSize(0)}, want: reactor.ErrBadOption},
		{name: "nil option", address: "localhost:0", opts: []clientserver.Option{nil}, want: reactor.ErrBadOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := clientserver.NewRequestServer(r, tt.address, nil, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, s)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
		})
	}
}

// Address forms are yoton's: a port name is hashed to a port.
func TestNamedPort(t *testing.T) {
	r := reactorkit.NewReactor(t)
	const address = "localhost:goyoton-clientserver-test"
	a, err := slots.ParseAddress(address)
	require.NoError(t, err)
	s, err := clientserver.NewRequestServer(r, address, nil)
	if errors.Is(err, syscallEADDRINUSE) {
		t.Skipf("port %d of %q is taken on this machine", a.Port, address)
	}
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.Close()) }()
	assert.Equal(t, a.Port, s.Addr().(*net.TCPAddr).Port)
	assert.Equal(t, "Requested: named\r\n", doRequest(t, address, "named"))
}

// TestAcceptFilter: a client the filter turns away is closed before it
// is read and gets no reply; the others are served.
func TestAcceptFilter(t *testing.T) {
	r := reactorkit.NewReactor(t)
	var mu sync.Mutex
	allow := false
	_, addr := newServer(t, r, nil, clientserver.WithAcceptFilter(func(remote net.Addr) bool {
		mu.Lock()
		defer mu.Unlock()
		_, ok := remote.(*net.TCPAddr)
		return ok && allow
	}))
	// Closed unread: the client sees the end of the stream or a reset.
	reply, err := clientserver.DoRequest(testkit.Context(t), addr, "turned away")
	assert.True(t, err != nil || reply == "", "a refused client got %q", reply)
	mu.Lock()
	allow = true
	mu.Unlock()
	assert.Equal(t, "Requested: welcome\r\n", doRequest(t, addr, "welcome"))

	_, err = clientserver.NewRequestServer(r, "127.0.0.1:0", nil, clientserver.WithAcceptFilter(nil))
	assert.ErrorIs(t, err, reactor.ErrBadOption)
}

// TestIPv6 (Go only): a request server and DoRequest on "[::1]:port".
func TestIPv6(t *testing.T) {
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	require.NoError(t, probe.Close())
	r := reactorkit.NewReactor(t)
	s, err := clientserver.NewRequestServer(r, "[::1]:0", nil)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	addr := fmt.Sprintf("[::1]:%d", s.Addr().(*net.TCPAddr).Port)
	assert.Equal(t, "Requested: six\r\n", doRequest(t, addr, "six"))
}

// TestCloseFromAsyncHandler: a WithAsync handler may close its own
// server: Close does not wait for the handler (itself), the server ends,
// and a Close from elsewhere waits for everything as usual.
func TestCloseFromAsyncHandler(t *testing.T) {
	r := reactorkit.NewReactor(t)
	var server atomic.Pointer[clientserver.RequestServer]
	closed := make(chan error, 1)
	s, addr := newServer(t, r, func(req string) string {
		if req == "shutdown\r\n" {
			closed <- server.Load().Close()
		}
		return "bye"
	}, clientserver.WithAsync())
	server.Store(s)
	_, _ = clientserver.DoRequest(testkit.Context(t), addr, "shutdown") // its client is dropped
	require.NoError(t, testkit.Wait(t, closed, "Close in the handler to return"))
	testkit.Wait(t, s.Done(), "the server to end")
	require.NoError(t, s.Close())
	_, err := clientserver.DoRequest(testkit.Context(t), addr, "again")
	require.ErrorIs(t, err, clientserver.ErrNoServer)
}
