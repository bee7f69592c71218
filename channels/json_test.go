package channels_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
)

type reading struct {
	Sensor string  `json:"sensor"`
	Value  float64 `json:"value"`
}

// TestJSONMessageType: JSON values travel as JSON text on the text slots;
// text that is not JSON for T is reported as ErrDecode and the next
// message still arrives.
func TestJSONMessageType(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	pub, err := channels.NewPubChannel(a, "readings", channels.JSON[reading]())
	require.NoError(t, err)
	assert.Equal(t, "readings.txt.pub-sub", pub.SlotOutgoing(), "the text slot, as a Python TEXT channel")
	sub, err := channels.NewSubChannel(b, "readings", channels.JSON[reading]())
	require.NoError(t, err)
	raw, err := channels.NewPubChannel(a, "readings-raw", channels.Text)
	require.NoError(t, err)
	rawSub, err := channels.NewSubChannel(b, "readings-raw", channels.JSON[reading]())
	require.NoError(t, err)

	require.NoError(t, pub.Send(testkit.Context(t), reading{Sensor: "t1", Value: 21.5}))
	assert.Equal(t, reading{Sensor: "t1", Value: 21.5}, recvOne(t, sub))

	require.NoError(t, raw.Send(testkit.Context(t), "not json"))
	require.NoError(t, raw.Send(testkit.Context(t), `{"sensor":"t2","value":3,"extra":true}`))
	_, err = rawSub.Recv(testkit.Context(t))
	require.ErrorIs(t, err, channels.ErrDecode)
	assert.Equal(t, reading{Sensor: "t2", Value: 3}, recvOne(t, rawSub))

	bad, err := channels.NewPubChannel(a, "bad", channels.JSON[func()]())
	require.NoError(t, err)
	require.ErrorIs(t, bad.Send(testkit.Context(t), func() {}), channels.ErrEncode)
}

// TestPubSubStats: a publisher counts what it sent and a subscriber what
// arrived and what is still queued.
func TestPubSubStats(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	pub, err := channels.NewPubChannel(a, "stats", channels.Text)
	require.NoError(t, err)
	sub, err := channels.NewSubChannel(b, "stats", channels.Text)
	require.NoError(t, err)
	for _, m := range []string{"one", "two", "three"} {
		require.NoError(t, pub.Send(testkit.Context(t), m))
	}
	assert.Equal(t, channels.PubStats{Sent: 3, SentBytes: 11}, pub.Stats())
	assert.Equal(t, "one", recvOne(t, sub))
	require.Eventually(t, func() bool { return sub.Stats().Received == 3 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, channels.SubStats{Received: 3, ReceivedBytes: 11, Pending: 2}, sub.Stats())
}
