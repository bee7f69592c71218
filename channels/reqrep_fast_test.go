package channels_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/wire"
)

// echoRequest encodes yoton's request echo(arg).
func echoRequest(t testing.TB, arg string) []byte {
	t.Helper()
	b, err := wire.EncodeObject(wire.Tuple{"echo", wire.Tuple{arg}, wire.NewDict()})
	require.NoError(t, err)
	return b
}

// expectReply reads packages until the reply to request id comes.
func (f *fakeEnd) expectReply(t testing.TB, id uint64) any {
	t.Helper()
	for {
		p := f.next(t)
		if p.DestSeq == id {
			v, err := wire.DecodeObject(p.Data)
			require.NoError(t, err)
			return v
		}
	}
}

// expectCredit reads packages until a grant ("goyoton-credit n=K") comes
// and returns K.
func (f *fakeEnd) expectCredit(t testing.TB) int {
	t.Helper()
	for {
		p := f.next(t)
		if s, ok := strings.CutPrefix(string(p.Data), "goyoton-credit n="); ok && p.DestSeq == seqRef {
			var n int
			_, err := fmt.Sscan(s, &n)
			require.NoError(t, err)
			return n
		}
	}
}

// TestRepWindowOffersSeveral: a replier with a window of 3 offers to take
// three announced requests at once (a Python requester sees ordinary
// "req!"s, with the fast-path marker it never reads), and a fourth only
// when one of them is done.
func TestRepWindowOffersSeveral(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	fake := newFake(t, a, "window", "req-rep", "rep-req")
	newRep(t, b, "window", channels.RepEvent, channels.WithWindow(3))
	for id := uint64(1); id <= 4; id++ {
		fake.send(t, []byte("req?"), 0, id+seqRef)
	}
	offered := map[uint64]bool{}
	for range 3 {
		p := fake.expect(t, "req!")
		assert.Equal(t, "req! goyoton-fast/1", string(p.Data))
		offered[p.DestSeq-seqRef] = true
	}
	assert.Equal(t, map[uint64]bool{1: true, 2: true, 3: true}, offered, "the oldest three, at once")
	fake.send(t, echoRequest(t, "one"), b.ID(), 1)
	assert.Equal(t, wire.Tuple{"one", hexID(b)}, fake.expectReply(t, 1))
	p := fake.expect(t, "req!")
	assert.Equal(t, uint64(4)+seqRef, p.DestSeq, "the fourth once the first is done")
}

// TestFastPathExchange plays a Go requester against a Go replier, package
// by package: a marked "req!", a credit request, a grant of the window's
// free room, requests sent straight within it and answered, and the grant
// taken back once unused.
func TestFastPathExchange(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	fake := newFake(t, a, "fast", "req-rep", "rep-req")
	newRep(t, b, "fast", channels.RepEvent, channels.WithWindow(4))
	fake.send(t, []byte("req?"), 0, 1+seqRef)
	require.Equal(t, "req! goyoton-fast/1", string(fake.expect(t, "req!").Data))
	fake.send(t, echoRequest(t, "first"), b.ID(), 1)
	assert.Equal(t, wire.Tuple{"first", hexID(b)}, fake.expectReply(t, 1))
	fake.send(t, []byte("goyoton-credit?"), b.ID(), seqRef)
	assert.Equal(t, 4, fake.expectCredit(t), "the whole free window")
	for id := uint64(2); id <= 5; id++ { // no req?, no req!: straight in
		fake.send(t, echoRequest(t, fmt.Sprint(id)), b.ID(), id)
	}
	for id := uint64(2); id <= 5; id++ {
		assert.Equal(t, wire.Tuple{fmt.Sprint(id), hexID(b)}, fake.expectReply(t, id))
	}
	assert.Equal(t, 0, fake.expectCredit(t), "an unused grant is taken back")
}

