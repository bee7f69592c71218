package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/clientserver"
	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
)

// TestMain checks that run leaves no goroutine behind; IgnoreCurrent
// leaves out gnet's global pool, started when its package initialises.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// output is an io.Writer that tests can wait on.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.changed)
	o.changed = make(chan struct{})
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitMatch waits until the output matches re and returns the submatches.
func (o *output) waitMatch(t *testing.T, ctx context.Context, re *regexp.Regexp) []string {
	t.Helper()
	for {
		o.mu.Lock()
		m := re.FindStringSubmatch(o.buf.String())
		ch := o.changed
		o.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("waiting for %v: %v; output so far:\n%s", re, ctx.Err(), o.String())
		}
	}
}

// tool is one run of the command in a goroutine.
type tool struct {
	stdout, stderr *output
	code           chan int
	cancel         context.CancelFunc
}

// start runs args in a goroutine; the test's cleanup ends it and waits.
func start(t *testing.T, ctx context.Context, stdin io.Reader, args ...string) *tool {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	tl := &tool{stdout: newOutput(), stderr: newOutput(), code: make(chan int, 1), cancel: cancel}
	go func() { tl.code <- run(ctx, args, stdin, tl.stdout, tl.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-tl.code:
		case <-time.After(testkit.Timeout):
			t.Errorf("yotoncat %v did not end", args)
		}
	})
	return tl
}

// wait returns the exit status.
func (tl *tool) wait(t *testing.T, ctx context.Context) int {
	t.Helper()
	select {
	case c := <-tl.code:
		tl.code <- c // for the cleanup
		return c
	case <-ctx.Done():
		t.Fatalf("still running: %v\nstdout:\n%s\nstderr:\n%s", ctx.Err(), tl.stdout, tl.stderr)
		return -1
	}
}

var boundRE = regexp.MustCompile(`bound (127\.0\.0\.1:\d+), waiting for a peer`)

// bound waits for the "bound" line of a -bind run and returns its address.
func (tl *tool) bound(t *testing.T, ctx context.Context) string {
	t.Helper()
	return tl.stderr.waitMatch(t, ctx, boundRE)[1]
}

// runSync runs args to the end.
func runSync(t *testing.T, ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

const stamp = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`

func TestPubSub(t *testing.T) {
	tests := []struct {
		name    string
		subArgs []string // besides -addr, -bind, -slot and -count
		pubArgs []string // besides -addr and -slot
		stdin   string
		want    []string // regular expressions, one per line of sub's stdout
	}{
		{
			name:    "text arguments",
			pubArgs: []string{"hello", "wörld"},
			want:    []string{`^` + stamp + ` hello$`, `^` + stamp + ` wörld$`},
		},
		{
			name:    "text stdin json output",
			subArgs: []string{"-json"},
			stdin:   "one\ntwo \"q\"\n",
			want:    []string{`^\{"time":"` + stamp + `","slot":"news","message":"one"\}$`, `^\{"time":"[^"]+","slot":"news","message":"two \\"q\\""\}$`},
		},
		{
			name:    "object",
			subArgs: []string{"-type", "object"},
			pubArgs: []string{"-type", "object", `{"b": [1, 2.5, null, true], "a": "x"}`, `7`},
			want:    []string{`^` + stamp + regexp.QuoteMeta(` {'b': [1, 2.5, None, True], 'a': 'x'}`) + `$`, `^` + stamp + ` 7$`},
		},
		{
			name:    "object json output",
			subArgs: []string{"-type", "object", "-json"},
			pubArgs: []string{"-type", "object", `{"b": [1, 2.5, {}], "a": 1e3}`, `"s"`},
			want:    []string{`"message":\{"b":\[1,2\.5,\{\}\],"a":1000\}\}$`, `"message":"s"\}$`},
		},
		{
			name:    "json",
			subArgs: []string{"-type", "json"},
			pubArgs: []string{"-type", "json", `{"a": [1, 2]}`},
			want:    []string{`^` + stamp + ` \{"a":\[1,2\]\}$`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testkit.Context(t)
			sub := start(t, ctx, nil, append([]string{"sub", "-addr", "127.0.0.1:0", "-bind", "-slot", "news",
				"-count", fmt.Sprint(len(tt.want)), "-timeout", testkit.Timeout.String()}, tt.subArgs...)...)
			addr := sub.bound(t, ctx)
			code, _, stderr := runSync(t, ctx, tt.stdin, append([]string{"pub", "-addr", addr, "-slot", "news"}, tt.pubArgs...)...)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stderr, fmt.Sprintf("published %d message(s)", len(tt.want)))
			require.Equal(t, 0, sub.wait(t, ctx), sub.stderr.String())
			lines := strings.Split(strings.TrimSuffix(sub.stdout.String(), "\n"), "\n")
			require.Len(t, lines, len(tt.want))
			for i, re := range tt.want {
				assert.Regexp(t, re, lines[i])
			}
		})
	}
}

