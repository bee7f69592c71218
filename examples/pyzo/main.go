// Command pyzo drives a real Pyzo kernel from Go: it plays the part of
// the Pyzo IDE (and of its kernel broker) over yoton.
//
// It starts Pyzo's kernel (pyzokernel/start.py of Debian's pyzo package,
// unpacked by scripts/fetch-pyzo.sh) the way Pyzo's kernel broker does:
// a Go context binds a port on localhost, and the kernel, given the port
// on its command line, connects to it. Over that connection, with the
// channels Pyzo's IDE uses, it:
//
//   - sends the kernel's startup information on the state channel
//     stat-startup (an object: no GUI toolkit, no IPython, no script),
//     and waits for the first prompt on strm-prompt and the status
//     "Ready" on stat-interpreter;
//   - runs Python: one line through ctrl-command (as typed at the
//     prompt), a block through ctrl-code (as the IDE's "run selection"),
//     and a line that raises; after each it waits for the next prompt and
//     prints what the kernel echoed (strm-echo), wrote to stdout
//     (strm-out) and to stderr (strm-err, where tracebacks go), apart;
//   - asks the kernel's introspection replier (reqp-introspect) for a
//     signature and a value;
//   - asks the kernel to terminate through reqp-introspect, as the broker
//     does, and kills it if it has not exited within -stop-wait.
//
// Run it from the module's root:
//
//	go run ./examples/pyzo
//	go run ./examples/pyzo -code 'import sys; print(sys.version)'
//	go run ./examples/pyzo -python python3.11 -pyzo /path/to/usr/share/pyzo/pyzo
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
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// config holds the command-line settings.
type config struct {
	python   string        // the Python interpreter that runs the kernel
	pyzoDir  string        // Pyzo's package directory: pyzokernel/ and yoton/
	code     string        // extra code to run, as a block, after the demo's
	timeout  time.Duration // bound on the session, from start to shutdown
	stopWait time.Duration // how long the kernel may take to exit before it is killed

	// started, when set, is called with the kernel's process once it
	// runs (tests register its kill in their cleanup).
	started func(*os.Process)
}

func main() {
	var cfg config
	flag.StringVar(&cfg.python, "python", "python3", "the Python interpreter that runs the kernel")
	flag.StringVar(&cfg.pyzoDir, "pyzo", "",
		"Pyzo's package directory, holding pyzokernel/ and yoton/ (default $YOTON_PYTHONPATH, else ${YOTON_PYZO_DIR:-$HOME/.cache/goyoton/pyzo}/usr/share/pyzo/pyzo)")
	flag.StringVar(&cfg.code, "code", "", "more Python code to run in the kernel (a block; may hold newlines)")
	flag.DurationVar(&cfg.timeout, "timeout", time.Minute, "give up after this long")
	flag.DurationVar(&cfg.stopWait, "stop-wait", 5*time.Second, "how long the kernel may take to exit when asked to before it is killed")
	flag.Parse()
	if cfg.pyzoDir == "" {
		cfg.pyzoDir = defaultPyzoDir()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pyzo:", err)
		os.Exit(1)
	}
}

// The Python the demo runs.
const (
	// answerLine is one line typed at the prompt (ctrl-command).
	answerLine = "print(6*7)"
	// squaresBlock is a block run as the IDE runs a selection
	// (ctrl-code); it also defines divide, which raisingLine calls.
	squaresBlock = `total = 0
for i in range(1, 5):
    total += i * i
    print("i =", i, "total =", total)

def divide(a, b):
    return a / b
`
	// squaresFile is the file name the kernel shows for squaresBlock.
	squaresFile = "<goyoton>"
	// raisingLine raises ZeroDivisionError inside divide.
	raisingLine = "divide(42, 0)"
	// extraFile is the file name the kernel shows for -code.
	extraFile = "<-code>"
)

// step is code for the kernel: a line typed at the prompt (sent on
// ctrl-command) when file is empty, else a block run as if from file
// (sent on ctrl-code).
type step struct {
	source string
	file   string
}

