package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// pyClosed is peer.py's answer to "closed".
type pyClosed struct {
	Reason   string `json:"reason"`
	TimedOut []bool `json:"timedout"`
}

// TestGoCloses: closing our end (the connection, its context or the whole
// reactor) sends yoton's close package; Python's connection closes with
// "Closed from other end.".
func TestGoCloses(t *testing.T) {
	closers := []struct {
		name   string
		close  func(t *testing.T, c *reactor.Connection)
		reason string
	}{
		{name: "connection", reason: reactor.ReasonDefault,
			close: func(t *testing.T, c *reactor.Connection) { c.Close("") }},
		{name: "context", reason: reactor.ReasonByContext,
			close: func(t *testing.T, c *reactor.Connection) {
				if err := c.Context().Close(); err != nil {
					t.Errorf("Context.Close: %v", err)
				}
			}},
		{name: "reactor", reason: reactor.ReasonReactorClosed,
			close: func(t *testing.T, c *reactor.Connection) {
				if err := c.Context().Reactor().Close(); err != nil {
					t.Errorf("Reactor.Close: %v", err)
				}
			}},
	}
	for _, cl := range closers {
		for _, d := range directions {
			t.Run(cl.name+"/"+d.name, func(t *testing.T) {
				ctx := testkit.Context(t)
				x := newGoContext(t)
				p, _ := startPython(t, ctx, nil)
				c, _ := d.link(t, x, p, "main", "c")
				events := closedEvents(c)

				cl.close(t, c)
				if reason := waitClosed(t, ctx, c, events); reason != cl.reason {
					t.Errorf("Go reason %q, want %q", reason, cl.reason)
				}
				var r pyClosed
				p.call(map[string]any{"op": "closed", "conn": "c", "timeout": 10}, &r)
				if r.Reason != reactor.ReasonClosedFromThere {
					t.Errorf("Python's connection closed with %q, want %q", r.Reason, reactor.ReasonClosedFromThere)
				}
				if x.ConnectionCount() != 0 {
					t.Errorf("ConnectionCount() = %d after close", x.ConnectionCount())
				}
			})
		}
	}
}

// TestPythonClosesContext: Python's Context.close closes our connection.
// Python 2.2 never sends the close package there (it sets CLOSING before
// asking is_connected), so we see the socket go away: an EOF or a reset.
func TestPythonClosesContext(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			ctx := testkit.Context(t)
			x := newGoContext(t)
			p, _ := startPython(t, ctx, nil)
			c, _ := d.link(t, x, p, "main", "c")
			events := closedEvents(c)

			p.call(map[string]any{"op": "close_context"}, nil)
			reason := waitClosed(t, ctx, c, events)
			switch {
			case reason == reactor.ReasonEOF, strings.HasPrefix(reason, reactor.ReasonSocketError):
				t.Logf("Go connection closed: %q", reason)
			case reason == reactor.ReasonClosedFromThere:
				t.Logf("Python sent the close package after all: %q", reason)
			default:
				t.Errorf("Go reason %q, want %q or %q...", reason, reactor.ReasonEOF, reactor.ReasonSocketError)
			}
			var r pyClosed
			p.call(map[string]any{"op": "closed", "conn": "c"}, &r)
			if r.Reason != "Closed by the context." {
				t.Errorf("Python's own reason %q", r.Reason)
			}
		})
	}
}

// TestPythonKilled: a killed peer closes our connection.
func TestPythonKilled(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			ctx := testkit.Context(t)
			x := newGoContext(t)
			p, _ := startPython(t, ctx, nil)
			c, _ := d.link(t, x, p, "main", "c")
			events := closedEvents(c)

			if err := p.proc.Kill(); err != nil {
				t.Fatal(err)
			}
			reason := waitClosed(t, ctx, c, events)
			if reason != reactor.ReasonEOF && !strings.HasPrefix(reason, reactor.ReasonSocketError) {
				t.Errorf("Go reason %q, want %q or %q...", reason, reactor.ReasonEOF, reactor.ReasonSocketError)
			}
			t.Logf("Go connection closed: %q", reason)
			if err := p.proc.Wait(ctx); err == nil {
				t.Errorf("killed process exited with status 0")
			}
		})
	}
}

// TestIdleNoTimeout: with both ends idle for 1.5 s, heartbeats (Python's
// every 0.25 s, ours likewise) keep either side from timing out. The timer
// is fine here: the test asserts that nothing happens.
func TestIdleNoTimeout(t *testing.T) {
	ctx := testkit.Context(t)
	x := newGoContext(t)
	p, _ := startPython(t, ctx, nil)
	c, _ := pyHosts(t, x, p, "main", "c")
	timeouts := make(chan reactor.TimedOutEvent, 16)
	c.TimedOut.Bind(func(ev reactor.TimedOutEvent) {
		select {
		case timeouts <- ev:
		default:
		}
	})
	events := closedEvents(c)

	idle := time.NewTimer(1500 * time.Millisecond)
	defer idle.Stop()
	select {
	case ev := <-timeouts:
		t.Fatalf("Go connection emitted TimedOut(%v) while the peer was idle", ev.TimedOut)
	case ev := <-events:
		t.Fatalf("Go connection closed while idle: %q", ev.Reason)
	case <-idle.C:
	}
	if !c.IsConnected() {
		t.Fatalf("Go connection %v after idling", c.Status())
	}
	var s struct {
		Connected bool   `json:"connected"`
		TimedOut  []bool `json:"timedout"`
	}
	p.call(map[string]any{"op": "status", "conn": "c"}, &s)
	if !s.Connected || len(s.TimedOut) != 0 {
		t.Errorf("Python's connection: connected %v, timedout signals %v (our heartbeats should prevent any)", s.Connected, s.TimedOut)
	}
}
