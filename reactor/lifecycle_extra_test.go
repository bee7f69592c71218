package reactor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
)

func TestEstablishedAndNewConnectionHookRemoval(t *testing.T) {
	r := newReactor(t)
	host := newContext(t, r)
	calls := make(chan string, 4)
	removeA := host.onNewConnection(func() { calls <- "a" })
	host.onNewConnection(func() { calls <- "b" })
	removeA()
	bound, addr := bindLocal(t, host)
	peer := newContext(t, r)
	_, err := peer.Connect(testkit.Context(t), addr, "")
	require.NoError(t, err)
	testkit.Wait(t, bound.Established(), "Established")
	require.True(t, bound.IsConnected())
	require.Equal(t, "b", testkit.Wait(t, calls, "the remaining hook"))
	testkit.Barrier(t, r)
	select {
	case c := <-calls:
		t.Fatalf("hook %q ran after its removal or twice", c)
	default:
	}
}
