// Command hub is a telemetry hub: one context that serves any number of
// clients on ONE port (reactor.Listen), while clients come and go.
//
//   - The hub publishes a tick on the pub/sub slot "telemetry" every
//     -tick, and keeps the roster of its clients in the StateChannel
//     "clients": every context that joins gets the current roster at
//     once, because yoton's state channels resend their state when a
//     context joins the network (NEW_CONNECTION).
//   - It logs every connection its listener adds (Listener.Joined) and
//     every one that closes (Connection.Closed); a client names itself
//     with a hello on "reports", giving the local port of its connection.
//   - Its context drops what nobody is connected to receive
//     (reactor.WithBacklog(reactor.DropBacklog)): a client that comes back
//     after a gap gets the current ticks, not the ones it missed.
//   - Clients connect with reactor.WithReconnect: when the hub drops them
//     they redial until it is back (Disconnected, then Reconnected), and
//     what they send meanwhile waits in the connection's queue.
//
// By default everything runs in this process, on one reactor, in five
// steps: ada, bob and cy join; bob leaves; dee joins late and gets the
// roster at once; the hub closes its listener and drops everyone, then
// listens again on the same port, and the clients come back by
// themselves; everyone leaves.
//
//	go run ./examples/hub
//
// As separate processes (a client prints every tick; what is typed to it
// goes to the hub as a report; Ctrl-D or Ctrl-C leaves; stop the hub with
// Ctrl-C and start it again, and its clients come back):
//
//	go run ./examples/hub -role hub -addr localhost:yotonhub
//	go run ./examples/hub -role client -name ada -addr localhost:yotonhub
//	go run ./examples/hub -role client -name bob -addr localhost:yotonhub
//
// It exits 0 after printing a transcript, or 1 with an error message.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/goyoton/yoton/reactor"
)

// config holds the command-line settings.
type config struct {
	role     string        // "all", "hub" or "client"
	addr     string        // where the hub listens, or where a client connects
	name     string        // a client's name (-role client)
	tick     time.Duration // the hub's tick interval
	downtime time.Duration // how long the hub stays closed in step 4 (-role all)
	ticks    int           // a client leaves after this many ticks (0: at the end of stdin)
	timeout  time.Duration // bound on a one-process run, or on a client's first connect
}

func main() {
	var cfg config
	flag.StringVar(&cfg.role, "role", "all", `what to run: "all" (the hub and its clients here), "hub" or "client"`)
	flag.StringVar(&cfg.addr, "addr", "",
		`where the hub listens, or for -role client where it connects (default 127.0.0.1:0, a free port, for -role all; localhost:yotonhub otherwise)`)
	flag.StringVar(&cfg.name, "name", "", "the client's name (-role client)")
	flag.DurationVar(&cfg.tick, "tick", 0, "the hub's tick interval (default 100ms for -role all, 1s for -role hub)")
	flag.DurationVar(&cfg.downtime, "downtime", 300*time.Millisecond, "how long the hub's port stays closed in step 4 (-role all)")
	flag.IntVar(&cfg.ticks, "ticks", 0, "leave after this many ticks (-role client; 0: at the end of stdin)")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "give up after this long (-role all; for -role client, on the first connect)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, stdinLines(ctx, cfg.role == "client"), os.Stdout, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hub:", err)
		os.Exit(1)
	}
}

// stdinLines reads stdin, when read is set, on a goroutine that ends with
// the process (a read from a terminal cannot be interrupted) and returns
// its lines; the channel closes at the end of stdin. When read is not
// set, it returns a channel that never delivers.
func stdinLines(ctx context.Context, read bool) <-chan string {
	lines := make(chan string)
	if !read {
		return lines
	}
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	return lines
}

// run runs the role cfg asks for and writes the transcript to w; a client
// reads the lines to report from input until it closes. Every goroutine
// it starts (the reactor's) has ended when it returns.
func run(ctx context.Context, input <-chan string, w io.Writer, cfg config) (err error) {
	if err := check(&cfg); err != nil {
		return err
	}
	out := &printer{w: w}
	r, err := reactor.New()
	if err != nil {
		return fmt.Errorf("start reactor: %w", err)
	}
	defer func() {
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close reactor: %w", cerr)
		}
		if err == nil {
			out.printf("closed cleanly")
		}
	}()
	switch cfg.role {
	case "hub":
		return runHub(ctx, r, out, cfg)
	case "client":
		return runClient(ctx, r, input, out, cfg)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	return runAll(ctx, r, out, cfg)
}

// check validates cfg and fills in the defaults that depend on the role.
func check(cfg *config) error {
	switch cfg.role {
	case "all", "hub", "client":
	default:
		return fmt.Errorf("unknown role %q (want all, hub or client)", cfg.role)
	}
	if cfg.addr == "" {
		cfg.addr = "localhost:yotonhub"
		if cfg.role == "all" {
			cfg.addr = "127.0.0.1:0"
		}
	}
	if cfg.tick == 0 {
		cfg.tick = time.Second
		if cfg.role == "all" {
			cfg.tick = 100 * time.Millisecond
		}
	}
	switch {
	case cfg.tick < 0:
		return errors.New("-tick must be positive")
	case cfg.downtime < 0:
		return errors.New("-downtime cannot be negative")
	case cfg.ticks < 0:
		return errors.New("-ticks cannot be negative")
	}
	if cfg.role == "client" {
		// The name travels in "hello NAME PORT" and in the roster's
		// comma-separated list.
		if cfg.name == "" || strings.ContainsAny(cfg.name, " \t\r\n,=") {
			return errors.New("-role client needs a -name without spaces, commas or '='")
		}
	}
	return nil
}

