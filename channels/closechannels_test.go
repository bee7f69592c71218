package channels_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

// TestCloseChannels: Context.CloseChannels closes every channel of the
// context (they refuse to send) and leaves the connections up; new
// channels attached afterwards work.
func TestCloseChannels(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	pub, err := channels.NewPubChannel(a, "cc", channels.Text)
	require.NoError(t, err)
	st, err := channels.NewStateChannel(a, "cc", channels.Text)
	require.NoError(t, err)
	req, err := channels.NewReqChannel(a, "cc")
	require.NoError(t, err)
	a.CloseChannels()
	for _, c := range []interface{ IsClosed() bool }{pub, st, req} {
		assert.True(t, c.IsClosed())
	}
	require.ErrorIs(t, pub.Send(testkit.Context(t), "late"), reactor.ErrClosed)
	require.ErrorIs(t, pub.Send(testkit.Context(t), "late"), reactor.ErrClosed, "one closed error for channels, contexts and reactors")
	assert.Equal(t, 1, b.ConnectionCount(), "the connection stays")
	assert.Len(t, a.AllConnections(), 1)

	sub, err := channels.NewSubChannel(b, "cc", channels.Text)
	require.NoError(t, err)
	again, err := channels.NewPubChannel(a, "cc", channels.Text) // the slot is free again
	require.NoError(t, err)
	require.NoError(t, again.Send(testkit.Context(t), "after"))
	assert.Equal(t, "after", recvOne(t, sub))
}
