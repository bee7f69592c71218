package pypeer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// ErrExited is returned by reads once the peer's stdout has ended.
var ErrExited = errors.New("pypeer: python process output ended")

// RemoteError is an {"error": ...} reply from a peer script.
type RemoteError struct {
	Message string // the script's error text, often "<Type>: <message>"
}

// Error returns the script's error text with a prefix naming the peer.
func (e *RemoteError) Error() string { return "pypeer: python peer: " + e.Message }

// PythonPath returns the directory to put on PYTHONPATH so that Python can
// import yoton: $YOTON_PYTHONPATH when set, else
// ${YOTON_PYZO_DIR:-$HOME/.cache/goyoton/pyzo}/usr/share/pyzo/pyzo, the
// place scripts/fetch-pyzo.sh unpacks it to. It fails when that directory
// holds no yoton/__init__.py.
func PythonPath() (string, error) {
	dir := os.Getenv("YOTON_PYTHONPATH")
	if dir == "" {
		base := os.Getenv("YOTON_PYZO_DIR")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("pypeer: no YOTON_PYTHONPATH, YOTON_PYZO_DIR or home directory: %w", err)
			}
			base = filepath.Join(home, ".cache", "goyoton", "pyzo")
		}
		dir = filepath.Join(base, "usr", "share", "pyzo", "pyzo")
	}
	if _, err := os.Stat(filepath.Join(dir, "yoton", "__init__.py")); err != nil {
		return "", fmt.Errorf("pypeer: yoton not found in %s: %w", dir, err)
	}
	return dir, nil
}

// Peer is an installed Python yoton that tests can start processes with.
type Peer struct {
	python     string // absolute path of python3
	pythonPath string
	scriptDir  string
}

var (
	findOnce sync.Once
	found    *Peer
	findErr  error
)

func find() (*Peer, error) {
	findOnce.Do(func() {
		pp, err := PythonPath()
		if err != nil {
			findErr = err
			return
		}
		py, err := exec.LookPath("python3")
		if err != nil {
			findErr = fmt.Errorf("pypeer: %w", err)
			return
		}
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			findErr = errors.New("pypeer: cannot locate the scripts directory")
			return
		}
		cmd := exec.Command(py, "-c", "import yoton")
		cmd.Env = append(os.Environ(), "PYTHONPATH="+pp)
		if out, err := cmd.CombinedOutput(); err != nil {
			findErr = fmt.Errorf("pypeer: python3 cannot import yoton from %s: %v\n%s", pp, err, out)
			return
		}
		found = &Peer{python: py, pythonPath: pp, scriptDir: filepath.Join(filepath.Dir(file), "scripts")}
	})
	return found, findErr
}

// Require returns the Python peer, or ends the test when it is missing:
// with t.Fatalf when the environment variable CI is "true" (the CI job
// must run scripts/fetch-pyzo.sh first), else with t.Skipf. The lookup
// runs once per test binary. Safe for concurrent use.
func Require(t testing.TB) *Peer {
	t.Helper()
	p, err := find()
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("Python yoton peer missing on CI (%v): the CI script must run scripts/fetch-pyzo.sh before go test", err)
	}
	t.Skipf("Python yoton not found: run scripts/fetch-pyzo.sh (or set YOTON_PYTHONPATH) to enable interop tests (%v)", err)
	return nil
}

// PythonPath returns the PYTHONPATH the peer's processes run with.
func (p *Peer) PythonPath() string { return p.pythonPath }

// Start runs python3 -u internal/pypeer/scripts/<script> args... with
// PYTHONPATH set; script is "peer.py", the one peer script (see also
// [Peer.StartModule]). The process is killed (if still running) and
// reaped in t.Cleanup; when the test failed, its stderr is logged then.
// Safe for concurrent use.
func (p *Peer) Start(t testing.TB, script string, args ...string) *Process {
	t.Helper()
	return p.start(t, script, script, args)
}

// StartModule runs peer.py --module module args...: peer.py with the
// command module scripts/peer_<module>.py loaded ("flow", "clientserver",
// "examples"). Without args that is the command loop with the module's
// commands added; args naming one of the module's roles (e.g. "chat
// --connect ADDR" of module "examples") run that role instead. As Start
// otherwise.
func (p *Peer) StartModule(t testing.TB, module string, args ...string) *Process {
	t.Helper()
	return p.start(t, "peer.py --module "+module, "peer.py", append([]string{"--module", module}, args...))
}

// start is Start; name stands for the process in messages.
func (p *Peer) start(t testing.TB, name, script string, args []string) *Process {
	t.Helper()
	path := filepath.Join(p.scriptDir, script)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("pypeer: %v", err)
	}
	cmd := exec.Command(p.python, append([]string{"-u", path}, args...)...)
	// No __pycache__ next to the command modules in the source tree.
	cmd.Env = append(os.Environ(), "PYTHONPATH="+p.pythonPath, "PYTHONIOENCODING=utf-8", "PYTHONDONTWRITEBYTECODE=1")
	proc := &Process{
		t:          t,
		name:       name,
		cmd:        cmd,
		lines:      make(chan string),
		stop:       make(chan struct{}),
		readerDone: make(chan struct{}),
		exited:     make(chan struct{}),
	}
	cmd.Stderr = &proc.stderr

	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("pypeer: stdin pipe: %v", err)
	}
	// Our own pipe (not StdoutPipe) so that cmd.Wait never races the reader.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("pypeer: stdout pipe: %v", err)
	}
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		_ = pr.Close()
		_ = pw.Close()
		_ = stdin.Close()
		t.Fatalf("pypeer: start %s: %v", name, err)
	}
	_ = pw.Close() // the child holds its own copy
	proc.stdin = stdin

	go proc.readStdout(pr)
	go func() {
		proc.waitErr = cmd.Wait()
		close(proc.exited)
	}()
	t.Cleanup(proc.cleanup)
	return proc
}