func TestSubEnds(t *testing.T) {
	t.Run("short of count when the peer leaves", func(t *testing.T) {
		ctx := testkit.Context(t)
		x := reactorkit.NewContext(t, reactorkit.NewReactor(t))
		conn, err := x.Bind("127.0.0.1:0", 1, "")
		require.NoError(t, err)
		_, port := conn.LocalAddr()
		sub := start(t, ctx, nil, "sub", "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-slot", "news", "-count", "1")
		sub.stderr.waitMatch(t, ctx, regexp.MustCompile(`connected to `))
		conn.Close("bye")
		assert.Equal(t, 1, sub.wait(t, ctx))
		assert.Contains(t, sub.stderr.String(), "got 0 of 1 messages")
	})
	t.Run("timeout without count is a normal end", func(t *testing.T) {
		ctx := testkit.Context(t)
		code, stdout, stderr := runSync(t, ctx, "", "sub", "-addr", "127.0.0.1:0", "-bind", "-slot", "news", "-timeout", "1ms")
		assert.Equal(t, 0, code, stderr)
		assert.Empty(t, stdout)
	})
}

func TestCallServeEcho(t *testing.T) {
	tests := []struct {
		name       string
		args       []string // after call's flags
		json       bool
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "positional", args: []string{"echo", "1", "x", `{"k": [true, 2.5]}`, "null"},
			wantStdout: "(1, 'x', {'k': [True, 2.5]}, None)\n"},
		{name: "keywords", args: []string{"-kw", "n=3", "-kw", "s=yes", "echo", "a"},
			wantStdout: "(('a',), {'n': 3, 's': 'yes'})\n"},
		{name: "json", json: true, args: []string{"echo", "1", `"two"`},
			wantStdout: "[1,\"two\"]\n"},
		{name: "unknown method", args: []string{"nope"},
			wantCode: 1, wantStderr: "remote error: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testkit.Context(t)
			serve := start(t, ctx, nil, "serve", "-addr", "127.0.0.1:0", "-bind", "-slot", "calc", "-echo")
			addr := serve.bound(t, ctx)
			args := []string{"call", "-addr", addr, "-slot", "calc"}
			if tt.json {
				args = append(args, "-json")
			}
			code, stdout, stderr := runSync(t, ctx, "", append(args, tt.args...)...)
			assert.Equal(t, tt.wantCode, code, stderr)
			assert.Equal(t, tt.wantStdout, stdout)
			assert.Contains(t, stderr, tt.wantStderr)
			// The caller left: serve -bind, which serves one peer, ends.
			require.Equal(t, 0, serve.wait(t, ctx), serve.stderr.String())
			assert.Contains(t, serve.stderr.String(), "connection closed")
		})
	}
}

func TestServeExec(t *testing.T) {
	ctx := testkit.Context(t)
	serve := start(t, ctx, nil, "serve", "-addr", "127.0.0.1:0", "-bind", "-slot", "sh", "-exec", "echo said:")
	addr := serve.bound(t, ctx)
	code, stdout, stderr := runSync(t, ctx, "", "call", "-addr", addr, "-slot", "sh", "exec", "hi", "42")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "'said: hi 42\\n'\n", stdout)
	require.Equal(t, 0, serve.wait(t, ctx))
}

func TestStateWatch(t *testing.T) {
	ctx := testkit.Context(t)
	x := reactorkit.NewContext(t, reactorkit.NewReactor(t))
	st, err := channels.NewStateChannel(x, "status", channels.Text)
	require.NoError(t, err)
	require.NoError(t, st.Send(ctx, "idle"))
	conn, err := x.Bind("127.0.0.1:0", 1, "")
	require.NoError(t, err)
	_, port := conn.LocalAddr()

	watch := start(t, ctx, nil, "state", "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-slot", "status", "-count", "3")
	// The current state arrives when the watcher joins (resent to a newcomer).
	watch.stdout.waitMatch(t, ctx, regexp.MustCompile(`(?m)^`+stamp+` idle$`))
	require.NoError(t, st.Send(ctx, "busy"))
	watch.stdout.waitMatch(t, ctx, regexp.MustCompile(`(?m)^`+stamp+` busy$`))
	require.NoError(t, st.Send(ctx, "idle"))
	require.Equal(t, 0, watch.wait(t, ctx), watch.stderr.String())
	assert.Regexp(t, `^`+stamp+` idle\n`+stamp+` busy\n`+stamp+` idle\n$`, watch.stdout.String())
}

