// Package reactorkit holds the test helpers that need a reactor: a
// started reactor that closes with the test, a context on it, and two
// contexts connected to each other. The helpers that need none are in
// package testkit, which reactor's own in-package tests can import too
// (they cannot import this package: it imports reactor).
//
// For _test.go files only, like testkit. Every helper fails the test
// (t.Fatalf) when it cannot do its work.
package reactorkit

import (
	"fmt"
	"testing"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// NewReactor starts a reactor with opts. When the test ends (t.Cleanup)
// it is closed, which closes its contexts and waits for every goroutine
// it started; an error from Close fails the test.
func NewReactor(t testing.TB, opts ...reactor.Option) *reactor.Reactor {
	t.Helper()
	r, err := reactor.New(opts...)
	if err != nil {
		t.Fatalf("reactor.New: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("reactor.Close: %v", err)
		}
	})
	return r
}

// NewContext makes a context on r with opts; it closes with r.
func NewContext(t testing.TB, r *reactor.Reactor, opts ...reactor.ContextOption) *reactor.Context {
	t.Helper()
	x, err := r.NewContext(opts...)
	if err != nil {
		t.Fatalf("NewContext: %v", err)
	}
	return x
}

// ConnectPair binds a on a free loopback port (connection "host") and
// connects b to it (connection "client"), and returns once both ends are
// connected: the bound end has had the connecting end's first message.
func ConnectPair(t testing.TB, a, b *reactor.Context) (bound, connected *reactor.Connection) {
	t.Helper()
	bound, err := a.Bind("127.0.0.1:0", 1, "host")
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	_, port := bound.LocalAddr()
	connected, err = b.Connect(testkit.Context(t), fmt.Sprintf("127.0.0.1:%d", port), "client")
	if err != nil {
		t.Fatalf("Connect to port %d: %v", port, err)
	}
	testkit.Wait(t, bound.Established(), "the bound end to be connected")
	if !bound.IsConnected() {
		t.Fatalf("bound connection is %v once established", bound.Status())
	}
	return bound, connected
}

// Pair makes two contexts on r, a bound on a free loopback port and b
// connected to it (see ConnectPair).
func Pair(t testing.TB, r *reactor.Reactor) (a, b *reactor.Context) {
	t.Helper()
	return PairWith(t, r, nil, nil)
}

// PairWith is Pair with context options for a and for b.
func PairWith(t testing.TB, r *reactor.Reactor, aOpts, bOpts []reactor.ContextOption) (a, b *reactor.Context) {
	t.Helper()
	a = NewContext(t, r, aOpts...)
	b = NewContext(t, r, bOpts...)
	ConnectPair(t, a, b)
	return a, b
}
