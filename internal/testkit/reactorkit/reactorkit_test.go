package reactorkit_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

func TestMain(m *testing.M) {
	// gnet starts a global goroutine pool when its package initialises.
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

func TestNewReactorClosesWithTheTest(t *testing.T) {
	var r *reactor.Reactor
	t.Run("test", func(t *testing.T) {
		r = reactorkit.NewReactor(t)
		testkit.Barrier(t, r)
	})
	select {
	case <-r.Done():
	default:
		t.Error("the reactor still runs after its test")
	}
}

func TestPair(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	if a.ConnectionCount() != 1 || b.ConnectionCount() != 1 {
		t.Errorf("connections: a %d, b %d, want 1 each", a.ConnectionCount(), b.ConnectionCount())
	}
	bound, connected := reactorkit.ConnectPair(t, reactorkit.NewContext(t, r), reactorkit.NewContext(t, r))
	if !bound.IsConnected() || !connected.IsConnected() {
		t.Errorf("bound %v, connected %v", bound.Status(), connected.Status())
	}
}
