package channels_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
)

// pyDecodeErrors are Python 3.11's messages for b.decode("utf-8")
// (yoton's TEXT.message_from_bytes); internal/interop's
// TestTextInvalidUTF8Python compares them with the live interpreter.
var pyDecodeErrors = []struct {
	name    string
	payload string
	python  string
}{
	{name: "invalid start byte", payload: "\xff", python: "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"},
	{name: "lone continuation byte", payload: "a\x80b", python: "'utf-8' codec can't decode byte 0x80 in position 1: invalid start byte"},
	{name: "cut at the end", payload: "\xe6\x97", python: "'utf-8' codec can't decode bytes in position 0-1: unexpected end of data"},
	{name: "cut in the middle", payload: "\xe6\x97x", python: "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"},
	{name: "overlong", payload: "\xe0\x80\x80", python: "'utf-8' codec can't decode byte 0xe0 in position 0: invalid continuation byte"},
	{name: "surrogate", payload: "\xed\xa0\x80", python: "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"},
	{name: "four bytes cut", payload: "\xf0\x90\x80", python: "'utf-8' codec can't decode bytes in position 0-2: unexpected end of data"},
	{name: "above U+10FFFF", payload: "\xf4\x90\x80\x80", python: "'utf-8' codec can't decode byte 0xf4 in position 0: invalid continuation byte"},
	{name: "overlong two bytes", payload: "\xc0\x80", python: "'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte"},
	{name: "lead byte alone", payload: "\xc2", python: "'utf-8' codec can't decode byte 0xc2 in position 0: unexpected end of data"},
	{name: "four bytes broken", payload: "\xf0\x90\x80x", python: "'utf-8' codec can't decode bytes in position 0-2: invalid continuation byte"},
	{name: "after valid text", payload: "ok é\xf8", python: "'utf-8' codec can't decode byte 0xf8 in position 5: invalid start byte"},
	{name: "lead byte then ASCII", payload: "\xe6x", python: "'utf-8' codec can't decode byte 0xe6 in position 0: invalid continuation byte"},
}

// TestTextStrictUTF8: Text decodes as Python's strict utf-8 codec, with
// its error messages, and refuses to encode what it would not decode.
func TestTextStrictUTF8(t *testing.T) {
	for _, tt := range pyDecodeErrors {
		t.Run(tt.name, func(t *testing.T) {
			_, err := channels.Text.Decode([]byte(tt.payload))
			require.ErrorIs(t, err, channels.ErrDecode)
			require.True(t, strings.HasSuffix(err.Error(), ": "+tt.python), "got %q, Python says %q", err, tt.python)
			_, err = channels.Text.Encode(tt.payload)
			require.ErrorIs(t, err, channels.ErrEncode)
		})
	}
	for _, ok := range []string{"", "plain", "nul\x00inside", "é✓日本🎉", "\u007f\u0080\U0010ffff"} {
		m, err := channels.Text.Decode([]byte(ok))
		require.NoError(t, err)
		require.Equal(t, ok, m)
		b, err := channels.Text.Encode(ok)
		require.NoError(t, err)
		require.Equal(t, ok, string(b))
	}
}

// TestTextInvalidUTF8OnChannels: a text message that is not UTF-8 is
// reported in its place by every read and is then gone; the channel
// carries on (as Python's recv raises and its next recv gets the next
// message). A StateChannel keeps its state, as Python's (whose
// receiving thread drops the package). Sending one fails.
func TestTextInvalidUTF8OnChannels(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	raw, err := channels.NewPubChannel(a, "news", rawText)
	require.NoError(t, err)
	sub := mustSub(t, b, "news")
	mark := newMarker(t, a, b)
	ctx := testkit.Context(t)
	send := func(ms ...string) {
		t.Helper()
		for _, m := range ms {
			require.NoError(t, raw.Send(ctx, []byte(m)))
		}
		mark.sync(t)
	}

	send("one", "\xff", "two")
	require.Equal(t, "one", recvOne(t, sub))
	_, err = sub.Recv(ctx)
	require.ErrorIs(t, err, channels.ErrDecode)
	m, err := sub.TryRecv()
	require.NoError(t, err)
	require.Equal(t, "two", m)

	send("three", "\xe6\x97", "four")
	all, err := sub.RecvAll()
	require.ErrorIs(t, err, channels.ErrDecode)
	require.Equal(t, []string{"three", "four"}, all)

	pub := mustPub(t, a, "other")
	require.ErrorIs(t, pub.Send(ctx, "bad \xff"), channels.ErrEncode)

	rawState, err := channels.NewStateChannel(a, "state", rawText)
	require.NoError(t, err)
	state, err := channels.NewStateChannel(b, "state", channels.Text)
	require.NoError(t, err)
	require.NoError(t, rawState.Send(ctx, []byte("good")))
	require.NoError(t, rawState.Send(ctx, []byte("bad \xff")))
	mark.sync(t)
	s, ok := state.Recv()
	require.True(t, ok)
	require.Equal(t, "good", s)
	require.ErrorIs(t, state.Send(ctx, "bad \xff"), channels.ErrEncode)
}
