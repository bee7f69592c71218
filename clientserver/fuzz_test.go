package clientserver_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goyoton/yoton/clientserver"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
)

// FuzzRequestServer sends arbitrary bytes to a request server as one
// client's request (then shuts down its side) and checks the reply
// against the protocol: the request ends at the first CRLF or at the end
// of the stream; the default handler answers "Requested: " + request, with
// CRLF; invalid UTF-8 is dropped from the request. The server must never
// hang or crash, and keeps serving.
//
//	go test -fuzz=FuzzRequestServer ./clientserver/
func FuzzRequestServer(f *testing.F) {
	for _, seed := range []string{"hello", "hello\r\n", "one\r\ntwo", "", "\r\n", "\r", "a\rb\nc", "\xff\xfe bad utf-8\r\n", "grüße ✓"} {
		f.Add([]byte(seed))
	}
	r := reactorkit.NewReactor(f)
	s, err := clientserver.NewRequestServer(r, "127.0.0.1:0", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	addr := "127.0.0.1:" + strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
	f.Fuzz(func(t *testing.T, request []byte) {
		if len(request) > clientserver.DefaultMaxRequestSize {
			t.Skip("longer than the server takes")
		}
		nc, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(request); err != nil {
			t.Fatal(err)
		}
		_ = nc.(*net.TCPConn).CloseWrite()
		reply, err := io.ReadAll(nc)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("reading the reply: %v", err)
		}
		line := request
		if i := bytes.Index(request, []byte("\r\n")); i >= 0 {
			line = request[:i+2]
		}
		want := "Requested: " + strings.ToValidUTF8(string(line), "")
		if !strings.HasSuffix(want, "\r\n") {
			want += "\r\n"
		}
		if string(reply) != want {
			t.Fatalf("request %q: reply %q, want %q", request, reply, want)
		}
	})
}
