package channels_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
)

type reading struct {
	Sensor string  `json:"sensor"`
	Value  float64 `json:"value"`
}

// TestJSONMessageType: JSON values travel as JSON text on the text slots;
// text that is not JSON for T is reported as ErrDecode and the next
// message still arrives.
func TestJSONMessageType(t *testing.T) {
	r := newReactor(t)
	a, b := pair(t, r)
	pub, err := channels.NewPubChannel(a, "readings", channels.JSON[reading]())
	require.NoError(t, err)
	assert.Equal(t, "readings.txt.pub-sub", pub.SlotOutgoing(), "the text slot, as a Python TEXT channel")
	sub, err := channels.NewSubChannel(b, "readings", channels.JSON[reading]())
	require.NoError(t, err)
	raw, err := channels.NewPubChannel(a, "readings-raw", channels.Text)
	require.NoError(t, err)
	rawSub, err := channels.NewSubChannel(b, "readings-raw", channels.JSON[reading]())
	require.NoError(t, err)

	require.NoError(t, pub.Send(testCtx(t), reading{Sensor: "t1", Value: 21.5}))
	assert.Equal(t, reading{Sensor: "t1", Value: 21.5}, recvOne(t, sub))

	require.NoError(t, raw.Send(testCtx(t), "not json"))
	require.NoError(t, raw.Send(testCtx(t), `{"sensor":"t2","value":3,"extra":true}`))
	_, err = rawSub.Recv(testCtx(t))
	require.ErrorIs(t, err, channels.ErrDecode)
	assert.Equal(t, reading{Sensor: "t2", Value: 3}, recvOne(t, rawSub))

	bad, err := channels.NewPubChannel(a, "bad", channels.JSON[func()]())
	require.NoError(t, err)
	require.ErrorIs(t, bad.Send(testCtx(t), func() {}), channels.ErrEncode)
}
