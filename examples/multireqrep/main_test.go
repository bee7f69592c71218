package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/goyoton/yoton/examples/internal/exampletest"
	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
)

// TestMain checks that run leaves no goroutine behind. gnet starts a
// global goroutine pool when its package initialises; IgnoreCurrent
// leaves those out.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// requireServed checks the summary: every named replier served at least
// one request and all total requests were served.
func requireServed(t *testing.T, lines []string, total int, repliers ...string) {
	t.Helper()
	for _, name := range repliers {
		require.Equal(t, 1, exampletest.Count(lines, `^replier `+name+` served [1-9]\d*: `),
			"replier %s served nothing:\n%s", name, lines)
	}
	exampletest.RequireInOrder(t, lines, fmt.Sprintf(`^%d requests spread over %d of %d repliers$`, total, len(repliers), len(repliers)))
	require.Equal(t, total, exampletest.Count(lines, `^requester r\d: square\(\d\) = \d+, served by replier \w+$`))
}

func TestRunAll(t *testing.T) {
	ctx := testkit.ContextTimeout(t, 30*time.Second)
	var out exampletest.Transcript
	cfg := config{role: "all", addr: "127.0.0.1:0", repliers: 3, requesters: 2, requests: 4, work: 100 * time.Millisecond, timeout: 30 * time.Second}
	require.NoError(t, run(ctx, &out, cfg))
	lines := out.Lines()
	exampletest.RequireInOrder(t, lines,
		`^hub: bound 5 ports: (127\.0\.0\.1:\d+ ){4}127\.0\.0\.1:\d+$`,
		`^requester r1: sent 4 requests$`,
		`^requester r1: square\(1\) = 1, served by replier [ABC]$`,
		`^requester r1: square\(4\) = 16, served by replier [ABC]$`,
		`^requester r2: square\(4\) = 16, served by replier [ABC]$`,
		`^replier A served`,
		`^closed cleanly$`,
	)
	// Each replier works on one request at a time for 100 ms, and the
	// eight requests are sent at once: all three repliers get some.
	requireServed(t, lines, 8, "A", "B", "C")
	require.Equal(t, 8, exampletest.Count(lines, `^replier [ABC]: working on square\(\d\) for r\d$`))
}

// goRun runs a role on a goroutine of the test; stop cancels it and
// returns run's error.
func goRun(ctx context.Context, cfg config) (out *exampletest.Transcript, stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	out, wait := exampletest.Go(ctx, func(ctx context.Context, w io.Writer) error { return run(ctx, w, cfg) })
	return out, func() error {
		cancel()
		return wait()
	}
}

// The roles as separate programs: a hub, two repliers and a requester.
func TestRunRoles(t *testing.T) {
	ctx := testkit.ContextTimeout(t, 30*time.Second)
	hubOut, stopHub := goRun(ctx, config{role: "hub", addr: "127.0.0.1:0", ports: 3})
	defer func() { require.NoError(t, stopHub()) }()
	m := hubOut.RequireWait(t, ctx, `^hub: bound 3 ports: (\S+) (\S+) (\S+)$`)

	var stops []func() error
	for i, name := range []string{"A", "B"} {
		out, stop := goRun(ctx, config{role: "replier", name: name, addr: m[1+i], work: 50 * time.Millisecond, timeout: 10 * time.Second})
		stops = append(stops, stop)
		out.RequireWait(t, ctx, `^replier `+name+`: connected to `)
	}

	var out exampletest.Transcript
	require.NoError(t, run(ctx, &out, config{role: "requester", name: "r1", addr: m[3], requests: 6, timeout: 20 * time.Second}))
	for _, stop := range stops {
		require.NoError(t, stop())
	}
	lines := out.Lines()
	exampletest.RequireInOrder(t, lines,
		`^requester r1: connected to 127\.0\.0\.1:\d+$`,
		`^requester r1: sent 6 requests$`,
		`^requester r1: square\(6\) = 36, served by replier [AB]$`,
		`^closed cleanly$`,
	)
	requireServed(t, lines, 6, "A", "B")
}

// A Python yoton replier (internal/pypeer/scripts/peer_examples.py) joins
// two Go repliers and takes its share of the requests.
func TestRunPythonReplier(t *testing.T) {
	peer := pypeer.Require(t)
	ctx := testkit.ContextTimeout(t, 30*time.Second)
	cfg := config{role: "all", addr: "127.0.0.1:0", repliers: 2, requesters: 2, requests: 4, external: 1,
		work: 100 * time.Millisecond, timeout: 30 * time.Second}
	out, wait := exampletest.Go(ctx, func(ctx context.Context, w io.Writer) error { return run(ctx, w, cfg) })
	t.Cleanup(func() { _ = wait() })
	m := out.RequireWait(t, ctx, `^hub: waiting for a replier from another process at (127\.0\.0\.1:\d+)$`)

	py := peer.StartModule(t, "examples", "replier", "--connect", m[1], "--name", "py", "--work", "0.1")
	exampletest.WaitPeerLine(t, ctx, py, `^ready py$`)
	require.NoError(t, wait())
	lines := out.Lines()
	exampletest.RequireInOrder(t, lines, `^hub: all 5 participants have joined$`, `^closed cleanly$`)
	requireServed(t, lines, 8, "A", "B", "py")

	// The Python replier printed a line for each request it took.
	m = exampletest.RequireFind(t, lines, `^replier py served (\d+): `)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.NoError(t, py.CloseStdin())
	_, pyLines := exampletest.WaitPeerLine(t, ctx, py, `^done$`)
	require.Equal(t, n, exampletest.Count(pyLines, `^replier py: working on square\(\d\) for r\d$`))
	require.NoError(t, py.Wait(ctx))
}

func TestRunFailures(t *testing.T) {
	ok := config{role: "all", addr: "127.0.0.1:0", repliers: 1, requesters: 1, requests: 1, ports: 1, timeout: time.Second}
	with := func(f func(*config)) config { c := ok; f(&c); return c }
	tests := []struct {
		name string
		cfg  config
	}{
		{name: "unknown role", cfg: with(func(c *config) { c.role = "referee" })},
		{name: "no requester", cfg: with(func(c *config) { c.requesters = 0 })},
		{name: "no replier", cfg: with(func(c *config) { c.repliers = 0 })},
		{name: "no requests", cfg: with(func(c *config) { c.requests = 0 })},
		{name: "negative", cfg: with(func(c *config) { c.external = -1 })},
		{name: "replier without a name", cfg: with(func(c *config) { c.role = "replier" })},
		{name: "bad address", cfg: with(func(c *config) { c.addr = "nocolon" })},
		{name: "nobody at the hub port", cfg: with(func(c *config) {
			c.role, c.name, c.addr, c.timeout = "requester", "r1", "127.0.0.1:1", 300*time.Millisecond
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testkit.ContextTimeout(t, 10*time.Second)
			var out exampletest.Transcript
			require.Error(t, run(ctx, &out, tt.cfg))
			require.NotContains(t, out.String(), "closed cleanly")
		})
	}
}