func TestRequest(t *testing.T) {
	ctx := testkit.Context(t)
	r := reactorkit.NewReactor(t)
	srv, err := clientserver.NewRequestServer(r, "127.0.0.1:0", func(req string) string { return "got " + req })
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })

	code, stdout, stderr := runSync(t, ctx, "", "request", "-addr", srv.Addr().String(), "time?")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "got time?\n", stdout)
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage: yotoncat"},
		{"unknown command", []string{"frob"}, `unknown command "frob"`},
		{"no addr", []string{"sub", "-slot", "x"}, "-addr is required"},
		{"no slot", []string{"pub", "-addr", "127.0.0.1:1"}, "-slot is required"},
		{"bad type", []string{"pub", "-addr", "127.0.0.1:1", "-slot", "x", "-type", "yaml"}, "-type must be"},
		{"bind and connect", []string{"sub", "-addr", "127.0.0.1:1", "-slot", "x", "-bind", "-connect"}, "exclude each other"},
		{"serve without handler", []string{"serve", "-addr", "127.0.0.1:1", "-slot", "x"}, "one of -echo and -exec"},
		{"call without method", []string{"call", "-addr", "127.0.0.1:1", "-slot", "x"}, "needs a METHOD"},
		{"bad flag", []string{"state", "-frob"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runSync(t, testkit.Context(t), "", tt.args...)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, tt.want)
		})
	}
	t.Run("bad object message sends nothing", func(t *testing.T) {
		code, _, stderr := runSync(t, testkit.Context(t), "", "pub", "-addr", "127.0.0.1:1", "-slot", "x", "-type", "object", "{bad")
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, "invalid JSON")
	})
}

// python is a real Python yoton peer (peer.py) with one context, bound
// on a free loopback port.
func python(t *testing.T, ctx context.Context) (*pypeer.Process, string) {
	t.Helper()
	proc := pypeer.Require(t).Start(t, "peer.py")
	require.NoError(t, proc.Call(ctx, map[string]any{"op": "context"}, nil))
	var b struct {
		Port int `json:"port"`
	}
	require.NoError(t, proc.Call(ctx, map[string]any{"op": "bind", "addr": "127.0.0.1:0", "conn": "c"}, &b))
	return proc, fmt.Sprintf("127.0.0.1:%d", b.Port)
}

func TestPythonRep(t *testing.T) {
	ctx := testkit.Context(t)
	proc, addr := python(t, ctx)
	require.NoError(t, proc.Call(ctx, map[string]any{"op": "rep", "slot": "calc", "type": "object"}, nil))
	// A Python bind serves one peer: the error case uses a second peer process.
	code, stdout, stderr := runSync(t, ctx, "", "call", "-addr", addr, "-slot", "calc", "-kw", "greeting=Hi", "greet", "Go")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "'Hi, Go!'\n", stdout)

	proc2, addr2 := python(t, ctx)
	require.NoError(t, proc2.Call(ctx, map[string]any{"op": "rep", "slot": "calc", "type": "object"}, nil))
	code, stdout, stderr = runSync(t, ctx, "", "call", "-addr", addr2, "-slot", "calc", "fail", "boom")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "remote error: ")
	assert.Contains(t, stderr, "boom")
}

func TestPythonPubToSub(t *testing.T) {
	ctx := testkit.Context(t)
	proc, addr := python(t, ctx)
	require.NoError(t, proc.Call(ctx, map[string]any{"op": "pub", "slot": "news", "type": "object"}, nil))
	sub := start(t, ctx, nil, "sub", "-addr", addr, "-slot", "news", "-type", "object", "-json", "-count", "2")
	// Once Python sees the connection, the sub channel (made before connecting) is in place.
	require.NoError(t, proc.Call(ctx, map[string]any{"op": "wait_connected", "conn": "c"}, nil))
	require.NoError(t, proc.Call(ctx, map[string]any{"op": "send", "kind": "pub", "slot": "news", "type": "object",
		"values": []any{map[string]any{"n": 1, "l": []any{1.5, "x", nil}}, "bye"}}, nil))
	require.Equal(t, 0, sub.wait(t, ctx), sub.stderr.String())
	lines := strings.Split(strings.TrimSuffix(sub.stdout.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	assert.Regexp(t, `"message":\{("n":1,"l":\[1\.5,"x",null\]|"l":\[1\.5,"x",null\],"n":1)\}\}$`, lines[0])
	assert.Regexp(t, `"message":"bye"\}$`, lines[1])
}

// TestStats: -stats prints the context's and the connection's counters
// as one JSON line on stderr when the command ends.
func TestStats(t *testing.T) {
	ctx := testkit.Context(t)
	serve := start(t, ctx, nil, "serve", "-addr", "127.0.0.1:0", "-bind", "-slot", "calc", "-echo", "-stats")
	addr := serve.bound(t, ctx)
	code, stdout, stderr := runSync(t, ctx, "", "call", "-stats", "-addr", addr, "-slot", "calc", "echo", "hi")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "('hi',)\n", stdout)
	require.Equal(t, 0, serve.wait(t, ctx), serve.stderr.String())

	for name, errOut := range map[string]string{"call": stderr, "serve": serve.stderr.String()} {
		var line string
		for _, l := range strings.Split(errOut, "\n") {
			if strings.HasPrefix(l, "{") {
				line = l
			}
		}
		require.NotEmpty(t, line, "%s printed no stats:\n%s", name, errOut)
		var rep statsReport
		require.NoError(t, json.Unmarshal([]byte(line), &rep), line)
		assert.Positive(t, rep.Context.PackagesOut, name)
		assert.Positive(t, rep.Context.PackagesIn, name)
		require.Len(t, rep.Connections, 1, name)
		for key, cs := range rep.Connections {
			assert.True(t, strings.HasPrefix(key, "yotoncat "), key)
			assert.Positive(t, cs.BytesOut, name)
		}
	}
}
