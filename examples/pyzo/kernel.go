package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

var (
	// errKernelExited is the cause of a kernel context that ended because
	// the kernel process exited.
	errKernelExited = errors.New("the kernel process exited")
	// errKernelStart reports a kernel that raised before its first
	// prompt (an unsupported Python, say).
	errKernelStart = errors.New("the kernel failed to start")
)

// defaultPyzoDir returns where scripts/fetch-pyzo.sh unpacks Debian's
// pyzo package, found as internal/pypeer finds it: $YOTON_PYTHONPATH when
// set, else ${YOTON_PYZO_DIR:-$HOME/.cache/goyoton/pyzo}/usr/share/pyzo/pyzo.
// It returns "" when neither variable is set and there is no home
// directory.
func defaultPyzoDir() string {
	if dir := os.Getenv("YOTON_PYTHONPATH"); dir != "" {
		return dir
	}
	base := os.Getenv("YOTON_PYZO_DIR")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache", "goyoton", "pyzo")
	}
	return filepath.Join(base, "usr", "share", "pyzo", "pyzo")
}

// checkPyzoDir checks that dir is Pyzo's package directory: the one
// holding the kernel (pyzokernel/start.py) and Python yoton
// (yoton/__init__.py). It returns dir as an absolute path.
func checkPyzoDir(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("no pyzo directory: give -pyzo, or set YOTON_PYZO_DIR or HOME")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("pyzo directory %s: %w", dir, err)
	}
	for _, f := range []string{filepath.Join("pyzokernel", "start.py"), filepath.Join("yoton", "__init__.py")} {
		if _, err := os.Stat(filepath.Join(abs, f)); err != nil {
			return "", fmt.Errorf("pyzo directory %s has no %s (run scripts/fetch-pyzo.sh, or give -pyzo): %w", abs, f, err)
		}
	}
	return abs, nil
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// kernelProcess is the Python process that runs Pyzo's kernel.
type kernelProcess struct {
	cmd *exec.Cmd
	// raw collects the process's own stdout and stderr: what it writes
	// before it has replaced sys.stdout and sys.stderr with yoton
	// channels, and C-level output. Pyzo's broker forwards it to the IDE
	// on strm-raw.
	raw     lockedBuffer
	exited  chan struct{} // closed once the process has been waited for
	waitErr error         // how it exited; set before exited is closed
}

// startKernel starts python pyzoDir/pyzokernel/start.py port the way
// Pyzo's kernel broker does (pyzo/core/kernelbroker.py, startKernel and
// getEnvFromKernelInfo): in pyzoDir, with pyzoDir first on PYTHONPATH (so
// that the kernel imports the yoton next to it) and TERM=dumb. The kernel
// connects to localhost:port at once and gives up after one second, so
// the port must already be bound. A goroutine waits for the process;
// stop (or kill) ends it.
func startKernel(python, pyzoDir string, port int) (*kernelProcess, error) {
	pythonPath := pyzoDir
	if pp := os.Getenv("PYTHONPATH"); pp != "" {
		pythonPath += string(os.PathListSeparator) + pp
	}
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		// Dropped as the broker drops them; replaced below.
		if strings.HasPrefix(kv, "PYTHONPATH=") || strings.HasPrefix(kv, "TERM=") ||
			strings.HasPrefix(kv, "TK_LIBRARY=") || strings.HasPrefix(kv, "TCL_LIBRARY=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PYTHONPATH="+pythonPath, "TERM=dumb")

	k := &kernelProcess{exited: make(chan struct{})}
	k.cmd = exec.Command(python, filepath.Join(pyzoDir, "pyzokernel", "start.py"), strconv.Itoa(port))
	k.cmd.Dir = pyzoDir
	k.cmd.Env = env
	k.cmd.Stdout = &k.raw // one writer for both: one copying goroutine
	k.cmd.Stderr = &k.raw
	if err := k.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the kernel with %s: %w", python, err)
	}
	go func() {
		k.waitErr = k.cmd.Wait()
		close(k.exited)
	}()
	return k, nil
}

// pid returns the kernel's process id.
func (k *kernelProcess) pid() int { return k.cmd.Process.Pid }

// process returns the kernel's os.Process (for a test's cleanup).
func (k *kernelProcess) process() *os.Process { return k.cmd.Process }

// kill kills the kernel if it still runs and waits until it has been
// reaped. Idempotent.
func (k *kernelProcess) kill() {
	select {
	case <-k.exited:
	default:
		_ = k.cmd.Process.Kill()
		<-k.exited
	}
}

// exitErr returns how the process exited (nil for status 0). Valid once
// exited is closed.
func (k *kernelProcess) exitErr() error { return k.waitErr }

// rawOutput returns what the process wrote to its own stdout and stderr,
// trimmed, or a note that it wrote nothing.
func (k *kernelProcess) rawOutput() string {
	s := strings.TrimSpace(k.raw.String())
	if s == "" {
		return "(nothing)"
	}
	return s
}
