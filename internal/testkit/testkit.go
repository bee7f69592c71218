// Package testkit holds the helpers the tests of every package share:
// test contexts with a deadline, bounded waits on channels and on an event
// loop, and free loopback ports.
//
// It is for _test.go files only: no library or program code may import
// it (TestOnlyTestsImportTheKit checks). It imports no yoton package, so
// that in-package tests of any package (reactor's included) can use it;
// the helpers that need a reactor are in [reactorkit], which in-package
// tests of the packages reactor imports, and of reactor itself, cannot
// import (that would be an import cycle).
//
// Every wait is bounded by [Timeout], a guard against hangs that never
// measures anything, and fails the test (t.Fatalf) when it runs out.
//
// [reactorkit]: https://pkg.go.dev/github.com/goyoton/yoton/internal/testkit/reactorkit
package testkit

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"
)

// Timeout bounds each test's context and each wait of the helpers here.
const Timeout = 20 * time.Second

// Context returns a context for one test: it ends when the test function
// returns (t.Context(), which ends just before the test's Cleanup
// functions run) or after [Timeout], whichever comes first. Called from a
// Cleanup function, when t.Context() has ended already, it ends after
// Timeout only, so that cleanups can use it too (a RepChannel's
// Shutdown, say).
//
// A goroutine that a Cleanup function waits for can therefore block on a
// context from Context: it is released before the cleanup waits. A
// context that a Cleanup function must use has to be made there, by
// Context or otherwise. Safe for concurrent use.
func Context(t testing.TB) context.Context {
	t.Helper()
	return ContextTimeout(t, Timeout)
}

// ContextTimeout is [Context] with a deadline of d instead of [Timeout],
// for the tests that need longer (several Python processes, a network of
// example programs) or want a shorter guard.
func ContextTimeout(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	parent := t.Context()
	if parent.Err() != nil {
		// A Cleanup function: the test's own context has ended.
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, d)
	t.Cleanup(cancel)
	return ctx
}

// Wait returns the next value received from ch (the zero value once ch
// is closed). It fails the test, naming what, when nothing comes within
// [Timeout].
func Wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// Send sends v on ch, failing the test when ctx ends first.
func Send[T any](t testing.TB, ctx context.Context, ch chan<- T, v T) {
	t.Helper()
	select {
	case ch <- v:
	case <-ctx.Done():
		t.Fatalf("sending %#v: %v", v, ctx.Err())
	}
}

// Doer runs a function on an event loop and waits for it, as
// *reactor.Reactor's Do does.
type Doer interface {
	Do(ctx context.Context, fn func()) error
}

// Do runs fn on l's loop and waits for it. It fails the test when Do
// fails or takes longer than [Timeout]. It may be called from a Cleanup
// function.
func Do(t testing.TB, l Doer, fn func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := l.Do(ctx, fn); err != nil {
		t.Fatalf("running a function on the loop: %v", err)
	}
}

// Barrier waits until every function already queued on l's loop has run
// (it runs an empty one there and waits for it), failing the test as
// [Do] does.
func Barrier(t testing.TB, l Doer) {
	t.Helper()
	Do(t, l, func() {})
}

// FreePorts returns the address 127.0.0.1:P where the n ports P, P+1, ...
// P+n-1 were all free a moment ago, for programs that find each other by
// a fixed base address and its port offsets. It fails the test when it
// finds no such run.
func FreePorts(t testing.TB, n int) string {
	t.Helper()
	for range 20 {
		first, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen on a free port: %v", err)
		}
		port := first.Addr().(*net.TCPAddr).Port
		ls := []net.Listener{first}
		for k := 1; k < n; k++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+k))
			if err != nil {
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			if err := l.Close(); err != nil {
				t.Fatalf("close a listener: %v", err)
			}
		}
		if len(ls) == n {
			return fmt.Sprintf("127.0.0.1:%d", port)
		}
	}
	t.Fatalf("no run of %d free ports found", n)
	return ""
}
