package channels_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/slots"
	"github.com/goyoton/yoton/wire"
)

func TestPubSubText(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	pub, err := channels.NewPubChannel(a, "test", channels.Text)
	require.NoError(t, err)
	sub, err := channels.NewSubChannel(b, "test", channels.Text)
	require.NoError(t, err)
	ctx := testkit.Context(t)
	for i := 0; i < 100; i++ {
		require.NoError(t, pub.Send(ctx, fmt.Sprintf("msg %d", i)))
	}
	for i := 0; i < 100; i++ {
		m, err := sub.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("msg %d", i), m)
	}
}

// TestSlotIDsMatchPython sends raw packages on the slot ids Python yoton
// computes (yoton.misc.slot_hash) and expects the Go channels there.
func TestSlotIDsMatchPython(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)

	txt, err := channels.NewSubChannel(b, "test", channels.Text)
	require.NoError(t, err)
	bin, err := channels.NewSubChannel(b, "test", channels.Binary)
	require.NoError(t, err)
	obj, err := channels.NewSubChannel(b, "test", channels.Object)
	require.NoError(t, err)
	require.Equal(t, "test.txt.sub-pub", txt.SlotOutgoing())
	require.Equal(t, "test.txt.pub-sub", txt.SlotIncoming())
	require.Equal(t, "test.bin.pub-sub", bin.SlotIncoming())
	require.Equal(t, "test.obj.pub-sub", obj.SlotIncoming())

	// python3 -c 'from yoton.misc import slot_hash; print(slot_hash("test.txt.pub-sub"))'
	for name, hash := range map[string]uint64{
		"test.txt.pub-sub": 18125440073807,
		"test.bin.pub-sub": 17659257639722,
		"test.obj.pub-sub": 17706003516928,
	} {
		require.Equal(t, hash, slots.Hash(slots.Normalize(name)), name)
	}
	for slot, payload := range map[string][]byte{
		"test.txt.pub-sub": []byte("tëxt"),
		"test.bin.pub-sub": {0, 1, 2},
		"test.obj.pub-sub": []byte("i\x2a\x00\x00\x00\x00\x00\x00\x00"),
	} {
		raw := attachSender(t, a, slot)
		require.NoError(t, raw.Send(ctx, payload, reactor.Destination{}))
		raw.Detach() // the slot is free again for the PubChannel below
	}
	require.Equal(t, "tëxt", recvOne(t, txt))
	require.Equal(t, []byte{0, 1, 2}, recvOne(t, bin))
	require.Equal(t, any(int64(42)), recvOne(t, obj))

	pub, err := channels.NewPubChannel(a, "test", channels.Text)
	require.NoError(t, err)
	require.Equal(t, "test.txt.pub-sub", pub.SlotOutgoing())
	require.Equal(t, "test.txt.sub-pub", pub.SlotIncoming())
}

func TestConstructorsValidate(t *testing.T) {
	r := reactorkit.NewReactor(t)
	x := reactorkit.NewContext(t, r)
	tests := []struct {
		name string
		make func() error
		want error
	}{
		{"empty base", func() error { _, err := channels.NewSubChannel(x, "", channels.Text); return err }, reactor.ErrInvalidSlot},
		{"blank base", func() error { _, err := channels.NewPubChannel(x, " \t", channels.Text); return err }, reactor.ErrInvalidSlot},
		{"nil context sub", func() error { _, err := channels.NewSubChannel(nil, "a", channels.Text); return err }, channels.ErrNilContext},
		{"nil context pub", func() error { _, err := channels.NewPubChannel(nil, "a", channels.Text); return err }, channels.ErrNilContext},
		{"nil type sub", func() error { _, err := channels.NewSubChannel[string](x, "a", nil); return err }, channels.ErrNilMessageType},
		{"nil type pub", func() error { _, err := channels.NewPubChannel[string](x, "a", nil); return err }, channels.ErrNilMessageType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.make(), tt.want)
		})
	}
}

// TestQueueDiscard fills a subscriber whose context has queue_params
// (10, rule) and checks what it keeps.
func TestQueueDiscard(t *testing.T) {
	tests := []struct {
		name       string
		rule       reactor.Discard
		wantFirst  int
		wantLength int
	}{
		{name: "old", rule: reactor.DiscardOld, wantFirst: 90, wantLength: 10},
		{name: "new", rule: reactor.DiscardNew, wantFirst: 0, wantLength: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reactorkit.NewReactor(t)
			a, b := reactorkit.PairWith(t, r, nil, []reactor.ContextOption{reactor.WithQueue(10, tt.rule)})
			pub, err := channels.NewPubChannel(a, "q", channels.Text)
			require.NoError(t, err)
			sub, err := channels.NewSubChannel(b, "q", channels.Text)
			require.NoError(t, err)
			mark := newMarker(t, a, b)
			ctx := testkit.Context(t)
			for i := 0; i < 100; i++ {
				require.NoError(t, pub.Send(ctx, fmt.Sprintf("m%d", i)))
			}
			require.NoError(t, a.Flush(ctx))
			mark.sync(t)
			require.Equal(t, tt.wantLength, sub.Pending())
			require.Equal(t, uint64(100-tt.wantLength), sub.Discarded())
			got, err := sub.RecvAll()
			require.NoError(t, err)
			want := make([]string, tt.wantLength)
			for i := range want {
				want[i] = fmt.Sprintf("m%d", tt.wantFirst+i)
			}
			require.Equal(t, want, got)
		})
	}
}

