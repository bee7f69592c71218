package channels_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
)

// testTimeout bounds every wait in these tests; nothing should come near it.
const testTimeout = 10 * time.Second

// testCtx returns a context that ends with the test or after testTimeout.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// pairWith makes two contexts on r, a bound on 127.0.0.1:0 and b
// connected to it, with the given context options.
func pairWith(t testing.TB, r *reactor.Reactor, aOpts, bOpts []reactor.ContextOption) (a, b *reactor.Context) {
	t.Helper()
	a, err := r.NewContext(aOpts...)
	require.NoError(t, err)
	b, err = r.NewContext(bOpts...)
	require.NoError(t, err)
	c, err := a.Bind("127.0.0.1:0", 1, "host")
	require.NoError(t, err)
	_, port := c.LocalAddr()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = b.Connect(ctx, fmt.Sprintf("127.0.0.1:%d", port), "client")
	require.NoError(t, err)
	return a, b
}

// recvOne receives one message from s within the test's deadline.
func recvOne[T any](t testing.TB, s *channels.SubChannel[T]) T {
	t.Helper()
	m, err := s.Recv(testCtx(t))
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
	pub, err := channels.NewPubChannel(from, "test-marker", channels.Text)
	require.NoError(t, err)
	sub, err := channels.NewSubChannel(to, "test-marker", channels.Text)
	require.NoError(t, err)
	return &marker{pub: pub, sub: sub}
}

// sync sends a marker and waits for it at the other end.
func (m *marker) sync(t testing.TB) {
	t.Helper()
	ctx := testCtx(t)
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
