package channels_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// seqRef is yoton's REQREP_SEQ_REF: announcements carry id + 2^63.
const seqRef = 1 << 63

var repModes = []channels.RepMode{channels.RepEvent, channels.RepWorkers}

// newRep attaches a RepChannel to x at slot in mode m; it closes (and
// its workers are waited for) with the test.
func newRep(t testing.TB, x *reactor.Context, slot string, m channels.RepMode, opts ...channels.RepOption) *channels.RepChannel {
	t.Helper()
	rep, err := channels.NewRepChannel(x, slot, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rep.Shutdown(testkit.Context(t))) })
	require.NoError(t, rep.SetMode(m))
	return rep
}

func newReq(t testing.TB, x *reactor.Context, slot string) *channels.ReqChannel {
	t.Helper()
	req, err := channels.NewReqChannel(x, slot)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, req.Close()) })
	return req
}

// result waits for f's value within the test's deadline.
func result(t testing.TB, f *futures.Future[any]) any {
	t.Helper()
	v, err := f.Result(testkit.Context(t))
	require.NoError(t, err)
	return v
}

// remoteMessage waits for f to fail remotely and returns the message.
func remoteMessage(t testing.TB, f *futures.Future[any]) string {
	t.Helper()
	_, err := f.Result(testkit.Context(t))
	var re *futures.RemoteError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, futures.ErrRemote)
	return re.Message
}

func call(t testing.TB, req *channels.ReqChannel, method string, args []any, kwargs channels.Kwargs) *futures.Future[any] {
	t.Helper()
	f, err := req.Call(method, args, kwargs)
	require.NoError(t, err)
	return f
}

func hexID(x *reactor.Context) string { return fmt.Sprintf("0x%x", x.ID()) }

func TestReqRepSlots(t *testing.T) {
	r := reactorkit.NewReactor(t)
	x := reactorkit.NewContext(t, r)
	req := newReq(t, x, "Calc")
	assert.Equal(t, "Calc.obj.req-rep", req.SlotOutgoing())
	assert.Equal(t, "Calc.obj.rep-req", req.SlotIncoming())
	y := reactorkit.NewContext(t, r)
	rep := newRep(t, y, "Calc", channels.RepOff)
	assert.Equal(t, "Calc.obj.rep-req", rep.SlotOutgoing())
	assert.Equal(t, "Calc.obj.req-rep", rep.SlotIncoming())
	_, err := channels.NewReqChannel(x, "Calc")
	assert.ErrorIs(t, err, reactor.ErrSlotNotFree)
	_, err = channels.NewRepChannel(x, " ")
	assert.ErrorIs(t, err, reactor.ErrInvalidSlot)
	_, err = channels.NewRepChannel(x, "w", channels.WithWorkers(0))
	assert.ErrorIs(t, err, reactor.ErrBadOption)
	assert.ErrorIs(t, rep.SetMode(channels.RepMode(7)), channels.ErrBadMode)
	assert.Equal(t, "thread", channels.RepWorkers.String())
}