// TestFastPathGrantYieldsToOthers: while another requester's
// announcements wait, a grant shrinks by one with each reply, and the
// replier offers that room to the other requester through yoton's
// exchange.
func TestFastPathGrantYieldsToOthers(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	goReq := newFake(t, a, "yield", "req-rep", "rep-req")
	c := reactorkit.NewContext(t, r)
	reactorkit.ConnectPair(t, b, c)
	pyReq := newFake(t, c, "yield", "req-rep", "rep-req")
	newRep(t, b, "yield", channels.RepEvent, channels.WithWindow(2))
	goReq.send(t, []byte("goyoton-credit?"), b.ID(), seqRef)
	require.Equal(t, 2, goReq.expectCredit(t))
	pyReq.send(t, []byte("req?"), 0, 7+seqRef) // no room: it waits
	goReq.send(t, echoRequest(t, "a"), b.ID(), 1)
	goReq.expectReply(t, 1)
	assert.Equal(t, 1, goReq.expectCredit(t), "the grant shrinks while others wait")
	take := pyReq.expect(t, "req!")
	assert.Equal(t, uint64(7)+seqRef, take.DestSeq, "the freed room goes to the other requester")
	assert.Equal(t, c.ID(), take.DestID)
}

// TestReqIgnoresUnaskedGrant: a grant from a context that never showed
// it is a Go replier (a forgery, say) draws no call: calls are announced
// as yoton's.
func TestReqIgnoresUnaskedGrant(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	req := newReq(t, a, "forged-grant")
	fake := newFake(t, b, "forged-grant", "rep-req", "req-rep")
	fake.send(t, []byte("goyoton-credit n=50"), a.ID(), seqRef)
	call(t, req, "m", nil, nil)
	p := fake.next(t)
	assert.Equal(t, "req?", string(p.Data), "announced, not sent straight")
	assert.Zero(t, req.FastCalls())
}

// TestReqUsesGrant: a Go requester that meets a Go replier asks for
// credit and sends its next calls straight (FastCalls counts them).
func TestReqUsesGrant(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	req := newReq(t, a, "uses-grant")
	rep := newRep(t, b, "uses-grant", channels.RepEvent, channels.WithWindow(8))
	require.NoError(t, rep.Register("add", func(x, y int) int { return x + y }))
	for i := range 20 {
		got, err := channels.Call[int](testkit.Context(t), req, "add", i, 1)
		require.NoError(t, err)
		require.Equal(t, i+1, got)
	}
	assert.NotZero(t, req.FastCalls())
	assert.Equal(t, 0, req.Outstanding())
}

// TestPendingAndReceivedEveryKind: every channel kind has Pending (yoton's
// pending); a replier that is off counts what waits and emits Received
// once per batch, and a requester emits Received when its reply is in.
func TestPendingAndReceivedEveryKind(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	fake := newFake(t, a, "pending", "req-rep", "rep-req")
	rep, err := channels.NewRepChannel(b, "pending")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rep.Shutdown(testkit.Context(t))) })
	batches := make(chan int, 16)
	rep.Received.Bind(func(c *channels.RepChannel) { batches <- c.Pending() })
	for id := uint64(1); id <= 3; id++ {
		fake.send(t, []byte("req?"), 0, id+seqRef)
	}
	require.Eventually(t, func() bool { return rep.Pending() == 3 }, 5*time.Second, time.Millisecond, "off: the announcements wait")
	assert.Positive(t, <-batches, "Received was emitted with packages pending")
	require.NoError(t, rep.SetMode(channels.RepEvent))
	fake.expect(t, "req!")
	require.Eventually(t, func() bool { return rep.Pending() == 0 }, 5*time.Second, time.Millisecond)

	req := newReq(t, a, "pending-req")
	newRep(t, b, "pending-req", channels.RepEvent)
	got := make(chan *channels.ReqChannel, 4)
	req.Received.Bind(func(c *channels.ReqChannel) { got <- c })
	_, err = channels.Call[any](testkit.Context(t), req, "echo", "x")
	require.NoError(t, err)
	assert.Same(t, req, <-got)
	assert.Zero(t, req.Pending())

	pub, err := channels.NewPubChannel(a, "pending-pub", channels.Text)
	require.NoError(t, err)
	assert.Zero(t, pub.Pending())
	st, err := channels.NewStateChannel(a, "pending-state", channels.Text)
	require.NoError(t, err)
	assert.Zero(t, st.Pending())
}
