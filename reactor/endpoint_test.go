package reactor

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
)

// counterChannel is a channel kind of the test's own, as a user would
// write one: it attaches through Context.Attach and nothing else.
type counterChannel struct {
	ep     *Endpoint
	rx     *recorder
	closed atomic.Int32
}

func newCounterChannel(t testing.TB, x *Context, base string) *counterChannel {
	t.Helper()
	c := &counterChannel{rx: &recorder{r: x.Reactor(), notify: make(chan struct{}, 1)}}
	ep, err := x.Attach(Attachment{
		SendSlot: base + ".count.pub-sub",
		RecvSlot: base + ".count.pub-sub",
		Receiver: c.rx,
		Close: func() error {
			c.closed.Add(1)
			c.ep.Detach()
			return nil
		},
	})
	require.NoError(t, err)
	c.ep = ep
	return c
}

func TestAttachCustomChannel(t *testing.T) {
	r := newReactor(t)
	a, b := newContext(t, r), newContext(t, r)
	connectPair(t, a, b)
	ca, cb := newCounterChannel(t, a, "custom"), newCounterChannel(t, b, "custom")
	require.Same(t, a, ca.ep.Context())

	require.NoError(t, ca.ep.Send(testkit.Context(t), []byte("one"), Destination{}))
	require.NoError(t, ca.ep.Send(testkit.Context(t), []byte("two"), Destination{ID: b.ID(), Seq: 7}))
	got := cb.rx.waitN(t, 2)
	assert.Equal(t, []string{"one", "two"}, payloads(got))
	assert.Equal(t, a.ID(), got[0].SourceID)
	assert.Equal(t, uint64(0), got[0].DestID)
	assert.Equal(t, b.ID(), got[1].DestID)
	assert.Equal(t, uint64(7), got[1].DestSeq)
	assert.Empty(t, ca.rx.snapshot(), "a context does not hear its own packages")

	// One channel per slot and direction per context.
	_, err := a.Attach(Attachment{SendSlot: "custom.count.pub-sub"})
	require.ErrorIs(t, err, ErrSlotNotFree)
	_, err = a.Attach(Attachment{RecvSlot: " CUSTOM.count.pub-sub ", Receiver: ca.rx})
	require.ErrorIs(t, err, ErrSlotNotFree, "names are normalised as yoton's")

	// CloseChannels closes it through its Close, once; the slots are free.
	a.CloseChannels()
	assert.Equal(t, int32(1), ca.closed.Load())
	assert.False(t, ca.ep.Detach(), "Close detached it already")
	again, err := a.Attach(Attachment{SendSlot: "custom.count.pub-sub"})
	require.NoError(t, err)
	again.Detach()
	assert.Equal(t, int32(0), cb.closed.Load(), "the other context's channel stays")
}

func TestAttachRejectsBadAttachments(t *testing.T) {
	r := newReactor(t)
	x := newContext(t, r)
	_, err := x.Attach(Attachment{})
	require.ErrorIs(t, err, ErrInvalidSlot)
	_, err = x.Attach(Attachment{SendSlot: "  "})
	require.ErrorIs(t, err, ErrInvalidSlot)
	_, err = x.Attach(Attachment{RecvSlot: "only.in.pub-sub"})
	require.ErrorIs(t, err, ErrInvalidSlot, "a receiving slot needs a Receiver")

	in, err := x.Attach(Attachment{RecvSlot: "only.in.pub-sub", Receiver: &recorder{r: r, notify: make(chan struct{}, 1)}})
	require.NoError(t, err)
	require.ErrorIs(t, in.Send(testkit.Context(t), []byte("x"), Destination{}), ErrInvalidSlot)
}

func TestEndpointNewConnectionHooks(t *testing.T) {
	r := newReactor(t)
	a, b := newContext(t, r), newContext(t, r)
	ep, err := a.Attach(Attachment{SendSlot: "hooks.x.state"})
	require.NoError(t, err)
	heard := make(chan struct{}, 4)
	ep.OnNewConnection(func() { heard <- struct{}{} })
	removed := ep.OnNewConnection(func() { t.Error("a removed hook ran") })
	removed()
	removed() // twice is harmless

	connectPair(t, a, b)
	testkit.Wait(t, heard, "the NEW_CONNECTION hook")

	// Detach unregisters the remaining hook: its count drops to zero.
	require.True(t, ep.Detach())
	assert.Equal(t, int32(0), a.hookCount.Load())
	ep.OnNewConnection(func() { t.Error("a hook added after Detach ran") })
	assert.Equal(t, int32(0), a.hookCount.Load())
}

// TestNilOptionsAreErrors: a nil option is an invalid option, not a
// panic, for every constructor of the package.
func TestNilOptionsAreErrors(t *testing.T) {
	_, err := New(nil)
	require.ErrorIs(t, err, ErrBadOption)
	r := newReactor(t)
	_, err = r.NewContext(nil)
	require.ErrorIs(t, err, ErrBadOption)
	x := newContext(t, r)
	_, err = x.Listen("127.0.0.1:0", nil)
	require.ErrorIs(t, err, ErrBadOption)
	_, err = x.Bind("127.0.0.1:0", 1, "", nil)
	require.ErrorIs(t, err, ErrBadOption)
	_, err = x.Connect(testkit.Context(t), "127.0.0.1:1", "", nil)
	require.ErrorIs(t, err, ErrBadOption)
}
