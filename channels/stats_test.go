package channels_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
)

// TestReqRepStats: a requester counts its calls, replies and remote
// errors; a replier the requests it ran and those that failed.
func TestReqRepStats(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)
	rep := newRep(t, b, "stats", channels.RepEvent)
	require.NoError(t, rep.Register("add", func(x, y int64) int64 { return x + y }))
	require.NoError(t, rep.Register("fail", func() error { return errors.New("no") }))
	req := newReq(t, a, "stats")

	for i := range int64(2) {
		sum, err := channels.Call[int64](ctx, req, "add", i, 1)
		require.NoError(t, err)
		assert.Equal(t, i+1, sum)
	}
	_, err := channels.Call[any](ctx, req, "fail")
	var remote *futures.RemoteError
	require.ErrorAs(t, err, &remote)

	rs := req.Stats()
	assert.Equal(t, uint64(3), rs.Calls)
	assert.Equal(t, uint64(2), rs.Replies)
	assert.Equal(t, uint64(1), rs.RemoteErrors)
	assert.Zero(t, rs.Outstanding)
	assert.Equal(t, req.FastCalls(), rs.FastCalls)
	assert.Equal(t, channels.RepStats{Handled: 3, Errors: 1}, rep.Stats())

	js, err := json.Marshal(rs)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"remote_errors":1`)
}

// TestStateStats: a state channel counts the states it sent and those
// that arrived.
func TestStateStats(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	ctx := testkit.Context(t)
	sa, err := channels.NewStateChannel(a, "stats", channels.Text)
	require.NoError(t, err)
	sb, err := channels.NewStateChannel(b, "stats", channels.Text)
	require.NoError(t, err)

	arrived := func(want string) func() bool {
		return func() bool { got, _ := sb.Recv(); return got == want }
	}
	require.NoError(t, sa.Send(ctx, "one"))
	require.Eventually(t, arrived("one"), testkit.Timeout, time.Millisecond)
	require.NoError(t, sa.Send(ctx, "one")) // unchanged: not sent
	require.NoError(t, sa.Send(ctx, "two"))
	require.Eventually(t, arrived("two"), testkit.Timeout, time.Millisecond)

	// Two changes sent (a resend to a newcomer would add one), and b
	// got every state a sent; b sent nothing, having no state.
	sent := sa.Stats().Sent
	assert.GreaterOrEqual(t, sent, uint64(2))
	require.Eventually(t, func() bool { return sb.Stats().Received == sa.Stats().Sent }, testkit.Timeout, time.Millisecond)
	assert.Zero(t, sb.Stats().Sent)
}
