package pypeer_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func equal[T any](t *testing.T, what string, want, got T) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// call is Call that fails the test on error.
func call(t *testing.T, ctx context.Context, p *pypeer.Process, cmd map[string]any, reply any) {
	t.Helper()
	must(t, p.Call(ctx, cmd, reply), fmt.Sprintf("command %v", cmd))
}

func writeYoton(t *testing.T, dir string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(dir, "yoton"), 0o755), "mkdir")
	must(t, os.WriteFile(filepath.Join(dir, "yoton", "__init__.py"), nil, 0o644), "write")
}

func TestPythonPath(t *testing.T) {
	withYoton := t.TempDir()
	writeYoton(t, withYoton)
	pyzoDir := t.TempDir()
	inPyzo := filepath.Join(pyzoDir, "usr", "share", "pyzo", "pyzo")
	writeYoton(t, inPyzo)
	home := t.TempDir()
	inHome := filepath.Join(home, ".cache", "goyoton", "pyzo", "usr", "share", "pyzo", "pyzo")
	writeYoton(t, inHome)

	tests := []struct {
		name       string
		pythonPath string
		pyzoDir    string
		want       string // "" means an error is expected
	}{
		{name: "YOTON_PYTHONPATH", pythonPath: withYoton, pyzoDir: pyzoDir, want: withYoton},
		{name: "YOTON_PYTHONPATH without yoton", pythonPath: t.TempDir()},
		{name: "YOTON_PYZO_DIR", pyzoDir: pyzoDir, want: inPyzo},
		{name: "YOTON_PYZO_DIR without yoton", pyzoDir: t.TempDir()},
		{name: "home cache", want: inHome},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("YOTON_PYTHONPATH", tc.pythonPath)
			t.Setenv("YOTON_PYZO_DIR", tc.pyzoDir)
			got, err := pypeer.PythonPath()
			if tc.want == "" {
				if err == nil {
					t.Fatalf("PythonPath() = %q, want an error", got)
				}
				return
			}
			must(t, err, "PythonPath")
			equal(t, "PythonPath()", tc.want, got)
		})
	}
}

// slotHash is yoton's slot_hash, computed independently with big integers.
func slotHash(name string) string {
	val, fac := new(big.Int), big.NewInt(0xD2D84A61)
	step := func(c int64) {
		val.Add(val, new(big.Int).Rsh(val, 3))
		val.Add(val, new(big.Int).Mul(big.NewInt(c), fac))
	}
	n := int64(0)
	for _, c := range name {
		step(int64(c))
		n++
	}
	step(n)
	mod := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(8))
	val.Mod(val, mod)
	return val.Add(val, big.NewInt(8)).String()
}