// TestReqRepRoundTrip: echo, plain Go handlers, keyword arguments and
// the typed helpers, in both handling modes.
func TestReqRepRoundTrip(t *testing.T) {
	for _, m := range repModes {
		t.Run(m.String(), func(t *testing.T) {
			r := reactorkit.NewReactor(t)
			a, b := reactorkit.Pair(t, r)
			ctx := testkit.Context(t)
			req := newReq(t, a, "calc")
			rep := newRep(t, b, "calc", m)
			require.NoError(t, rep.Register("add", func(x, y int) int { return x + y }))
			require.NoError(t, rep.Register("greet", func(name string, kw channels.Kwargs) (string, error) {
				greeting, _ := kw["greeting"].(string)
				if greeting == "" {
					greeting = "Hello"
				}
				return greeting + ", " + name, nil
			}))
			require.NoError(t, rep.Register("sum", func(ctx context.Context, xs ...float64) float64 {
				s := 0.0
				for _, x := range xs {
					s += x
				}
				return s
			}))
			require.NoError(t, rep.Register("split", func(s string) []string { return strings.Split(s, ",") }))
			rep.Handle("raw", func(args []any, kwargs *wire.Dict) (any, error) {
				return wire.Tuple{int64(len(args)), int64(kwargs.Len())}, nil
			})

			got := result(t, call(t, req, "echo", []any{"hi"}, nil))
			assert.Equal(t, wire.Tuple{"hi", hexID(b)}, got)
			got = result(t, call(t, req, "echo", []any{[]int{1, 2}}, channels.Kwargs{"sleep": 0.01}))
			assert.Equal(t, wire.Tuple{[]any{int64(1), int64(2)}, hexID(b)}, got)
			assert.Equal(t, int64(7), result(t, call(t, req, "add", []any{3, 4}, nil)))
			assert.Equal(t, "Hi, bob", result(t, call(t, req, "greet", []any{"bob"}, channels.Kwargs{"greeting": "Hi"})))
			assert.Equal(t, wire.Tuple{int64(3), int64(1)}, result(t, call(t, req, "raw", []any{1, 2, 3}, channels.Kwargs{"k": nil})))

			n, err := channels.Call[int](ctx, req, "add", 40, 2)
			require.NoError(t, err)
			assert.Equal(t, 42, n)
			s, err := channels.Call[string](ctx, req, "greet", "ann", channels.Kwargs{"greeting": "Bye"})
			require.NoError(t, err)
			assert.Equal(t, "Bye, ann", s)
			sum := channels.Method[float64](req, "sum")
			f, err := sum(ctx, 1, 2.5, 3)
			require.NoError(t, err)
			assert.InDelta(t, 6.5, f, 1e-12)
			parts, err := channels.Call[[]string](ctx, req, "split", "a,b,c")
			require.NoError(t, err)
			assert.Equal(t, []string{"a", "b", "c"}, parts)
			_, err = channels.Call[int](ctx, req, "greet", "x")
			assert.ErrorIs(t, err, channels.ErrDecode, "a string reply does not convert to int")
			require.NoError(t, rep.Register("none", func() {}))
			none, err := channels.Call[any](ctx, req, "none")
			require.NoError(t, err)
			assert.Nil(t, none)
			ptr, err := channels.Call[*int](ctx, req, "none")
			require.NoError(t, err)
			assert.Nil(t, ptr)
			require.NoError(t, rep.Register("count", func(m map[string][]int, pos [2]uint8) (int, error) {
				return len(m["xs"]) + int(pos[0]) + int(pos[1]), nil
			}))
			cnt, err := channels.Call[int64](ctx, req, "count", map[string]any{"xs": []int{1, 2, 3}}, wire.Tuple{10, 20})
			require.NoError(t, err)
			assert.Equal(t, int64(33), cnt)
			assert.Equal(t, 0, req.Outstanding())
		})
	}
}

// TestReqRepErrors: every failure comes back as a RemoteError with
// yoton's words, and the replier keeps serving.
func TestReqRepErrors(t *testing.T) {
	for _, m := range repModes {
		t.Run(m.String(), func(t *testing.T) {
			r := reactorkit.NewReactor(t)
			a, b := reactorkit.Pair(t, r)
			req := newReq(t, a, "err")
			rep := newRep(t, b, "err", m)
			require.NoError(t, rep.Register("add", func(x, y int) int { return x + y }))
			require.NoError(t, rep.Register("fail", func(msg string) error { return errors.New(msg) }))
			require.NoError(t, rep.Register("boom", func() int { panic("kaput") }))
			require.NoError(t, rep.Register("bad", func() any { return make(chan int) }))
			require.NoError(t, rep.Register("small", func(x int8) int8 { return x }))
			tests := []struct {
				name   string
				method string
				args   []any
				kwargs channels.Kwargs
				want   string
			}{
				{"unknown method", "nope", nil, nil, "Method 'nope' not implemented."},
				{"handler error", "fail", []any{"it failed"}, nil, "it failed"},
				{"panic", "boom", nil, nil, "panic in boom(): kaput"},
				{"too many", "add", []any{1, 2, 3}, nil, "add() takes 2 positional arguments but 3 were given"},
				{"too few", "add", []any{1}, nil, "add() missing 1 required positional argument"},
				{"keyword", "add", []any{1, 2}, channels.Kwargs{"z": 1}, "add() got an unexpected keyword argument 'z'"},
				{"type", "add", []any{1, "two"}, nil, "add() argument 2: cannot convert 'two' (str) to int"},
				{"range", "small", []any{300}, nil, "small() argument 1: cannot convert 300 to int8: out of range"},
				{"reply", "bad", nil, nil, "cannot send the reply of bad()"},
				{"echo without argument", "echo", nil, nil, "echo() missing 1 required positional argument: 'arg1'"},
			}
			for _, tt := range tests {
				f := call(t, req, tt.method, tt.args, tt.kwargs)
				assert.Contains(t, remoteMessage(t, f), tt.want, tt.name)
			}
			assert.Equal(t, int64(5), result(t, call(t, req, "add", []any{2, 3}, nil)), "still serving")
		})
	}
}

