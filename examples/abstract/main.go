// Command abstract is the "abstract example" of the yoton docs: four
// contexts that differ only in the channels they hold.
//
//   - the publisher publishes a stream of frames (atomic numbers, 1 to 18
//     and round again) on a PubChannel, one every -interval;
//   - the replier has a RepChannel, the server role: it knows the name of
//     every element;
//   - the client subscribes to the stream and, for each frame, asks the
//     replier for the element's name with a ReqChannel;
//   - the connector has no channel at all: it only relays packages between
//     the other three, which all connect to it.
//
// A yoton bind serves one connection, so the connector binds three ports:
// base+0 for the publisher, base+1 for the replier, base+2 for the client.
// Nothing travels directly between the other three.
//
//	go run ./examples/abstract            # all four here, on one reactor
//	go run ./examples/abstract -frames 10 -interval 20ms
//
// As four processes (any order; the client stops after -frames frames,
// the others on Ctrl-C):
//
//	go run ./examples/abstract -role connector -addr localhost:yotonabstract
//	go run ./examples/abstract -role publisher -addr localhost:yotonabstract
//	go run ./examples/abstract -role replier -addr localhost:yotonabstract
//	go run ./examples/abstract -role client -addr localhost:yotonabstract
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
	"sync"
	"syscall"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/examples/internal/ports"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

// Slot bases, and the port each role uses (base+offset).
const (
	streamSlot = "stream" // stream.obj.pub-sub
	dataSlot   = "data"   // data.obj.req-rep and data.obj.rep-req

	publisherPort = 0
	replierPort   = 1
	clientPort    = 2
)

// elements is the replier's data.
var elements = []string{
	"hydrogen", "helium", "lithium", "beryllium", "boron", "carbon",
	"nitrogen", "oxygen", "fluorine", "neon", "sodium", "magnesium",
	"aluminium", "silicon", "phosphorus", "sulfur", "chlorine", "argon",
}

// config holds the command-line settings.
type config struct {
	role     string        // "all", "connector", "publisher", "replier" or "client"
	addr     string        // the connector's first port
	frames   int           // frames the client handles before it stops
	interval time.Duration // time between two frames of the stream
	timeout  time.Duration // bound on a run that ends by itself
}

func main() {
	var cfg config
	flag.StringVar(&cfg.role, "role", "all", `what to run: "all", "connector", "publisher", "replier" or "client"`)
	flag.StringVar(&cfg.addr, "addr", "",
		`the connector's first port: it binds this one and the next two (default 127.0.0.1:0, free ports, for -role all; localhost:yotonabstract otherwise)`)
	flag.IntVar(&cfg.frames, "frames", 5, "frames the client handles before it stops")
	flag.DurationVar(&cfg.interval, "interval", 50*time.Millisecond, "time between two frames of the stream")
	flag.DurationVar(&cfg.timeout, "timeout", 20*time.Second, "give up after this long (connector, publisher and replier roles run until Ctrl-C)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "abstract:", err)
		os.Exit(1)
	}
}

// run starts the roles cfg asks for and writes the transcript to w.
// Every goroutine it starts (the reactor's) has ended when it returns.
func run(ctx context.Context, w io.Writer, cfg config) (err error) {
	switch cfg.role {
	case "all", "connector", "publisher", "replier", "client":
	default:
		return fmt.Errorf("unknown role %q (want all, connector, publisher, replier or client)", cfg.role)
	}
	if cfg.frames < 1 || cfg.interval <= 0 {
		return errors.New("-frames and -interval must be positive")
	}
	if cfg.addr == "" {
		cfg.addr = "localhost:yotonabstract"
		if cfg.role == "all" {
			cfg.addr = "127.0.0.1:0"
		}
	}
	if cfg.role != "all" {
		// Separate processes find the connector's ports by its address.
		if err := ports.Fixed(cfg.addr); err != nil {
			return err
		}
	}
	out := &printer{w: w}
	r, err := reactor.New()
	if err != nil {
		return fmt.Errorf("start reactor: %w", err)
	}
	var stream *timers.Timer
	defer func() {
		if stream != nil {
			stream.Stop()
		}
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close reactor: %w", cerr)
		}
		if err == nil {
			out.printf("closed cleanly")
		}
	}()
	// addrOf is the connector port of a role.
	addrOf := func(k int) (string, error) { return ports.Offset(cfg.addr, k) }

	// serve is the end of the roles that run until stopped.
	serve := func(role string) error {
		<-ctx.Done()
		out.printf("%s: stopping (%v)", role, context.Cause(ctx))
		return nil
	}
	finite, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	switch cfg.role {
	case "connector":
		if _, _, err := startConnector(r, cfg.addr, out); err != nil {
			return err
		}
		return serve("connector")
	case "publisher":
		a, err := addrOf(publisherPort)
		if err != nil {
			return err
		}
		if stream, err = startPublisher(finite, r, a, cfg.interval, out); err != nil {
			return err
		}
		return serve("publisher")
	case "replier":
		a, err := addrOf(replierPort)
		if err != nil {
			return err
		}
		if err := startReplier(finite, r, a, out); err != nil {
			return err
		}
		return serve("replier")
	case "client":
		a, err := addrOf(clientPort)
		if err != nil {
			return err
		}
		return runClient(finite, r, a, cfg.frames, out)
	}

	// All four on one reactor.
	conn, addrs, err := startConnector(r, cfg.addr, out)
	if err != nil {
		return err
	}
	if err := startReplier(finite, r, addrs[replierPort], out); err != nil {
		return err
	}
	if stream, err = startPublisher(finite, r, addrs[publisherPort], cfg.interval, out); err != nil {
		return err
	}
	if err := runClient(finite, r, addrs[clientPort], cfg.frames, out); err != nil {
		return err
	}
	out.printf("connector: relayed between %d connections, with no channel of its own", conn.ConnectionCount())
	return nil
}