// kernelChannels are the IDE's ends of the channels Pyzo's kernel
// creates in pyzokernel/start.py (same slot names, types and patterns).
type kernelChannels struct {
	startup    *channels.StateChannel[any]    // stat-startup (object): startup info, both ways
	status     *channels.StateChannel[string] // stat-interpreter: Ready, Busy, More, Debug
	stdout     *channels.SubChannel[string]   // strm-out: the kernel's sys.stdout
	stderr     *channels.SubChannel[string]   // strm-err: its sys.stderr (tracebacks)
	echo       *channels.SubChannel[string]   // strm-echo: what it runs, echoed
	prompt     *channels.SubChannel[string]   // strm-prompt: one prompt per command handled
	command    *channels.PubChannel[string]   // ctrl-command: lines, as typed (its sys.stdin)
	code       *channels.PubChannel[any]      // ctrl-code (object): blocks of code
	introspect *channels.ReqChannel           // reqp-introspect: the introspection replier
}

// newKernelChannels attaches the IDE's channels to ide. On error, the
// channels attached so far stay attached until ide closes.
func newKernelChannels(ide *reactor.Context) (*kernelChannels, error) {
	var (
		ch  kernelChannels
		err error
	)
	slotErr := func(slot string, err error) error { return fmt.Errorf("channel %s: %w", slot, err) }
	if ch.startup, err = channels.NewStateChannel(ide, "stat-startup", channels.Object); err != nil {
		return nil, slotErr("stat-startup", err)
	}
	if ch.status, err = channels.NewStateChannel(ide, "stat-interpreter", channels.Text); err != nil {
		return nil, slotErr("stat-interpreter", err)
	}
	if ch.stdout, err = channels.NewSubChannel(ide, "strm-out", channels.Text); err != nil {
		return nil, slotErr("strm-out", err)
	}
	if ch.stderr, err = channels.NewSubChannel(ide, "strm-err", channels.Text); err != nil {
		return nil, slotErr("strm-err", err)
	}
	if ch.echo, err = channels.NewSubChannel(ide, "strm-echo", channels.Text); err != nil {
		return nil, slotErr("strm-echo", err)
	}
	if ch.prompt, err = channels.NewSubChannel(ide, "strm-prompt", channels.Text); err != nil {
		return nil, slotErr("strm-prompt", err)
	}
	if ch.command, err = channels.NewPubChannel(ide, "ctrl-command", channels.Text); err != nil {
		return nil, slotErr("ctrl-command", err)
	}
	if ch.code, err = channels.NewPubChannel(ide, "ctrl-code", channels.Object); err != nil {
		return nil, slotErr("ctrl-code", err)
	}
	if ch.introspect, err = channels.NewReqChannel(ide, "reqp-introspect"); err != nil {
		return nil, slotErr("reqp-introspect", err)
	}
	// As Pyzo's shell does: the kernel's writes wait (briefly) rather
	// than get lost when the IDE falls behind.
	ch.stdout.SetSyncMode(true)
	ch.stderr.SetSyncMode(true)
	return &ch, nil
}

// startupInfo is what Pyzo's broker sends the kernel on stat-startup: the
// fields of a KernelInfo (pyzo/core/kernelbroker.py). gui "none" keeps
// the kernel on its pure-Python loop (no Qt, Tk or asyncio), ipython "no"
// keeps the plain Python prompt, and an empty scriptFile makes it
// interactive, in startDir.
func startupInfo(python, startDir string) *wire.Dict {
	return wire.MustDictOf(
		"name", "Python",
		"exe", python,
		"gui", "none",
		"ipython", "no",
		"pythonPath", "",
		"projectPath", "",
		"scriptFile", "",
		"startDir", startDir,
		"startupScript", "",
		"argv", "",
		"environ", "",
	)
}