func TestReqCallEncodeError(t *testing.T) {
	r := reactorkit.NewReactor(t)
	x := reactorkit.NewContext(t, r)
	req := newReq(t, x, "enc")
	_, err := req.Call("m", []any{make(chan int)}, nil)
	require.ErrorIs(t, err, channels.ErrEncode)
	_, err = req.Call("m", nil, channels.Kwargs{"b": []byte("x")})
	require.ErrorIs(t, err, channels.ErrEncode)
	assert.Equal(t, 0, req.Outstanding())
}

// TestReqBeforeReplier: a request made before any replier exists is
// served once one appears (the announcement is resent).
func TestReqBeforeReplier(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	req := newReq(t, a, "late")
	f := call(t, req, "echo", []any{"early"}, nil)
	rep := newRep(t, b, "late", channels.RepEvent)
	_ = rep
	assert.Equal(t, wire.Tuple{"early", hexID(b)}, result(t, f))
}

// TestRepModeOff: a replier that is off takes nothing; switched on, it
// serves what queued meanwhile.
func TestRepModeOff(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	req := newReq(t, a, "off")
	rep := newRep(t, b, "off", channels.RepOff)
	require.NoError(t, rep.Register("add", func(x, y int) int { return x + y }))
	f := call(t, req, "add", []any{1, 2}, nil)
	mk := newMarker(t, a, b)
	mk.sync(t) // the announcement has reached b
	assert.False(t, f.IsDone())
	assert.False(t, f.Running(), "a replier that is off took the request")
	assert.Equal(t, channels.RepOff, rep.Mode())
	require.NoError(t, rep.SetMode(channels.RepEvent))
	assert.Equal(t, int64(3), result(t, f))
	assert.Equal(t, channels.RepEvent, rep.Mode())
}

// TestReqRepThroughMiddle: requester and replier two hops apart, with a
// Go context forwarding between them.
func TestReqRepThroughMiddle(t *testing.T) {
	for _, m := range repModes {
		t.Run(m.String(), func(t *testing.T) {
			r := reactorkit.NewReactor(t)
			a, mid, b := reactorkit.NewContext(t, r), reactorkit.NewContext(t, r), reactorkit.NewContext(t, r)
			for _, end := range []*reactor.Context{a, b} {
				reactorkit.ConnectPair(t, mid, end)
			}
			req := newReq(t, a, "far")
			newRep(t, b, "far", m)
			fs := make([]*futures.Future[any], 20)
			for i := range fs {
				fs[i] = call(t, req, "echo", []any{i}, nil)
			}
			for i, f := range fs {
				assert.Equal(t, wire.Tuple{int64(i), hexID(b)}, result(t, f))
			}
		})
	}
}