func TestPeerCommands(t *testing.T) {
	peer := pypeer.Require(t)
	ctx := testkit.Context(t)
	p := peer.Start(t, "peer.py")
	if p.Pid() <= 0 {
		t.Fatalf("Pid() = %d", p.Pid())
	}

	var c struct {
		ID    string `json:"id"`
		IDHex string `json:"id_hex"`
		Pid   int    `json:"pid"`
	}
	call(t, ctx, p, map[string]any{"op": "context"}, &c)
	id, err := strconv.ParseUint(c.ID, 10, 64)
	must(t, err, "context id")
	if id == 0 {
		t.Error("context id is 0")
	}
	equal(t, "pid", p.Pid(), c.Pid)
	equal(t, "len(id_hex)", 16, len(c.IDHex))

	names := []string{"", "a", "test.txt.pub-sub", "a slot name well past twenty characters.obj.req-rep", "日本 ✓"}
	var h struct {
		Slot []string `json:"slot"`
		Port []int    `json:"port"`
	}
	call(t, ctx, p, map[string]any{"op": "hash", "names": names}, &h)
	if len(h.Slot) != len(names) || len(h.Port) != len(names) {
		t.Fatalf("hash reply %+v for %d names", h, len(names))
	}
	for i, n := range names {
		equal(t, fmt.Sprintf("slot_hash(%q)", n), slotHash(n), h.Slot[i])
		if h.Port[i] < 49152 || h.Port[i] > 65535 {
			t.Errorf("port_hash(%q) = %d, outside [49152, 65535]", n, h.Port[i])
		}
	}

	var tbl struct {
		Names []string          `json:"names"`
		Reprs map[string]string `json:"reprs"`
	}
	call(t, ctx, p, map[string]any{"op": "table"}, &tbl)
	if !slices.Contains(tbl.Names, "int64_min") {
		t.Errorf("table names %v lack int64_min", tbl.Names)
	}
	equal(t, "len(reprs)", len(tbl.Names), len(tbl.Reprs))
	equal(t, "int64_min", "-9223372036854775808", tbl.Reprs["int64_min"])
	equal(t, "float_neg_zero", "-0.0", tbl.Reprs["float_neg_zero"])
	equal(t, "float_1e_05", "1e-05", tbl.Reprs["float_1e_05"])
	equal(t, "text_unicode", "'héllo wörld ✓ 日本 🎉'", tbl.Reprs["text_unicode"])

	var pk struct {
		Hex string `json:"hex"`
	}
	call(t, ctx, p, map[string]any{"op": "pack", "value": []any{nil, true, "ab"}}, &pk)
	equal(t, "pack([None, True, 'ab'])", "6c036e620173026162", pk.Hex)

	var remote *pypeer.RemoteError
	err = p.Call(ctx, map[string]any{"op": "no-such-op"}, nil)
	if !errors.As(err, &remote) || !strings.Contains(remote.Message, "unknown op") {
		t.Errorf("unknown op: err = %v, want a RemoteError about it", err)
	}
	err = p.Call(ctx, map[string]any{"op": "send", "slot": "x", "type": "text", "value": "v"}, nil)
	if !errors.As(err, &remote) {
		t.Errorf("send on a channel never made: err = %v, want a RemoteError", err)
	}
	must(t, p.Send("not an object"), "Send")
	var raw map[string]any
	must(t, p.ReadJSON(ctx, &raw), "ReadJSON")
	if _, ok := raw["error"]; !ok {
		t.Errorf("reply to a non-object command: %v, want an error", raw)
	}

	// Bind on a free port; a hand-written handshake shows it listens.
	var b struct {
		Port int `json:"port"`
	}
	call(t, ctx, p, map[string]any{"op": "bind", "addr": "127.0.0.1:0", "conn": "c1"}, &b)
	if b.Port <= 0 {
		t.Fatalf("bound port %d", b.Port)
	}
	sock := handshake(t, ctx, b.Port, 0x0123456789abcdef, 4242)
	var w struct {
		PeerID  string `json:"peer_id"`
		PeerPid int    `json:"peer_pid"`
	}
	call(t, ctx, p, map[string]any{"op": "wait_connected", "conn": "c1"}, &w)
	equal(t, "peer_id", strconv.FormatUint(0x0123456789abcdef, 10), w.PeerID)
	equal(t, "peer_pid", 4242, w.PeerPid)
	must(t, sock.Close(), "close socket")
	var cl struct {
		Reason string `json:"reason"`
	}
	call(t, ctx, p, map[string]any{"op": "closed", "conn": "c1"}, &cl)
	if !dropped(cl.Reason) {
		t.Errorf("close reason = %q, want EOF or reset", cl.Reason)
	}

	call(t, ctx, p, map[string]any{"op": "exit"}, nil)
	must(t, p.Wait(ctx), "Wait after exit")
	if _, err := p.ReadLine(ctx); !errors.Is(err, pypeer.ErrExited) {
		t.Errorf("ReadLine after exit: %v, want ErrExited", err)
	}
}

// handshake connects to port and does the yoton handshake as a client.
// The caller closes the returned connection.
func handshake(t *testing.T, ctx context.Context, port int, id uint64, pid int) net.Conn {
	t.Helper()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	must(t, err, "dial")
	t.Cleanup(func() { _ = conn.Close() })
	if dl, ok := ctx.Deadline(); ok {
		must(t, conn.SetDeadline(dl), "SetDeadline")
	}
	_, err = fmt.Fprintf(conn, "YOTON!%016x.%d\r\n", id, pid)
	must(t, err, "write handshake")
	line, err := bufio.NewReader(conn).ReadString('\n')
	must(t, err, "read handshake")
	if !strings.HasPrefix(line, "YOTON!") {
		t.Fatalf("handshake reply %q", line)
	}
	return conn
}

