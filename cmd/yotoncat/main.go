package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/goyoton/yoton/reactor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// errUsage marks an error in the command line (exit status 2).
var errUsage = errors.New("usage")

// env is what a subcommand gets: its arguments and the standard streams.
type env struct {
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// logf writes one diagnostic line on stderr.
func (e *env) logf(format string, a ...any) {
	fmt.Fprintf(e.stderr, "yotoncat: "+format+"\n", a...)
}

var commands = map[string]func(ctx context.Context, e *env) error{
	"pub":     runPub,
	"sub":     runSub,
	"call":    runCall,
	"serve":   runServe,
	"state":   runState,
	"request": runRequest,
}

const usage = `usage: yotoncat COMMAND [flags] [args]

commands:
  pub      publish arguments, or lines of stdin
  sub      print received messages
  call     call a method of a replier and print the reply
  serve    serve a replier (-echo or -exec CMD)
  state    print a state channel's state and every change
  request  make a clientserver request and print the reply

run "yotoncat COMMAND -h" for a command's flags`

// run runs the command line args (without the program name) until it is
// done or ctx ends, and returns the exit status. Every goroutine it
// started has ended when it returns.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	cmd, ok := commands[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "-help" || args[0] == "help" {
			fmt.Fprintln(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "yotoncat: unknown command %q\n%s\n", args[0], usage)
		return exitUsage
	}
	e := &env{args: args[1:], stdin: stdin, stdout: stdout, stderr: stderr}
	err := cmd(ctx, e)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "yotoncat:", err)
		return exitUsage
	default:
		fmt.Fprintln(stderr, "yotoncat:", err)
		return exitFail
	}
}

// parse parses e's arguments with fs; errors are usage errors.
func parse(fs *flag.FlagSet, e *env) error {
	fs.SetOutput(e.stderr)
	if err := fs.Parse(e.args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s", errUsage, err)
	}
	return nil
}

// netFlags are the flags of every subcommand that joins a network.
type netFlags struct {
	addr    string
	connect bool
	bind    bool
	slot    string
	wait    time.Duration
	stats   bool
}

func (f *netFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", "", "address to connect to or bind (HOST:PORT, or yoton's localhost:NAME)")
	fs.BoolVar(&f.connect, "connect", false, "connect to addr (the default)")
	fs.BoolVar(&f.bind, "bind", false, "bind addr and wait for one peer")
	fs.StringVar(&f.slot, "slot", "", "slot name (base) of the channel")
	fs.DurationVar(&f.wait, "connect-timeout", 5*time.Second, "how long -connect retries a refused address")
	fs.BoolVar(&f.stats, "stats", false, "at the end, print the stats of the context and its connections as one JSON line on stderr")
}

func (f *netFlags) check() error {
	switch {
	case f.addr == "":
		return fmt.Errorf("%w: -addr is required", errUsage)
	case f.slot == "":
		return fmt.Errorf("%w: -slot is required", errUsage)
	case f.bind && f.connect:
		return fmt.Errorf("%w: -bind and -connect exclude each other", errUsage)
	}
	return nil
}

// node is one reactor with one context.
type node struct {
	r     *reactor.Reactor
	x     *reactor.Context
	conn  *reactor.Connection // set by join
	stats io.Writer           // where close prints the stats (-stats); set by join
}

func newNode() (*node, error) {
	r, err := reactor.New()
	if err != nil {
		return nil, err
	}
	x, err := r.NewContext()
	if err != nil {
		_ = r.Close()
		return nil, err
	}
	return &node{r: r, x: x}, nil
}

// close prints the stats if -stats asked for them, and closes the
// reactor, its context and channels. Idempotent.
func (n *node) close() error {
	if n.stats != nil {
		n.printStats(n.stats)
		n.stats = nil
	}
	return n.r.Close()
}

// statsReport is what -stats prints: the context's counters and those
// of each connection (the one joined, closed or not, and any other still
// alive), by "name peer-host:port".
type statsReport struct {
	Context     reactor.ContextStats               `json:"context"`
	Connections map[string]reactor.ConnectionStats `json:"connections"`
}

func (n *node) printStats(w io.Writer) {
	rep := statsReport{Context: n.x.Stats(), Connections: map[string]reactor.ConnectionStats{}}
	conns := n.x.AllConnections()
	if n.conn != nil && !slices.Contains(conns, n.conn) {
		conns = append(conns, n.conn)
	}
	for _, c := range conns {
		host, port := c.PeerAddr()
		rep.Connections[fmt.Sprintf("%s %s", c.Name(), net.JoinHostPort(host, strconv.Itoa(port)))] = c.Stats()
	}
	b, err := json.Marshal(rep)
	if err != nil {
		fmt.Fprintln(w, "yotoncat: stats:", err)
		return
	}
	fmt.Fprintf(w, "%s\n", b)
}

// join connects or binds, as f says, and returns once a peer is there.
// Create the channels before: then nothing that arrives is missed.
func (n *node) join(ctx context.Context, f *netFlags, e *env) error {
	if f.stats {
		n.stats = e.stderr
	}
	if !f.bind {
		cctx, cancel := context.WithTimeout(ctx, f.wait)
		defer cancel()
		c, err := n.x.Connect(cctx, f.addr, "yotoncat")
		if err != nil {
			return fmt.Errorf("connect %s: %w", f.addr, err)
		}
		n.conn = c
		e.logf("connected to %s", f.addr)
		return nil
	}
	c, err := n.x.Bind(f.addr, 1, "yotoncat")
	if err != nil {
		return fmt.Errorf("bind %s: %w", f.addr, err)
	}
	host, port := c.LocalAddr()
	e.logf("bound %s:%d, waiting for a peer", host, port)
	select {
	case <-c.Established():
		n.conn = c
		return nil
	case <-c.Done():
		return fmt.Errorf("bind %s: %s", f.addr, c.CloseReason())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closed returns a channel closed when the joined connection closes.
func (n *node) closed() <-chan struct{} { return n.conn.Done() }