// TestReqTimeout: nobody replies; the future cancels itself after the
// channel's timeout and is forgotten.
func TestReqTimeout(t *testing.T) {
	r := reactorkit.NewReactor(t)
	x := reactorkit.NewContext(t, r)
	req := newReq(t, x, "void")
	assert.Equal(t, channels.DefaultRequestTimeout, req.Timeout())
	req.SetTimeout(30 * time.Millisecond)
	f := call(t, req, "echo", []any{1}, nil)
	_, err := f.Result(testkit.Context(t))
	require.ErrorIs(t, err, futures.ErrCancelled)
	assert.Equal(t, 0, req.Outstanding())
}

// TestReqCloseEndsFutures: closing the channel fails outstanding calls.
func TestReqCloseEndsFutures(t *testing.T) {
	r := reactorkit.NewReactor(t)
	x := reactorkit.NewContext(t, r)
	req, err := channels.NewReqChannel(x, "closing")
	require.NoError(t, err)
	f := call(t, req, "echo", []any{1}, nil)
	require.NoError(t, req.Close())
	require.NoError(t, req.Close())
	_, err = f.Result(testkit.Context(t))
	require.ErrorIs(t, err, reactor.ErrClosed)
	_, err = req.Call("echo", []any{1}, nil)
	require.ErrorIs(t, err, reactor.ErrClosed)
}

// fakeEnd is a scripted peer: a channel kind of the test's own, attached
// through Context.Attach as every channel is, that sends raw packages on
// one slot and records what arrives on another.
type fakeEnd struct {
	ep  *reactor.Endpoint
	got chan reactor.Package
}

func (f *fakeEnd) Deposit(p reactor.Package) {
	select {
	case f.got <- p:
	default:
	}
}
func (f *fakeEnd) EndBatch() {}

// newFake registers a fake end on x, sending on base.obj.<out> and
// receiving on base.obj.<in>.
func newFake(t testing.TB, x *reactor.Context, base, out, in string) *fakeEnd {
	t.Helper()
	f := &fakeEnd{got: make(chan reactor.Package, 64)}
	ep, err := x.Attach(reactor.Attachment{SendSlot: base + ".obj." + out, RecvSlot: base + ".obj." + in, Receiver: f})
	require.NoError(t, err)
	f.ep = ep
	return f
}

func (f *fakeEnd) send(t testing.TB, data []byte, destID, destSeq uint64) {
	t.Helper()
	require.NoError(t, f.ep.Send(testkit.Context(t), data, reactor.Destination{ID: destID, Seq: destSeq}))
}

// next returns the next package that arrived.
func (f *fakeEnd) next(t testing.TB) reactor.Package {
	t.Helper()
	return testkit.Wait(t, f.got, "a package at the fake peer")
}

// expect skips packages until one whose first word is data (a Go
// replier's "req!" carries the fast-path marker after the word, which a
// Python requester never reads).
func (f *fakeEnd) expect(t testing.TB, data string) reactor.Package {
	t.Helper()
	for {
		p := f.next(t)
		if word, _, _ := strings.Cut(string(p.Data), " "); word == data {
			return p
		}
	}
}

// TestReqIgnoresStrayReplies: replies for unknown ids, and a reply for a
// request nobody took, are ignored; the real reply still completes it.
func TestReqIgnoresStrayReplies(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	req := newReq(t, a, "stray")
	fake := newFake(t, b, "stray", "rep-req", "req-rep")
	f := call(t, req, "m", []any{1}, nil)
	ask := fake.expect(t, "req?")
	require.Equal(t, a.ID(), ask.SourceID)
	require.Equal(t, uint64(0), ask.DestID)
	id := ask.DestSeq - seqRef
	bogus, err := wire.EncodeObject("bogus")
	require.NoError(t, err)
	fake.send(t, bogus, a.ID(), id+1000) // unknown id
	fake.send(t, bogus, a.ID(), id)      // not taken by anyone yet
	fake.send(t, bogus, 0, id)           // not addressed to the requester
	fake.send(t, []byte("req!"), a.ID(), id+seqRef)
	p := fake.next(t) // the request, directed at us, after the bogus ones were handled
	for string(p.Data) == "req?" {
		p = fake.next(t)
	}
	require.Equal(t, b.ID(), p.DestID)
	require.Equal(t, id, p.DestSeq)
	v, err := wire.DecodeObject(p.Data)
	require.NoError(t, err)
	assert.Equal(t, "('m', (1,), {})", wire.Repr(v))
	require.False(t, f.IsDone(), "a stray reply completed the call")
	require.True(t, f.Running())
	cancel := fake.expect(t, "req-")
	assert.Equal(t, uint64(0), cancel.DestID, "req- goes to every replier")
	assert.Equal(t, id+seqRef, cancel.DestSeq)

	good, err := wire.EncodeObject(int64(99))
	require.NoError(t, err)
	fake.send(t, good, a.ID(), id)
	assert.Equal(t, int64(99), result(t, f))
	fake.send(t, bogus, a.ID(), id) // a second reply for it: ignored too
	assert.Equal(t, int64(99), result(t, f))
}

