package interop

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// flowMessage is message i of a flow test, size bytes long, as peer.py's
// flow module makes it: "<i>:xxx...".
func flowMessage(i, size int) string {
	s := strconv.Itoa(i) + ":"
	return s + strings.Repeat("x", max(0, size-len(s)))
}

// checkNumbered fails the test unless got is messages 0..n-1 in order.
func checkNumbered(t *testing.T, got []string, n, size int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("received %d messages, want %d", len(got), n)
	}
	for i, m := range got {
		if want := flowMessage(i, size); m != want {
			t.Fatalf("message %d is %.20q..., want %.20q...: lost or out of order", i, m, want)
		}
	}
}

// waitUntil checks cond every millisecond until it holds or ctx ends.
// For states nothing signals (a PubChannel's lock is set on the loop).
func waitUntil(ctx context.Context, cond func() bool) bool {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// TestSyncPythonSubSlowsGoPublisher: a Python SubChannel in sync mode
// whose reader stalls says "full"; the Go PubChannel is held back until
// Python reads, and nothing is lost although Python's queue is far
// smaller than the stream.
func TestSyncPythonSubSlowsGoPublisher(t *testing.T) {
	const (
		n         = 10000
		size      = 1000
		queueSize = 4000 // Python's queue: n would overflow it without flow control
	)
	ctx := testkit.Context(t)
	x := newGoContext(t)
	p := startFlowPeer(t, ctx, map[string]any{"queue_params": []any{queueSize, "old"}})
	goHosts(t, x, p, "main", "c")
	p.call(map[string]any{"op": "sub", "slot": "flow", "sync": true}, nil)
	pub, err := channels.NewPubChannel(x, "flow", channels.Text)
	if err != nil {
		t.Fatal(err)
	}

	pubDone := make(chan error, 1)
	go func() {
		for i := range n {
			if err := pub.Send(ctx, flowMessage(i, size)); err != nil {
				pubDone <- err
				return
			}
		}
		pubDone <- nil
	}()

	// Python does not read yet: its queue passes 32 and it says "full".
	var full struct {
		Pending int `json:"pending"`
	}
	p.call(map[string]any{"op": "wait_sub_full", "slot": "flow", "timeout": 10}, &full)
	if !waitUntil(ctx, pub.Throttled) {
		t.Fatal("the Go publisher was never held back")
	}
	select {
	case err := <-pubDone:
		t.Fatalf("the publisher finished (%v) while Python had not read anything", err)
	default:
	}
	var st struct {
		Pending int `json:"pending"`
		Status  int `json:"status"`
	}
	p.call(map[string]any{"op": "sub_status", "slot": "flow"}, &st)
	t.Logf("Python said full with %d queued; %d queued once Go was held back", full.Pending, st.Pending)
	if st.Status != 2 {
		t.Fatalf("Python sub status %d, want 2 (full)", st.Status)
	}

	// Whatever was in flight when Go was held back has arrived by now
	// (Go sends at most one message a second while held back).
	p.call(map[string]any{"op": "sub_status", "slot": "flow"}, &st)
	t.Logf("%d queued in Python before it reads", st.Pending)

	// Python reads everything; each read checks the queue, so it says
	// "ok" once below 16 and the publisher goes on.
	var r struct {
		Messages []string `json:"messages"`
	}
	p.call(map[string]any{"op": "recv", "slot": "flow", "count": n, "timeout": 15}, &r)
	if err := <-pubDone; err != nil {
		t.Fatal(err)
	}
	checkNumbered(t, r.Messages, n, size)
	if !waitUntil(ctx, func() bool { return !pub.Throttled() }) {
		t.Fatal("Python never said ok")
	}
}

// TestSyncGoSubSlowsPythonPublisher: a Go SubChannel in sync mode whose
// consumer stalls holds a Python publisher back (its send lock is set),
// and nothing is lost although the Go queue is far smaller than the
// stream.
func TestSyncGoSubSlowsPythonPublisher(t *testing.T) {
	const (
		n         = 6000
		size      = 100
		queueSize = 2000 // the Go subscriber's context: n would overflow it without flow control
	)
	ctx := testkit.Context(t)
	pypeerRequired := newGoContext(t) // skips without Python; its reactor hosts x
	x, err := pypeerRequired.Reactor().NewContext(reactor.WithQueue(queueSize, reactor.DiscardOld))
	if err != nil {
		t.Fatal(err)
	}
	p := startFlowPeer(t, ctx, nil)
	pyHosts(t, x, p, "main", "c")
	sub, err := channels.NewSubChannel(x, "flow", channels.Text)
	if err != nil {
		t.Fatal(err)
	}
	sub.SetSyncMode(true)

	// The Python publisher runs in a thread of its own; nobody reads in Go.
	p.call(map[string]any{"op": "pub", "slot": "flow"}, nil)
	p.call(map[string]any{"op": "publish", "slot": "flow", "count": n, "size": size}, nil)
	var locked struct {
		Sent   int  `json:"sent"`
		Done   bool `json:"done"`
		Locked bool `json:"locked"`
	}
	p.call(map[string]any{"op": "wait_pub_locked", "slot": "flow", "timeout": 10}, &locked)
	if !locked.Locked || locked.Done {
		t.Fatalf("the Python publisher was not held back: %+v", locked)
	}
	t.Logf("Python publisher held back after %d messages; %d queued in Go", locked.Sent, sub.Pending())
	if sub.Pending() <= channels.SyncHighWater {
		t.Fatalf("held back with only %d queued", sub.Pending())
	}

	got := recvN(t, ctx, sub, n)
	var done struct {
		Sent  int     `json:"sent"`
		Error *string `json:"error"`
	}
	p.call(map[string]any{"op": "wait_published", "slot": "flow", "timeout": 10}, &done)
	if done.Error != nil || done.Sent != n {
		t.Fatalf("Python publisher: %+v", done)
	}
	checkNumbered(t, got, n, size)
	if d := sub.Discarded(); d != 0 {
		t.Fatalf("Go subscriber discarded %d", d)
	}
	// Go said "ok" once its queue emptied: Python's lock is released.
	unlocked := waitUntil(ctx, func() bool {
		var st struct {
			Locked bool `json:"locked"`
		}
		p.call(map[string]any{"op": "publish_status", "slot": "flow"}, &st)
		return !st.Locked
	})
	if !unlocked {
		t.Fatal("the Python publisher is still locked after Go read everything")
	}
}
