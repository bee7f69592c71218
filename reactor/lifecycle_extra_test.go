package reactor

import (
	"testing"

	"github.com/stretchr/testify/require"
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
	_, err := peer.Connect(testContext(t), addr, "")
	require.NoError(t, err)
	waitChan(t, bound.Established(), "Established")
	require.True(t, bound.IsConnected())
	require.Equal(t, "b", waitChan(t, calls, "the remaining hook"))
	barrier(t, r)
	select {
	case c := <-calls:
		t.Fatalf("hook %q ran after its removal or twice", c)
	default:
	}
}
