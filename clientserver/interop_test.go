package clientserver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/clientserver"
	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
)

// pyPeer starts peer.py with its clientserver module (Python yoton's
// clientserver module).
func pyPeer(t *testing.T) (*pypeer.Process, context.Context) {
	t.Helper()
	peer := pypeer.Require(t)
	return peer.StartModule(t, "clientserver"), testkit.Context(t)
}

func call(t *testing.T, ctx context.Context, p *pypeer.Process, cmd map[string]any, reply any) {
	t.Helper()
	require.NoError(t, p.Call(ctx, cmd, reply), "python %v", cmd["op"])
}

// Go's DoRequest against Python yoton's RequestServer.
func TestInteropGoRequestsFromPython(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			p, ctx := pyPeer(t)
			var served struct {
				Port int `json:"port"`
			}
			call(t, ctx, p, map[string]any{"op": "serve", "addr": "localhost:0", "async": async}, &served)
			addr := fmt.Sprintf("localhost:%d", served.Port)
			tests := []struct{ request, want string }{
				{"hello", "Requested: hello\r\n"},
				{"hello\r\n", "Requested: hello\r\n"},
				{"a\nb", "Requested: a\nb\r\n"},
				{"", "Requested: \r\n"},
				{"grüße ✓", "Requested: grüße ✓\r\n"},
			}
			for _, tt := range tests {
				reply, err := clientserver.DoRequest(ctx, addr, tt.request)
				require.NoError(t, err, "request %q", tt.request)
				assert.Equal(t, tt.want, reply, "request %q", tt.request)
			}
			// Also through the 127.0.0.1 form of the address.
			reply, err := clientserver.DoRequest(ctx, fmt.Sprintf("127.0.0.1:%d", served.Port), "again")
			require.NoError(t, err)
			assert.Equal(t, "Requested: again\r\n", reply)
			call(t, ctx, p, map[string]any{"op": "stop"}, nil)
		})
	}
}

// What Python's handler is given: the request with its CRLF.
func TestInteropPythonHandlerSeesCRLF(t *testing.T) {
	p, ctx := pyPeer(t)
	var served struct {
		Port int `json:"port"`
	}
	call(t, ctx, p, map[string]any{"op": "serve", "addr": "127.0.0.1:0", "handler": "record"}, &served)
	addr := fmt.Sprintf("127.0.0.1:%d", served.Port)
	for _, req := range []string{"x", "y\r\n"} {
		reply, err := clientserver.DoRequest(ctx, addr, req)
		require.NoError(t, err)
		assert.Equal(t, "Python got "+strings.TrimSuffix(req, "\r\n")+"\r\n", reply)
	}
	var got struct {
		Requests []string `json:"requests"`
	}
	call(t, ctx, p, map[string]any{"op": "requests"}, &got)
	assert.Equal(t, []string{"x\r\n", "y\r\n"}, got.Requests)
}

// Python yoton's do_request against a Go RequestServer.
func TestInteropPythonRequestsFromGo(t *testing.T) {
	big := strings.Repeat("abcdefgh", 8<<10) // 64 KiB: written off the loop
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			r := reactorkit.NewReactor(t)
			var seen []string // loop or handler goroutine; read after the requests
			seenCh := make(chan string, 16)
			h := func(req string) string {
				seenCh <- req
				switch req {
				case "big\r\n":
					return big
				case "custom\r\n":
					return "custom reply"
				}
				return clientserver.DefaultHandler(req)
			}
			var opts []clientserver.Option
			if async {
				opts = append(opts, clientserver.WithAsync())
			}
			s, _ := newServer(t, r, h, opts...)
			addr := s.Addr().String()
			p, ctx := pyPeer(t)
			tests := []struct{ request, want string }{
				{"hello", "Requested: hello\r\n"},
				{"hello\r\n", "Requested: hello\r\n"},
				{"", "Requested: \r\n"},
				{"grüße ✓", "Requested: grüße ✓\r\n"},
				{"custom", "custom reply\r\n"},
				{"big", big + "\r\n"},
			}
			for _, tt := range tests {
				var got struct {
					Reply *string `json:"reply"`
				}
				call(t, ctx, p, map[string]any{"op": "request", "addr": addr, "request": tt.request, "timeout": 10}, &got)
				require.NotNil(t, got.Reply, "request %q: Python got None", tt.request)
				assert.Equal(t, len(tt.want), len(*got.Reply), "request %q", tt.request)
				assert.True(t, tt.want == *got.Reply, "request %q: reply %.80q", tt.request, *got.Reply)
				seen = append(seen, <-seenCh)
			}
			assert.Equal(t, []string{"hello\r\n", "hello\r\n", "\r\n", "grüße ✓\r\n", "custom\r\n", "big\r\n"}, seen)
		})
	}
}