// TestReqTakenAfterCancel: a "req!" for a cancelled call gets a "req-"
// back and no request.
func TestReqTakenAfterCancel(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	req := newReq(t, a, "late-take")
	fake := newFake(t, b, "late-take", "rep-req", "req-rep")
	f := call(t, req, "m", nil, nil)
	id := fake.expect(t, "req?").DestSeq - seqRef
	require.True(t, f.Cancel())
	bc := fake.expect(t, "req-")
	assert.Equal(t, uint64(0), bc.DestID)
	assert.Equal(t, id+seqRef, bc.DestSeq)
	fake.send(t, []byte("req!"), a.ID(), id+seqRef)
	p := fake.next(t)
	for string(p.Data) == "req?" {
		p = fake.next(t)
	}
	assert.Equal(t, "req-", string(p.Data), "the late taker must get req-, not the request")
	assert.Equal(t, b.ID(), p.DestID)
	assert.Equal(t, id+seqRef, p.DestSeq)
	assert.Equal(t, 0, req.Outstanding())
}

// TestRepInvalidRequest: requests that are not valid request objects get
// an error reply; the replier keeps serving.
func TestRepInvalidRequest(t *testing.T) {
	for _, m := range repModes {
		t.Run(m.String(), func(t *testing.T) {
			r := reactorkit.NewReactor(t)
			a, b := reactorkit.Pair(t, r)
			fake := newFake(t, a, "inv", "req-rep", "rep-req")
			newRep(t, b, "inv", m)
			notTuple, err := wire.EncodeObject("just text")
			require.NoError(t, err)
			valid, err := wire.EncodeObject(wire.Tuple{"echo", wire.Tuple{"ok"}, wire.NewDict()})
			require.NoError(t, err)
			payloads := []struct {
				data []byte
				want string
			}{
				{[]byte{0xff, 0x01, 0x02}, "invalid request"},
				{[]byte{'s', 200, 'x'}, "invalid request"},
				{notTuple, "invalid request: want (name, args, kwargs)"},
				{valid, ""},
			}
			for i, pl := range payloads {
				id := uint64(i + 1)
				fake.send(t, []byte("req?"), 0, id+seqRef)
				take := fake.expect(t, "req!")
				require.Equal(t, a.ID(), take.DestID)
				require.Equal(t, id+seqRef, take.DestSeq)
				fake.send(t, pl.data, b.ID(), id)
				reply := fake.next(t)
				require.Equal(t, id, reply.DestSeq)
				v, err := wire.DecodeObject(reply.Data)
				require.NoError(t, err)
				if pl.want == "" {
					assert.Equal(t, wire.Tuple{"ok", hexID(b)}, v)
					continue
				}
				tup, ok := v.(wire.Tuple)
				require.True(t, ok, "reply %s", wire.Repr(v))
				require.Len(t, tup, 2)
				assert.Equal(t, channels.ErrorObject, tup[0])
				assert.Contains(t, tup[1], pl.want)
			}
		})
	}
}

