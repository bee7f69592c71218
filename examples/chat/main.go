// Command chat is the chat network of the yoton docs: identical nodes in
// one room. Every node has a PubChannel and a SubChannel on the slot
// "chat"; it publishes each line typed to it as "name: line" and prints
// every line it hears from the others.
//
// The nodes form a line: node k binds one port (a yoton bind serves one
// connection) and connects to node k-1, so a message travels along the
// line, each node relaying it to the next. The last node's port stays
// open for a newcomer, who joins at the end of the line. A line is the
// simplest shape that works with one port per node; its weakness is that
// a node that leaves cuts the room in two.
//
// By default all the nodes run in this process, each on a reactor of its
// own, and each line read on stdin is said by one of them: "bob: hi" by
// bob, any other line by the first node. At the end of stdin the program
// waits until every node has heard every line, then stops:
//
//	printf 'hello\nbob: hi alice\ncarol: hi all\n' | go run ./examples/chat -nodes 3
//
// A node can also run as a process of its own; it then reads its own lines
// from stdin, announces itself ("*** bob joined"), and leaves at the end
// of stdin (Ctrl-D):
//
//	go run ./examples/chat -role node -name alice -bind localhost:yotonchat+0
//	go run ./examples/chat -role node -name bob -bind localhost:yotonchat+1 -connect localhost:yotonchat+0
//	go run ./examples/chat -role node -name carol -bind localhost:yotonchat+2 -connect localhost:yotonchat+1
//
// -wait n makes a one-process room wait until n nodes from other
// processes (such as the Python node in README.md) have joined at its end
// before it reads stdin.
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
	"sync"
	"syscall"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/examples/internal/ports"
	"github.com/goyoton/yoton/reactor"
)

// chatSlot is the slot base of the room: chat.txt.pub-sub.
const chatSlot = "chat"

// names are the names of the nodes of a one-process room.
var names = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}

// config holds the command-line settings.
type config struct {
	role    string        // "all" or "node"
	nodes   int           // nodes of a one-process room
	addr    string        // first port of a one-process room (node k binds addr+k)
	wait    int           // nodes from other processes to wait for
	name    string        // a single node's name
	bind    string        // where a single node binds ("" for nowhere)
	connect string        // where a single node connects ("" for nowhere)
	timeout time.Duration // bound on a one-process room, or on a node's connect
}