// TestObjectMessages sends values that stress the object codec through a
// real connection.
func TestObjectMessages(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	pub, err := channels.NewPubChannel(a, "objects", channels.Object)
	require.NoError(t, err)
	sub, err := channels.NewSubChannel(b, "objects", channels.Object)
	require.NoError(t, err)

	d := wire.NewDict()
	require.NoError(t, d.Set(wire.Tuple{int64(1), "a"}, "tuple key"))
	require.NoError(t, d.Set(wire.Tuple{wire.Tuple{int64(2)}, nil, true}, []any{"nested", wire.Tuple{}}))
	require.NoError(t, d.Set("ключ 🔑", 2.5))
	long := make([]any, 300) // a count above 254 takes the 9-byte form
	for i := range long {
		long[i] = int64(i)
	}
	values := []any{
		nil,
		true,
		int64(math.MinInt64),
		int64(math.MaxInt64),
		int64(-1),
		int64(0),
		-0.5,
		"",
		"日本語 héllo 🎉",
		strings.Repeat("é", 300),
		wire.Tuple{wire.Tuple{wire.Tuple{int64(1)}}, wire.Tuple{}},
		[]any{},
		long,
		d,
		wire.NewDict(),
	}
	ctx := testkit.Context(t)
	for _, v := range values {
		require.NoError(t, pub.Send(ctx, v))
	}
	for _, want := range values {
		got := recvOne(t, sub)
		require.Equal(t, wire.Repr(want), wire.Repr(got))
	}

	// Types survive, not just their repr.
	require.NoError(t, pub.Send(ctx, wire.Tuple{int64(math.MinInt64), d}))
	got, ok := recvOne(t, sub).(wire.Tuple)
	require.True(t, ok)
	require.Equal(t, int64(math.MinInt64), got[0])
	gd, ok := got[1].(*wire.Dict)
	require.True(t, ok)
	v, ok := gd.Get(wire.Tuple{int64(1), "a"})
	require.True(t, ok)
	require.Equal(t, "tuple key", v)

	// Values the codec cannot carry fail in Send, before anything is sent.
	require.ErrorIs(t, pub.Send(ctx, []byte("raw")), channels.ErrEncode)
	require.ErrorIs(t, pub.Send(ctx, uint64(math.MaxUint64)), channels.ErrEncode)
}

// strictText is a user type whose decoder refuses the payload "bad".
var strictText = channels.NewMessageType("strict",
	func(m string) ([]byte, error) {
		if m == "unsendable" {
			return nil, errors.New("refused")
		}
		return []byte(m), nil
	},
	func(b []byte) (string, error) {
		if string(b) == "bad" {
			return "", errors.New("refused")
		}
		return string(b), nil
	})

var errPlain = errors.New("plain failure")

// plainType implements MessageType directly; its errors wrap nothing.
type plainType struct{}

func (plainType) Name() string { return "plain" }
func (plainType) Encode(m string) ([]byte, error) {
	if m == "unsendable" {
		return nil, errPlain
	}
	return []byte(m), nil
}
func (plainType) Decode(b []byte) (string, error) {
	if string(b) == "bad" {
		return "", errPlain
	}
	return string(b), nil
}