func TestInteropPythonNoServer(t *testing.T) {
	p, ctx := pyPeer(t)
	err := p.Call(ctx, map[string]any{"op": "request", "addr": fmt.Sprintf("127.0.0.1:%d", freePort(t)), "request": "x"}, nil)
	var remote *pypeer.RemoteError
	require.ErrorAs(t, err, &remote)
	assert.Contains(t, remote.Message, "No server is listening")
}

// slowClient connects to addr, writes what (never shutting down its
// side) and returns what the server sends until it closes, and how long
// that took from connecting.
func slowClient(t *testing.T, addr string, what []byte) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	nc := dial(t, addr)
	if len(what) > 0 {
		_, err := nc.Write(what)
		require.NoError(t, err)
	}
	return readAll(t, nc), time.Since(start)
}

// TestInteropSlowClientSideBySide: a request that does not end in CRLF
// (the client keeps its side open) is answered with what arrived once
// the second is up, by Python yoton's RequestServer and by the Go one
// alike, over real sockets.
func TestInteropSlowClientSideBySide(t *testing.T) {
	p, ctx := pyPeer(t)
	var served struct {
		Port int `json:"port"`
	}
	// async: Python handles the clients at once, as the Go server does.
	// (Its listen(1) backlog may make some connect only on the kernel's
	// SYN retry, a second later: that only adds to their wait.)
	call(t, ctx, p, map[string]any{"op": "serve", "addr": "127.0.0.1:0", "async": true}, &served)
	pyAddr := fmt.Sprintf("127.0.0.1:%d", served.Port)
	_, goAddr := newServer(t, reactorkit.NewReactor(t), nil)

	check := "grüße ✓"
	tests := []struct {
		name string
		send []byte
		want string
	}{
		{name: "nothing", send: nil, want: "Requested: \r\n"},
		{name: "a partial line", send: []byte("no end of line"), want: "Requested: no end of line\r\n"},
		{name: "a lone CR", send: []byte("abc\r"), want: "Requested: abc\r\r\n"},
		{name: "cut inside a UTF-8 sequence", send: []byte(check[:len(check)-1]), want: "Requested: grüße \r\n"},
	}
	type result struct {
		reply   string
		elapsed time.Duration
	}
	servers := []struct{ name, addr string }{{"python", pyAddr}, {"go", goAddr}}
	results := make(map[string]chan result)
	for _, tt := range tests {
		for _, srv := range servers {
			ch := make(chan result, 1)
			results[srv.name+"/"+tt.name] = ch
			go func() {
				reply, elapsed := slowClient(t, srv.addr, tt.send)
				ch <- result{reply, elapsed}
			}()
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			py := <-results["python/"+tt.name]
			got := <-results["go/"+tt.name]
			assert.Equal(t, tt.want, py.reply, "Python")
			assert.Equal(t, py.reply, got.reply, "Go against Python")
			assert.GreaterOrEqual(t, got.elapsed, clientserver.DefaultRequestTimeout, "Go answered before the second was up")
			assert.GreaterOrEqual(t, py.elapsed, 900*time.Millisecond, "Python answers after its second")
		})
	}
	call(t, ctx, p, map[string]any{"op": "stop"}, nil)
}
