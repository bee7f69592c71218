package main

import (
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/goyoton/yoton/examples/internal/exampletest"
	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// TestMain checks that run leaves no goroutine behind. gnet starts a
// global goroutine pool when its package initialises; IgnoreCurrent
// leaves those out.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// The one-process run: several clients on the hub's one port, one
// leaving, a late joiner getting the roster at once, the hub closing its
// listener and dropping everyone and listening again on the same port,
// the clients coming back by themselves.
func TestRunAll(t *testing.T) {
	ctx := testkit.ContextTimeout(t, 60*time.Second)
	var out exampletest.Transcript
	cfg := config{role: "all", addr: "127.0.0.1:0", tick: 50 * time.Millisecond, downtime: 300 * time.Millisecond, timeout: 30 * time.Second}
	require.NoError(t, run(ctx, nil, &out, cfg), "transcript:\n%s", &out)
	ls := out.Lines()
	port := exampletest.RequireFind(t, ls, `^hub: listening at 127\.0\.0\.1:(\d+), one port for every client; a tick every 50ms$`)[1]

	// (a) Every client connected to the one port; the hub names them in
	// the order they joined, each on a connection of its own.
	for _, name := range []string{"ada", "bob", "cy", "dee"} {
		exampletest.RequireFind(t, ls, `^`+name+`: connected to the hub at 127\.0\.0\.1:`+port+` from port \d+$`)
	}
	exampletest.RequireInOrder(t, ls,
		`^== 1\. ada, bob and cy join, all on the hub's one port$`,
		`^hub: 127\.0\.0\.1:\d+ joined \(1 connected\)$`,
		`^hub: 127\.0\.0\.1:\d+ is ada$`,
		`^hub: 127\.0\.0\.1:\d+ joined \(2 connected\)$`,
		`^hub: 127\.0\.0\.1:\d+ is bob$`,
		`^hub: 127\.0\.0\.1:\d+ joined \(3 connected\)$`,
		`^hub: 127\.0\.0\.1:\d+ is cy$`,
		`^== 2\. bob leaves$`,
	)
	for _, name := range []string{"ada", "bob", "cy"} {
		exampletest.RequireInOrder(t, ls, `^== 1\.`, `^`+name+`: state( on arrival)?: 3 clients: ada, bob, cy$`, `^== 2\.`)
		exampletest.RequireInOrder(t, ls, `^== 1\.`, `^`+name+`: first tick: tick \d+: `, `^== 2\.`)
	}

	// (b) bob leaves, dee joins.
	exampletest.RequireInOrder(t, ls,
		`^== 2\. bob leaves$`,
		`^bob: leaving after \d+ ticks? and 0 reconnects$`,
		`^hub: bob left: Closed from other end\. \(2 connected\)$`,
		`^== 3\. dee joins late and gets the roster at once$`,
		`^hub: 127\.0\.0\.1:\d+ joined \(3 connected\)$`,
		`^hub: 127\.0\.0\.1:\d+ is dee$`,
		`^== 4\.`,
	)
	for _, name := range []string{"ada", "cy"} {
		exampletest.RequireInOrder(t, ls, `^== 2\.`, `^`+name+`: state: 2 clients: ada, cy$`, `^== 3\.`)
		exampletest.RequireInOrder(t, ls, `^== 3\.`, `^`+name+`: state: 3 clients: ada, cy, dee$`, `^== 4\.`)
	}
	// (c) The late joiner's first state is the roster as it was when it
	// arrived (ada and cy, before or after its own hello counted): it
	// came at once, resent because dee joined the network.
	exampletest.RequireInOrder(t, ls, `^== 3\.`, `^dee: state on arrival: \d clients: ada, cy(, dee)?$`, `^dee: first tick: tick \d+: `, `^== 4\.`)
	require.Equal(t, 1, exampletest.Count(ls, `^dee: state on arrival: `))

	// (d) The hub closes its listener and drops everyone; the clients
	// redial, and come back once it listens on the same port again.
	m := exampletest.RequireFind(t, ls, `^hub: listening again at 127\.0\.0\.1:(\d+); (\d+) ticks? went to nobody meanwhile$`)
	require.Equal(t, port, m[1], "the second listener has the first one's port")
	unheard, err := strconv.Atoi(m[2])
	require.NoError(t, err)
	require.Positive(t, unheard, "the hub ticked while nobody was connected")
	exampletest.RequireInOrder(t, ls, `^== 4\.`, `^hub: listener closed; dropping 3 connection\(s\)$`, `^hub: down for 300ms$`, `^hub: listening again at `, `^== 5\.`)
	for _, name := range []string{"ada", "cy", "dee"} {
		exampletest.RequireInOrder(t, ls,
			`^== 4\.`,
			`^hub: `+name+` left: The hub restarts\. \(\d connected\)$`,
			`^hub: listening again at `,
			`^hub: 127\.0\.0\.1:\d+ is `+name+`$`,
			`^== 5\.`,
		)
		exampletest.RequireInOrder(t, ls,
			`^== 4\.`,
			`^`+name+`: lost the hub \(Closed from other end\.\); reconnecting$`,
			`^hub: listening again at `,
			`^`+name+`: reconnected from port \d+$`,
			`^`+name+`: state: 3 clients: `,
			`^== 5\.`,
		)
		// What the client reported while it was down waited in its
		// queue and reached the hub after the reconnect.
		m := exampletest.RequireFind(t, ls, `^hub: report: `+name+`: lost the hub after tick (\d+); this report waited for the reconnect$`)
		lost, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		exampletest.RequireInOrder(t, ls, `^hub: listening again at `, `^hub: report: `+name+`: lost the hub`, `^== 5\.`)
		// It receives ticks again, and none of those the hub published
		// while nobody was connected (the hub drops them).
		exampletest.RequireInOrder(t, ls, `^`+name+`: reconnected from port`, `^`+name+`: first tick since reconnecting: tick \d+: `, `^== 5\.`)
		m = exampletest.RequireFind(t, ls, `^`+name+`: first tick since reconnecting: tick (\d+): `)
		first, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		require.Greater(t, first, lost+unheard, "%s: first tick after the reconnect", name)
	}

	// Everyone leaves; the hub saw every join and every leave.
	exampletest.RequireInOrder(t, ls, `^== 5\. everyone leaves$`, `^hub: 7 joins, 7 leaves, \d+ ticks; `, `^closed cleanly$`)
	require.Equal(t, 7, exampletest.Count(ls, `^hub: 127\.0\.0\.1:\d+ joined \(\d connected\)$`))
	require.Equal(t, 7, exampletest.Count(ls, `^hub: \w+ left: `))
	for _, name := range []string{"ada", "cy", "dee"} {
		exampletest.RequireInOrder(t, ls, `^== 5\.`, `^`+name+`: leaving after \d+ ticks? and 1 reconnect$`, `^hub: `+name+` left: Closed from other end\.`)
	}
}

// goRole runs a role on a goroutine of the test (exampletest.GoWithInput:
// stop closes the input, cancels the role, as Ctrl-D and Ctrl-C do, and
// returns run's error).
func goRole(ctx context.Context, cfg config) (*exampletest.Transcript, chan<- string, func() error) {
	return exampletest.GoWithInput(ctx, func(ctx context.Context, in <-chan string, w io.Writer) error { return run(ctx, in, w, cfg) })
}

// The hub and a client as separate programs; the hub program stops and a
// new one starts on the same port: the client comes back to it by
// itself, and takes the new hub's roster although its revision is lower.
func TestRunRolesHubRestarts(t *testing.T) {
	ctx := testkit.ContextTimeout(t, 60*time.Second)
	hub1, _, stopHub1 := goRole(ctx, config{role: "hub", addr: "127.0.0.1:0", tick: 50 * time.Millisecond})
	addr := hub1.RequireWait(t, ctx, `^hub: listening at (127\.0\.0\.1:\d+), one port for every client; a tick every 50ms$`)[1]

	ada, adaIn, stopAda := goRole(ctx, config{role: "client", name: "ada", addr: addr, timeout: 10 * time.Second})
	t.Cleanup(func() { _ = stopAda() })
	ada.RequireWait(t, ctx, `^ada: connected to the hub at `+addr+` from port \d+$`)
	hub1.RequireWait(t, ctx, `^hub: 127\.0\.0\.1:\d+ is ada$`)
	ada.RequireWait(t, ctx, `^ada: state( on arrival)?: 1 client: ada$`)
	ada.RequireWait(t, ctx, `^ada: tick \d+: 1 client: ada$`)
	testkit.Send(t, ctx, adaIn, "all good here")
	hub1.RequireWait(t, ctx, `^hub: report: ada: all good here$`)

	require.NoError(t, stopHub1())
	exampletest.RequireInOrder(t, hub1.Lines(), `^hub: stopping `, `^hub: 1 join, 0 leaves, `, `^closed cleanly$`)
	ada.RequireWait(t, ctx, `^ada: lost the hub \(.+\); reconnecting$`)

	hub2, _, stopHub2 := goRole(ctx, config{role: "hub", addr: addr, tick: 50 * time.Millisecond})
	hub2.RequireWait(t, ctx, `^hub: listening at `+addr+`, `)
	ada.RequireWait(t, ctx, `^ada: reconnected from port \d+$`)
	hub2.RequireWait(t, ctx, `^hub: 127\.0\.0\.1:\d+ is ada$`)
	hub2.RequireWait(t, ctx, `^hub: report: ada: lost the hub after tick \d+; this report waited for the reconnect$`)
	ada.RequireWait(t, ctx, `^ada: state from a restarted hub: `)
	ada.RequireWait(t, ctx, `^ada: first tick since reconnecting: tick \d+: `)

	// A client that leaves by itself after a few ticks.
	bob, _, stopBob := goRole(ctx, config{role: "client", name: "bob", addr: addr, ticks: 3, timeout: 10 * time.Second})
	bob.RequireWait(t, ctx, `^bob: leaving after 3 ticks and 0 reconnects$`)
	require.NoError(t, stopBob())
	hub2.RequireWait(t, ctx, `^hub: bob left: Closed from other end\. \(1 connected\)$`)

	require.NoError(t, stopAda())
	hub2.RequireWait(t, ctx, `^hub: ada left: Closed from other end\. \(0 connected\)$`)
	require.NoError(t, stopHub2())
	exampletest.RequireInOrder(t, ada.Lines(), `^ada: leaving after \d+ ticks and 1 reconnect$`, `^closed cleanly$`)
	exampletest.RequireInOrder(t, hub2.Lines(), `^hub: 2 joins, 2 leaves, `, `^closed cleanly$`)
}

// Python yoton clients (internal/pypeer/scripts/peer_examples.py
// hub-client) join the Go hub on its one port: they receive the ticks and
// the roster, one leaves while another joins.
func TestRunPythonClients(t *testing.T) {
	peer := pypeer.Require(t)
	ctx := testkit.ContextTimeout(t, 60*time.Second)
	hub, _, stopHub := goRole(ctx, config{role: "hub", addr: "127.0.0.1:0", tick: 100 * time.Millisecond})
	t.Cleanup(func() { _ = stopHub() })
	addr := hub.RequireWait(t, ctx, `^hub: listening at (127\.0\.0\.1:\d+), `)[1]

	start := func(name string) *pypeer.Process {
		return peer.StartModule(t, "examples", "hub-client", "--connect", addr, "--name", name)
	}
	joined := func(py *pypeer.Process, name string) {
		t.Helper()
		m, _ := exampletest.WaitPeerLine(t, ctx, py, `^joined as `+name+` from port (\d+)$`)
		hub.RequireWait(t, ctx, `^hub: 127\.0\.0\.1:`+m[1]+` is `+name+`$`)
	}
	leave := func(py *pypeer.Process, name string) {
		t.Helper()
		require.NoError(t, py.CloseStdin())
		exampletest.WaitPeerLine(t, ctx, py, `^left$`)
		require.NoError(t, py.Wait(ctx))
		hub.RequireWait(t, ctx, `^hub: `+name+` left: .+ \(\d connected\)$`)
	}

	py1 := start("py1")
	joined(py1, "py1")
	exampletest.WaitPeerLines(t, ctx, py1, `^state: 1 client: py1$`, `^tick \d+: 1 client: py1$`)

	// py2 gets the roster at once: py1 is on it (py2 too, if its own
	// hello was counted before py2 looked).
	py2 := start("py2")
	joined(py2, "py2")
	exampletest.WaitPeerLine(t, ctx, py2, `^state: \d clients?: py1(, py2)?$`)
	exampletest.WaitPeerLine(t, ctx, py2, `^tick \d+: 2 clients: py1, py2$`)
	exampletest.WaitPeerLine(t, ctx, py1, `^state: 2 clients: py1, py2$`)

	// py1 leaves while py3 joins.
	py3 := start("py3")
	leave(py1, "py1")
	joined(py3, "py3")
	exampletest.WaitPeerLine(t, ctx, py3, `^state: 2 clients: py2, py3$`)
	exampletest.WaitPeerLine(t, ctx, py3, `^tick \d+: 2 clients: py2, py3$`)
	exampletest.WaitPeerLine(t, ctx, py2, `^state: 2 clients: py2, py3$`)
	exampletest.WaitPeerLine(t, ctx, py2, `^tick \d+: 2 clients: py2, py3$`)

	leave(py2, "py2")
	leave(py3, "py3")
	require.NoError(t, stopHub())
	lines := hub.Lines()
	require.Equal(t, 3, exampletest.Count(lines, `^hub: 127\.0\.0\.1:\d+ joined \(\d connected\)$`))
	exampletest.RequireInOrder(t, lines, `^hub: 3 joins, 3 leaves, `, `^closed cleanly$`)
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
		is   error // nil: any error
	}{
		{name: "unknown role", cfg: config{role: "referee"}},
		{name: "client without a name", cfg: config{role: "client", addr: "127.0.0.1:1"}},
		{name: "name with a comma", cfg: config{role: "client", name: "a,b", addr: "127.0.0.1:1"}},
		{name: "negative tick", cfg: config{role: "all", tick: -time.Second}},
		{name: "negative downtime", cfg: config{role: "all", downtime: -time.Second}},
		{name: "negative ticks", cfg: config{role: "client", name: "zoe", ticks: -1}},
		{name: "bad address", cfg: config{role: "hub", addr: "nocolon"}},
		{name: "nobody to connect to", cfg: config{role: "client", name: "zoe", addr: "127.0.0.1:1", timeout: 300 * time.Millisecond}, is: reactor.ErrConnect},
		{name: "no time", cfg: config{role: "all", timeout: time.Nanosecond}, is: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testkit.ContextTimeout(t, 10*time.Second)
			var out exampletest.Transcript
			err := run(ctx, nil, &out, tt.cfg)
			require.Error(t, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.NotContains(t, out.String(), "closed cleanly")
		})
	}
}
