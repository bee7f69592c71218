package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

// hub is the telemetry hub: one context that listens on one port for any
// number of clients, publishes a tick on "telemetry" every interval, keeps
// the roster of clients in the "clients" state channel and logs who comes
// and goes. Its context drops what nobody is connected to receive
// (reactor.DropBacklog), so a client that comes back after a gap gets the
// current ticks, not a queue of stale ones.
//
// Its handlers run on the reactor's loop goroutine; the fields the run
// waits on are guarded by the board's lock, and the handlers print inside
// the board's update, so that a run waiting for what they record finds it
// printed too.
type hub struct {
	x       *reactor.Context
	out     *printer
	b       *board
	tele    *channels.PubChannel[string]
	state   *channels.StateChannel[string]
	reports *channels.SubChannel[string]
	timer   *timers.Timer

	// Guarded by b.mu.
	ln      *reactor.Listener
	addr    string                         // host:port of the first listener
	conns   map[*reactor.Connection]string // open connections and the names they said hello with
	early   map[int]string                 // hellos from connections not adopted yet, by peer port
	truth   hubState                       // the roster; names in the order they said hello
	tick    int
	joins   int
	leaves  int
	unheard int      // ticks published while no client was connected
	echoes  int      // batches of roster copies that came back from clients
	older   int      // batches that ended on an older roster
	notes   []string // free-text reports received
}

// newHub makes the hub's context and channels and sets the first state
// (no clients). It does not listen yet.
func newHub(r *reactor.Reactor, out *printer, b *board, interval time.Duration) (*hub, error) {
	x, err := r.NewContext(reactor.WithBacklog(reactor.DropBacklog))
	if err != nil {
		return nil, fmt.Errorf("hub context: %w", err)
	}
	h := &hub{x: x, out: out, b: b, conns: map[*reactor.Connection]string{}, early: map[int]string{}}
	h.truth = hubState{rev: 1, hub: time.Now().UnixMilli()}
	if h.tele, err = channels.NewPubChannel(x, telemetrySlot, channels.Text); err != nil {
		return nil, err
	}
	if h.state, err = channels.NewStateChannel(x, clientsSlot, channels.Text); err != nil {
		return nil, err
	}
	if h.reports, err = channels.NewSubChannel(x, reportsSlot, channels.Text); err != nil {
		return nil, err
	}
	if h.timer, err = timers.NewTimer(r, interval, timers.Repeating); err != nil {
		return nil, err
	}
	h.reports.Received.Bind(h.onReports)
	h.state.Received.Bind(h.onState)
	h.timer.Bind(func(*timers.Timer) { h.onTick() })
	// Nobody is connected yet: the state is set, and sent to every
	// context that joins later (NEW_CONNECTION).
	if err := h.state.Send(context.Background(), h.truth.String()); err != nil {
		return nil, err
	}
	return h, nil
}

// listen opens a listener at address (the first time), or again at the
// first listener's address. Every peer that joins through it becomes a
// connection of the hub's context and is logged by onJoined.
func (h *hub) listen(address string) (*reactor.Listener, error) {
	// The join handler is bound before the listener accepts, so no join
	// can come before it (a Joined.Bind after Listen could miss some).
	l, err := h.x.Listen(address, reactor.WithJoinHandler(h.onJoined))
	if err != nil {
		return nil, err
	}
	host, port := l.Addr()
	h.b.update(func() {
		h.ln = l
		if h.addr == "" {
			h.addr = net.JoinHostPort(host, strconv.Itoa(port))
		}
	})
	return l, nil
}

// start starts the ticks.
func (h *hub) start() error { return h.timer.Start() }

// stop stops the ticks.
func (h *hub) stop() { h.timer.Stop() }

// listenAddr returns host:port of the first listener.
func (h *hub) listenAddr() (a string) {
	h.b.read(func() { a = h.addr })
	return a
}

// onJoined logs a connection the listener added and watches it close.
// Loop goroutine.
//
// The handlers print inside the board's update, so that a run waiting
// for what they record finds it printed too.
func (h *hub) onJoined(c *reactor.Connection) {
	known := false
	var st hubState
	h.b.update(func() {
		if _, known = h.conns[c]; known {
			return
		}
		h.conns[c] = ""
		h.joins++
		host, port := c.PeerAddr()
		h.out.printf("hub: %s:%d joined (%d connected)", host, port, len(h.conns))
		if name, ok := h.early[port]; ok {
			delete(h.early, port)
			st = h.nameLocked(c, name)
		}
	})
	if known {
		return
	}
	if st.rev != 0 {
		h.sendState(st)
	}
	c.Closed.Bind(func(e reactor.ClosedEvent) { h.onLeft(c, e.Reason) })
	if c.Status() == reactor.StatusClosed { // closed before the handler was bound
		h.onLeft(c, c.CloseReason())
	}
}