// runHub runs the hub until ctx ends.
func runHub(ctx context.Context, r *reactor.Reactor, out *printer, cfg config) error {
	h, err := newHub(r, out, &board{}, cfg.tick)
	if err != nil {
		return err
	}
	if _, err := h.listen(cfg.addr); err != nil {
		return err
	}
	out.printf("hub: listening at %s, one port for every client; a tick every %v", h.listenAddr(), cfg.tick)
	if err := h.start(); err != nil {
		return err
	}
	<-ctx.Done()
	h.stop()
	out.printf("hub: stopping (%v)", context.Cause(ctx))
	h.summary()
	return nil
}

// runClient runs one client until its input ends, ctx ends (both leave),
// or it has received cfg.ticks ticks. Every line of input goes to the
// hub as a report.
func runClient(ctx context.Context, r *reactor.Reactor, input <-chan string, out *printer, cfg config) error {
	b := &board{}
	c, err := newClient(r, cfg.name, out, b, true)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	err = c.join(cctx, cfg.addr)
	cancel()
	if err != nil {
		return err
	}
	for {
		var ticks int
		changed := b.readWatch(func() { ticks = c.ticks })
		if cfg.ticks > 0 && ticks >= cfg.ticks {
			return c.leave()
		}
		select {
		case line, ok := <-input:
			if !ok {
				return c.leave()
			}
			if line = strings.TrimSpace(line); line != "" {
				if err := c.report(ctx, line); err != nil {
					return err
				}
			}
		case <-changed:
		case <-ctx.Done():
			return c.leave()
		}
	}
}

// runAll runs the hub and its clients in this process, on one reactor,
// step by step; each step waits (bounded by ctx) until the hub and the
// clients have seen what it is about.
func runAll(ctx context.Context, r *reactor.Reactor, out *printer, cfg config) error {
	b := &board{}
	h, err := newHub(r, out, b, cfg.tick)
	if err != nil {
		return err
	}
	if _, err := h.listen(cfg.addr); err != nil {
		return err
	}
	addr := h.listenAddr()
	out.printf("hub: listening at %s, one port for every client; a tick every %v", addr, cfg.tick)
	if err := h.start(); err != nil {
		return err
	}
	defer h.stop()

	clients := map[string]*client{}
	join := func(name string) error {
		c, err := newClient(r, name, out, b, false)
		if err != nil {
			return err
		}
		clients[name] = c
		if err := c.join(ctx, addr); err != nil {
			return err
		}
		return b.wait(ctx, "the hub knows "+name, func() bool { return slices.Contains(h.truth.names, name) })
	}
	// settle waits until the hub's roster holds names (in any order) and
	// every client on it is connected, has the same roster and has had a
	// tick since it (re)connected.
	settle := func(names ...string) error {
		want := slices.Sorted(slices.Values(names))
		same := func(got []string) bool { return slices.Equal(slices.Sorted(slices.Values(got)), want) }
		return b.wait(ctx, "everyone sees "+strings.Join(names, ", "), func() bool {
			if !same(h.truth.names) {
				return false
			}
			for _, n := range names {
				c := clients[n]
				if !c.connected || !c.haveState || !same(c.st.names) || c.sinceUp == 0 {
					return false
				}
			}
			return true
		})
	}

	out.printf("== 1. ada, bob and cy join, all on the hub's one port")
	for _, name := range []string{"ada", "bob", "cy"} {
		if err := join(name); err != nil {
			return err
		}
	}
	if err := settle("ada", "bob", "cy"); err != nil {
		return err
	}

	out.printf("== 2. bob leaves")
	if err := clients["bob"].leave(); err != nil {
		return err
	}
	if err := settle("ada", "cy"); err != nil {
		return err
	}

	out.printf("== 3. dee joins late and gets the roster at once")
	if err := join("dee"); err != nil {
		return err
	}
	if err := settle("ada", "cy", "dee"); err != nil {
		return err
	}

	out.printf("== 4. the hub closes its listener and drops everyone, then listens again on the same port")
	staying := []*client{clients["ada"], clients["cy"], clients["dee"]}
	var unheard int
	b.read(func() { unheard = h.unheard })
	if err := h.dropAll(); err != nil {
		return err
	}
	err = b.wait(ctx, "every client has lost the hub", func() bool {
		for _, c := range staying {
			if c.connected || c.downs == 0 {
				return false
			}
		}
		return len(h.conns) == 0
	})
	if err != nil {
		return err
	}
	out.printf("hub: down for %v", cfg.downtime)
	pause := time.NewTimer(cfg.downtime) // the demo's downtime, not a synchronisation
	select {
	case <-pause.C:
	case <-ctx.Done():
		pause.Stop()
		return fmt.Errorf("hub down: %w", ctx.Err())
	}
	if _, err := h.listen(addr); err != nil {
		return fmt.Errorf("listen again: %w", err)
	}
	b.read(func() { unheard = h.unheard - unheard })
	out.printf("hub: listening again at %s; %s went to nobody meanwhile", addr, plural(unheard, "tick"))
	if err := settle("ada", "cy", "dee"); err != nil {
		return err
	}
	err = b.wait(ctx, "the hub has the reports sent while it was away", func() bool {
		return len(h.notes) >= len(staying)
	})
	if err != nil {
		return err
	}

	out.printf("== 5. everyone leaves")
	for _, c := range staying {
		if err := c.leave(); err != nil {
			return err
		}
	}
	err = b.wait(ctx, "every client has left", func() bool { return len(h.conns) == 0 && h.leaves == h.joins })
	if err != nil {
		return err
	}
	h.summary()
	return nil
}
