// Command hello is a small tour of yoton's publish/subscribe channels.
//
// It starts one reactor (one event loop) with two contexts on it. The
// host context binds a TCP address, the client context connects to it,
// and the host publishes a few text messages and one object message.
// On the client side a Received callback reads the text messages (it
// runs on the loop goroutine, once per batch of arrivals) and counts its
// batches, and the main goroutine reads the object message with Recv.
// Then everything shuts down.
//
//	go run ./examples/hello                   # bind 127.0.0.1 on a free port
//	go run ./examples/hello -addr localhost:hello
//	go run ./examples/hello -python           # also show the Python side
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
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// slotBase is the channel name both ends agree on.
const slotBase = "hello"

// texts are the text messages the demo publishes.
var texts = []string{"hello", "wörld", "from Go", "bye"}

// config holds the command-line settings.
type config struct {
	addr    string        // where the host context binds
	timeout time.Duration // bound on the whole run
	python  bool          // print how a Python peer would join
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:0",
		`address the host context binds: "host:port", port 0 for a free one, or a yoton port name as in "localhost:hello"`)
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "give up after this long")
	flag.BoolVar(&cfg.python, "python", false, "also print how a Python yoton peer would join")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}

// run is the whole demo; it writes its transcript to w. Every goroutine
// it starts (the reactor's) has ended when it returns.
func run(ctx context.Context, w io.Writer, cfg config) (err error) {
	r, err := reactor.New()
	if err != nil {
		return fmt.Errorf("start reactor: %w", err)
	}
	defer func() {
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close reactor: %w", cerr)
		}
		if err == nil {
			fmt.Fprintln(w, "closed cleanly")
		}
	}()

	// Two contexts, one bound, one connected to it.
	host, err := r.NewContext()
	if err != nil {
		return fmt.Errorf("host context: %w", err)
	}
	client, err := r.NewContext()
	if err != nil {
		return fmt.Errorf("client context: %w", err)
	}
	bound, err := host.Bind(cfg.addr, 1, "to-client")
	if err != nil {
		return err
	}
	h, port := bound.LocalAddr()
	fmt.Fprintf(w, "host bound at %s:%d\n", h, port)
	conn, err := client.Connect(ctx, fmt.Sprintf("%s:%d", h, port), "to-host")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "client connected (%s)\n", conn.Status())
	if cfg.python {
		printPython(w)
	}

	// Channels: a text pair and an object pair at the same slot base.
	pubText, err := channels.NewPubChannel(host, slotBase, channels.Text)
	if err != nil {
		return err
	}
	pubObj, err := channels.NewPubChannel(host, slotBase, channels.Object)
	if err != nil {
		return err
	}
	subText, err := channels.NewSubChannel(client, slotBase, channels.Text)
	if err != nil {
		return err
	}
	subObj, err := channels.NewSubChannel(client, slotBase, channels.Object)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "text slot %q, object slot %q\n", subText.SlotIncoming(), subObj.SlotIncoming())

	// The callback runs on the loop goroutine; these variables belong to
	// it until textDone is closed.
	var (
		batches, got int
		lines        []string
		textDone     = make(chan struct{})
	)
	subText.Received.Bind(func(s *channels.SubChannel[string]) {
		batches++
		for m, err := range s.Messages() {
			if err != nil {
				lines = append(lines, "error: "+err.Error())
				continue
			}
			lines = append(lines, fmt.Sprintf("received text %q", m))
			got++
		}
		if got == len(texts) {
			close(textDone)
		}
	})

	for _, m := range texts {
		if err := pubText.Send(ctx, m); err != nil {
			return fmt.Errorf("send text: %w", err)
		}
	}
	select {
	case <-textDone:
	case <-ctx.Done():
		return fmt.Errorf("waiting for the text messages: %w", ctx.Err())
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "%d text messages arrived in %d Received batch(es)\n", got, batches)

	// An object message: what Python would see as
	// ('greeting', 42, {'lang': 'en', (1, 2): [3.5, None, True]}).
	d := wire.NewDict()
	if err := d.Set("lang", "en"); err != nil {
		return err
	}
	if err := d.Set(wire.Tuple{int64(1), int64(2)}, []any{3.5, nil, true}); err != nil {
		return err
	}
	if err := pubObj.Send(ctx, wire.Tuple{"greeting", int64(42), d}); err != nil {
		return fmt.Errorf("send object: %w", err)
	}
	obj, err := subObj.Recv(ctx)
	if err != nil {
		return fmt.Errorf("receive object: %w", err)
	}
	fmt.Fprintf(w, "received object %s\n", wire.Repr(obj))

	// A closed channel refuses to send; closing is idempotent.
	if err := pubText.Close(); err != nil {
		return err
	}
	if err := pubText.Send(ctx, "too late"); !errors.Is(err, reactor.ErrClosed) {
		return fmt.Errorf("send on a closed channel: got %v, want ErrClosed", err)
	}
	return nil
}

// printPython shows how a Python peer would join the same network.
func printPython(w io.Writer) {
	fmt.Fprint(w, `# How a Python yoton 2.2 peer would join: a bind serves one connection,
# so the Go host binds once more for it, at "localhost:hello" say (both
# sides turn the port name "hello" into the same port number).
#   import yoton
#   ct = yoton.Context()
#   ct.connect("localhost:hello")
#   text = yoton.SubChannel(ct, "hello")                # hello.txt.pub-sub
#   objs = yoton.SubChannel(ct, "hello", yoton.OBJECT)  # hello.obj.pub-sub
#   print(text.recv(), objs.recv())
`)
}