// dropped reports whether a close reason says the other end went away:
// EOF, or a connection reset (closing a socket with unread data), which
// yoton's receiving or its sending thread may be the first to see.
func dropped(reason string) bool {
	return reason == "Other end dropped the connection." ||
		strings.HasPrefix(reason, "yoton.ReceivingThread, Socket error.") ||
		strings.HasPrefix(reason, "yoton.SendingThread, Socket error.")
}

func TestTwoPeersPubSub(t *testing.T) {
	peer := pypeer.Require(t)
	ctx := testkit.Context(t)
	host := peer.Start(t, "peer.py")
	client := peer.Start(t, "peer.py")

	call(t, ctx, host, map[string]any{"op": "context"}, nil)
	call(t, ctx, client, map[string]any{"op": "context"}, nil)
	var b struct {
		Port int `json:"port"`
	}
	call(t, ctx, host, map[string]any{"op": "bind", "addr": "127.0.0.1:0", "conn": "c"}, &b)
	call(t, ctx, host, map[string]any{"op": "pub", "slot": "data", "type": "object"}, nil)
	call(t, ctx, client, map[string]any{"op": "sub", "slot": "data", "type": "object"}, nil)
	call(t, ctx, client, map[string]any{"op": "connect", "addr": fmt.Sprintf("127.0.0.1:%d", b.Port), "conn": "c", "timeout": 5}, nil)
	call(t, ctx, host, map[string]any{"op": "wait_connected", "conn": "c"}, nil)

	var want []string
	for _, name := range []string{"dict_tuple_keys", "int64_min", "text_300", "float_inf"} {
		var s struct {
			Repr string `json:"repr"`
		}
		call(t, ctx, host, map[string]any{"op": "send", "slot": "data", "type": "object", "table": name}, &s)
		want = append(want, s.Repr)
	}
	var got struct {
		Messages []string `json:"messages"`
	}
	call(t, ctx, client, map[string]any{"op": "recv", "slot": "data", "type": "object", "count": len(want)}, &got)
	equal(t, "received", want, got.Messages)

	call(t, ctx, client, map[string]any{"op": "close_conn", "conn": "c", "reason": "test done"}, nil)
	var cl struct {
		Reason string `json:"reason"`
	}
	call(t, ctx, host, map[string]any{"op": "closed", "conn": "c"}, &cl)
	// Python yoton's close() never sends the close package (it marks the
	// connection "closing" before checking that it is connected), so the
	// other end sees EOF, or a reset when heartbeats were left unread.
	if !dropped(cl.Reason) {
		t.Errorf("host close reason = %q, want EOF or reset", cl.Reason)
	}
	t.Logf("host close reason: %q", cl.Reason)
	call(t, ctx, client, map[string]any{"op": "closed", "conn": "c"}, &cl)
	equal(t, "client close reason", "test done", cl.Reason)
}

func TestKill(t *testing.T) {
	peer := pypeer.Require(t)
	ctx := testkit.Context(t)
	p := peer.Start(t, "peer.py")
	call(t, ctx, p, map[string]any{"op": "context"}, nil)

	must(t, p.Kill(), "Kill")
	var exitErr *exec.ExitError
	if err := p.Wait(ctx); !errors.As(err, &exitErr) {
		t.Fatalf("Wait after Kill: %v, want an *exec.ExitError", err)
	}
	must(t, p.Kill(), "Kill twice")
	if _, err := p.ReadLine(ctx); !errors.Is(err, pypeer.ErrExited) {
		t.Errorf("ReadLine after Kill: %v, want ErrExited", err)
	}
	if err := p.Call(ctx, map[string]any{"op": "context"}, nil); err == nil {
		t.Error("Call after Kill succeeded")
	}
}

func TestCloseStdinExits(t *testing.T) {
	peer := pypeer.Require(t)
	ctx := testkit.Context(t)
	p := peer.Start(t, "peer.py")
	must(t, p.CloseStdin(), "CloseStdin")
	must(t, p.Wait(ctx), "Wait")
}

