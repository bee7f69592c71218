// Command clientserver is the "simple client/server" network of the yoton
// docs: one context is the server, with a RepChannel that answers requests
// and a PubChannel that publishes a log of what it served; the other is
// the client, with a ReqChannel for its requests and a SubChannel that
// follows the server's log.
//
// By default both run here, on one reactor, and the program prints what
// each side sees; the server stops when its client leaves:
//
//	go run ./examples/clientserver
//
// Each side can also run as a process of its own (start the server first;
// a yoton bind serves one connection, so the server serves one client):
//
//	go run ./examples/clientserver -role server -addr localhost:yotoncalc
//	go run ./examples/clientserver -role client -addr localhost:yotoncalc
//
// or with a Python yoton client (see README.md):
//
//	PYTHONPATH=~/.cache/goyoton/pyzo/usr/share/pyzo/pyzo \
//	    python3 internal/pypeer/scripts/peer.py --module examples calc-client --connect localhost:yotoncalc
//
// It exits 0 after printing a transcript, or 1 with an error message.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/reactor"
)

// Slot bases both sides agree on.
const (
	calcSlot = "calc" // request/reply: calc.obj.req-rep and calc.obj.rep-req
	logSlot  = "log"  // publish/subscribe: log.txt.pub-sub
)

// config holds the command-line settings.
type config struct {
	role    string        // "all", "server" or "client"
	addr    string        // where the server binds and the client connects
	timeout time.Duration // bound on a run that ends by itself
}

func main() {
	var cfg config
	flag.StringVar(&cfg.role, "role", "all", `what to run: "all" (server and client here), "server" or "client"`)
	flag.StringVar(&cfg.addr, "addr", "",
		`server address (default 127.0.0.1:0, a free port, for -role all; localhost:yotoncalc for a single role)`)
	flag.DurationVar(&cfg.timeout, "timeout", 20*time.Second, "give up after this long (the server role runs until its client leaves or Ctrl-C)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientserver:", err)
		os.Exit(1)
	}
}

