package main

import (
	"context"
	"io"
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

func TestRunAll(t *testing.T) {
	ctx := testkit.Context(t)
	var out exampletest.Transcript
	require.NoError(t, run(ctx, nil, &out, config{role: "all", addr: "127.0.0.1:0", timeout: 20 * time.Second}))
	exampletest.RequireInOrder(t, out.Lines(),
		`^broker: bound 127\.0\.0\.1:\d+ for the kernel, 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ for the clients$`,
		`^kernel: connected to the broker at 127\.0\.0\.1:\d+$`,
		`^client1: connected to the broker at 127\.0\.0\.1:\d+$`,
		`^client2: connected to the broker at 127\.0\.0\.1:\d+$`,
		`^client1: kernel status Ready$`,
		`^client2: kernel status Ready$`,
		`^client1 types: let x = 6$`,
		`^  client1 \| >>> let x = 6$`, `^  client1 \| x = 6$`,
		`^  client2 \| >>> let x = 6$`, `^  client2 \| x = 6$`,
		`^client2 types: let y = x \* 7$`,
		`^  client1 \| >>> let y = x \* 7$`, `^  client1 \| y = 42$`,
		`^  client2 \| >>> let y = x \* 7$`, `^  client2 \| y = 42$`,
		`^client1 types: \(y - x\) / 4$`,
		`^  client1 \| 9$`, `^  client2 \| 9$`,
		`^client2 types: y / \(x - 6\)$`,
		`^  client1 \| >>> y / \(x - 6\)$`, `^  client1 ! error: division by zero$`,
		`^  client2 \| >>> y / \(x - 6\)$`, `^  client2 ! error: division by zero$`,
		`^client1: control\.vars\(\) = \{'x': 6, 'y': 42\}$`,
		`^client2: control\.info\(\) = \{'kernel': 'calc \(Go\)', 'pid': \d+, 'executed': 4, 'variables': 2\}$`,
		`^client1: control\.reset\(\) = 'cleared 2 variable\(s\)'$`,
		`^client2 types: x \+ 1$`,
		`^  client1 ! error: unknown name "x"$`, `^  client2 ! error: unknown name "x"$`,
		`^client2: control\.shutdown\(\) = 'bye'$`,
		`^client1: kernel status Dead$`,
		`^client2: kernel status Dead$`,
		`^kernel: stopped after 5 line\(s\), shut down by a client$`,
		`^closed cleanly$`,
	)
}

// goRole runs a role on a goroutine of the test (exampletest.GoWithInput:
// stop closes the input, cancels the role, as Ctrl-D and Ctrl-C do, and
// returns run's error).
func goRole(ctx context.Context, cfg config) (*exampletest.Transcript, chan<- string, func() error) {
	return exampletest.GoWithInput(ctx, func(ctx context.Context, in <-chan string, w io.Writer) error { return run(ctx, in, w, cfg) })
}

// The roles as four programs. client2 joins late and learns the kernel's
// status from the StateChannel at once.
func TestRunRoles(t *testing.T) {
	ctx := testkit.Context(t)
	base := testkit.FreePorts(t, 3)
	cfg := config{addr: base, clients: 2, timeout: 10 * time.Second}
	with := func(role string, client int) config { c := cfg; c.role, c.client = role, client; return c }

	broker, _, stopBroker := goRole(ctx, with("broker", 0))
	broker.RequireWait(t, ctx, `^broker: bound `)
	kernel, _, stopKernel := goRole(ctx, with("kernel", 0))
	kernel.RequireWait(t, ctx, `^kernel: connected to the broker at `+base+`$`)

	c1, in1, stop1 := goRole(ctx, with("client", 1))
	c1.RequireWait(t, ctx, `^client1: kernel is Ready$`)
	testkit.Send(t, ctx, in1, "let a = 2")
	c1.RequireWait(t, ctx, `^client1 \| >>> let a = 2$`)
	c1.RequireWait(t, ctx, `^client1 \| a = 2$`)
	testkit.Send(t, ctx, in1, "a / 0")
	c1.RequireWait(t, ctx, `^client1 ! error: division by zero$`)
	testkit.Send(t, ctx, in1, "/help")
	c1.RequireWait(t, ctx, `^client1: control requests are /vars, /info, /reset and /shutdown$`)

	c2, in2, stop2 := goRole(ctx, with("client", 2))
	addr2, err := ports.Offset(base, 2)
	require.NoError(t, err)
	c2.RequireWait(t, ctx, `^client2: connected to the broker at `+addr2+`$`)
	c2.RequireWait(t, ctx, `^client2: kernel is Ready$`)
	testkit.Send(t, ctx, in2, "/vars")
	c2.RequireWait(t, ctx, `^client2: control\.vars\(\) = \{'a': 2\}$`)
	testkit.Send(t, ctx, in2, "a * 21")
	c1.RequireWait(t, ctx, `^client1 \| 42$`) // everyone sees every result
	c2.RequireWait(t, ctx, `^client2 \| 42$`)
	testkit.Send(t, ctx, in1, "/shutdown")
	c1.RequireWait(t, ctx, `^client1: control\.shutdown\(\) = 'bye'$`)
	c1.RequireWait(t, ctx, `^client1: kernel is Dead$`)
	c2.RequireWait(t, ctx, `^client2: kernel is Dead$`)
	kernel.RequireWait(t, ctx, `^kernel: stopped after 3 line\(s\), shut down by a client$`)

	for _, stop := range []func() error{stop1, stop2, stopKernel, stopBroker} {
		require.NoError(t, stop())
	}
	exampletest.RequireInOrder(t, c1.Lines(), `^client1: leaving`, `^closed cleanly$`)
	exampletest.RequireInOrder(t, kernel.Lines(), `^closed cleanly$`)
	exampletest.RequireInOrder(t, broker.Lines(), `^broker: stopping \(context canceled\)$`, `^closed cleanly$`)
}

// A kernel stopped with Ctrl-C says "Dead" and exits without error.
func TestRunKernelInterrupted(t *testing.T) {
	ctx := testkit.Context(t)
	base := testkit.FreePorts(t, 2)
	broker, _, stopBroker := goRole(ctx, config{role: "broker", addr: base, clients: 1, timeout: 10 * time.Second})
	broker.RequireWait(t, ctx, `^broker: bound `)
	kernel, _, stopKernel := goRole(ctx, config{role: "kernel", addr: base, timeout: 10 * time.Second})
	kernel.RequireWait(t, ctx, `^kernel: connected`)
	c, _, stopClient := goRole(ctx, config{role: "client", addr: base, client: 1, timeout: 10 * time.Second})
	c.RequireWait(t, ctx, `^client1: kernel is Ready$`)
	require.NoError(t, stopKernel())
	c.RequireWait(t, ctx, `^client1: kernel is Dead$`)
	exampletest.RequireInOrder(t, kernel.Lines(), `^kernel: stopped after 0 line\(s\)$`, `^closed cleanly$`)
	require.NoError(t, stopClient())
	require.NoError(t, stopBroker())
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
		is   error // nil: any error
	}{
		{name: "unknown role", cfg: config{role: "referee"}},
		{name: "bad address", cfg: config{role: "all", addr: "nocolon", timeout: time.Second}},
		{name: "free port for a role", cfg: config{role: "kernel", addr: "127.0.0.1:0", timeout: time.Second}, is: ports.ErrFreePort},
		{name: "no client ports", cfg: config{role: "broker", addr: "127.0.0.1:5000", clients: 0}},
		{name: "client 0", cfg: config{role: "client", addr: "127.0.0.1:5000", client: 0}},
		{name: "no broker", cfg: config{role: "kernel", addr: "127.0.0.1:1", timeout: 300 * time.Millisecond}, is: reactor.ErrConnect},
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
