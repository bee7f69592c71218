package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// Slot bases of the IDE/kernel network.
const (
	stdinSlot   = "stdin"   // text, clients → kernel
	stdoutSlot  = "stdout"  // text, kernel → clients (with the echo of stdin)
	stderrSlot  = "stderr"  // text, kernel → clients
	statusSlot  = "status"  // text state: "Ready", "Busy", "Dead"
	controlSlot = "control" // request/reply, served by the kernel
)

// The kernel's states, as Pyzo's kernels report them.
const (
	statusReady = "Ready"
	statusBusy  = "Busy"
	statusDead  = "Dead"
)

// prompt is what the kernel writes before it reads a line; with the echo
// of that line the clients see ">>> let x = 6".
const prompt = ">>> "

// kernel runs calc lines it reads from its stdin channel, one at a time
// on a goroutine of its own, writes results to its stdout channel and
// errors to its stderr channel through the file wrapper, publishes its
// status in a StateChannel and answers control requests.
type kernel struct {
	x      *reactor.Context
	stdin  *channels.Reader
	stdout *channels.Writer
	stderr *channels.Writer
	status *channels.StateChannel[string]

	mu       sync.Mutex // guards calc and executed: the control handlers run on the loop
	calc     *calc
	executed int
	asked    bool // a client asked for shutdown

	done chan struct{} // closed when the kernel's goroutine has ended
	err  error         // why it ended; set before done closes
}

// startKernel connects a kernel context to the broker at addr, giving up
// after connectTimeout, and starts the kernel's goroutine, which runs
// until a client asks for shutdown or ctx ends.
func startKernel(ctx context.Context, r *reactor.Reactor, addr string, connectTimeout time.Duration, out *printer) (*kernel, error) {
	x, err := r.NewContext()
	if err != nil {
		return nil, fmt.Errorf("kernel context: %w", err)
	}
	k := &kernel{x: x, calc: newCalc(), done: make(chan struct{})}
	stdoutPub, err := channels.NewPubChannel(x, stdoutSlot, channels.Text)
	if err != nil {
		return nil, err
	}
	stderrPub, err := channels.NewPubChannel(x, stderrSlot, channels.Text)
	if err != nil {
		return nil, err
	}
	stdinSub, err := channels.NewSubChannel(x, stdinSlot, channels.Text)
	if err != nil {
		return nil, err
	}
	// What the kernel reads is echoed on its stdout, as yoton's echo does.
	if k.stdin, err = channels.NewReader(stdinSub, channels.WithEcho(stdoutPub)); err != nil {
		return nil, err
	}
	if k.stdout, err = channels.NewWriter(stdoutPub, channels.WithWriteContext(ctx)); err != nil {
		return nil, err
	}
	if k.stderr, err = channels.NewWriter(stderrPub, channels.WithWriteContext(ctx)); err != nil {
		return nil, err
	}
	if k.status, err = channels.NewStateChannel(x, statusSlot, channels.Text); err != nil {
		return nil, err
	}
	control, err := channels.NewRepChannel(x, controlSlot)
	if err != nil {
		return nil, err
	}
	// The control handlers are quick: they run on the loop goroutine
	// (RepEvent), even while the kernel's goroutine is busy with a line.
	err = errors.Join(
		control.Register("vars", func() *wire.Dict {
			k.mu.Lock()
			defer k.mu.Unlock()
			return k.calc.snapshot()
		}),
		control.Register("reset", func() string {
			k.mu.Lock()
			defer k.mu.Unlock()
			n := len(k.calc.vars)
			k.calc = newCalc()
			return fmt.Sprintf("cleared %d variable(s)", n)
		}),
		control.Register("info", func() *wire.Dict {
			k.mu.Lock()
			defer k.mu.Unlock()
			d := wire.NewDict()
			_ = d.Set("kernel", "calc (Go)")
			_ = d.Set("pid", int64(os.Getpid()))
			_ = d.Set("executed", int64(k.executed))
			_ = d.Set("variables", int64(len(k.calc.vars)))
			return d
		}),
		control.Register("shutdown", func() string {
			k.mu.Lock()
			k.asked = true
			k.mu.Unlock()
			// The kernel's goroutine sees the end of its stdin and stops.
			_ = k.stdin.Close()
			return "bye"
		}),
		control.SetMode(channels.RepEvent),
	)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if _, err := x.Connect(cctx, addr, "broker"); err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	out.printf("kernel: connected to the broker at %s", addr)
	go k.loop(ctx)
	return k, nil
}

// loop is the kernel's goroutine: prompt, read a line, run it, until its
// stdin closes (shutdown) or ctx ends. Its last status is "Dead".
func (k *kernel) loop(ctx context.Context) {
	defer close(k.done)
	k.err = k.repl(ctx)
	// Tell the clients, even when ctx has ended.
	if err := k.status.Send(context.WithoutCancel(ctx), statusDead); err != nil && k.err == nil {
		k.err = err
	}
}

func (k *kernel) repl(ctx context.Context) error {
	for {
		if _, err := k.stdout.WriteString(prompt); err != nil {
			return err
		}
		if err := k.status.Send(ctx, statusReady); err != nil {
			return err
		}
		line, err := k.stdin.ReadLine(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := k.status.Send(ctx, statusBusy); err != nil {
			return err
		}
		k.mu.Lock()
		res, err := k.calc.exec(line)
		k.executed++
		k.mu.Unlock()
		if err != nil {
			_, err = fmt.Fprintf(k.stderr, "error: %v\n", err)
		} else {
			_, err = k.stdout.WriteString(res + "\n")
		}
		if err != nil {
			return err
		}
	}
}

// kernelEnd is how the kernel's goroutine ended.
type kernelEnd struct {
	executed int   // lines run
	asked    bool  // a client asked for the shutdown
	err      error // nil, or why it failed (ctx's error when ctx ended)
}

// String describes the end for the transcript.
func (e kernelEnd) String() string {
	s := fmt.Sprintf("stopped after %d line(s)", e.executed)
	if e.asked {
		s += ", shut down by a client"
	}
	return s
}

// wait waits for the kernel's goroutine to end.
func (k *kernel) wait(ctx context.Context) (kernelEnd, error) {
	select {
	case <-k.done:
	case <-ctx.Done():
		return kernelEnd{}, fmt.Errorf("waiting for the kernel: %w", ctx.Err())
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return kernelEnd{executed: k.executed, asked: k.asked, err: k.err}, nil
}

// stop closes the kernel's stdin, so that its goroutine ends after the
// line it runs.
func (k *kernel) stop() { _ = k.stdin.Close() }
