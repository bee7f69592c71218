package main

import (
	"context"
	"fmt"
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

// clientLines is what the Go client prints, in order.
var clientLines = []string{
	`^client: connected to 127\.0\.0\.1:\d+$`,
	`^client: add\(3, 4\) = 7$`,
	`^client: the server's log: served add\(3, 4\) = 7$`,
	`^client: upper\('hello yoton'\) = 'HELLO YOTON'$`,
	`^client: the server's log: served upper\('hello yoton'\) = 'HELLO YOTON'$`,
	`^client: divide\(22, 7\) = 3\.14286$`,
	`^client: the server's log: served divide\(22, 7\) = 3\.14286$`,
	`^client: divide\(1, 0\) failed on the server: division by zero$`,
	`^client: the server's log: refused divide\(1, 0\): division by zero$`,
	`^client: done$`,
}

func TestRunAll(t *testing.T) {
	ctx := testkit.Context(t)
	var out exampletest.Transcript
	require.NoError(t, run(ctx, &out, config{role: "all", addr: "127.0.0.1:0", timeout: 20 * time.Second}))
	lines := out.Lines()
	exampletest.RequireInOrder(t, lines, `^server: bound at 127\.0\.0\.1:\d+, serving "calc\.obj\.req-rep" and publishing "log\.txt\.pub-sub"$`)
	exampletest.RequireInOrder(t, lines, clientLines...)
	exampletest.RequireInOrder(t, lines,
		`^server: served add\(3, 4\) = 7$`,
		`^client: add\(3, 4\) = 7$`,
		`^client: done$`,
		`^server: client left \(Closed from other end\.\)$`,
		`^closed cleanly$`,
	)
}

// startServerRole runs the server role on a goroutine of the test and returns
// its transcript, the address it bound, and a wait for its end.
func startServerRole(t *testing.T, ctx context.Context) (*exampletest.Transcript, string, func() error) {
	t.Helper()
	out := &exampletest.Transcript{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, out, config{role: "server", addr: "127.0.0.1:0"}) }()
	wait := func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return fmt.Errorf("the server did not stop; transcript:\n%s", out)
		}
	}
	m, err := out.Wait(ctx, `^server: bound at (127\.0\.0\.1:\d+),`)
	if err != nil {
		t.Fatalf("%v (the server ended with %v)", err, wait())
	}
	return out, m[1], wait
}

// The two roles as two programs: the server serves one client and stops
// when it leaves.
func TestRunRoles(t *testing.T) {
	ctx := testkit.Context(t)
	srvOut, addr, wait := startServerRole(t, ctx)

	var cliOut exampletest.Transcript
	require.NoError(t, run(ctx, &cliOut, config{role: "client", addr: addr, timeout: 10 * time.Second}))
	require.NoError(t, wait())
	exampletest.RequireInOrder(t, cliOut.Lines(), clientLines...)
	exampletest.RequireInOrder(t, srvOut.Lines(),
		`^server: served add\(3, 4\) = 7$`,
		`^server: served upper\('hello yoton'\) = 'HELLO YOTON'$`,
		`^server: served divide\(22, 7\) = 3\.14286$`,
		`^server: refused divide\(1, 0\): division by zero$`,
		`^server: client left`,
		`^closed cleanly$`,
	)
}

// A server stopped before any client came (Ctrl-C) ends without error.
func TestRunServerStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srvOut, _, wait := startServerRole(t, ctx)
	cancel()
	require.NoError(t, wait())
	exampletest.RequireInOrder(t, srvOut.Lines(), `^server: stopping \(context canceled\)$`, `^closed cleanly$`)
}

// A Python yoton client (internal/pypeer/scripts/peer_examples.py) against
// the Go server.
func TestRunPythonClient(t *testing.T) {
	peer := pypeer.Require(t)
	ctx := testkit.ContextTimeout(t, 30*time.Second)
	srvOut, addr, wait := startServerRole(t, ctx)

	py := peer.StartModule(t, "examples", "calc-client", "--connect", addr)
	_, lines := exampletest.WaitPeerLine(t, ctx, py, `^done$`)
	exampletest.RequireInOrder(t, lines,
		`^connected to 127\.0\.0\.1:\d+$`,
		`^add\(3, 4\) = 7$`,
		`^log: served add\(3, 4\) = 7$`,
		`^upper\('hello from python'\) = 'HELLO FROM PYTHON'$`,
		`^log: served upper\('hello from python'\) = 'HELLO FROM PYTHON'$`,
		`^divide\(22, 7\) = 3\.142857142857143$`,
		`^log: served divide\(22, 7\) = 3\.14286$`,
		`^divide\(1, 0\) failed: division by zero$`,
		`^log: refused divide\(1, 0\): division by zero$`,
	)
	require.NoError(t, py.Wait(ctx))
	require.NoError(t, wait())
	exampletest.RequireInOrder(t, srvOut.Lines(),
		`^server: served add\(3, 4\) = 7$`,
		`^server: refused divide\(1, 0\): division by zero$`,
		`^server: client left`,
		`^closed cleanly$`,
	)
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
		is   error // nil: any error
	}{
		{name: "unknown role", cfg: config{role: "referee", addr: "127.0.0.1:0"}},
		{name: "bad address", cfg: config{role: "all", addr: "nocolon", timeout: time.Second}},
		{name: "bad port", cfg: config{role: "server", addr: "127.0.0.1:99999"}},
		// Nobody listens on port 1: Connect gives up at the deadline.
		{name: "no server", cfg: config{role: "client", addr: "127.0.0.1:1", timeout: 300 * time.Millisecond}, is: reactor.ErrConnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testkit.ContextTimeout(t, 10*time.Second)
			var out exampletest.Transcript
			err := run(ctx, &out, tt.cfg)
			require.Error(t, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.NotContains(t, out.String(), "closed cleanly")
		})
	}
}
