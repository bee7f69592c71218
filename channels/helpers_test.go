package channels_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// recvOne receives one message from s within the test's deadline.
func recvOne[T any](t testing.TB, s *channels.SubChannel[T]) T {
	t.Helper()
	m, err := s.Recv(testkit.Context(t))
	require.NoError(t, err)
	return m
}

// marker is a second text pub/sub pair between the same two contexts.
// Delivery is ordered per connection, so once a marker sent after some
// messages arrives, those messages have been deposited too.
type marker struct {
	pub *channels.PubChannel[string]
	sub *channels.SubChannel[string]
}

func newMarker(t testing.TB, from, to *reactor.Context) *marker {
	t.Helper()
	return &marker{pub: mustPub(t, from, "test-marker"), sub: mustSub(t, to, "test-marker")}
}

// sync sends a marker and waits for it at the other end.
func (m *marker) sync(t testing.TB) {
	t.Helper()
	ctx := testkit.Context(t)
	require.NoError(t, m.pub.Send(ctx, "mark"))
	got, err := m.sub.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "mark", got)
}

// attachSender attaches a raw sender at the full slot name on x, through
// the seam every channel uses.
func attachSender(t testing.TB, x *reactor.Context, slot string) *reactor.Endpoint {
	t.Helper()
	ep, err := x.Attach(reactor.Attachment{SendSlot: slot})
	require.NoError(t, err)
	return ep
}

// rawReceiver takes the packages of one slot of a context in place of a
// channel, so a test sees exactly what went over the wire.
type rawReceiver struct {
	got chan []byte
}

func (r *rawReceiver) Deposit(p reactor.Package) {
	select {
	case r.got <- p.Data:
	default:
		panic("rawReceiver: buffer full")
	}
}

func (r *rawReceiver) EndBatch() {}

// listen registers a rawReceiver on x at the full slot name.
func listen(t testing.TB, x *reactor.Context, slot string) *rawReceiver {
	t.Helper()
	rx := &rawReceiver{got: make(chan []byte, 1024)}
	_, err := x.Attach(reactor.Attachment{RecvSlot: slot, Receiver: rx})
	require.NoError(t, err)
	return rx
}

// next returns the next payload rx received, failing the test after
// testkit.Timeout.
func (r *rawReceiver) next(t testing.TB) string {
	t.Helper()
	return string(testkit.Wait(t, r.got, "a package"))
}

// mustPub makes a text PubChannel on x.
func mustPub(t testing.TB, x *reactor.Context, base string) *channels.PubChannel[string] {
	t.Helper()
	p, err := channels.NewPubChannel(x, base, channels.Text)
	require.NoError(t, err)
	return p
}

// mustSub makes a text SubChannel on x.
func mustSub(t testing.TB, x *reactor.Context, base string) *channels.SubChannel[string] {
	t.Helper()
	s, err := channels.NewSubChannel(x, base, channels.Text)
	require.NoError(t, err)
	return s
}
