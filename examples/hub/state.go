package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// The slots of the telemetry hub (text messages throughout, so that a
// Python client needs nothing but yoton's defaults):
//
//	telemetry.txt.pub-sub  the hub's ticks, "tick 12: 3 clients"
//	clients.txt.state      the hub's roster, see hubState
//	reports.txt.pub-sub    what clients tell the hub: "hello NAME PORT", or free text
const (
	telemetrySlot = "telemetry"
	clientsSlot   = "clients"
	reportsSlot   = "reports"
)

// hubState is the value of the "clients" state channel: the clients that
// said hello, in the order they did, stamped with the hub's start time
// (hub, unix milliseconds) and a revision that grows with every change:
//
//	clients=2 names=ada,cy rev=7 hub=1764500000123
//
// The stamp is there because yoton's state channels are not owned by
// anyone: when a context joins the network every StateChannel at the
// slot resends what it holds (NEW_CONNECTION), the clients' copies
// included. A client's copy can be older than the hub's state by then;
// it reaches the hub and the other clients all the same. The hub answers
// every copy that comes back with its own state (see hub.onState), and
// a client keeps only what is newer than what it has (newer).
type hubState struct {
	names []string
	rev   int
	hub   int64
}

// String encodes the state as it travels.
func (s hubState) String() string {
	return fmt.Sprintf("clients=%d names=%s rev=%d hub=%d", len(s.names), strings.Join(s.names, ","), s.rev, s.hub)
}

// describe is the state for people: "2 clients: ada, cy".
func (s hubState) describe() string {
	switch len(s.names) {
	case 0:
		return "0 clients"
	case 1:
		return "1 client: " + s.names[0]
	}
	return fmt.Sprintf("%d clients: %s", len(s.names), strings.Join(s.names, ", "))
}

// newer reports whether s is a later state than old: from a hub started
// later, or a later revision of the same hub.
func (s hubState) newer(old hubState) bool {
	return s.hub > old.hub || s.hub == old.hub && s.rev > old.rev
}

// parseState decodes a state; ok is false for anything else.
func parseState(msg string) (s hubState, ok bool) {
	fields := map[string]string{}
	for _, f := range strings.Fields(msg) {
		k, v, found := strings.Cut(f, "=")
		if !found {
			return hubState{}, false
		}
		fields[k] = v
	}
	n, err1 := strconv.Atoi(fields["clients"])
	rev, err2 := strconv.Atoi(fields["rev"])
	hub, err3 := strconv.ParseInt(fields["hub"], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return hubState{}, false
	}
	if names := fields["names"]; names != "" {
		s.names = strings.Split(names, ",")
	}
	if len(s.names) != n {
		return hubState{}, false
	}
	s.rev, s.hub = rev, hub
	return s, true
}

// helloMessage is what a client reports when it has (re)connected: its
// name and the local port of its connection, by which the hub tells
// which of its connections it is.
func helloMessage(name string, port int) string {
	return fmt.Sprintf("hello %s %d", name, port)
}

// parseHello decodes a hello report.
func parseHello(msg string) (name string, port int, ok bool) {
	f := strings.Fields(msg)
	if len(f) != 3 || f[0] != "hello" {
		return "", 0, false
	}
	port, err := strconv.Atoi(f[2])
	if err != nil {
		return "", 0, false
	}
	return f[1], port, true
}

// parseTick returns the number of a tick message ("tick 12: 3 clients").
func parseTick(msg string) (int, bool) {
	var n int
	if _, err := fmt.Sscanf(msg, "tick %d:", &n); err != nil {
		return 0, false
	}
	return n, true
}

// board holds what the hub and the clients observed, for a one-process
// run to wait on: the loop goroutine updates it from the handlers, the
// goroutine driving the run waits until it says what the next step
// needs.
type board struct {
	mu      sync.Mutex
	changed chan struct{} // closed (and replaced) by every update
}

// update runs f under the board's lock and wakes the waiters.
func (b *board) update(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
}

// read runs f under the board's lock.
func (b *board) read(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
}

// readWatch runs f under the board's lock and returns a channel that is
// closed by the next update, so that a caller can select on it.
func (b *board) readWatch(f func()) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.changed
}

// wait waits until done (called under the board's lock) reports true,
// or ctx ends.
func (b *board) wait(ctx context.Context, what string, done func() bool) error {
	for {
		ok := false
		ch := b.readWatch(func() { ok = done() })
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting until %s: %w", what, ctx.Err())
		}
	}
}

// plural returns "1 tick", "2 ticks".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// printer serialises the transcript: the hub and the clients print from
// the loop goroutine, the run from its own.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
