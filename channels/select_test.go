package channels_test

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/wire"
)

// TestSelectSubChannelOrder interleaves messages on three subchannels
// of different message types; selecting and reading them returns them in
// the order they were sent.
func TestSelectSubChannelOrder(t *testing.T) {
	const n = 600
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)

	pubT, err := channels.NewPubChannel(a, "sel.t", channels.Text)
	require.NoError(t, err)
	pubO, err := channels.NewPubChannel(a, "sel.o", channels.Object)
	require.NoError(t, err)
	pubB, err := channels.NewPubChannel(a, "sel.b", channels.Binary)
	require.NoError(t, err)
	subT, err := channels.NewSubChannel(b, "sel.t", channels.Text)
	require.NoError(t, err)
	subO, err := channels.NewSubChannel(b, "sel.o", channels.Object)
	require.NoError(t, err)
	subB, err := channels.NewSubChannel(b, "sel.b", channels.Binary)
	require.NoError(t, err)

	// Nothing queued: nothing selected, and RecvSelected before any
	// selection returns nothing.
	require.Nil(t, channels.SelectSubChannel(subT, subO, subB))
	require.Nil(t, channels.SelectSubChannel())
	got, err := subT.RecvSelected()
	require.NoError(t, err)
	require.Empty(t, got)

	// Runs of random length on a random channel, so that both single
	// messages and runs come back from one RecvSelected.
	rng := rand.New(rand.NewPCG(4, 2))
	var sentOn []int
	for i := 0; i < n; {
		ch := rng.IntN(3)
		for run := 1 + rng.IntN(4); run > 0 && i < n; run-- {
			switch ch {
			case 0:
				require.NoError(t, pubT.Send(ctx, strconv.Itoa(i)))
			case 1:
				require.NoError(t, pubO.Send(ctx, wire.Tuple{int64(i)}))
			case 2:
				require.NoError(t, pubB.Send(ctx, []byte(strconv.Itoa(i))))
			}
			sentOn = append(sentOn, ch)
			i++
		}
	}
	newMarker(t, a, b).sync(t)
	require.Equal(t, n, subT.Pending()+subO.Pending()+subB.Pending())

	var order []int
	selections := 0
	for {
		ch := channels.SelectSubChannel(subT, nil, subO, subB)
		if ch == nil {
			break
		}
		selections++
		switch ch {
		case subT:
			ms, err := subT.RecvSelected()
			require.NoError(t, err)
			require.NotEmpty(t, ms)
			for _, m := range ms {
				i, err := strconv.Atoi(m)
				require.NoError(t, err)
				order = append(order, i)
			}
		case subO:
			ms, err := subO.RecvSelected()
			require.NoError(t, err)
			require.NotEmpty(t, ms)
			for _, m := range ms {
				tup, ok := m.(wire.Tuple)
				require.True(t, ok)
				order = append(order, int(tup[0].(int64)))
			}
		case subB:
			ms, err := subB.RecvSelected()
			require.NoError(t, err)
			require.NotEmpty(t, ms)
			for _, m := range ms {
				i, err := strconv.Atoi(string(m))
				require.NoError(t, err)
				order = append(order, i)
			}
		default:
			t.Fatalf("SelectSubChannel returned %v, not one of its arguments", ch)
		}
	}
	require.Len(t, order, n)
	for i, v := range order {
		require.Equal(t, i, v, "message %d", i)
	}
	runs := 1
	for i := 1; i < n; i++ {
		if sentOn[i] != sentOn[i-1] {
			runs++
		}
	}
	require.Equal(t, runs, selections, "one selection per run of messages on one channel")
	require.Zero(t, subT.Pending()+subO.Pending()+subB.Pending())
}

// TestRecvSelectedStopsAtMark: RecvSelected reads up to the oldest
// message of the other channels as it was at selection time; messages
// that arrive later stay queued for the next selection, and the other
// read methods are unaffected.
func TestRecvSelectedStopsAtMark(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)
	p1, s1 := mustPub(t, a, "m1"), mustSub(t, b, "m1")
	p2, s2 := mustPub(t, a, "m2"), mustSub(t, b, "m2")
	mark := newMarker(t, a, b)
	send := func(p *channels.PubChannel[string], ms ...string) {
		t.Helper()
		for _, m := range ms {
			require.NoError(t, p.Send(ctx, m))
		}
	}

	send(p1, "a1", "a2")
	send(p2, "b1")
	send(p1, "a3")
	mark.sync(t)

	require.Equal(t, channels.Selectable(s1), channels.SelectSubChannel(s2, s1))
	send(p1, "a4") // arrives after the selection
	mark.sync(t)
	got, err := s1.RecvSelected()
	require.NoError(t, err)
	require.Equal(t, []string{"a1", "a2"}, got)
	require.Equal(t, 2, s1.Pending())

	require.Equal(t, channels.Selectable(s2), channels.SelectSubChannel(s1, s2))
	got, err = s2.RecvSelected()
	require.NoError(t, err)
	require.Equal(t, []string{"b1"}, got)
	require.Zero(t, s2.Pending())

	// The only channel with messages may read them all, "a4" included.
	require.Equal(t, channels.Selectable(s1), channels.SelectSubChannel(s1, s2))
	got, err = s1.RecvSelected()
	require.NoError(t, err)
	require.Equal(t, []string{"a3", "a4"}, got)

	// A stale mark lets nothing newer through.
	send(p1, "a5")
	mark.sync(t)
	got, err = s1.RecvSelected()
	require.NoError(t, err)
	require.Empty(t, got)
	require.Equal(t, "a5", recvOne(t, s1))
}