// TestDecodeError checks that a message that fails to decode surfaces as
// ErrDecode on every read path and does not stop later messages.
func TestDecodeError(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	pub, err := channels.NewPubChannel(a, "strict", strictText)
	require.NoError(t, err)
	sub, err := channels.NewSubChannel(b, "strict", strictText)
	require.NoError(t, err)
	mark := newMarker(t, a, b)
	ctx := testkit.Context(t)

	require.ErrorIs(t, pub.Send(ctx, "unsendable"), channels.ErrEncode)

	send := func(ms ...string) {
		t.Helper()
		for _, m := range ms {
			require.NoError(t, pub.Send(ctx, m))
		}
		mark.sync(t)
	}

	send("one", "bad", "two")
	require.Equal(t, "one", recvOne(t, sub))
	_, err = sub.Recv(ctx)
	require.ErrorIs(t, err, channels.ErrDecode)
	require.Equal(t, "two", recvOne(t, sub))

	send("bad")
	_, err = sub.TryRecv()
	require.ErrorIs(t, err, channels.ErrDecode)

	send("three", "bad", "four")
	all, err := sub.RecvAll()
	require.ErrorIs(t, err, channels.ErrDecode)
	require.Equal(t, []string{"three", "four"}, all)

	send("five", "bad", "six")
	var got []string
	var errs int
	for m, err := range sub.Messages() {
		if err != nil {
			require.ErrorIs(t, err, channels.ErrDecode)
			errs++
			continue
		}
		got = append(got, m)
	}
	require.Equal(t, []string{"five", "six"}, got)
	require.Equal(t, 1, errs)

	// A MessageType implemented by hand, whose errors do not wrap
	// ErrDecode or ErrEncode, is reported the same way.
	raw, err := channels.NewSubChannel[string](b, "strict", plainType{})
	require.NoError(t, err)
	rawPub, err := channels.NewPubChannel[string](a, "strict", plainType{})
	require.NoError(t, err)
	require.ErrorIs(t, rawPub.Send(ctx, "unsendable"), channels.ErrEncode)
	require.NoError(t, rawPub.Send(ctx, "bad"))
	require.NoError(t, rawPub.Send(ctx, "fine"))
	_, err = raw.Recv(ctx)
	require.ErrorIs(t, err, channels.ErrDecode)
	require.ErrorIs(t, err, errPlain)
	require.Equal(t, "fine", recvOne(t, raw))

	// The built-in object type reports malformed payloads the same way.
	obj, err := channels.NewSubChannel(b, "strict", channels.Object)
	require.NoError(t, err)
	objSlot := attachSender(t, a, "strict.obj.pub-sub")
	require.NoError(t, objSlot.Send(ctx, []byte{'?'}, reactor.Destination{}))
	require.NoError(t, objSlot.Send(ctx, []byte{'n'}, reactor.Destination{}))
	_, err = obj.Recv(ctx)
	require.ErrorIs(t, err, channels.ErrDecode)
	require.ErrorIs(t, err, wire.ErrMalformedObject)
	v, err := obj.Recv(ctx)
	require.NoError(t, err)
	require.Nil(t, v)
}

// TestFlowControlSources checks that a PubChannel stays locked while any
// subscriber context says "full", and that a lock without "ok" holds a
// Send back for SendLockWait only.
func TestFlowControlSources(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	// A third context, connected to a through a second bind.
	c := reactorkit.NewContext(t, r)
	reactorkit.ConnectPair(t, a, c)
	ctx := testkit.Context(t)

	pub, err := channels.NewPubChannel(a, "flow", channels.Text)
	require.NoError(t, err)
	sub, err := channels.NewSubChannel(b, "flow", channels.Text)
	require.NoError(t, err)
	fromB := newMarker(t, b, a)
	fromC := &marker{pub: mustPub(t, c, "test-marker-c"), sub: mustSub(t, a, "test-marker-c")}

	// Raw senders of flow-control messages at the subscribers' slot,
	// attached through the seam every channel uses.
	// On b, the subscriber's own endpoint (b has a channel sending there).
	raw := map[*reactor.Context]*reactor.Endpoint{
		b: channels.EndpointOf(sub),
		c: attachSender(t, c, "flow.txt.sub-pub"),
	}
	status := func(x *reactor.Context, m *marker, s string) {
		t.Helper()
		require.NoError(t, raw[x].Send(ctx, []byte(s), reactor.Destination{}))
		m.sync(t)
	}
	locked := func() bool {
		t.Helper()
		short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		err := pub.Send(short, "probe")
		if errors.Is(err, context.DeadlineExceeded) {
			return true
		}
		require.NoError(t, err)
		require.Equal(t, "probe", recvOne(t, sub))
		return false
	}

	require.False(t, locked())
	status(b, fromB, "full")
	status(c, fromC, "full")
	require.True(t, locked())
	status(b, fromB, "ok")
	require.True(t, locked(), "c is still full")
	status(c, fromC, "ok")
	require.False(t, locked())

	// Without "ok", Send waits SendLockWait and then sends anyway.
	status(b, fromB, "full")
	start := time.Now()
	require.NoError(t, pub.Send(ctx, "late"))
	require.GreaterOrEqual(t, time.Since(start), channels.SendLockWait-50*time.Millisecond)
	require.Equal(t, "late", recvOne(t, sub))

	// SetLockWait(0): a "full" (which anyone can forge) holds no Send back.
	pub.SetLockWait(0)
	require.True(t, pub.Throttled())
	require.False(t, locked(), "the lock no longer holds a Send")
	pub.SetLockWait(channels.SendLockWait)
	require.True(t, locked())
}