// startConnector binds the connector's three ports on a context without
// channels and returns the context and the bound addresses.
func startConnector(r *reactor.Reactor, addr string, out *printer) (*reactor.Context, []string, error) {
	x, err := r.NewContext()
	if err != nil {
		return nil, nil, fmt.Errorf("connector context: %w", err)
	}
	var addrs []string
	for k, role := range []string{"publisher", "replier", "client"} {
		a, err := ports.Offset(addr, k)
		if err != nil {
			return nil, nil, err
		}
		conn, err := x.Bind(a, 1, role)
		if err != nil {
			return nil, nil, fmt.Errorf("connector: %w", err)
		}
		host, port := conn.LocalAddr()
		addrs = append(addrs, fmt.Sprintf("%s:%d", host, port))
		out.printf("connector: bound %s:%d for the %s", host, port, role)
	}
	return x, addrs, nil
}

// startPublisher connects a context to the connector at addr and starts a
// timer that publishes the next frame every interval. The timer's handler
// runs on the loop goroutine, where Send never waits.
func startPublisher(ctx context.Context, r *reactor.Reactor, addr string, interval time.Duration, out *printer) (*timers.Timer, error) {
	x, err := r.NewContext()
	if err != nil {
		return nil, fmt.Errorf("publisher context: %w", err)
	}
	pub, err := channels.NewPubChannel(x, streamSlot, channels.Object)
	if err != nil {
		return nil, err
	}
	if _, err := x.Connect(ctx, addr, "connector"); err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	out.printf("publisher: connected to %s, publishing %q every %v", addr, pub.SlotOutgoing(), interval)
	t, err := timers.NewTimer(r, interval, timers.Repeating)
	if err != nil {
		return nil, err
	}
	frame := int64(0) // owned by the loop goroutine
	t.Bind(func(*timers.Timer) {
		frame = frame%int64(len(elements)) + 1
		if err := pub.Send(context.Background(), frame); err != nil && !errors.Is(err, reactor.ErrClosed) {
			out.printf("publisher: %v", err)
		}
	})
	return t, t.Start()
}

// startReplier connects a context with the replier's RepChannel to the
// connector at addr. Its handler is quick, so it runs on the loop
// goroutine (RepEvent).
func startReplier(ctx context.Context, r *reactor.Reactor, addr string, out *printer) error {
	x, err := r.NewContext()
	if err != nil {
		return fmt.Errorf("replier context: %w", err)
	}
	rep, err := channels.NewRepChannel(x, dataSlot)
	if err != nil {
		return err
	}
	err = rep.Register("element", func(n int) (string, error) {
		if n < 1 || n > len(elements) {
			return "", fmt.Errorf("no element %d here", n)
		}
		return elements[n-1], nil
	})
	if err != nil {
		return err
	}
	if err := rep.SetMode(channels.RepEvent); err != nil {
		return err
	}
	if _, err := x.Connect(ctx, addr, "connector"); err != nil {
		return fmt.Errorf("replier: %w", err)
	}
	out.printf("replier: connected to %s, serving %q", addr, rep.SlotIncoming())
	return nil
}

// runClient connects a context to the connector at addr, then takes frames
// from the stream (it joins it wherever it is) and asks the replier about
// each, until it has handled n of them.
func runClient(ctx context.Context, r *reactor.Reactor, addr string, n int, out *printer) error {
	x, err := r.NewContext()
	if err != nil {
		return fmt.Errorf("client context: %w", err)
	}
	sub, err := channels.NewSubChannel(x, streamSlot, channels.Object)
	if err != nil {
		return err
	}
	req, err := channels.NewReqChannel(x, dataSlot)
	if err != nil {
		return err
	}
	if _, err := x.Connect(ctx, addr, "connector"); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	out.printf("client: connected to %s", addr)
	element := channels.Method[string](req, "element")
	for range n {
		v, err := sub.Recv(ctx)
		if err != nil {
			return fmt.Errorf("client: read the stream: %w", err)
		}
		frame, ok := v.(int64)
		if !ok {
			return fmt.Errorf("client: unexpected frame %v", v)
		}
		name, err := element(ctx, frame)
		if err != nil {
			return fmt.Errorf("client: element(%d): %w", frame, err)
		}
		out.printf("client: frame %d from the publisher; the replier says element %d is %s", frame, frame, name)
	}
	out.printf("client: handled %d frames", n)
	return nil
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