// TestReplierDiesMidRequest: the replier's process (here its reactor)
// goes away while handling a request. As in yoton, the auto-cancel
// timeout does not end a running call: the caller's ctx does, and the
// channel forgets the call; nothing is left behind (goleak checks the
// worker).
func TestReplierDiesMidRequest(t *testing.T) {
	r1 := reactorkit.NewReactor(t)
	r2 := reactorkit.NewReactor(t)
	a, b := reactorkit.NewContext(t, r1), reactorkit.NewContext(t, r2)
	reactorkit.ConnectPair(t, a, b)

	req := newReq(t, a, "dies")
	rep, err := channels.NewRepChannel(b, "dies")
	require.NoError(t, err)
	entered := make(chan struct{})
	require.NoError(t, rep.Register("hang", func(ctx context.Context) {
		close(entered)
		<-ctx.Done() // ends when the channel closes
	}))
	require.NoError(t, rep.SetMode(channels.RepWorkers))
	req.SetTimeout(50 * time.Millisecond)
	ctx, cancel := context.WithCancel(testkit.Context(t))
	result := make(chan error, 1)
	go func() {
		_, err := channels.Call[any](ctx, req, "hang")
		result <- err
	}()
	testkit.Wait(t, entered, "the handler to be entered")
	require.NoError(t, r2.Close())
	require.NoError(t, rep.Shutdown(testkit.Context(t)))
	assert.Equal(t, 1, req.Outstanding(), "running: the auto-cancel timeout does not end it")
	cancel()
	err = <-result
	require.ErrorIs(t, err, futures.ErrTimeout)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, req.Outstanding())
}

// TestReqTenThousandCancelled: 10,000 outstanding calls cancelled at
// once leave no goroutine and no bookkeeping behind.
func TestReqTenThousandCancelled(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, _ := reactorkit.Pair(t, r)
	req := newReq(t, a, "many")
	const n = 10000
	before := runtime.NumGoroutine()
	fs := make([]*futures.Future[any], n)
	var callbacks sync.WaitGroup
	callbacks.Add(n)
	for i := range fs {
		fs[i] = call(t, req, "echo", []any{i}, nil)
		fs[i].AddDoneCallback(func(*futures.Future[any]) { callbacks.Done() })
	}
	assert.Equal(t, n, req.Outstanding())
	if g := runtime.NumGoroutine(); g > before+2 {
		t.Errorf("%d outstanding calls run %d goroutines", n, g-before)
	}
	for _, f := range fs {
		require.True(t, f.Cancel())
	}
	done := make(chan struct{})
	go func() { callbacks.Wait(); close(done) }()
	testkit.Wait(t, done, "every callback to run")
	assert.Equal(t, 0, req.Outstanding())
	require.NoError(t, r.Sync(testkit.Context(t)))
	if g := runtime.NumGoroutine(); g > before+2 {
		t.Errorf("%d goroutines after cancelling (%d before)", g, before)
	}
}

// TestRepLoadSharing: two repliers behind one slot. One is stuck in a
// handler; the other serves the stream meanwhile, and the stuck one
// takes nothing new while busy.
func TestRepLoadSharing(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, slow, fast := reactorkit.NewContext(t, r), reactorkit.NewContext(t, r), reactorkit.NewContext(t, r)
	for _, end := range []*reactor.Context{slow, fast} {
		reactorkit.ConnectPair(t, a, end)
	}
	req := newReq(t, a, "share")
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	slowRep := newRep(t, slow, "share", channels.RepOff)
	require.NoError(t, slowRep.Register("work", func(i int) string {
		entered <- struct{}{}
		<-gate
		return "slow"
	}))
	require.NoError(t, slowRep.SetMode(channels.RepWorkers))
	fastRep := newRep(t, fast, "share", channels.RepOff)
	require.NoError(t, fastRep.Register("work", func(i int) string { return "fast" }))
	require.NoError(t, fastRep.SetMode(channels.RepEvent))

	// Call until the slow replier is stuck in one.
	var stuck *futures.Future[any]
	for i := 0; stuck == nil; i++ {
		f := call(t, req, "work", []any{i}, nil)
		select {
		case <-entered:
			stuck = f
		case <-f.Done():
			assert.Equal(t, "fast", result(t, f))
		case <-testkit.Context(t).Done():
			t.Fatal("no reply and the slow replier was not entered")
		}
	}
	// The stream goes on through the fast one.
	const more = 30
	fs := make([]*futures.Future[any], more)
	for i := range fs {
		fs[i] = call(t, req, "work", []any{i}, nil)
	}
	for _, f := range fs {
		assert.Equal(t, "fast", result(t, f))
	}
	assert.False(t, stuck.IsDone())
	close(gate)
	assert.Equal(t, "slow", result(t, stuck))
}

