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
	"github.com/goyoton/yoton/examples/internal/ports"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// TestMain checks that run leaves no goroutine behind. gnet starts a
// global goroutine pool when its package initialises; IgnoreCurrent
// leaves those out.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// frameLine is the client's line for a frame.
const frameLine = `^client: frame (\d+) from the publisher; the replier says element (\d+) is (\w+)$`

// requireFrames checks that the client handled n consecutive frames and
// got the right element for each.
func requireFrames(t *testing.T, lines []string, n int) {
	t.Helper()
	var prev int
	got := 0
	for _, l := range lines {
		m := exampletest.Find(l, frameLine)
		if m == nil {
			continue
		}
		frame, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		require.Equal(t, m[1], m[2])
		require.Equal(t, elements[frame-1], m[3], "element %d", frame)
		if got > 0 {
			require.Equal(t, prev%len(elements)+1, frame, "frames follow each other")
		}
		prev = frame
		got++
	}
	require.Equal(t, n, got)
}

func TestRunAll(t *testing.T) {
	ctx := testkit.Context(t)
	var out exampletest.Transcript
	require.NoError(t, run(ctx, &out, config{role: "all", addr: "127.0.0.1:0", frames: 20, interval: 5 * time.Millisecond, timeout: 20 * time.Second}))
	lines := out.Lines()
	exampletest.RequireInOrder(t, lines,
		`^connector: bound 127\.0\.0\.1:\d+ for the publisher$`,
		`^connector: bound 127\.0\.0\.1:\d+ for the replier$`,
		`^connector: bound 127\.0\.0\.1:\d+ for the client$`,
		`^replier: connected to 127\.0\.0\.1:\d+, serving "data\.obj\.req-rep"$`,
		`^publisher: connected to 127\.0\.0\.1:\d+, publishing "stream\.obj\.pub-sub" every 5ms$`,
		`^client: connected to 127\.0\.0\.1:\d+$`,
		frameLine,
		`^client: handled 20 frames$`,
		`^connector: relayed between 3 connections, with no channel of its own$`,
		`^closed cleanly$`,
	)
	// 20 frames: the stream wraps after argon (18).
	requireFrames(t, lines, 20)
}

// The four roles as four programs, finding each other by the connector's
// address.
func TestRunRoles(t *testing.T) {
	ctx := testkit.Context(t)
	base := testkit.FreePorts(t, 3)
	cfg := config{addr: base, frames: 5, interval: 5 * time.Millisecond, timeout: 10 * time.Second}

	type role struct {
		out  *exampletest.Transcript
		stop func() error
	}
	var roles []role
	defer func() {
		for _, r := range roles {
			require.NoError(t, r.stop())
			exampletest.RequireInOrder(t, r.out.Lines(), `: stopping \(context canceled\)$`, `^closed cleanly$`)
		}
	}()
	for _, name := range []string{"connector", "replier", "publisher"} {
		rctx, rcancel := context.WithCancel(ctx)
		c := cfg
		c.role = name
		out, wait := exampletest.Go(rctx, func(ctx context.Context, w io.Writer) error { return run(ctx, w, c) })
		roles = append(roles, role{out, func() error { rcancel(); return wait() }})
		if name == "connector" {
			out.RequireWait(t, ctx, `^connector: bound .* for the client$`)
		} else {
			out.RequireWait(t, ctx, `^`+name+`: connected to `)
		}
	}

	var out exampletest.Transcript
	c := cfg
	c.role = "client"
	require.NoError(t, run(ctx, &out, c))
	addr, err := ports.Offset(base, clientPort)
	require.NoError(t, err)
	exampletest.RequireInOrder(t, out.Lines(), `^client: connected to `+addr+`$`, `^client: handled 5 frames$`, `^closed cleanly$`)
	requireFrames(t, out.Lines(), 5)
}

func TestRunFailures(t *testing.T) {
	ok := config{role: "all", addr: "127.0.0.1:0", frames: 1, interval: time.Millisecond, timeout: time.Second}
	with := func(f func(*config)) config { c := ok; f(&c); return c }
	tests := []struct {
		name string
		cfg  config
		is   error // nil: any error
	}{
		{name: "unknown role", cfg: with(func(c *config) { c.role = "referee" })},
		{name: "no frames", cfg: with(func(c *config) { c.frames = 0 })},
		{name: "no interval", cfg: with(func(c *config) { c.interval = 0 })},
		{name: "bad address", cfg: with(func(c *config) { c.addr = "nocolon" })},
		{name: "free port for a role", cfg: with(func(c *config) { c.role = "client" }), is: ports.ErrFreePort},
		{name: "no connector", cfg: with(func(c *config) { c.role, c.addr, c.timeout = "client", "127.0.0.1:1", 300*time.Millisecond }), is: reactor.ErrConnect},
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