// Process is a running peer script.
type Process struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd

	sendMu sync.Mutex
	stdin  io.WriteCloser

	lines      chan string   // stdout lines; closed when stdout ends
	stop       chan struct{} // closed by cleanup: the reader gives up sending
	readerDone chan struct{}
	stopOnce   sync.Once

	exited  chan struct{} // closed once cmd.Wait returned
	waitErr error         // set before exited is closed

	stderr lockedBuffer
}

func (p *Process) readStdout(r *os.File) {
	defer close(p.readerDone)
	defer close(p.lines)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		select {
		case p.lines <- sc.Text():
		case <-p.stop:
			// Nobody reads any more; drain so the child never blocks on a
			// full pipe, until it exits.
			_, _ = io.Copy(io.Discard, r)
			return
		}
	}
	if err := sc.Err(); err != nil {
		_, _ = io.Copy(io.Discard, r)
	}
}

func (p *Process) cleanup() {
	p.stopOnce.Do(func() { close(p.stop) })
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
	}
	<-p.exited
	<-p.readerDone
	if p.t.Failed() {
		p.t.Logf("pypeer: %s (pid %d) stderr:\n%s", p.name, p.Pid(), p.Stderr())
	}
}

// Pid returns the process id. Safe for concurrent use.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stderr returns what the process wrote to stderr so far (yoton's own
// messages end up there). Complete once Wait returned. Safe for
// concurrent use.
func (p *Process) Stderr() string { return p.stderr.String() }

// Send writes cmd as one JSON line to the process's stdin. Safe for
// concurrent use.
func (p *Process) Send(cmd any) error {
	b, err := json.Marshal(cmd)
	if err != nil {
		return fmt.Errorf("pypeer: encode command: %w", err)
	}
	b = append(b, '\n')
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	if _, err := p.stdin.Write(b); err != nil {
		return fmt.Errorf("pypeer: write to %s: %w", p.name, err)
	}
	return nil
}

// CloseStdin closes the process's stdin; peer.py (its command loop and
// the roles that read stdin) exits on end of input.
// Safe for concurrent use.
func (p *Process) CloseStdin() error {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	return p.stdin.Close()
}

// ReadLine returns the next stdout line, without its newline. It fails
// with ctx's error when ctx ends first, and with an error wrapping
// ErrExited when the output ended. One reader at a time.
func (p *Process) ReadLine(ctx context.Context) (string, error) {
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", fmt.Errorf("%w (%s): stderr:\n%s", ErrExited, p.name, p.tail())
		}
		return line, nil
	case <-ctx.Done():
		return "", fmt.Errorf("pypeer: waiting for a line from %s: %w", p.name, ctx.Err())
	}
}

// ReadJSON reads the next stdout line and decodes it into v. One reader
// at a time.
func (p *Process) ReadJSON(ctx context.Context, v any) error {
	line, err := p.ReadLine(ctx)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(line), v); err != nil {
		return fmt.Errorf("pypeer: decode %q: %w", line, err)
	}
	return nil
}

// Call sends cmd and decodes the reply line into reply (which may be nil).
// A reply carrying an "error" field is returned as a *RemoteError. One
// caller at a time (replies are matched to commands by order).
func (p *Process) Call(ctx context.Context, cmd any, reply any) error {
	if err := p.Send(cmd); err != nil {
		return err
	}
	line, err := p.ReadLine(ctx)
	if err != nil {
		return err
	}
	var status struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal([]byte(line), &status); err != nil {
		return fmt.Errorf("pypeer: decode reply %q: %w", line, err)
	}
	if status.Error != nil {
		return &RemoteError{Message: *status.Error}
	}
	if reply == nil {
		return nil
	}
	if err := json.Unmarshal([]byte(line), reply); err != nil {
		return fmt.Errorf("pypeer: decode reply %q: %w", line, err)
	}
	return nil
}

// Kill sends SIGKILL to the process. Killing a process that already
// exited is not an error. Safe for concurrent use.
func (p *Process) Kill() error {
	err := p.cmd.Process.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// Wait waits for the process to exit and returns its exit error (nil for
// status 0; an *exec.ExitError otherwise), or ctx's error when ctx ends
// first. Safe for concurrent use.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.exited:
		return p.waitErr
	case <-ctx.Done():
		return fmt.Errorf("pypeer: waiting for %s to exit: %w", p.name, ctx.Err())
	}
}

// tail is the end of stderr, for error messages.
func (p *Process) tail() string {
	s := p.Stderr()
	const limit = 4000
	if len(s) > limit {
		s = "..." + s[len(s)-limit:]
	}
	return strings.TrimRight(s, "\n")
}

// lockedBuffer is a bytes.Buffer safe for one writer and many readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
