package channels_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// received returns a channel that gets the value of ch's state each time
// its Received signal is emitted (the handler reads it on the loop, which
// also shows that Recv never blocks there).
func received[T any](ch *channels.StateChannel[T]) <-chan T {
	out := make(chan T, 64)
	ch.Received.Bind(func(s *channels.StateChannel[T]) {
		v, ok := s.Recv()
		if ok {
			out <- v
		}
	})
	return out
}

// TestStateSendsOnlyChanges checks on the wire that Send sends a value
// only when it differs from the current state, and that SendLast resends.
func TestStateSendsOnlyChanges(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)
	st, err := channels.NewStateChannel(a, "status", channels.Text)
	require.NoError(t, err)
	require.Equal(t, "status.txt.state", st.SlotOutgoing())
	require.Equal(t, "status.txt.state", st.SlotIncoming())
	onWire := listen(t, b, "status.txt.state")
	// b's NEW_CONNECTION makes a resend its state; let it pass first.
	backMarker(t, b, a).sync(t)

	require.NoError(t, st.SendLast(ctx)) // no state yet: nothing
	steps := []struct{ send, state string }{
		{send: "idle", state: "idle"},
		{send: "idle", state: "idle"},
		{send: "busy", state: "busy"},
		{send: "", state: "busy"}, // an empty message is not a state
		{send: "busy", state: "busy"},
	}
	for _, s := range steps {
		require.NoError(t, st.Send(ctx, s.send))
		v, ok := st.Recv()
		require.True(t, ok)
		require.Equal(t, s.state, v, "after sending %q", s.send)
	}
	require.NoError(t, st.SendLast(ctx))
	require.NoError(t, st.Send(ctx, "idle"))

	// Delivery is ordered: once "idle" (sent last) is in, nothing else
	// was sent in between.
	for _, want := range []string{"idle", "busy", "busy", "idle"} {
		require.Equal(t, want, onWire.next(t))
	}
	require.Empty(t, onWire.got)
}

// TestStateRecvNeverBlocks: without a state Recv returns the zero value
// and false at once; a received state becomes the current one, on the
// loop (in the Received handler) as elsewhere.
func TestStateRecvNeverBlocks(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)
	sa, err := channels.NewStateChannel(a, "mode", channels.Text)
	require.NoError(t, err)
	sb, err := channels.NewStateChannel(b, "mode", channels.Text)
	require.NoError(t, err)
	events := received(sb)

	v, ok := sb.Recv()
	require.False(t, ok)
	require.Empty(t, v)

	require.NoError(t, sa.Send(ctx, "on"))
	require.Equal(t, "on", testkit.Wait(t, events, "the state"))
	v, ok = sb.Recv()
	require.True(t, ok)
	require.Equal(t, "on", v)

	// A state received from elsewhere is the current one: sending it
	// again is no change and sends nothing; another value goes back.
	ea := received(sa)
	require.NoError(t, sb.Send(ctx, "on"))
	require.NoError(t, sb.Send(ctx, "off"))
	require.Equal(t, "off", testkit.Wait(t, ea, "the state"))
	v, _ = sa.Recv()
	require.Equal(t, "off", v)
}