func main() {
	var cfg config
	flag.StringVar(&cfg.role, "role", "all", `what to run: "all" (a room of -nodes nodes here) or "node" (one node)`)
	flag.IntVar(&cfg.nodes, "nodes", 3, "nodes in the room (-role all)")
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:0", "port of the first node (-role all): node k binds this port + k; port 0 lets each pick a free one")
	flag.IntVar(&cfg.wait, "wait", 0, "nodes from other processes to wait for before reading stdin (-role all)")
	flag.StringVar(&cfg.name, "name", "", "this node's name (-role node)")
	flag.StringVar(&cfg.bind, "bind", "", "address this node binds, for the next node (-role node)")
	flag.StringVar(&cfg.connect, "connect", "", "address of the node to connect to (-role node)")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "give up after this long (-role all; for -role node, on connecting: a node runs until stdin ends)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, stdinLines(ctx), os.Stdout, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// stdinLines reads stdin on a goroutine that ends with the process (a
// read from a terminal cannot be interrupted) and returns its lines; the
// channel closes at the end of stdin.
func stdinLines(ctx context.Context) <-chan string {
	lines := make(chan string)
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

// run runs the room cfg asks for: it reads the lines to say from input
// until it closes, and writes the transcript to w. Every goroutine it
// starts (the reactors') has ended when it returns.
func run(ctx context.Context, input <-chan string, w io.Writer, cfg config) error {
	out := &printer{w: w}
	switch cfg.role {
	case "all":
		if cfg.nodes < 1 || cfg.nodes > len(names) {
			return fmt.Errorf("-nodes must be between 1 and %d", len(names))
		}
		if cfg.wait < 0 {
			return errors.New("-wait cannot be negative")
		}
		ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
		return runRoom(ctx, input, out, cfg)
	case "node":
		if cfg.name == "" {
			return errors.New("-role node needs a -name")
		}
		if cfg.bind == "" && cfg.connect == "" {
			return errors.New("-role node needs -bind, -connect or both")
		}
		return runNode(ctx, input, out, cfg)
	}
	return fmt.Errorf("unknown role %q (want all or node)", cfg.role)
}

// node is one member of the room.
type node struct {
	name string
	r    *reactor.Reactor
	x    *reactor.Context
	pub  *channels.PubChannel[string]
	sub  *channels.SubChannel[string]
	addr string // where it bound ("" if it did not)
}

// newNode starts a reactor with one context, the room's channels and,
// when bind is not empty, a waiting bind for the next node.
func newNode(name, bind string) (n *node, err error) {
	n = &node{name: name}
	if n.r, err = reactor.New(); err != nil {
		return nil, fmt.Errorf("%s: start reactor: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = n.r.Close()
		}
	}()
	if n.x, err = n.r.NewContext(); err != nil {
		return nil, fmt.Errorf("%s: context: %w", name, err)
	}
	if n.pub, err = channels.NewPubChannel(n.x, chatSlot, channels.Text); err != nil {
		return nil, err
	}
	if n.sub, err = channels.NewSubChannel(n.x, chatSlot, channels.Text); err != nil {
		return nil, err
	}
	if bind != "" {
		conn, err := n.x.Bind(bind, 1, "next")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		host, port := conn.LocalAddr()
		n.addr = fmt.Sprintf("%s:%d", host, port)
	}
	return n, nil
}

// say publishes one line of this node.
func (n *node) say(ctx context.Context, text string) error {
	if err := n.pub.Send(ctx, n.name+": "+text); err != nil {
		return fmt.Errorf("%s: say: %w", n.name, err)
	}
	return nil
}

// speaker returns who said a message ("" for a notice such as "*** bob
// joined").
func speaker(msg string) string {
	name, _, ok := strings.Cut(msg, ": ")
	if !ok || strings.HasPrefix(msg, "*** ") {
		return ""
	}
	return name
}

// runRoom runs a room of cfg.nodes nodes in this process.
func runRoom(ctx context.Context, input <-chan string, out *printer, cfg config) (err error) {
	var room []*node
	defer func() {
		for _, n := range slices.Backward(room) {
			if cerr := n.r.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("%s: close reactor: %w", n.name, cerr)
			}
		}
		if err == nil {
			out.printf("closed cleanly")
		}
	}()

	// What each node has heard from the others in this room; the handlers
	// below run on the nodes' loop goroutines.
	var (
		mu      sync.Mutex
		heard   = map[string]int{} // lines heard from nodes of this room
		joiners []string           // nodes from elsewhere that joined
		changed = make(chan struct{}, 1)
	)
	local := func(name string) bool { return slices.Contains(names[:cfg.nodes], name) }
	for k := range cfg.nodes {
		bind, err := ports.Offset(cfg.addr, k)
		if err != nil {
			return err
		}
		n, err := newNode(names[k], bind)
		if err != nil {
			return err
		}
		room = append(room, n)
		n.sub.Received.Bind(func(s *channels.SubChannel[string]) {
			for msg, err := range s.Messages() {
				if err != nil {
					out.printf("%s: %v", n.name, err)
					continue
				}
				out.printf("%s hears %s", n.name, msg)
				mu.Lock()
				if who := speaker(msg); local(who) {
					heard[n.name]++
				} else if who, ok := strings.CutPrefix(msg, "*** "); ok && strings.HasSuffix(who, " joined") {
					// Every node hears it: count the newcomer once.
					if who = strings.TrimSuffix(who, " joined"); !slices.Contains(joiners, who) {
						joiners = append(joiners, who)
					}
				}
				mu.Unlock()
				select {
				case changed <- struct{}{}:
				default:
				}
			}
		})
		if k == 0 {
			out.printf("%s: bound at %s", n.name, n.addr)
			continue
		}
		prev := room[k-1]
		if _, err := n.x.Connect(ctx, prev.addr, "previous"); err != nil {
			return fmt.Errorf("%s: %w", n.name, err)
		}
		out.printf("%s: bound at %s, connected to %s", n.name, n.addr, prev.name)
	}
	// waitUntil waits until done (called with mu held) reports true.
	waitUntil := func(what string, done func() bool) error {
		for {
			mu.Lock()
			ok := done()
			mu.Unlock()
			if ok {
				return nil
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return fmt.Errorf("waiting %s: %w", what, ctx.Err())
			}
		}
	}

	tail := room[len(room)-1]
	if cfg.wait > 0 {
		out.printf("%s: waiting for %d more node(s) to join at %s", tail.name, cfg.wait, tail.addr)
		if err := waitUntil("for nodes to join", func() bool { return len(joiners) >= cfg.wait }); err != nil {
			return err
		}
	}
	mu.Lock()
	members := append(names[:cfg.nodes:cfg.nodes], joiners...)
	mu.Unlock()
	out.printf("in the room: %s", strings.Join(members, ", "))

	// Say the lines of the input, each by the node it names.
	said := map[string]int{}
	total := 0
	for done := false; !done; {
		select {
		case line, ok := <-input:
			if !ok {
				done = true
				break
			}
			n := room[0]
			if who, text, ok := strings.Cut(line, ": "); ok && local(who) {
				n, line = room[slices.Index(names, who)], text
			}
			if line == "" {
				continue
			}
			out.printf("%s says: %s", n.name, line)
			if err := n.say(ctx, line); err != nil {
				return err
			}
			said[n.name]++
			total++
		case <-ctx.Done():
			return fmt.Errorf("reading input: %w", ctx.Err())
		}
	}
	// Every node hears every line but its own.
	err = waitUntil("for every node to hear every line", func() bool {
		for _, n := range room {
			if heard[n.name] < total-said[n.name] {
				return false
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	out.printf("every node heard the %d line(s) of the others", total)
	return nil
}

// runNode runs one node of a room whose other nodes are elsewhere.
func runNode(ctx context.Context, input <-chan string, out *printer, cfg config) (err error) {
	n, err := newNode(cfg.name, cfg.bind)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := n.r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close reactor: %w", cerr)
		}
		if err == nil {
			out.printf("closed cleanly")
		}
	}()
	n.sub.Received.Bind(func(s *channels.SubChannel[string]) {
		for msg, err := range s.Messages() {
			if err != nil {
				out.printf("%v", err)
				continue
			}
			out.printf("%s", msg)
		}
	})
	if n.addr != "" {
		out.printf("%s: bound at %s", n.name, n.addr)
	}
	if cfg.connect != "" {
		cctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		conn, err := n.x.Connect(cctx, cfg.connect, "previous")
		cancel()
		if err != nil {
			return err
		}
		host, port := conn.PeerAddr()
		out.printf("%s: connected to %s:%d", n.name, host, port)
	}
	// Before a neighbour joins, what is said waits in the bind's queue.
	if err := n.pub.Send(ctx, "*** "+n.name+" joined"); err != nil {
		return err
	}
	for {
		select {
		case line, ok := <-input:
			if !ok {
				return leave(ctx, n, out)
			}
			if line == "" {
				continue
			}
			if err := n.say(ctx, line); err != nil {
				return err
			}
		case <-ctx.Done():
			// Ctrl-C: leave as at the end of stdin.
			return leave(context.WithoutCancel(ctx), n, out)
		}
	}
}

// leave says goodbye and waits until that has left this process.
func leave(ctx context.Context, n *node, out *printer) error {
	if err := n.pub.Send(ctx, "*** "+n.name+" left"); err != nil {
		return err
	}
	fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := n.x.Flush(fctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("flush: %w", err)
	}
	out.printf("%s: left", n.name)
	return nil
}

// printer serialises the transcript: every node prints from its own loop
// goroutine.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