// run starts the kernel, runs the demo's code in it (and cfg.code), asks
// it something through the introspection replier, and shuts it down,
// writing a transcript to w. The kernel process and every goroutine run
// started have ended when it returns.
func run(ctx context.Context, w io.Writer, cfg config) (err error) {
	pyzoDir, err := checkPyzoDir(cfg.pyzoDir)
	if err != nil {
		return err
	}
	if cfg.timeout <= 0 || cfg.stopWait <= 0 {
		return errors.New("-timeout and -stop-wait must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	r, err := reactor.New()
	if err != nil {
		return fmt.Errorf("start reactor: %w", err)
	}
	defer func() {
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close reactor: %w", cerr)
		}
	}()
	ide, err := r.NewContext()
	if err != nil {
		return fmt.Errorf("new context: %w", err)
	}
	ch, err := newKernelChannels(ide)
	if err != nil {
		return err
	}
	// The kernel sets its status (stat-interpreter) to Ready each time it
	// waits for a command; ready closes the first time. The handler runs
	// on the loop and is bound before anything can arrive.
	ready := make(chan struct{})
	ch.status.Received.Bind(func(s *channels.StateChannel[string]) {
		if st, _ := s.Recv(); st == "Ready" {
			select {
			case <-ready:
			default:
				close(ready)
			}
		}
	})
	startDir, _ := os.Getwd() // "" lets the kernel start in the home directory
	// Queued on the waiting bind, and resent by the state channel when
	// the kernel connects: the kernel waits for it before anything else.
	if err := ch.startup.Send(ctx, startupInfo(cfg.python, startDir)); err != nil {
		return fmt.Errorf("send startup info: %w", err)
	}

	// The broker binds "localhost:PYZO" (trying 256 ports); a free port
	// does as well and cannot clash with a running Pyzo.
	conn, err := ide.Bind("localhost:0", 1, "kernel")
	if err != nil {
		return fmt.Errorf("bind a port for the kernel: %w", err)
	}
	host, port := conn.LocalAddr()
	fmt.Fprintf(w, "ide: bound %s:%d for the kernel\n", host, port)

	k, err := startKernel(cfg.python, pyzoDir, port)
	if err != nil {
		return err
	}
	defer k.kill() // a no-op after a clean shutdown
	if cfg.started != nil {
		cfg.started(k.process())
	}
	fmt.Fprintf(w, "ide: started %s pyzokernel/start.py %d (pid %d) in %s\n", cfg.python, port, k.pid(), pyzoDir)

	// kctx ends when ctx does or when the kernel process exits (its
	// cause then wraps errKernelExited): every wait on the kernel gives
	// up then.
	kctx, kcancel := context.WithCancelCause(ctx)
	defer kcancel(nil)
	go func() {
		select {
		case <-k.exited:
			kcancel(fmt.Errorf("%w (%v)", errKernelExited, k.exitErr()))
		case <-kctx.Done():
		}
	}()
	// fail reports a failed step with what the kernel said: a kernel
	// that fails while it starts writes its traceback on strm-err (it
	// has replaced sys.stderr by then), or on its own stderr.
	fail := func(what string, err error) error {
		if cause := context.Cause(kctx); errors.Is(cause, errKernelExited) && !errors.Is(err, errKernelExited) {
			err = cause // rather than "context canceled"
		}
		said := ""
		for _, s := range []struct {
			label string
			sub   *channels.SubChannel[string]
		}{{"strm-out", ch.stdout}, {"strm-err", ch.stderr}} {
			if text := strings.TrimSpace(drain(s.sub)); text != "" {
				said += fmt.Sprintf("\non %s:\n%s", s.label, text)
			}
		}
		select {
		case <-k.exited:
			said += "\non its own stdout and stderr:\n" + k.rawOutput()
		default:
		}
		return fmt.Errorf("%s: %w%s", what, err, said)
	}

	select {
	case <-conn.Established():
	case <-kctx.Done():
		return fail("waiting for the kernel to connect", context.Cause(kctx))
	}
	fmt.Fprintf(w, "ide: kernel connected from pid %d\n", conn.PeerPID())

	// Ready: the kernel sends its first prompt as it enters its command
	// loop, then sets its status to Ready.
	p, early, err := waitFirstPrompt(kctx, ch)
	if err != nil {
		return fail("waiting for the first prompt", err)
	}
	select {
	case <-ready:
	case <-kctx.Done():
		return fail("waiting for the status Ready", context.Cause(kctx))
	}
	fmt.Fprintf(w, "ide: kernel ready: %s, prompt %q, status Ready\n", describeKernel(ch.startup), cleanPrompt(p))
	printLines(w, "out", drain(ch.stdout)) // the banner
	printLines(w, "err", early+drain(ch.stderr))

	steps := []step{
		{source: answerLine},
		{source: squaresBlock, file: squaresFile},
		{source: raisingLine},
	}
	if strings.TrimSpace(cfg.code) != "" {
		steps = append(steps, step{source: cfg.code, file: extraFile})
	}
	for _, s := range steps {
		if err := runStep(kctx, w, ch, s); err != nil {
			return fail("run code", err)
		}
	}

	// The introspection replier answers on a thread of its own, as it
	// does for the IDE's calltips and autocompletion.
	sig, err := channels.Call[string](kctx, ch.introspect, "signature", "divide")
	if err != nil {
		return fail("reqp-introspect signature", err)
	}
	fmt.Fprintf(w, "ide: reqp-introspect signature('divide') = %s\n", wire.Repr(sig))
	total, err := channels.Call[any](kctx, ch.introspect, "eval", "total")
	if err != nil {
		return fail("reqp-introspect eval", err)
	}
	fmt.Fprintf(w, "ide: reqp-introspect eval('total') = %s\n", wire.Repr(total))

	return shutdown(ctx, w, ch, conn, k, cfg.stopWait)
}

// runStep sends s to the kernel, waits until the kernel has run it, and
// prints what the kernel echoed and wrote to stdout and to stderr.
func runStep(ctx context.Context, w io.Writer, ch *kernelChannels, s step) error {
	if s.file == "" {
		fmt.Fprintf(w, "ide: ctrl-command <- %s\n", s.source)
		if err := ch.command.Send(ctx, s.source); err != nil {
			return fmt.Errorf("send on ctrl-command: %w", err)
		}
	} else {
		fmt.Fprintf(w, "ide: ctrl-code <- %d line(s) as %s\n", strings.Count(strings.TrimRight(s.source, "\n"), "\n")+1, s.file)
		if err := ch.code.Send(ctx, codeMessage(s.source, s.file)); err != nil {
			return fmt.Errorf("send on ctrl-code: %w", err)
		}
	}
	// One prompt per command handled; the kernel sent everything the
	// code printed before it, on the same connection, so it is queued.
	if _, err := ch.prompt.Recv(ctx); err != nil {
		return fmt.Errorf("waiting for the next prompt: %w", err)
	}
	printLines(w, "echo", drain(ch.echo))
	printLines(w, "out", drain(ch.stdout))
	printLines(w, "err", drain(ch.stderr))
	return nil
}

// waitFirstPrompt waits for the kernel's first prompt and returns it,
// with what the kernel wrote on strm-err meanwhile. A kernel whose
// start.py raises (an import that fails, say) has replaced sys.stderr by
// then, so its traceback arrives on strm-err, and it never prompts: its
// yoton threads keep the process alive. waitFirstPrompt fails at once
// then, with an error wrapping errKernelStart that holds the traceback.
func waitFirstPrompt(ctx context.Context, ch *kernelChannels) (prompt, stderr string, err error) {
	// arrived holds a wake-up when strm-prompt or strm-err got messages;
	// the handlers run on the loop and never block.
	arrived := make(chan struct{}, 1)
	wake := func(*channels.SubChannel[string]) {
		select {
		case arrived <- struct{}{}:
		default:
		}
	}
	promptID := ch.prompt.Received.Bind(wake)
	defer ch.prompt.Received.Unbind(promptID)
	stderrID := ch.stderr.Received.Bind(wake)
	defer ch.stderr.Received.Unbind(stderrID)

	var (
		early strings.Builder
		grace <-chan time.Time // runs from the start of a traceback
	)
	for {
		// Read after binding: what came before is queued, what comes
		// after wakes us up.
		if p, err := ch.prompt.TryRecv(); err == nil {
			return p, early.String(), nil
		}
		early.WriteString(drain(ch.stderr))
		if text := early.String(); strings.Contains(text, "Traceback (most recent call last)") {
			// The kernel writes a traceback in pieces: report it once
			// its exception line is in, or after a grace period.
			if grace == nil {
				grace = time.After(time.Second)
			}
			if exceptionLine.MatchString(text) {
				return "", "", fmt.Errorf("%w: its start.py raised:\n%s", errKernelStart, strings.TrimSpace(text))
			}
		}
		select {
		case <-arrived:
		case <-grace:
			return "", "", fmt.Errorf("%w: its start.py raised:\n%s", errKernelStart, strings.TrimSpace(early.String()))
		case <-ctx.Done():
			err := context.Cause(ctx)
			if text := strings.TrimSpace(early.String()); text != "" {
				err = fmt.Errorf("%w\non strm-err:\n%s", err, text)
			}
			return "", "", err
		}
	}
}

// exceptionLine matches text whose last line is a traceback's last, the
// exception ("ModuleNotFoundError: No module named 'distutils'"), and
// not its header or the lines that chain two tracebacks.
var exceptionLine = regexp.MustCompile(`(?m)^[A-Za-z_][\w.]*(: .*)?\n\z`)

// shutdown stops the kernel as Pyzo's broker does (KernelTerminator):
// reqp-introspect's terminate closes the kernel's stdin channel, so its
// command loop ends and it closes its context and exits. A kernel that
// has not exited after stopWait is killed, and that is an error.
func shutdown(ctx context.Context, w io.Writer, ch *kernelChannels, conn *reactor.Connection, k *kernelProcess, stopWait time.Duration) error {
	fmt.Fprintln(w, "ide: reqp-introspect terminate()")
	// Its reply (None) may not make it out before the kernel closes its
	// context: the process's exit is what counts.
	if _, err := ch.introspect.Call("terminate", nil, nil); err != nil {
		return fmt.Errorf("reqp-introspect terminate: %w", err)
	}
	deadline := time.NewTimer(stopWait)
	defer deadline.Stop()
	select {
	case <-k.exited:
	case <-deadline.C:
		k.kill()
		return fmt.Errorf("the kernel did not exit within %v of terminate(): killed it", stopWait)
	case <-ctx.Done():
		k.kill()
		return fmt.Errorf("waiting for the kernel to exit: %w (killed it)", context.Cause(ctx))
	}
	if err := k.exitErr(); err != nil {
		return fmt.Errorf("the kernel exited with %w; its own output:\n%s", err, k.rawOutput())
	}
	// The kernel closed its context, so the connection has closed or is
	// closing: wait for it (bounded) to report why.
	select {
	case <-conn.Done():
		fmt.Fprintf(w, "ide: connection to the kernel closed: %s\n", conn.CloseReason())
	case <-time.After(stopWait):
		return errors.New("the kernel exited but its connection did not close")
	}
	fmt.Fprintln(w, "ide: kernel exited with status 0")
	// What the broker would have forwarded on strm-raw.
	printLines(w, "raw", k.raw.String())
	return nil
}

// codeMessage is the message the IDE's executeCode sends on ctrl-code
// (pyzo/core/shell.py): the source, the file it comes from and the line
// it starts at (0: the first), which the kernel uses for its echo and in
// tracebacks.
func codeMessage(source, file string) *wire.Dict {
	return wire.MustDictOf(
		"source", strings.TrimRight(source, "\n"),
		"fname", file,
		"lineno", 0,
		"cellName", "",
		"changeDir", 0,
	)
}

// describeKernel summarises the startup info the kernel sent back: it
// adds its Python version to what the IDE sent.
func describeKernel(startup *channels.StateChannel[any]) string {
	info, _ := startup.Recv()
	d, ok := info.(*wire.Dict)
	if !ok {
		return "no startup info"
	}
	desc := "Python"
	if v, ok := d.Get("version"); ok {
		if t, ok := v.(wire.Tuple); ok && len(t) >= 3 {
			desc = fmt.Sprintf("Python %v.%v.%v", t[0], t[1], t[2])
		}
	}
	if g, ok := d.Get("gui"); ok {
		desc += fmt.Sprintf(", gui %v", g)
	}
	return desc
}

// drain returns every message queued on sub, joined: the kernel's file
// wrappers send each write as a message, so lines may span several.
func drain(sub *channels.SubChannel[string]) string {
	msgs, _ := sub.RecvAll()
	return strings.Join(msgs, "")
}

// ansiEscape matches the colour codes the kernel puts in prompts and
// echoes.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// cleanPrompt returns a prompt without its colours and white space.
func cleanPrompt(p string) string { return strings.TrimSpace(ansiEscape.ReplaceAllString(p, "")) }

// printLines prints text line by line, each after a label ("out",
// "err", ...), without colour codes. It prints nothing for empty text.
func printLines(w io.Writer, label, text string) {
	text = strings.TrimRight(ansiEscape.ReplaceAllString(text, ""), "\n")
	if text == "" {
		return
	}
	for _, line := range strings.Split(text, "\n") {
		fmt.Fprintf(w, "  %-4s | %s\n", label, line)
	}
}