// TestStateLateJoiner: a context that connects after the state was set
// (and after the startup queue went out) learns it, because every state
// channel resends on NEW_CONNECTION, through forwarding too.
func TestStateLateJoiner(t *testing.T) {
	tests := []struct {
		name   string
		viaOld bool // connect to the context that received the state, not to its owner
	}{
		{name: "to owner"},
		{name: "through forwarder", viaOld: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reactorkit.NewReactor(t)
			a, b := reactorkit.Pair(t, r)
			ctx := testkit.Context(t)
			sa, err := channels.NewStateChannel(a, "status", channels.Object)
			require.NoError(t, err)
			if tt.viaOld {
				sb, err := channels.NewStateChannel(b, "status", channels.Object)
				require.NoError(t, err)
				events := received(sb)
				require.NoError(t, sa.Send(ctx, wire.Tuple{"ready", int64(3)}))
				require.Equal(t, `('ready', 3)`, wire.Repr(testkit.Wait(t, events, "the state")))
				// b forgets its copy, so what c learns travels from a.
				require.NoError(t, sb.Close())
			} else {
				require.NoError(t, sa.Send(ctx, wire.Tuple{"ready", int64(3)}))
				require.NoError(t, a.Flush(ctx))
			}

			c := reactorkit.NewContext(t, r)
			sc, err := channels.NewStateChannel(c, "status", channels.Object)
			require.NoError(t, err)
			events := received(sc)
			_, ok := sc.Recv()
			require.False(t, ok)

			host := a
			if tt.viaOld {
				host = b
			}
			reactorkit.ConnectPair(t, host, c)

			require.Equal(t, `('ready', 3)`, wire.Repr(testkit.Wait(t, events, "the state")))
			v, ok := sc.Recv()
			require.True(t, ok)
			require.Equal(t, `('ready', 3)`, wire.Repr(v))
		})
	}
}

// TestStateObjectsCompareAsPython: object states compare as Python's ==
// does (1 == True == 1.0; a list never equals a tuple; dicts in any
// order), the first None sends nothing (Python's state starts as None),
// and the state is a copy of what was sent.
func TestStateObjectsCompareAsPython(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)
	st, err := channels.NewStateChannel(a, "obj", channels.Object)
	require.NoError(t, err)
	wire0 := listen(t, b, "obj.obj.state")
	backMarker(t, b, a).sync(t) // b's NEW_CONNECTION is in

	require.NoError(t, st.Send(ctx, nil)) // equal to the initial None
	list := []any{int64(1), "two"}
	require.NoError(t, st.Send(ctx, list))
	require.NoError(t, st.Send(ctx, []any{true, "two"}))       // 1 == True
	require.NoError(t, st.Send(ctx, []any{float64(1), "two"})) // 1 == 1.0
	list[0] = int64(99)                                        // the state is not the caller's slice
	v, _ := st.Recv()
	require.Equal(t, "[1, 'two']", wire.Repr(v))
	require.NoError(t, st.Send(ctx, wire.Tuple{int64(1), "two"})) // a tuple is not a list
	d1, d2 := wire.NewDict(), wire.NewDict()
	require.NoError(t, errors.Join(d1.Set("a", int64(1)), d1.Set("b", int64(2)), d2.Set("b", int64(2)), d2.Set("a", true)))
	require.NoError(t, st.Send(ctx, d1))
	require.NoError(t, st.Send(ctx, d2))  // the same items in another order
	require.NoError(t, st.Send(ctx, nil)) // None is a state too, once there was another

	for _, want := range []string{"[1, 'two']", "(1, 'two')", "{'a': 1, 'b': 2}", "None"} {
		got, err := wire.DecodeObject([]byte(wire0.next(t)))
		require.NoError(t, err)
		require.Equal(t, want, wire.Repr(got))
	}
	require.Empty(t, wire0.got)

	require.ErrorIs(t, st.Send(ctx, []byte("raw")), channels.ErrEncode)
}

// TestStateNext: Next waits for the next state, arrived or set here; ctx
// bounds it; Close ends it; on the loop it refuses to wait.
func TestStateNext(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)
	sa, err := channels.NewStateChannel(a, "next", channels.Text)
	require.NoError(t, err)
	sb, err := channels.NewStateChannel(b, "next", channels.Text)
	require.NoError(t, err)

	got := make(chan string, 1)
	errs := make(chan error, 1)
	waiting := make(chan struct{})
	go func() {
		close(waiting)
		m, err := sb.Next(ctx)
		got <- m
		errs <- err
	}()
	<-waiting
	// Next reports only states set after it started waiting, which this
	// goroutine cannot see: set new states until the waiter wakes.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for i, woke := 0, false; !woke; i++ {
		last = fmt.Sprintf("state %d", i)
		require.NoError(t, sa.Send(ctx, last))
		select {
		case m := <-got:
			require.NoError(t, <-errs)
			assert.Contains(t, m, "state ")
			woke = true
		case <-tick.C:
		}
	}
	// Once the last state sent is in, nothing changes any more.
	require.Eventually(t, func() bool { m, _ := sb.Recv(); return m == last }, 5*time.Second, time.Millisecond)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = sb.Next(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	var onLoop error
	require.NoError(t, r.Do(ctx, func() { _, onLoop = sb.Next(ctx) }))
	require.ErrorIs(t, onLoop, reactor.ErrBlockingCall)

	go func() { _, err := sb.Next(ctx); errs <- err }()
	require.NoError(t, sb.Close()) // before or after Next began: ErrClosed either way
	require.ErrorIs(t, <-errs, reactor.ErrClosed)
}