// TestRepEventEchoSleepDoesNotBlock: echo's sleep in RepEvent mode is a
// timer: the loop serves another replier meanwhile.
func TestRepEventEchoSleepDoesNotBlock(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	req := newReq(t, a, "sleepy")
	newRep(t, b, "sleepy", channels.RepEvent)
	other := newReq(t, a, "other")
	newRep(t, b, "other", channels.RepEvent)
	sleeping := call(t, req, "echo", []any{"zz"}, channels.Kwargs{"sleep": 60})
	for !sleeping.Running() {
		require.NoError(t, r.Sync(testkit.Context(t)))
	}
	assert.Equal(t, wire.Tuple{"now", hexID(b)}, result(t, call(t, other, "echo", []any{"now"}, nil)))
	assert.False(t, sleeping.IsDone())
}

// BenchmarkReqRep measures echo round trips between two contexts on one
// reactor over loopback TCP, with 1 and 64 calls outstanding (each call
// goes through yoton's req? / req! / request / reply exchange).
func BenchmarkReqRep(b *testing.B) {
	for _, m := range repModes {
		for _, outstanding := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/outstanding=%d", m, outstanding), func(b *testing.B) {
				benchReqRep(b, m, outstanding)
			})
		}
	}
}

func benchReqRep(b *testing.B, m channels.RepMode, outstanding int) {
	r := reactorkit.NewReactor(b)
	x, y := reactorkit.Pair(b, r)
	req := newReq(b, x, "bench")
	newRep(b, y, "bench", m)
	ctx := testkit.Context(b)
	arg := []any{"ping"}
	window := make(chan *futures.Future[any], outstanding)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(window) == outstanding {
			if _, err := (<-window).Result(ctx); err != nil {
				b.Fatal(err)
			}
		}
		f, err := req.Call("echo", arg, nil)
		if err != nil {
			b.Fatal(err)
		}
		window <- f
	}
	for len(window) > 0 {
		if _, err := (<-window).Result(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRepBacklogObeysQueueSize: requests a peer sends straight to a busy
// replier, without the req?/req! exchange, wait in a bounded backlog (the
// context's queue size, discarding the oldest); the drops are counted and
// the newest requests are served once the replier is free.
func TestRepBacklogObeysQueueSize(t *testing.T) {
	const size = 8
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.PairWith(t, r, nil, []reactor.ContextOption{reactor.WithQueue(size, reactor.DiscardOld)})
	fake := newFake(t, a, "flood", "req-rep", "rep-req")
	rep := newRep(t, b, "flood", channels.RepWorkers, channels.WithWorkers(1))
	entered, release := make(chan struct{}), make(chan struct{})
	rep.Handle("block", func([]any, *wire.Dict) (any, error) {
		close(entered)
		<-release
		return "done", nil
	})
	block, err := wire.EncodeObject(wire.Tuple{"block", wire.Tuple{}, wire.NewDict()})
	require.NoError(t, err)
	fake.send(t, block, b.ID(), 1)
	testkit.Wait(t, entered, "the blocking request to run")
	const n = 5 * size
	for i := 0; i < n; i++ {
		req, err := wire.EncodeObject(wire.Tuple{"echo", wire.Tuple{int64(i)}, wire.NewDict()})
		require.NoError(t, err)
		fake.send(t, req, b.ID(), uint64(100+i))
	}
	// Every request has arrived once the count says so (drops happen in
	// the incoming queue or in the backlog; both count).
	require.Eventually(t, func() bool { return rep.Discarded() == n-size }, 5*time.Second, time.Millisecond)
	close(release)
	var answered []uint64
	for len(answered) < 1+size {
		answered = append(answered, fake.next(t).DestSeq)
	}
	assert.Equal(t, uint64(1), answered[0], "the one being handled")
	for i, seq := range answered[1:] {
		assert.Equal(t, uint64(100+n-size+i), seq, "the newest %d, in order", size)
	}
	assert.Equal(t, uint64(n-size), rep.Discarded())
}

// TestRepHandlerTimeout: with WithHandlerTimeout a request that would tie
// the replier up (echo with an hour's sleep, a handler that waits for its
// context) ends after the time-out with an error reply and is counted; the
// replier serves the next request.
func TestRepHandlerTimeout(t *testing.T) {
	for _, m := range repModes {
		t.Run(m.String(), func(t *testing.T) {
			r := reactorkit.NewReactor(t)
			a, b := reactorkit.Pair(t, r)
			rep := newRep(t, b, "bounded", m, channels.WithHandlerTimeout(100*time.Millisecond))
			require.NoError(t, rep.Register("wait", func(ctx context.Context) (string, error) {
				<-ctx.Done()
				return "", ctx.Err()
			}))
			req := newReq(t, a, "bounded")
			ctx := testkit.Context(t)
			_, err := channels.Call[any](ctx, req, "echo", "x", 3600)
			var remote *futures.RemoteError
			require.ErrorAs(t, err, &remote, "echo's hour-long sleep was cut")
			if m == channels.RepWorkers {
				_, err = channels.Call[string](ctx, req, "wait")
				require.ErrorAs(t, err, &remote)
				assert.Contains(t, remote.Error(), "deadline")
			}
			got, err := channels.Call[wire.Tuple](ctx, req, "echo", "next")
			require.NoError(t, err)
			assert.Equal(t, "next", got[0])
			assert.GreaterOrEqual(t, rep.Overran(), uint64(1))
		})
	}
	_, err := channels.NewRepChannel(nil, "x", channels.WithHandlerTimeout(0))
	assert.ErrorIs(t, err, reactor.ErrBadOption)
}

// TestCallDeadlines: the channel's timeout cancels only a call no
// replier took (with an error that matches context.DeadlineExceeded, as
// the caller's own deadline does); a call a replier runs completes past
// it, within the caller's ctx.
func TestCallDeadlines(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	req := newReq(t, a, "deadlines")
	req.SetTimeout(50 * time.Millisecond)

	// Nobody serves the slot yet: auto-cancelled after 50 ms.
	_, err := channels.Call[any](testkit.Context(t), req, "slow")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, futures.ErrCancelled)
	var auto *futures.AutoCancelError
	require.ErrorAs(t, err, &auto)
	assert.Equal(t, 50*time.Millisecond, auto.Timeout)

	// A replier that takes longer than the channel's timeout.
	rep, err := channels.NewRepChannel(b, "deadlines", channels.WithWorkers(1))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rep.Shutdown(testkit.Context(t))) })
	require.NoError(t, rep.Register("slow", func(ctx context.Context) (string, error) {
		select {
		case <-time.After(600 * time.Millisecond):
			return "done", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}))
	require.NoError(t, rep.SetMode(channels.RepWorkers))
	req.SetTimeout(250 * time.Millisecond) // for the replier to take the call
	got, err := channels.Call[string](testkit.Context(t), req, "slow")
	require.NoError(t, err, "a running call outlives the channel's timeout")
	assert.Equal(t, "done", got)

	// The caller's ctx ends first: a deadline error, and the call is
	// forgotten.
	short, cancel := context.WithTimeout(testkit.Context(t), 20*time.Millisecond)
	defer cancel()
	_, err = channels.Call[string](short, req, "slow")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, futures.ErrTimeout)
	assert.Equal(t, 0, req.Outstanding())
}
