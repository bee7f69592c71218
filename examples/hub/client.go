package main

import (
	"context"
	"fmt"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
)

// reconnect is how clients come back when the hub drops them: they redial
// its address, after 50 ms at first and then twice as long each time, up
// to a second between attempts, and never give up.
var reconnect = reactor.Reconnect{MinDelay: 50 * time.Millisecond, MaxDelay: time.Second}

// client is one telemetry client: a context of its own, connected to the
// hub with WithReconnect, with a SubChannel for the ticks, a StateChannel
// for the roster and a PubChannel for its reports to the hub.
//
// Its handlers run on the reactor's loop goroutine; the fields the run
// waits on are guarded by the board's lock, and the handlers print
// inside the board's update, so that a run waiting for what they record
// finds it printed too.
type client struct {
	name    string
	verbose bool // print every tick, not only the first after each (re)connect
	out     *printer
	b       *board
	x       *reactor.Context
	tele    *channels.SubChannel[string]
	state   *channels.StateChannel[string]
	reports *channels.PubChannel[string]

	// Guarded by b.mu.
	conn      *reactor.Connection
	connected bool
	leaving   bool
	ticks     int // ticks received
	sinceUp   int // ticks received since the last (re)connect
	lastTick  int
	st        hubState // the newest state received
	haveState bool
	stale     int // states received that were older than st
	downs     int
	ups       int
}

// newClient makes the client's context and channels; join connects it.
func newClient(r *reactor.Reactor, name string, out *printer, b *board, verbose bool) (*client, error) {
	x, err := r.NewContext()
	if err != nil {
		return nil, fmt.Errorf("%s: context: %w", name, err)
	}
	c := &client{name: name, verbose: verbose, out: out, b: b, x: x}
	if c.tele, err = channels.NewSubChannel(x, telemetrySlot, channels.Text); err != nil {
		return nil, err
	}
	if c.state, err = channels.NewStateChannel(x, clientsSlot, channels.Text); err != nil {
		return nil, err
	}
	if c.reports, err = channels.NewPubChannel(x, reportsSlot, channels.Text); err != nil {
		return nil, err
	}
	c.tele.Received.Bind(c.onTicks)
	c.state.Received.Bind(c.onState)
	return c, nil
}

// join connects to the hub at addr, for good: the connection redials
// whenever it drops, until the client leaves. Then it says hello.
func (c *client) join(ctx context.Context, addr string) error {
	conn, err := c.x.Connect(ctx, addr, "hub", reactor.WithReconnect(reconnect))
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	conn.Disconnected.Bind(c.onDown)
	conn.Reconnected.Bind(c.onUp)
	conn.Closed.Bind(c.onClosed)
	_, port := conn.LocalAddr()
	c.b.update(func() {
		c.conn = conn
		c.connected = conn.IsConnected()
		c.sinceUp = 0
	})
	c.out.printf("%s: connected to the hub at %s from port %d", c.name, addr, port)
	return c.hello(ctx, port)
}

// hello tells the hub which of its connections this client is.
func (c *client) hello(ctx context.Context, port int) error {
	if err := c.reports.Send(ctx, helloMessage(c.name, port)); err != nil {
		return fmt.Errorf("%s: hello: %w", c.name, err)
	}
	return nil
}

// report sends a line of text to the hub.
func (c *client) report(ctx context.Context, text string) error {
	if err := c.reports.Send(ctx, c.name+": "+text); err != nil {
		return fmt.Errorf("%s: report: %w", c.name, err)
	}
	return nil
}

// leave closes the client's context: the hub is told (yoton's close
// signal) and the connection no longer redials.
func (c *client) leave() error {
	var ticks, ups int
	c.b.update(func() {
		c.leaving = true
		ticks, ups = c.ticks, c.ups
	})
	c.out.printf("%s: leaving after %s and %s", c.name, plural(ticks, "tick"), plural(ups, "reconnect"))
	return c.x.Close()
}

// onTicks prints the ticks: all of them when verbose, else the first
// after each (re)connect. Loop goroutine.
func (c *client) onTicks(s *channels.SubChannel[string]) {
	for msg, err := range s.Messages() {
		if err != nil {
			c.out.printf("%s: %v", c.name, err)
			continue
		}
		n, _ := parseTick(msg)
		c.b.update(func() {
			c.ticks++
			c.sinceUp++
			c.lastTick = n
			switch {
			case c.sinceUp == 1 && c.ups > 0:
				c.out.printf("%s: first tick since reconnecting: %s", c.name, msg)
			case c.sinceUp == 1:
				c.out.printf("%s: first tick: %s", c.name, msg)
			case c.verbose:
				c.out.printf("%s: %s", c.name, msg)
			}
		})
	}
}

// onState prints the roster when a newer one arrives; older copies,
// resent by other clients when someone joined, are counted and ignored.
// Loop goroutine.
func (c *client) onState(s *channels.StateChannel[string]) {
	msg, _ := s.Recv()
	st, ok := parseState(msg)
	if !ok {
		c.out.printf("%s: state not understood: %q", c.name, msg)
		return
	}
	c.b.update(func() {
		switch {
		case !c.haveState:
			c.out.printf("%s: state on arrival: %s", c.name, st.describe())
		case !st.newer(c.st):
			c.stale++
			return
		case st.hub != c.st.hub:
			c.out.printf("%s: state from a restarted hub: %s", c.name, st.describe())
		default:
			c.out.printf("%s: state: %s", c.name, st.describe())
		}
		c.st, c.haveState = st, true
	})
}

// onDown runs when the connection dropped; it redials by itself. The
// report sent here waits in the connection's queue until it is back.
// Loop goroutine.
func (c *client) onDown(e reactor.DisconnectedEvent) {
	var last int
	c.b.update(func() {
		c.connected = false
		c.downs++
		last = c.lastTick
		c.out.printf("%s: lost the hub (%s); reconnecting", c.name, e.Reason)
	})
	// On the loop Send never waits.
	if err := c.report(context.Background(), fmt.Sprintf("lost the hub after tick %d; this report waited for the reconnect", last)); err != nil {
		c.out.printf("%v", err)
	}
}

// onUp runs when the connection is back: say hello again, from the new
// port. Loop goroutine.
func (c *client) onUp(conn *reactor.Connection) {
	_, port := conn.LocalAddr()
	c.b.update(func() {
		c.connected = true
		c.ups++
		c.sinceUp = 0
		c.out.printf("%s: reconnected from port %d", c.name, port)
	})
	if err := c.hello(context.Background(), port); err != nil {
		c.out.printf("%v", err)
	}
}

// onClosed runs when the connection ended for good: the client left, or
// redialing gave up. Loop goroutine.
func (c *client) onClosed(e reactor.ClosedEvent) {
	c.b.update(func() {
		c.connected = false
		if !c.leaving {
			c.out.printf("%s: connection closed: %s", c.name, e.Reason)
		}
	})
}