func TestCleanupKillsRunningPeer(t *testing.T) {
	peer := pypeer.Require(t)
	var p *pypeer.Process
	t.Run("leaves it running", func(t *testing.T) {
		p = peer.Start(t, "peer.py")
		// Unread output must not keep the reader goroutine alive.
		must(t, p.Send(map[string]any{"op": "table"}), "Send")
	})
	// The subtest's cleanup has killed and reaped it already.
	var exitErr *exec.ExitError
	if err := p.Wait(testkit.Context(t)); err != nil && !errors.As(err, &exitErr) {
		t.Errorf("Wait: %v", err)
	}
}

// TestModules: peer.py --module NAME adds the commands of
// scripts/peer_NAME.py, or runs one of its roles.
func TestModules(t *testing.T) {
	peer := pypeer.Require(t)
	ctx := testkit.Context(t)

	t.Run("plain peer.py has no module commands", func(t *testing.T) {
		p := peer.Start(t, "peer.py")
		var remote *pypeer.RemoteError
		err := p.Call(ctx, map[string]any{"op": "publish", "slot": "x", "count": 1}, nil)
		if !errors.As(err, &remote) || !strings.Contains(remote.Message, "unknown op") {
			t.Errorf("publish without the flow module: %v, want unknown op", err)
		}
	})

	t.Run("flow", func(t *testing.T) {
		p := peer.StartModule(t, "flow")
		call(t, ctx, p, map[string]any{"op": "context"}, nil)
		call(t, ctx, p, map[string]any{"op": "publish", "slot": "flow", "count": 3, "size": 8}, nil)
		var done struct {
			Sent int  `json:"sent"`
			Done bool `json:"done"`
		}
		call(t, ctx, p, map[string]any{"op": "wait_published", "slot": "flow"}, &done)
		equal(t, "wait_published", struct {
			Sent int  `json:"sent"`
			Done bool `json:"done"`
		}{3, true}, done)
		// The commands of peer.py itself are there too, with the flow
		// module's tuple values.
		call(t, ctx, p, map[string]any{"op": "state", "slot": "st", "type": "object"}, nil)
		call(t, ctx, p, map[string]any{"op": "send", "kind": "state", "slot": "st", "type": "object",
			"value": map[string]any{"tuple": []any{"a", 1}}}, nil)
		var st struct {
			Value string `json:"value"`
			Set   bool   `json:"set"`
		}
		call(t, ctx, p, map[string]any{"op": "state_recv", "slot": "st", "type": "object"}, &st)
		equal(t, "state_recv", "('a', 1)", st.Value)
		equal(t, "state_recv set", true, st.Set)
	})

	t.Run("clientserver", func(t *testing.T) {
		p := peer.StartModule(t, "clientserver")
		var served struct {
			Port int `json:"port"`
		}
		call(t, ctx, p, map[string]any{"op": "serve", "addr": "localhost:0", "handler": "record"}, &served)
		var r struct {
			Reply string `json:"reply"`
		}
		call(t, ctx, p, map[string]any{"op": "request", "addr": fmt.Sprintf("localhost:%d", served.Port), "request": "hi", "timeout": 5}, &r)
		if !strings.HasPrefix(r.Reply, "Python got hi") {
			t.Errorf("reply %q, want Python got hi", r.Reply)
		}
		call(t, ctx, p, map[string]any{"op": "stop"}, nil)
		call(t, ctx, p, map[string]any{"op": "exit"}, nil)
		must(t, p.Wait(ctx), "Wait after exit")
	})

	t.Run("examples role", func(t *testing.T) {
		p := peer.StartModule(t, "examples", "chat", "--name", "py")
		line, err := p.ReadLine(ctx)
		must(t, err, "ReadLine")
		equal(t, "first line", "joined as py", line)
		must(t, p.CloseStdin(), "CloseStdin")
		line, err = p.ReadLine(ctx)
		must(t, err, "ReadLine")
		equal(t, "last line", "left", line)
		must(t, p.Wait(ctx), "Wait")
	})

	t.Run("unknown module", func(t *testing.T) {
		p := peer.StartModule(t, "nope")
		var exitErr *exec.ExitError
		if err := p.Wait(ctx); !errors.As(err, &exitErr) {
			t.Fatalf("Wait: %v, want an exit error", err)
		}
		if !strings.Contains(p.Stderr(), "no command module peer_nope.py") {
			t.Errorf("stderr %q", p.Stderr())
		}
	})
}
