// Command ide is the IDE/kernel network of the yoton docs (the way Pyzo
// runs its kernels): a kernel process connected to a broker over
// localhost, and IDE clients connected to the same broker.
//
//   - stdin and stdout travel through the file wrapper: each client types
//     into a channels.Writer over a PubChannel "stdin"; the kernel reads
//     lines from a channels.Reader (echoing them on its stdout) and writes
//     its results through channels.Writers on "stdout" and "stderr"; the
//     clients read those as io.Readers, line by line with bufio;
//   - the kernel's status ("Ready", "Busy", "Dead") is a StateChannel, so a
//     client that joins late learns it at once;
//   - a RepChannel "control" at the kernel answers vars(), info(), reset()
//     and shutdown(), on the loop goroutine, even while the kernel is busy.
//
// The kernel runs a tiny calculator: "let x = 6", "(x + 1) * 3".
// The broker holds no channel: it only relays. A yoton bind serves one
// connection, so it binds base+0 for the kernel and base+1, base+2, ...
// for the clients.
//
// By default everything runs in this process, on one reactor, and two
// clients take turns at a scripted session, each seeing all the output:
//
//	go run ./examples/ide
//
// As separate processes (a client reads its lines from stdin; /vars,
// /info, /reset and /shutdown are control requests; Ctrl-D leaves):
//
//	go run ./examples/ide -role broker -addr localhost:yotonide
//	go run ./examples/ide -role kernel -addr localhost:yotonide
//	go run ./examples/ide -role client -client 1 -addr localhost:yotonide
//	go run ./examples/ide -role client -client 2 -addr localhost:yotonide
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
	"github.com/goyoton/yoton/wire"
)

// config holds the command-line settings.
type config struct {
	role    string        // "all", "broker", "kernel" or "client"
	addr    string        // the broker's first port (the kernel's)
	clients int           // client ports the broker binds (-role broker)
	client  int           // which client port a client uses, from 1
	timeout time.Duration // bound on a run that ends by itself
}

func main() {
	var cfg config
	flag.StringVar(&cfg.role, "role", "all", `what to run: "all", "broker", "kernel" or "client"`)
	flag.StringVar(&cfg.addr, "addr", "",
		`the broker's first port, for the kernel; client k uses the k-th port after it (default 127.0.0.1:0, free ports, for -role all; localhost:yotonide otherwise)`)
	flag.IntVar(&cfg.clients, "clients", 2, "client ports the broker binds (-role broker)")
	flag.IntVar(&cfg.client, "client", 1, "which of the broker's client ports to use, from 1 (-role client)")
	flag.DurationVar(&cfg.timeout, "timeout", 20*time.Second, "give up after this long (-role all; for the other roles, on connecting and per control request)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, stdinLines(ctx), os.Stdout, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ide:", err)
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

// run starts the roles cfg asks for; a client role reads its lines from
// input. It writes the transcript to w. Every goroutine it starts has
// ended when it returns.
func run(ctx context.Context, input <-chan string, w io.Writer, cfg config) (err error) {
	switch cfg.role {
	case "all", "broker", "kernel", "client":
	default:
		return fmt.Errorf("unknown role %q (want all, broker, kernel or client)", cfg.role)
	}
	if cfg.addr == "" {
		cfg.addr = "localhost:yotonide"
		if cfg.role == "all" {
			cfg.addr = "127.0.0.1:0"
		}
	}
	if cfg.role != "all" {
		if err := ports.Fixed(cfg.addr); err != nil {
			return err
		}
	}
	switch {
	case cfg.role == "broker" && cfg.clients < 1:
		return errors.New("-clients must be at least 1")
	case cfg.role == "client" && cfg.client < 1:
		return errors.New("-client counts from 1")
	}

	out := &printer{w: w}
	r, err := reactor.New()
	if err != nil {
		return fmt.Errorf("start reactor: %w", err)
	}
	var (
		clients []*client // closed before the reactor, to end their readers
		k       *kernel   // its goroutine must have ended before we return
	)
	defer func() {
		for _, c := range clients {
			if cerr := c.close(); cerr != nil && err == nil {
				err = fmt.Errorf("%s: close: %w", c.name, cerr)
			}
		}
		if k != nil {
			k.stop()
			<-k.done
		}
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close reactor: %w", cerr)
		}
		if err == nil {
			out.printf("closed cleanly")
		}
	}()
	switch cfg.role {
	case "broker":
		if _, err := startBroker(r, cfg.addr, cfg.clients, out); err != nil {
			return err
		}
		<-ctx.Done()
		out.printf("broker: stopping (%v)", context.Cause(ctx))
		return nil
	case "kernel":
		if k, err = startKernel(ctx, r, cfg.addr, cfg.timeout, out); err != nil {
			return err
		}
		var end kernelEnd
		select {
		case <-k.done:
			end, _ = k.wait(ctx)
		case <-ctx.Done(): // Ctrl-C
			k.stop()
			end, _ = k.wait(context.WithoutCancel(ctx))
		}
		if end.err != nil && !errors.Is(end.err, context.Canceled) {
			return fmt.Errorf("kernel: %w", end.err)
		}
		out.printf("kernel: %s", end)
		return nil
	case "client":
		a, err := ports.Offset(cfg.addr, cfg.client)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("client%d", cfg.client)
		c, err := startClient(ctx, r, name, a, cfg.timeout)
		if err != nil {
			return err
		}
		clients = append(clients, c)
		out.printf("%s: connected to the broker at %s", name, a)
		return interact(ctx, input, c, out, cfg.timeout)
	}

	// Everything here: the broker, then the kernel, then two clients.
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	addrs, err := startBroker(r, cfg.addr, 2, out)
	if err != nil {
		return err
	}
	if k, err = startKernel(ctx, r, addrs[0], cfg.timeout, out); err != nil {
		return err
	}
	for i := 1; i <= 2; i++ {
		c, err := startClient(ctx, r, fmt.Sprintf("client%d", i), addrs[i], cfg.timeout)
		if err != nil {
			return err
		}
		clients = append(clients, c)
		out.printf("%s: connected to the broker at %s", c.name, addrs[i])
	}
	return session(ctx, k, clients, out)
}