// TestStateClose: a closed channel refuses to send and no longer resends
// on NEW_CONNECTION, but still reports its last state.
func TestStateClose(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)
	st, err := channels.NewStateChannel(a, "s", channels.Text)
	require.NoError(t, err)
	_, err = channels.NewStateChannel(a, "s", channels.Text)
	require.ErrorIs(t, err, reactor.ErrSlotNotFree)
	_, err = channels.NewStateChannel[string](a, " ", channels.Text)
	require.ErrorIs(t, err, reactor.ErrInvalidSlot)

	require.NoError(t, st.Send(ctx, "last"))
	require.NoError(t, st.Close())
	require.NoError(t, st.Close())
	require.ErrorIs(t, st.Send(ctx, "more"), reactor.ErrClosed)
	require.ErrorIs(t, st.SendLast(ctx), reactor.ErrClosed)
	v, ok := st.Recv()
	require.True(t, ok)
	require.Equal(t, "last", v)

	// The slot is free again; a new channel starts without a state.
	st2, err := channels.NewStateChannel(a, "s", channels.Text)
	require.NoError(t, err)
	_, ok = st2.Recv()
	require.False(t, ok)

	// Closing the context closes its state channels.
	sb, err := channels.NewStateChannel(b, "t", channels.Text)
	require.NoError(t, err)
	require.NoError(t, b.Close())
	require.True(t, sb.IsClosed())
	require.ErrorIs(t, sb.Send(context.Background(), "x"), reactor.ErrClosed)
}

// A state channel holds one value for the whole network. A context that
// connects later learns it: every state channel resends its state when a
// newcomer announces itself (NEW_CONNECTION).
func ExampleNewStateChannel() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := reactor.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeReactor(r)
	host, _, err := connectedPair(ctx, r)
	if err != nil {
		fmt.Println(err)
		return
	}
	status, err := channels.NewStateChannel(host, "status", channels.Text)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []string{"starting", "ready", "ready"} { // the second "ready" sends nothing
		if err := status.Send(ctx, s); err != nil {
			fmt.Println(err)
			return
		}
	}
	current, _ := status.Recv()
	fmt.Println("host state:", current)

	// A newcomer, connected to the host through a second bind.
	late, err := r.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	view, err := channels.NewStateChannel(late, "status", channels.Text)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, ok := view.Recv() // never waits
	fmt.Println("newcomer has a state:", ok)
	learned := make(chan string, 1)
	view.Received.Bind(func(s *channels.StateChannel[string]) {
		// On the loop goroutine: Recv never blocks, so it is fine here.
		if v, ok := s.Recv(); ok {
			select {
			case learned <- v:
			default:
			}
		}
	})
	conn, err := host.Bind("127.0.0.1:0", 1, "second")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, port := conn.LocalAddr()
	if _, err := late.Connect(ctx, fmt.Sprintf("127.0.0.1:%d", port), ""); err != nil {
		fmt.Println(err)
		return
	}
	select {
	case v := <-learned:
		fmt.Println("newcomer learned:", v)
	case <-ctx.Done():
		fmt.Println(ctx.Err())
	}
	// Output:
	// host state: ready
	// newcomer has a state: false
	// newcomer learned: ready
}