// run starts the roles cfg asks for and writes the transcript to w.
// Every goroutine it starts (the reactor's) has ended when it returns.
func run(ctx context.Context, w io.Writer, cfg config) (err error) {
	switch cfg.role {
	case "all", "server", "client":
	default:
		return fmt.Errorf("unknown role %q (want all, server or client)", cfg.role)
	}
	if cfg.addr == "" {
		cfg.addr = "localhost:yotoncalc"
		if cfg.role == "all" {
			cfg.addr = "127.0.0.1:0"
		}
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

	if cfg.role == "client" {
		ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
		return runClient(ctx, r, cfg.addr, out)
	}
	srv, err := startServer(r, cfg.addr, out)
	if err != nil {
		return err
	}
	if cfg.role == "server" {
		return srv.wait(ctx)
	}
	// Both sides here: the client connects to the port the server bound.
	host, port := srv.conn.LocalAddr()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	if err := runClient(ctx, r, fmt.Sprintf("%s:%d", host, port), out); err != nil {
		return err
	}
	return srv.wait(ctx)
}

// server is the serving side: a bound context with a RepChannel and a
// PubChannel.
type server struct {
	conn *reactor.Connection
	out  *printer
}

// startServer binds a context at addr and attaches the server's channels.
// Requests are handled on the loop goroutine (RepEvent): the handlers are
// quick and never block.
func startServer(r *reactor.Reactor, addr string, out *printer) (*server, error) {
	x, err := r.NewContext()
	if err != nil {
		return nil, fmt.Errorf("server context: %w", err)
	}
	logPub, err := channels.NewPubChannel(x, logSlot, channels.Text)
	if err != nil {
		return nil, err
	}
	rep, err := channels.NewRepChannel(x, calcSlot)
	if err != nil {
		return nil, err
	}
	// served publishes one log line; on the loop goroutine Send never waits.
	served := func(line string) {
		out.printf("server: %s", line)
		if err := logPub.Send(context.Background(), line); err != nil {
			out.printf("server: log: %v", err)
		}
	}
	err = errors.Join(
		rep.Register("add", func(a, b int64) int64 {
			served(fmt.Sprintf("served add(%d, %d) = %d", a, b, a+b))
			return a + b
		}),
		rep.Register("upper", func(s string) string {
			u := strings.ToUpper(s)
			served(fmt.Sprintf("served upper('%s') = '%s'", s, u))
			return u
		}),
		rep.Register("divide", func(a, b float64) (float64, error) {
			if b == 0 {
				served(fmt.Sprintf("refused divide(%g, %g): division by zero", a, b))
				return 0, errors.New("division by zero")
			}
			served(fmt.Sprintf("served divide(%g, %g) = %.6g", a, b, a/b))
			return a / b, nil
		}),
		rep.SetMode(channels.RepEvent),
	)
	if err != nil {
		return nil, err
	}
	conn, err := x.Bind(addr, 1, "client")
	if err != nil {
		return nil, err
	}
	host, port := conn.LocalAddr()
	out.printf("server: bound at %s:%d, serving %q and publishing %q", host, port, rep.SlotIncoming(), logPub.SlotOutgoing())
	return &server{conn: conn, out: out}, nil
}

// wait serves until the client leaves (its connection closes) or ctx
// ends, which is how a server is stopped; neither is an error.
func (s *server) wait(ctx context.Context) error {
	select {
	case <-s.conn.Done():
		s.out.printf("server: client left (%s)", s.conn.CloseReason())
	case <-ctx.Done():
		s.out.printf("server: stopping (%v)", context.Cause(ctx))
	}
	return nil
}

// runClient connects a context to the server at addr, makes its requests
// and reads the server's log after each, then leaves.
func runClient(ctx context.Context, r *reactor.Reactor, addr string, out *printer) error {
	x, err := r.NewContext()
	if err != nil {
		return fmt.Errorf("client context: %w", err)
	}
	// Channels first, so nothing the server sends on connecting is missed.
	logSub, err := channels.NewSubChannel(x, logSlot, channels.Text)
	if err != nil {
		return err
	}
	req, err := channels.NewReqChannel(x, calcSlot)
	if err != nil {
		return err
	}
	conn, err := x.Connect(ctx, addr, "server")
	if err != nil {
		return err
	}
	host, port := conn.PeerAddr()
	out.printf("client: connected to %s:%d", host, port)

	// readLog prints the log line the server published for the request;
	// it left the server before the reply, so it is already here.
	readLog := func() error {
		line, err := logSub.Recv(ctx)
		if err != nil {
			return fmt.Errorf("read the server's log: %w", err)
		}
		out.printf("client: the server's log: %s", line)
		return nil
	}

	sum, err := channels.Call[int64](ctx, req, "add", 3, 4)
	if err != nil {
		return fmt.Errorf("add: %w", err)
	}
	out.printf("client: add(3, 4) = %d", sum)
	if err := readLog(); err != nil {
		return err
	}

	upper := channels.Method[string](req, "upper") // a stub, as yoton's req.upper
	u, err := upper(ctx, "hello yoton")
	if err != nil {
		return fmt.Errorf("upper: %w", err)
	}
	out.printf("client: upper('hello yoton') = '%s'", u)
	if err := readLog(); err != nil {
		return err
	}

	q, err := channels.Call[float64](ctx, req, "divide", 22, 7)
	if err != nil {
		return fmt.Errorf("divide: %w", err)
	}
	out.printf("client: divide(22, 7) = %.6g", q)
	if err := readLog(); err != nil {
		return err
	}

	// A failing request: the server's error comes back as a RemoteError.
	_, err = channels.Call[float64](ctx, req, "divide", 1, 0)
	var remote *futures.RemoteError
	if !errors.As(err, &remote) {
		return fmt.Errorf("divide(1, 0): got %v, want a remote error", err)
	}
	out.printf("client: divide(1, 0) failed on the server: %s", remote.Message)
	if err := readLog(); err != nil {
		return err
	}

	// Leave: the server hears "Closed from other end."
	if err := x.Close(); err != nil {
		return fmt.Errorf("close client context: %w", err)
	}
	out.printf("client: done")
	return nil
}

// printer serialises the transcript: the server prints from the loop
// goroutine while the client prints from the caller's.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
