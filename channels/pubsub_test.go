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

func newReactor(t *testing.T) *reactor.Reactor {
	t.Helper()
	r, err := reactor.New()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

func pair(t *testing.T, r *reactor.Reactor) (*reactor.Context, *reactor.Context) {
	t.Helper()
	a, err := r.NewContext()
	require.NoError(t, err)
	b, err := r.NewContext()
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

func TestPubSubText(t *testing.T) {
	r := newReactor(t)
	a, b := pair(t, r)
	pub, err := channels.NewPubChannel(a, "test", channels.Text)
	require.NoError(t, err)
	sub, err := channels.NewSubChannel(b, "test", channels.Text)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 100; i++ {
		require.NoError(t, pub.Send(ctx, fmt.Sprintf("msg %d", i)))
	}
	for i := 0; i < 100; i++ {
		m, err := sub.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("msg %d", i), m)
	}
}