// onLeft logs a connection that closed and takes its client off the
// roster. Loop goroutine.
func (h *hub) onLeft(c *reactor.Connection, reason string) {
	var st hubState
	h.b.update(func() {
		name, known := h.conns[c]
		if !known {
			return
		}
		delete(h.conns, c)
		h.leaves++
		if name != "" {
			if i := slices.Index(h.truth.names, name); i >= 0 {
				h.truth.names = slices.Delete(slices.Clone(h.truth.names), i, i+1)
				h.truth.rev++
				st = h.truth
			}
		}
		who := name
		if who == "" {
			host, port := c.PeerAddr()
			who = fmt.Sprintf("%s:%d", host, port)
		}
		h.out.printf("hub: %s left: %s (%d connected)", who, reason, len(h.conns))
	})
	if st.rev != 0 {
		h.sendState(st)
	}
}

// onReports handles what clients report: a hello names a connection and
// puts the client on the roster; anything else is logged. Loop goroutine.
func (h *hub) onReports(s *channels.SubChannel[string]) {
	for msg, err := range s.Messages() {
		if err != nil {
			h.out.printf("hub: bad report: %v", err)
			continue
		}
		name, port, ok := parseHello(msg)
		if !ok {
			h.b.update(func() {
				h.notes = append(h.notes, msg)
				h.out.printf("hub: report: %s", msg)
			})
			continue
		}
		h.hello(name, port)
	}
}

// hello names the connection whose peer port is port. A hello from a
// connection the hub has not adopted yet (onJoined and the reports
// handler are separate calls on the loop) waits for it. Loop goroutine.
func (h *hub) hello(name string, port int) {
	var st hubState
	h.b.update(func() {
		for c, had := range h.conns {
			if _, p := c.PeerAddr(); p == port && had == "" {
				st = h.nameLocked(c, name)
				return
			}
		}
		h.early[port] = name
	})
	if st.rev != 0 {
		h.sendState(st)
	}
}

// nameLocked names c, puts it on the roster and returns the new roster.
// Under the board's lock.
func (h *hub) nameLocked(c *reactor.Connection, name string) hubState {
	c.SetName(name)
	h.conns[c] = name
	h.truth.names = append(slices.Clone(h.truth.names), name)
	h.truth.rev++
	host, port := c.PeerAddr()
	h.out.printf("hub: %s:%d is %s", host, port, name)
	return h.truth
}

// sendState sets the state channel to st. Loop goroutine: Send does not
// wait there.
func (h *hub) sendState(st hubState) {
	if err := h.state.Send(context.Background(), st.String()); err != nil {
		h.out.printf("hub: send state: %v", err)
	}
}

// onState runs when states arrived from elsewhere: clients' copies of
// the roster, resent because a context joined (NEW_CONNECTION). Any of
// them may be older than the hub's roster (only the hub changes it);
// each has replaced the state here and has already been forwarded to the
// other clients. So the hub answers every batch with its own roster,
// which then reaches each client after the copies: Send when the last
// copy differs, else SendLast (a client whose batch held the hub's
// roster and then an older copy has only the older one in Recv).
// Loop goroutine.
func (h *hub) onState(s *channels.StateChannel[string]) {
	got, _ := s.Recv()
	var truth string
	h.b.update(func() {
		truth = h.truth.String()
		h.echoes++
		if got != truth {
			h.older++
		}
	})
	var err error
	if got != truth {
		err = s.Send(context.Background(), truth)
	} else {
		err = s.SendLast(context.Background())
	}
	if err != nil {
		h.out.printf("hub: send state: %v", err)
	}
}

// onTick publishes the next tick. With nobody connected the context
// drops it (DropBacklog). Loop goroutine.
func (h *hub) onTick() {
	var msg string
	h.b.update(func() {
		h.tick++
		if len(h.conns) == 0 {
			h.unheard++
		}
		msg = fmt.Sprintf("tick %d: %s", h.tick, h.truth.describe())
	})
	if err := h.tele.Send(context.Background(), msg); err != nil {
		h.out.printf("hub: publish tick: %v", err)
	}
}

// dropAll closes the listener and then every connection the hub has, as
// a hub that restarts its front door would. The connections' peers are
// told (yoton's close signal); clients with WithReconnect redial.
func (h *hub) dropAll() error {
	var l *reactor.Listener
	h.b.read(func() { l = h.ln })
	if err := l.Close(); err != nil {
		return fmt.Errorf("hub: close listener: %w", err)
	}
	conns := h.x.Connections()
	h.out.printf("hub: listener closed; dropping %d connection(s)", len(conns))
	for _, c := range conns {
		c.Close("The hub restarts.")
	}
	return nil
}

// summary prints what the hub saw.
func (h *hub) summary() {
	h.b.read(func() {
		h.out.printf("hub: %s, %s, %s; roster copies came back %s (%d ending on an older one), each answered with the hub's own",
			plural(h.joins, "join"), plural(h.leaves, "leave"), plural(h.tick, "tick"), plural(h.echoes, "time"), h.older)
	})
}
