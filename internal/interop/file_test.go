package interop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
)

// rawText is a message type named "txt" that passes bytes through
// unchecked: it sends what channels.Text (and yoton.TEXT) never would.
var rawText = channels.NewMessageType("txt",
	func(b []byte) ([]byte, error) { return b, nil },
	func(b []byte) ([]byte, error) { return b, nil })

// goNeighbour starts a second Go context on x's reactor, connected to x:
// what x publishes reaches it and the Python peer alike.
func goNeighbour(t *testing.T, ctx context.Context, x *reactor.Context) *reactor.Context {
	t.Helper()
	y, err := x.Reactor().NewContext()
	if err != nil {
		t.Fatalf("NewContext: %v", err)
	}
	c, err := x.Bind("127.0.0.1:0", 1, "neighbour")
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	_, port := c.LocalAddr()
	if _, err := y.Connect(ctx, fmt.Sprintf("127.0.0.1:%d", port), "neighbour"); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return y
}

// fileCall is peer.py's answer to "file_call".
type fileCall struct {
	Value     any     `json:"value"`
	Exception *string `json:"exception"`
}

// TestFileWrapperReadSideBySide feeds the same messages to Python's
// FileWrapper and to a Go Reader and calls the same methods on both:
// read() (ReadNow), readline(size) (ReadLineN), isatty(), and what they
// echo; text that is not UTF-8 raises in Python where Go returns
// ErrDecode, with the same message.
func TestFileWrapperReadSideBySide(t *testing.T) {
	ctx, x, p := linked(t, directions[0].link)
	y := goNeighbour(t, ctx, x)

	var wrapped struct {
		Isatty bool `json:"isatty"`
	}
	p.call(map[string]any{"op": "file_wrap", "slot": "stdin", "kind": "sub", "echo": "echo-py", "isatty": true}, &wrapped)
	echoPy, err := channels.NewSubChannel(x, "echo-py", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	awaitLink(t, ctx, x, p, "main") // Python's subscription is in place

	sub, err := channels.NewSubChannel(y, "stdin", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	echoGoPub, err := channels.NewPubChannel(y, "echo-go", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	echoGo, err := channels.NewSubChannel(x, "echo-go", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := channels.NewReader(sub, channels.WithEcho(echoGoPub), channels.WithIsatty(true))
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := channels.NewPubChannel(x, "stdin", rawText)
	if err != nil {
		t.Fatal(err)
	}
	markPub, err := channels.NewPubChannel(x, "mark", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	markSub, err := channels.NewSubChannel(y, "mark", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	// mark returns once everything x sent to y before it has arrived.
	mark := func() {
		t.Helper()
		if err := markPub.Send(ctx, "mark"); err != nil {
			t.Fatal(err)
		}
		if m, err := markSub.Recv(ctx); err != nil || m != "mark" {
			t.Fatalf("marker: %q, %v", m, err)
		}
	}

	if !wrapped.Isatty || !rd.Isatty() {
		t.Errorf("isatty: Python %v, Go %v; want true", wrapped.Isatty, rd.Isatty())
	}

	steps := []struct {
		send    []string // published first (raw bytes)
		method  string   // "read" or "readline"
		size    *int     // readline's argument, if any
		pending int      // Python waits until this many are queued
		want    string   // what both return; "" with wantErr for an exception
		wantErr bool
	}{
		{method: "read", want: ""},
		{send: []string{"hello"}, method: "read", pending: 1, want: "hello"},
		{method: "read", want: ""},
		{send: []string{"abcdef", "next"}, method: "readline", size: ptr(3), pending: 2, want: "abc"},
		{method: "read", pending: 1, want: "next"},
		{send: []string{"plain"}, method: "readline", pending: 1, want: "plain\n"},
		{send: []string{"ends\n"}, method: "readline", size: ptr(0), pending: 1, want: "ends\n"},
		{send: []string{"line"}, method: "readline", size: ptr(-1), pending: 1, want: "line"},
		{send: []string{"wörld日本"}, method: "readline", size: ptr(6), pending: 1, want: "wörld日"},
		{send: []string{"日本語"}, method: "readline", size: ptr(-2), pending: 1, want: "日本"},
		{send: []string{"ab"}, method: "readline", size: ptr(10), pending: 1, want: "ab\n"},
		{send: []string{"x\n"}, method: "readline", size: ptr(-2), pending: 1, want: ""},
		{send: []string{"ab"}, method: "readline", size: ptr(-10), pending: 1, want: ""},
		{send: []string{"\xffabc"}, method: "read", pending: 1, wantErr: true},
		{method: "read", want: ""},
		{send: []string{"ok \xe6\x97"}, method: "readline", pending: 1, wantErr: true},
		{send: []string{"after"}, method: "read", pending: 1, want: "after"},
	}
	var echoed []string
	for i, st := range steps {
		for _, m := range st.send {
			if err := stdin.Send(ctx, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		mark()
		var args []any
		if st.size != nil {
			args = []any{*st.size}
		}
		var py fileCall
		p.call(map[string]any{"op": "file_call", "slot": "stdin", "method": st.method, "args": args, "pending": st.pending}, &py)
		for _, m := range st.send {
			if utf8.ValidString(m) { // every message taken is echoed, what raises is not
				echoed = append(echoed, m)
			}
		}
		var got string
		switch {
		case st.method == "read":
			got, err = rd.ReadNow()
		case st.size != nil:
			got, err = rd.ReadLineN(ctx, *st.size)
		default:
			got, err = rd.ReadLine(ctx)
		}
		what := fmt.Sprintf("step %d: %s(%v) after %q", i, st.method, args, st.send)
		if st.wantErr {
			if py.Exception == nil || !strings.HasPrefix(*py.Exception, "UnicodeDecodeError: ") {
				t.Errorf("%s: Python returned %+v, want a UnicodeDecodeError", what, py)
				continue
			}
			pyMsg := strings.TrimPrefix(*py.Exception, "UnicodeDecodeError: ")
			if !errors.Is(err, channels.ErrDecode) || !strings.HasSuffix(err.Error(), ": "+pyMsg) {
				t.Errorf("%s: Go returned %q, %v; Python raised %q", what, got, err, pyMsg)
			}
			continue
		}
		if py.Exception != nil || py.Value != st.want {
			t.Errorf("%s: Python returned %+v, want %q", what, py, st.want)
		}
		if err != nil || got != st.want {
			t.Errorf("%s: Go returned %q, %v, want %q", what, got, err, st.want)
		}
	}

	// Both echoed every message they took, as received (no "\n" added,
	// not cut to size).
	if pyEcho, goEcho := recvN(t, ctx, echoPy, len(echoed)), recvN(t, ctx, echoGo, len(echoed)); !slices.Equal(pyEcho, echoed) || !slices.Equal(goEcho, echoed) {
		t.Errorf("echoed:\nPython %q\nGo     %q\nwant   %q", pyEcho, goEcho, echoed)
	}

	// Closed and drained: Python's read() still says "", Go's adds io.EOF.
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if m, err := rd.ReadNow(); m != "" || !errors.Is(err, io.EOF) {
		t.Errorf("ReadNow after Close: %q, %v; want \"\", io.EOF", m, err)
	}
}

// TestFileWrapperWriteSideBySide: Python's FileWrapper and a Go Writer,
// both with a chunk size of 3, write the same: writelines sends each line
// as one message (not chunked, empty ones not at all), write is chunked.
func TestFileWrapperWriteSideBySide(t *testing.T) {
	ctx, x, p := linked(t, directions[1].link)
	y := goNeighbour(t, ctx, x)

	var wrapped struct {
		Isatty bool `json:"isatty"`
	}
	p.call(map[string]any{"op": "file_wrap", "slot": "out-py", "kind": "pub", "chunksize": 3}, &wrapped)
	fromPy, err := channels.NewSubChannel(x, "out-py", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	fromGo, err := channels.NewSubChannel(x, "out-go", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	awaitLink(t, ctx, x, p, "main")
	goPub, err := channels.NewPubChannel(y, "out-go", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	w, err := channels.NewWriter(goPub, channels.WithChunkSize(3))
	if err != nil {
		t.Fatal(err)
	}
	if wrapped.Isatty || w.Isatty() {
		t.Errorf("default isatty: Python %v, Go %v; want false", wrapped.Isatty, w.Isatty())
	}

	lines := []any{"a", "", "b\n", "longer than three"}
	p.call(map[string]any{"op": "file_call", "slot": "out-py", "kind": "pub", "method": "writelines", "args": []any{lines}}, nil)
	p.call(map[string]any{"op": "file_call", "slot": "out-py", "kind": "pub", "method": "write", "args": []any{"abcdefg"}}, nil)
	p.call(map[string]any{"op": "file_call", "slot": "out-py", "kind": "pub", "method": "writelines", "args": []any{[]any{"end"}}}, nil)
	if err := w.WriteLines([]string{"a", "", "b\n", "longer than three"}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "abcdefg"); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLines([]string{"end"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b\n", "longer than three", "abc", "def", "g", "end"}
	if py, goGot := recvN(t, ctx, fromPy, len(want)), recvN(t, ctx, fromGo, len(want)); !slices.Equal(py, want) || !slices.Equal(goGot, want) {
		t.Errorf("received:\nfrom Python %q\nfrom Go     %q\nwant        %q", py, goGot, want)
	}
}

func ptr[T any](v T) *T { return &v }