// startBroker binds the broker's ports on a context without channels:
// the kernel's, then one per client. It returns their addresses.
func startBroker(r *reactor.Reactor, addr string, clients int, out *printer) ([]string, error) {
	x, err := r.NewContext()
	if err != nil {
		return nil, fmt.Errorf("broker context: %w", err)
	}
	var addrs []string
	for i := range clients + 1 {
		a, err := ports.Offset(addr, i)
		if err != nil {
			return nil, err
		}
		conn, err := x.Bind(a, 1, "")
		if err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
		host, port := conn.LocalAddr()
		addrs = append(addrs, fmt.Sprintf("%s:%d", host, port))
	}
	out.printf("broker: bound %s for the kernel, %s for the clients", addrs[0], strings.Join(addrs[1:], " "))
	return addrs, nil
}

// step is one turn of the scripted session: a client types a line into
// the kernel or sends it a control request.
type step struct {
	by    int    // the client, from 0
	typed string // a line for the kernel, or
	call  string // a control request
}

var script = []step{
	{by: 0, typed: "let x = 6"},
	{by: 1, typed: "let y = x * 7"},
	{by: 0, typed: "(y - x) / 4"},
	{by: 1, typed: "y / (x - 6)"},
	{by: 0, call: "vars"},
	{by: 1, call: "info"},
	{by: 0, call: "reset"},
	{by: 1, typed: "x + 1"},
	{by: 1, call: "shutdown"},
}

// session plays the script: after each line typed it waits until both
// clients have read the echo and the result, and prints what each saw.
func session(ctx context.Context, k *kernel, clients []*client, out *printer) error {
	for _, c := range clients {
		if err := c.waitStatus(ctx, statusReady); err != nil {
			return err
		}
		out.printf("%s: kernel status %s", c.name, statusReady)
	}
	for _, s := range script {
		c := clients[s.by]
		if s.call != "" {
			v, err := c.call(ctx, s.call)
			if err != nil {
				return err
			}
			out.printf("%s: control.%s() = %s", c.name, s.call, wire.Repr(v))
			continue
		}
		out.printf("%s types: %s", c.name, s.typed)
		if err := c.typeLine(s.typed); err != nil {
			return err
		}
		for _, cc := range clients {
			// The echo and the result: two lines, from stdout or stderr.
			var got []output
			for range 2 {
				o, err := cc.next(ctx)
				if err != nil {
					return err
				}
				got = append(got, o)
			}
			// stdout's echo first (the readers of the two streams race).
			slices.SortStableFunc(got, func(a, b output) int {
				if a.stderr == b.stderr {
					return 0
				}
				if b.stderr {
					return -1
				}
				return 1
			})
			for _, o := range got {
				out.printf("  %s %s", cc.name, o)
			}
		}
	}
	for _, c := range clients {
		if err := c.waitStatus(ctx, statusDead); err != nil {
			return err
		}
		out.printf("%s: kernel status %s", c.name, statusDead)
	}
	end, err := k.wait(ctx)
	if err != nil {
		return err
	}
	if end.err != nil {
		return fmt.Errorf("kernel: %w", end.err)
	}
	out.printf("kernel: %s", end)
	return nil
}

// interact is a client run by a person: lines from input go to the
// kernel, "/vars", "/info", "/reset" and "/shutdown" are control
// requests; the kernel's output and status changes are printed as they
// come. It returns at the end of input or when ctx ends.
func interact(ctx context.Context, input <-chan string, c *client, out *printer, timeout time.Duration) error {
	// Print the kernel's status whenever it changes: from the loop when a
	// new one arrives, and once here for one that came before the Bind.
	var (
		mu   sync.Mutex
		last string
	)
	showStatus := func() {
		mu.Lock()
		defer mu.Unlock()
		if s, ok := c.status.Recv(); ok && s != last {
			last = s
			out.printf("%s: kernel is %s", c.name, s)
		}
	}
	c.status.Received.Bind(func(*channels.StateChannel[string]) { showStatus() })
	showStatus()
	for {
		select {
		case o := <-c.lines:
			out.printf("%s %s", c.name, o)
		case line, ok := <-input:
			if !ok {
				out.printf("%s: leaving", c.name)
				return nil
			}
			method, isCall := strings.CutPrefix(line, "/")
			if !isCall {
				if err := c.typeLine(line); err != nil {
					return err
				}
				continue
			}
			if !slices.Contains([]string{"vars", "info", "reset", "shutdown"}, method) {
				out.printf("%s: control requests are /vars, /info, /reset and /shutdown", c.name)
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, timeout)
			v, err := c.call(cctx, method)
			cancel()
			if err != nil {
				out.printf("%v", err) // the kernel may be gone; keep going
				continue
			}
			out.printf("%s: control.%s() = %s", c.name, method, wire.Repr(v))
		case <-ctx.Done():
			out.printf("%s: leaving (%v)", c.name, context.Cause(ctx))
			return nil
		}
	}
}

// printer serialises the transcript.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
