package main

import (
	"context"
	"io"
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

// lines returns a closed channel holding ls.
func lines(ls ...string) <-chan string {
	ch := make(chan string, len(ls))
	for _, l := range ls {
		ch <- l
	}
	close(ch)
	return ch
}

func TestRunRoom(t *testing.T) {
	ctx := testkit.ContextTimeout(t, 30*time.Second)
	var out exampletest.Transcript
	in := lines("hello", "bob: hi alice", "", "carol: hi all", "zoe: not in the room")
	require.NoError(t, run(ctx, in, &out, config{role: "all", nodes: 3, addr: "127.0.0.1:0", timeout: 30 * time.Second}))
	ls := out.Lines()
	exampletest.RequireInOrder(t, ls,
		`^alice: bound at 127\.0\.0\.1:\d+$`,
		`^bob: bound at 127\.0\.0\.1:\d+, connected to alice$`,
		`^carol: bound at 127\.0\.0\.1:\d+, connected to bob$`,
		`^in the room: alice, bob, carol$`,
		`^alice says: hello$`,
		`^bob says: hi alice$`,
		`^carol says: hi all$`,
		`^alice says: zoe: not in the room$`,
	)
	// Everyone hears every line but their own, relayed along the line.
	for _, heard := range []string{
		`^bob hears alice: hello$`, `^carol hears alice: hello$`,
		`^alice hears bob: hi alice$`, `^carol hears bob: hi alice$`,
		`^alice hears carol: hi all$`, `^bob hears carol: hi all$`,
		`^bob hears alice: zoe: not in the room$`, `^carol hears alice: zoe: not in the room$`,
	} {
		require.Equal(t, 1, exampletest.Count(ls, heard), "want one line matching %s in:\n%s", heard, &out)
	}
	require.Equal(t, 8, exampletest.Count(ls, ` hears `), "nobody hears themselves:\n%s", &out)
	exampletest.RequireInOrder(t, ls, `^every node heard the 4 line\(s\) of the others$`, `^closed cleanly$`)
}

// goNode runs a node on a goroutine of the test, reading the lines sent
// on the returned channel; closing it makes the node leave.
func goNode(ctx context.Context, cfg config) (*exampletest.Transcript, chan<- string, func() error) {
	in := make(chan string)
	out, wait := exampletest.Go(ctx, func(ctx context.Context, w io.Writer) error { return run(ctx, in, w, cfg) })
	return out, in, wait
}

// Two nodes as two programs: alice binds, bob connects to her.
func TestRunNodes(t *testing.T) {
	ctx := testkit.ContextTimeout(t, 30*time.Second)
	alice, aliceIn, aliceWait := goNode(ctx, config{role: "node", name: "alice", bind: "127.0.0.1:0", timeout: 10 * time.Second})
	m := alice.RequireWait(t, ctx, `^alice: bound at (127\.0\.0\.1:\d+)$`)
	bob, bobIn, bobWait := goNode(ctx, config{role: "node", name: "bob", bind: "127.0.0.1:0", connect: m[1], timeout: 10 * time.Second})

	alice.RequireWait(t, ctx, `^\*\*\* bob joined$`)
	testkit.Send(t, ctx, bobIn, "hi alice")
	alice.RequireWait(t, ctx, `^bob: hi alice$`)
	testkit.Send(t, ctx, aliceIn, "hi bob")
	bob.RequireWait(t, ctx, `^alice: hi bob$`)
	// alice said she joined before bob came: her bind kept it for him.
	bob.RequireWait(t, ctx, `^\*\*\* alice joined$`)

	close(bobIn)
	require.NoError(t, bobWait())
	alice.RequireWait(t, ctx, `^\*\*\* bob left$`)
	close(aliceIn)
	require.NoError(t, aliceWait())
	exampletest.RequireInOrder(t, bob.Lines(), `^bob: connected to 127\.0\.0\.1:\d+$`, `^bob: left$`, `^closed cleanly$`)
	exampletest.RequireInOrder(t, alice.Lines(), `^alice: left$`, `^closed cleanly$`)
}

// A Python yoton node (internal/pypeer/scripts/peer_examples.py) joins a
// room of two Go nodes at its end: it hears both, and both hear it, alice
// through bob.
func TestRunPythonNode(t *testing.T) {
	peer := pypeer.Require(t)
	ctx := testkit.ContextTimeout(t, 30*time.Second)
	in := make(chan string)
	room, wait := exampletest.Go(ctx, func(ctx context.Context, w io.Writer) error {
		return run(ctx, in, w, config{role: "all", nodes: 2, wait: 1, addr: "127.0.0.1:0", timeout: 30 * time.Second})
	})
	t.Cleanup(func() { _ = wait() })
	m := room.RequireWait(t, ctx, `^bob: waiting for 1 more node\(s\) to join at (127\.0\.0\.1:\d+)$`)

	py := peer.StartModule(t, "examples", "chat", "--connect", m[1], "--name", "py", "--say", "hello from python")
	exampletest.WaitPeerLine(t, ctx, py, `^joined as py$`)
	room.RequireWait(t, ctx, `^in the room: alice, bob, py$`)
	room.RequireWait(t, ctx, `^alice hears py: hello from python$`)
	room.RequireWait(t, ctx, `^bob hears py: hello from python$`)

	testkit.Send(t, ctx, in, "alice: hi python")
	testkit.Send(t, ctx, in, "bob: welcome")
	// bob is py's neighbour: his line may overtake alice's.
	exampletest.WaitPeerLines(t, ctx, py, `^alice: hi python$`, `^bob: welcome$`)

	require.NoError(t, py.CloseStdin())
	exampletest.WaitPeerLine(t, ctx, py, `^left$`)
	require.NoError(t, py.Wait(ctx))
	room.RequireWait(t, ctx, `^alice hears \*\*\* py left$`)
	close(in)
	require.NoError(t, wait())
	exampletest.RequireInOrder(t, room.Lines(), `^every node heard the 2 line\(s\) of the others$`, `^closed cleanly$`)
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
		is   error // nil: any error
	}{
		{name: "unknown role", cfg: config{role: "referee"}},
		{name: "no nodes", cfg: config{role: "all", nodes: 0, addr: "127.0.0.1:0", timeout: time.Second}},
		{name: "too many nodes", cfg: config{role: "all", nodes: 99, addr: "127.0.0.1:0", timeout: time.Second}},
		{name: "negative wait", cfg: config{role: "all", nodes: 2, wait: -1, addr: "127.0.0.1:0", timeout: time.Second}},
		{name: "bad address", cfg: config{role: "all", nodes: 2, addr: "nocolon", timeout: time.Second}},
		{name: "node without a name", cfg: config{role: "node", bind: "127.0.0.1:0"}},
		{name: "node without addresses", cfg: config{role: "node", name: "zoe"}},
		{name: "nobody to connect to", cfg: config{role: "node", name: "zoe", connect: "127.0.0.1:1", timeout: 300 * time.Millisecond}, is: reactor.ErrConnect},
		{name: "nobody joins", cfg: config{role: "all", nodes: 1, wait: 1, addr: "127.0.0.1:0", timeout: 200 * time.Millisecond}, is: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testkit.ContextTimeout(t, 10*time.Second)
			var out exampletest.Transcript
			err := run(ctx, lines(), &out, tt.cfg)
			require.Error(t, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.NotContains(t, out.String(), "closed cleanly")
		})
	}
}
