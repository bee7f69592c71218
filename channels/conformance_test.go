package channels_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// kind describes one message type for the conformance suite.
type kind[T any] struct {
	mt channels.MessageType[T]
	// msg returns the i-th test message (i >= 0); it never encodes empty.
	msg func(i int) T
	// index is the inverse of msg.
	index func(t testing.TB, m T) int
	// empty lists values whose encoding is empty, so Send sends nothing.
	empty []T
	// equal compares a sent and a received message.
	equal func(t testing.TB, want, got T)
}

// jsonType is a user-defined message type: any Go value as JSON.
func jsonType[T any](name string) channels.MessageType[T] {
	return channels.NewMessageType(name,
		func(m T) ([]byte, error) { return json.Marshal(m) },
		func(b []byte) (T, error) {
			var m T
			err := json.Unmarshal(b, &m)
			return m, err
		})
}

// point is the user type carried by jsonType in these tests.
type point struct {
	ID   int      `json:"id"`
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

func textKind() kind[string] {
	return kind[string]{
		mt:  channels.Text,
		msg: func(i int) string { return fmt.Sprintf("msg %d ✓ héllo", i) },
		index: func(t testing.TB, m string) int {
			t.Helper()
			f := strings.Fields(m)
			require.Len(t, f, 4, "message %q", m)
			i, err := strconv.Atoi(f[1])
			require.NoError(t, err)
			return i
		},
		empty: []string{""},
		equal: func(t testing.TB, want, got string) { t.Helper(); require.Equal(t, want, got) },
	}
}

var binaryPrefix = []byte{0x00, 0xff, '\r', '\n', 0x80}

func binaryKind() kind[[]byte] {
	return kind[[]byte]{
		mt:  channels.Binary,
		msg: func(i int) []byte { return fmt.Appendf(bytes.Clone(binaryPrefix), "%d", i) },
		index: func(t testing.TB, m []byte) int {
			t.Helper()
			require.True(t, bytes.HasPrefix(m, binaryPrefix), "message %q", m)
			i, err := strconv.Atoi(string(m[len(binaryPrefix):]))
			require.NoError(t, err)
			return i
		},
		empty: [][]byte{{}, nil},
		equal: func(t testing.TB, want, got []byte) { t.Helper(); require.Equal(t, want, got) },
	}
}

func objectKind() kind[any] {
	return kind[any]{
		mt: channels.Object,
		msg: func(i int) any {
			return wire.Tuple{int64(i), "msg", []any{1.5, true, nil, wire.Tuple{"ü"}}}
		},
		index: func(t testing.TB, m any) int {
			t.Helper()
			tu, ok := m.(wire.Tuple)
			require.True(t, ok, "message %s is a %T", wire.Repr(m), m)
			require.NotEmpty(t, tu)
			i, ok := tu[0].(int64)
			require.True(t, ok, "first item of %s is a %T", wire.Repr(m), tu[0])
			return int(i)
		},
		// Every object, None included, encodes to at least one byte.
		equal: func(t testing.TB, want, got any) {
			t.Helper()
			require.Equal(t, wire.Repr(want), wire.Repr(got))
		},
	}
}

func jsonKind() kind[point] {
	return kind[point]{
		mt:    jsonType[point]("json-point"),
		msg:   func(i int) point { return point{ID: i, Name: "pünkt", Tags: []string{"a", "b"}} },
		index: func(_ testing.TB, m point) int { return m.ID },
		equal: func(t testing.TB, want, got point) { t.Helper(); require.Equal(t, want, got) },
	}
}

// TestConformance runs the same pub/sub behaviour checks against every
// message type, built-in and user-defined.
func TestConformance(t *testing.T) {
	t.Run("Text", func(t *testing.T) { runConformance(t, textKind()) })
	t.Run("Binary", func(t *testing.T) { runConformance(t, binaryKind()) })
	t.Run("Object", func(t *testing.T) { runConformance(t, objectKind()) })
	t.Run("JSON", func(t *testing.T) { runConformance(t, jsonKind()) })
}

// env is a publisher on context a and a subscriber on context b, b
// connected to a, both on reactor r.
type env[T any] struct {
	k    kind[T]
	r    *reactor.Reactor
	a, b *reactor.Context
	base string
	pub  *channels.PubChannel[T]
	sub  *channels.SubChannel[T]
	mark *marker // a -> b
}

func newEnv[T any](t *testing.T, k kind[T]) *env[T] {
	t.Helper()
	e := &env[T]{k: k, r: reactorkit.NewReactor(t), base: "conformance"}
	e.a, e.b = reactorkit.Pair(t, e.r)
	var err error
	e.pub, err = channels.NewPubChannel(e.a, e.base, k.mt)
	require.NoError(t, err)
	e.sub, err = channels.NewSubChannel(e.b, e.base, k.mt)
	require.NoError(t, err)
	e.mark = newMarker(t, e.a, e.b)
	return e
}

// sendRange publishes messages from..to-1.
func (e *env[T]) sendRange(t *testing.T, from, to int) {
	t.Helper()
	ctx := testkit.Context(t)
	for i := from; i < to; i++ {
		require.NoError(t, e.pub.Send(ctx, e.k.msg(i)))
	}
}

// requireRange checks that got holds messages from..to-1 in order.
func (e *env[T]) requireRange(t *testing.T, got []T, from, to int) {
	t.Helper()
	require.Len(t, got, to-from)
	for i, m := range got {
		e.k.equal(t, e.k.msg(from+i), m)
	}
}

type recvResult[T any] struct {
	m   T
	err error
}

func runConformance[T any](t *testing.T, k kind[T]) {
	t.Run("RoundTrip", func(t *testing.T) {
		e := newEnv(t, k)
		e.sendRange(t, 0, 10)
		for i := 0; i < 10; i++ {
			e.k.equal(t, k.msg(i), recvOne(t, e.sub))
		}
	})

	t.Run("RecvBlocksUntilMessage", func(t *testing.T) {
		e := newEnv(t, k)
		ctx := testkit.Context(t)
		got := make(chan recvResult[T], 1)
		go func() {
			m, err := e.sub.Recv(ctx)
			got <- recvResult[T]{m, err}
		}()
		// Nothing was sent: Recv cannot have returned. (It may not have
		// started waiting yet either; both orders must end the same way.)
		select {
		case r := <-got:
			t.Fatalf("Recv returned before anything was sent: %v, %v", r.m, r.err)
		default:
		}
		e.sendRange(t, 7, 8)
		r := testkit.Wait(t, got, "Recv to return after a message was sent")
		require.NoError(t, r.err)
		k.equal(t, k.msg(7), r.m)
	})

	t.Run("RecvHonoursContext", func(t *testing.T) {
		e := newEnv(t, k)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := e.sub.Recv(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		_, err = e.sub.Recv(ctx)
		require.ErrorIs(t, err, context.Canceled)

		// The channel still works afterwards.
		e.sendRange(t, 0, 1)
		k.equal(t, k.msg(0), recvOne(t, e.sub))
	})

	t.Run("TryRecv", func(t *testing.T) {
		e := newEnv(t, k)
		_, err := e.sub.TryRecv()
		require.ErrorIs(t, err, channels.ErrNoMessage)
		e.sendRange(t, 0, 2)
		e.mark.sync(t)
		for i := 0; i < 2; i++ {
			m, err := e.sub.TryRecv()
			require.NoError(t, err)
			k.equal(t, k.msg(i), m)
		}
		_, err = e.sub.TryRecv()
		require.ErrorIs(t, err, channels.ErrNoMessage)
	})

	t.Run("RecvAllAndPending", func(t *testing.T) {
		e := newEnv(t, k)
		require.Equal(t, 0, e.sub.Pending())
		all, err := e.sub.RecvAll()
		require.NoError(t, err)
		require.Empty(t, all)

		e.sendRange(t, 0, 20)
		e.mark.sync(t)
		require.Equal(t, 20, e.sub.Pending())
		all, err = e.sub.RecvAll()
		require.NoError(t, err)
		e.requireRange(t, all, 0, 20)
		require.Equal(t, 0, e.sub.Pending())
		require.Zero(t, e.sub.Discarded())
	})

	t.Run("MessagesIterator", func(t *testing.T) {
		e := newEnv(t, k)
		e.sendRange(t, 0, 10)
		e.mark.sync(t)
		var first []T
		for m, err := range e.sub.Messages() {
			require.NoError(t, err)
			first = append(first, m)
			if len(first) == 3 {
				break
			}
		}
		e.requireRange(t, first, 0, 3)
		require.Equal(t, 7, e.sub.Pending(), "early break must leave the rest queued")
		var rest []T
		for m, err := range e.sub.Messages() {
			require.NoError(t, err)
			rest = append(rest, m)
		}
		e.requireRange(t, rest, 3, 10)
		require.Equal(t, 0, e.sub.Pending())
		for range e.sub.Messages() {
			t.Fatal("an empty channel yielded a message")
		}
	})

	t.Run("PubClose", func(t *testing.T) {
		e := newEnv(t, k)
		require.False(t, e.pub.IsClosed())
		require.NoError(t, e.pub.Close())
		require.True(t, e.pub.IsClosed())
		require.ErrorIs(t, e.pub.Send(testkit.Context(t), k.msg(0)), reactor.ErrClosed)
		require.NoError(t, e.pub.Close(), "Close is idempotent")
	})

	t.Run("SendAfterContextClose", func(t *testing.T) {
		e := newEnv(t, k)
		require.NoError(t, e.a.Close())
		require.ErrorIs(t, e.pub.Send(testkit.Context(t), k.msg(0)), reactor.ErrClosed)
	})

	t.Run("SubCloseKeepsQueued", func(t *testing.T) {
		e := newEnv(t, k)
		e.sendRange(t, 0, 3)
		e.mark.sync(t)
		require.NoError(t, e.sub.Close())
		require.True(t, e.sub.IsClosed())
		require.NoError(t, e.sub.Close(), "Close is idempotent")
		// Messages published after Close are not queued.
		e.sendRange(t, 3, 5)
		e.mark.sync(t)
		require.Equal(t, 3, e.sub.Pending())
		for i := 0; i < 3; i++ {
			k.equal(t, k.msg(i), recvOne(t, e.sub))
		}
		_, err := e.sub.Recv(testkit.Context(t))
		require.ErrorIs(t, err, reactor.ErrClosed)
		_, err = e.sub.TryRecv()
		require.ErrorIs(t, err, reactor.ErrClosed)
	})

	t.Run("SubCloseWakesRecv", func(t *testing.T) {
		e := newEnv(t, k)
		ctx := testkit.Context(t)
		got := make(chan error, 1)
		go func() {
			_, err := e.sub.Recv(ctx)
			got <- err
		}()
		require.NoError(t, e.sub.Close())
		require.ErrorIs(t, testkit.Wait(t, got, "Recv to return after Close"), reactor.ErrClosed)
	})

	t.Run("ReactorCloseWakesRecv", func(t *testing.T) {
		e := newEnv(t, k)
		ctx := testkit.Context(t)
		got := make(chan error, 1)
		go func() {
			_, err := e.sub.Recv(ctx)
			got <- err
		}()
		require.NoError(t, e.r.Close())
		require.ErrorIs(t, testkit.Wait(t, got, "Recv to return after the reactor closed"), reactor.ErrClosed)
	})

	t.Run("EmptyMessageSendsNothing", func(t *testing.T) {
		if len(k.empty) == 0 {
			t.Skipf("no %s message encodes empty", k.mt.Name())
		}
		e := newEnv(t, k)
		ctx := testkit.Context(t)
		for _, m := range k.empty {
			require.NoError(t, e.pub.Send(ctx, m))
		}
		e.sendRange(t, 1, 2)
		// Had an empty message gone out, it would arrive first.
		k.equal(t, k.msg(1), recvOne(t, e.sub))
		e.mark.sync(t)
		require.Equal(t, 0, e.sub.Pending())
	})

	t.Run("SlotNotFree", func(t *testing.T) {
		e := newEnv(t, k)
		_, err := channels.NewSubChannel(e.b, e.base, k.mt)
		require.ErrorIs(t, err, reactor.ErrSlotNotFree)
		_, err = channels.NewPubChannel(e.a, e.base, k.mt)
		require.ErrorIs(t, err, reactor.ErrSlotNotFree)
		// Full slot names are stripped and lower-cased before hashing, so
		// case and leading spaces in the base do not make another slot.
		_, err = channels.NewSubChannel(e.b, " \t"+strings.ToUpper(e.base), k.mt)
		require.ErrorIs(t, err, reactor.ErrSlotNotFree)

		// Another type at the same base is another slot.
		if k.mt.Name() == channels.Text.Name() {
			_, err = channels.NewSubChannel(e.b, e.base, channels.Binary)
		} else {
			_, err = channels.NewSubChannel(e.b, e.base, channels.Text)
		}
		require.NoError(t, err)
		// A Pub and a Sub at one base in one context do not collide.
		_, err = channels.NewPubChannel(e.b, e.base, k.mt)
		require.NoError(t, err)

		// Closing frees the slot.
		require.NoError(t, e.sub.Close())
		again, err := channels.NewSubChannel(e.b, e.base, k.mt)
		require.NoError(t, err)
		e.sendRange(t, 0, 1)
		k.equal(t, k.msg(0), recvOne(t, again))
	})

	t.Run("SlotNames", func(t *testing.T) {
		e := newEnv(t, k)
		prefix := e.base + "." + k.mt.Name() + "."
		require.Equal(t, prefix+"pub-sub", e.pub.SlotOutgoing())
		require.Equal(t, prefix+"sub-pub", e.pub.SlotIncoming())
		require.Equal(t, prefix+"sub-pub", e.sub.SlotOutgoing())
		require.Equal(t, prefix+"pub-sub", e.sub.SlotIncoming())
		require.Same(t, e.a, e.pub.Context())
		require.Same(t, e.b, e.sub.Context())
	})

	t.Run("ReceivedOnLoopOncePerBatch", func(t *testing.T) {
		e := newEnv(t, k)
		const n = 50
		var (
			calls, offLoop atomic.Int32
			mu             sync.Mutex
			got            []T
			done           = make(chan struct{})
		)
		e.sub.Received.Bind(func(s *channels.SubChannel[T]) {
			calls.Add(1)
			if !e.r.OnLoop() {
				offLoop.Add(1)
			}
			if s != e.sub {
				t.Errorf("Received carried %p, want the channel %p", s, e.sub)
			}
			ms, err := s.RecvAll()
			if err != nil {
				t.Errorf("RecvAll in handler: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			got = append(got, ms...)
			if len(got) == n {
				close(done)
			}
		})
		e.sendRange(t, 0, n) // one burst
		testkit.Wait(t, done, "every message to reach the Received handler")
		mu.Lock()
		defer mu.Unlock()
		e.requireRange(t, got, 0, n)
		require.Zero(t, offLoop.Load(), "Received ran off the loop goroutine")
		c := calls.Load()
		require.GreaterOrEqual(t, c, int32(1))
		require.LessOrEqual(t, c, int32(n))
		t.Logf("%d messages, %d Received calls", n, c)
	})

	t.Run("RecvInReceivedIsBlockingCall", func(t *testing.T) {
		e := newEnv(t, k)
		ctx := testkit.Context(t)
		errs := make(chan error, 1)
		e.sub.Received.Bind(func(s *channels.SubChannel[T]) {
			for {
				if _, err := s.TryRecv(); err != nil {
					break
				}
			}
			// A long deadline: the call must fail at once, not time out.
			_, err := s.Recv(ctx)
			select {
			case errs <- err:
			default:
			}
		})
		e.sendRange(t, 0, 1)
		require.ErrorIs(t, testkit.Wait(t, errs, "the Received handler to run"), reactor.ErrBlockingCall)
	})

	t.Run("FlowControl", func(t *testing.T) {
		e := newEnv(t, k)
		back := newMarker(t, e.b, e.a) // b -> a, on the same connection
		ctx := testkit.Context(t)
		subPub := channels.EndpointOf(e.sub) // as if the subscriber said it
		status := func(s string) {
			t.Helper()
			require.NoError(t, subPub.Send(ctx, []byte(s), reactor.Destination{}))
			back.sync(t) // the status has reached the PubChannel
		}

		status("full")
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		err := e.pub.Send(short, k.msg(0))
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, "Send must wait while a subscriber is full")

		status("ok")
		short, cancel = context.WithTimeout(ctx, 5*time.Second)
		start := time.Now()
		require.NoError(t, e.pub.Send(short, k.msg(1)))
		cancel()
		require.Less(t, time.Since(start), channels.SendLockWait/2, "Send must not wait once unlocked")
		k.equal(t, k.msg(1), recvOne(t, e.sub))

		// A Send waiting on the lock is released by "ok".
		status("full")
		sent := make(chan error, 1)
		start = time.Now()
		go func() { sent <- e.pub.Send(ctx, k.msg(2)) }()
		require.NoError(t, subPub.Send(ctx, []byte("ok"), reactor.Destination{}))
		require.NoError(t, testkit.Wait(t, sent, "Send to return"))
		require.Less(t, time.Since(start), channels.SendLockWait, "\"ok\" must release a waiting Send")
		k.equal(t, k.msg(2), recvOne(t, e.sub))
	})

	t.Run("ConcurrentSenders", func(t *testing.T) {
		e := newEnv(t, k)
		const senders, each = 4, 1000
		ctx := testkit.Context(t)
		var wg sync.WaitGroup
		errs := make(chan error, senders)
		for g := 0; g < senders; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					if err := e.pub.Send(ctx, k.msg(g*each+i)); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		next := make([]int, senders)
		for n := 0; n < senders*each; n++ {
			m, err := e.sub.Recv(ctx)
			require.NoError(t, err, "after %d messages", n)
			idx := k.index(t, m)
			g, i := idx/each, idx%each
			require.Less(t, g, senders)
			require.Equal(t, next[g], i, "sender %d out of order", g)
			next[g]++
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Zero(t, e.sub.Discarded())
	})
}
