package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
)

// output is one line a client read from the kernel.
type output struct {
	stderr bool
	text   string
}

// String shows the line as the transcript does: "| " before a line of
// stdout, "! " before a line of stderr.
func (o output) String() string {
	if o.stderr {
		return "! " + o.text
	}
	return "| " + o.text
}

// client is an IDE's end of the network: it types into the kernel's stdin
// through the file wrapper, reads the kernel's stdout and stderr as
// streams of lines, watches its status and sends it control requests.
type client struct {
	name    string
	x       *reactor.Context
	stdin   *channels.Writer
	status  *channels.StateChannel[string]
	control *channels.ReqChannel

	lines chan output   // what the two readers below read
	stop  chan struct{} // closed by close: the readers stop sending
	wg    sync.WaitGroup
}

// startClient connects a client context to the broker at addr, giving up
// after connectTimeout, and starts one goroutine per output stream,
// which close (or the end of ctx) ends.
func startClient(ctx context.Context, r *reactor.Reactor, name, addr string, connectTimeout time.Duration) (*client, error) {
	x, err := r.NewContext()
	if err != nil {
		return nil, fmt.Errorf("%s context: %w", name, err)
	}
	c := &client{name: name, x: x, lines: make(chan output), stop: make(chan struct{})}
	stdinPub, err := channels.NewPubChannel(x, stdinSlot, channels.Text)
	if err != nil {
		return nil, err
	}
	if c.stdin, err = channels.NewWriter(stdinPub, channels.WithWriteContext(ctx)); err != nil {
		return nil, err
	}
	stdout, err := channels.NewSubChannel(x, stdoutSlot, channels.Text)
	if err != nil {
		return nil, err
	}
	stderr, err := channels.NewSubChannel(x, stderrSlot, channels.Text)
	if err != nil {
		return nil, err
	}
	if c.status, err = channels.NewStateChannel(x, statusSlot, channels.Text); err != nil {
		return nil, err
	}
	if c.control, err = channels.NewReqChannel(x, controlSlot); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if _, err := x.Connect(cctx, addr, "broker"); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// The kernel writes pieces of lines (the prompt, then the echo of
	// what was typed): a Reader is an io.Reader, so bufio puts them
	// together.
	outReader, err := channels.NewReader(stdout, channels.WithReadContext(ctx))
	if err != nil {
		return nil, err
	}
	errReader, err := channels.NewReader(stderr, channels.WithReadContext(ctx))
	if err != nil {
		return nil, err
	}
	c.wg.Add(2)
	go c.scan(outReader, false)
	go c.scan(errReader, true)
	return c, nil
}

// scan sends the lines of one output stream to c.lines until the stream
// ends (the context closed) or close is called.
func (c *client) scan(r io.Reader, stderr bool) {
	defer c.wg.Done()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		select {
		case c.lines <- output{stderr: stderr, text: sc.Text()}:
		case <-c.stop:
			return
		}
	}
}

// typeLine sends one line to the kernel's stdin.
func (c *client) typeLine(line string) error {
	if _, err := c.stdin.WriteString(line + "\n"); err != nil {
		return fmt.Errorf("%s: type: %w", c.name, err)
	}
	return nil
}

// call sends a control request to the kernel and waits for the reply.
func (c *client) call(ctx context.Context, method string) (any, error) {
	v, err := channels.Call[any](ctx, c.control, method)
	if err != nil {
		return nil, fmt.Errorf("%s: control.%s(): %w", c.name, method, err)
	}
	return v, nil
}

// next returns the next output line.
func (c *client) next(ctx context.Context) (output, error) {
	select {
	case o := <-c.lines:
		return o, nil
	case <-ctx.Done():
		return output{}, fmt.Errorf("%s: waiting for the kernel's output: %w", c.name, ctx.Err())
	}
}

// waitStatus waits until the kernel's status, as this client sees it, is
// want.
func (c *client) waitStatus(ctx context.Context, want string) error {
	changed := make(chan struct{}, 1)
	id := c.status.Received.Bind(func(*channels.StateChannel[string]) { // on the loop
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	defer c.status.Received.Unbind(id)
	for {
		if s, ok := c.status.Recv(); ok && s == want {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			s, _ := c.status.Recv()
			return fmt.Errorf("%s: waiting for status %s (it is %q): %w", c.name, want, s, ctx.Err())
		}
	}
}

// close leaves the network and waits for the reader goroutines.
func (c *client) close() error {
	close(c.stop)
	err := c.x.Close() // the readers see the end of their streams
	c.wg.Wait()
	return err
}
