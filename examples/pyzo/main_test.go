package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/goyoton/yoton/examples/internal/exampletest"
	"github.com/goyoton/yoton/internal/pypeer"
)

// TestMain checks that run leaves no goroutine behind. gnet starts a
// global goroutine pool when its package initialises; IgnoreCurrent
// leaves those out.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// requirePyzo returns Pyzo's package directory, or ends the test when
// python3 or the unpacked pyzo package is missing: pypeer.Require skips
// (or fails on CI, where scripts/test.sh fetches them), and a yoton-only
// YOTON_PYTHONPATH without the kernel skips.
func requirePyzo(t *testing.T) string {
	t.Helper()
	dir := pypeer.Require(t).PythonPath()
	if _, err := os.Stat(filepath.Join(dir, "pyzokernel", "start.py")); err != nil {
		t.Skipf("Pyzo's kernel not found in %s (run scripts/fetch-pyzo.sh): %v", dir, err)
	}
	return dir
}

// killOnCleanup returns a config.started hook that kills the kernel in
// t.Cleanup, should run have left it running, and keeps the process for
// checks.
func killOnCleanup(t *testing.T, proc **os.Process) func(*os.Process) {
	return func(p *os.Process) {
		*proc = p
		t.Cleanup(func() { _ = p.Kill() })
	}
}

// requireReaped checks that run waited for the kernel process.
func requireReaped(t *testing.T, p *os.Process) {
	t.Helper()
	require.NotNil(t, p, "the kernel was never started")
	require.ErrorIs(t, p.Signal(syscall.Signal(0)), os.ErrProcessDone, "run returned with the kernel still running")
}

// TestKernelSession runs the example against Pyzo's real kernel and
// checks what the kernel printed, on which stream, and that it exited
// cleanly when asked to.
func TestKernelSession(t *testing.T) {
	dir := requirePyzo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		out    exampletest.Transcript
		kernel *os.Process
	)
	err := run(ctx, &out, config{
		python:   "python3",
		pyzoDir:  dir,
		code:     "words = ['extra', 6 * 7]\nprint(*words)",
		timeout:  50 * time.Second,
		stopWait: 10 * time.Second,
		started:  killOnCleanup(t, &kernel),
	})
	require.NoError(t, err, "transcript:\n%s", out.String())
	requireReaped(t, kernel)
	lines := out.Lines()
	exampletest.RequireInOrder(t, lines,
		`^ide: bound 127\.0\.0\.1:\d+ for the kernel$`,
		`^ide: started python3 pyzokernel/start\.py \d+ \(pid \d+\) in `,
		`^ide: kernel connected from pid \d+$`,
		`^ide: kernel ready: Python 3\.\d+\.\d+, gui none, prompt ">>>", status Ready$`,
		`^  out  \| This is the Pyzo interpreter\.$`,

		`^ide: ctrl-command <- print\(6\*7\)$`,
		`^  echo \| print\(6\*7\)$`,
		`^  out  \| 42$`,

		`^ide: ctrl-code <- 7 line\(s\) as <goyoton>$`,
		`^  echo \| \(executing lines 1 to 7 of "<goyoton>"\)$`,
		`^  out  \| i = 1 total = 1$`,
		`^  out  \| i = 4 total = 30$`,

		`^ide: ctrl-command <- divide\(42, 0\)$`,
		`^  echo \| divide\(42, 0\)$`,
		`^  err  \| Traceback \(most recent call last\):$`,
		`^  err  \|   File "<goyoton>", line 7, in divide$`,
		`^  err  \|     return a / b$`,
		`^  err  \| ZeroDivisionError: division by zero$`,

		`^ide: ctrl-code <- 2 line\(s\) as <-code>$`,
		`^  out  \| extra 42$`,

		`^ide: reqp-introspect signature\('divide'\) = 'divide\(a, b\)'$`,
		`^ide: reqp-introspect eval\('total'\) = 30$`,
		`^ide: reqp-introspect terminate\(\)$`,
		`^ide: connection to the kernel closed: `,
		`^ide: kernel exited with status 0$`,
	)
	// stdout and stderr stay apart.
	assert.Zero(t, exampletest.Count(lines, `^  err  \| .*42`), "stdout on stderr:\n%s", out.String())
	assert.Zero(t, exampletest.Count(lines, `^  out  \| .*(Traceback|Error)`), "a traceback on stdout:\n%s", out.String())
}

// TestKernelKilled makes the kernel ignore terminate() (its stdin is no
// longer the channel terminate closes): run kills it after stopWait and
// reports it.
func TestKernelKilled(t *testing.T) {
	dir := requirePyzo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		out    exampletest.Transcript
		kernel *os.Process
	)
	err := run(ctx, &out, config{
		python:   "python3",
		pyzoDir:  dir,
		code:     "import os, sys\nsys.stdin = open(os.devnull)",
		timeout:  50 * time.Second,
		stopWait: time.Second,
		started:  killOnCleanup(t, &kernel),
	})
	require.Error(t, err, "transcript:\n%s", out.String())
	assert.Contains(t, err.Error(), "did not exit within 1s")
	requireReaped(t, kernel)
}

// fakePyzoDir makes a pyzo directory whose pyzokernel/start.py is
// script (and whose yoton package is empty).
func fakePyzoDir(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "pyzokernel"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "yoton"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "yoton", "__init__.py"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pyzokernel", "start.py"), []byte(script), 0o644))
	return dir
}

// TestKernelRaisesAtStart stands in for a kernel whose start.py raises
// after it has connected and put sys.stderr on strm-err (as the real one
// does on a Python without distutils), and then lingers, as the real one
// does: run reports the traceback at once and kills the process.
func TestKernelRaisesAtStart(t *testing.T) {
	real := requirePyzo(t)
	dir := fakePyzoDir(t, `import sys, time
sys.path.insert(0, `+strconv.Quote(real)+`)
import yoton
ct = yoton.Context()
strm_err = yoton.PubChannel(ct, "strm-err")
ct.connect("localhost:" + sys.argv[1], timeout=1.0)
sys.stderr = yoton.FileWrapper(strm_err, 256, isatty=True)
try:
    import no_such_module_for_this_test
except ImportError:
    import traceback
    traceback.print_exc()
    time.sleep(60)
`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		out    exampletest.Transcript
		kernel *os.Process
	)
	err := run(ctx, &out, config{python: "python3", pyzoDir: dir, timeout: 25 * time.Second, stopWait: time.Second,
		started: killOnCleanup(t, &kernel)})
	require.ErrorIs(t, err, errKernelStart, "transcript:\n%s", out.String())
	assert.Contains(t, err.Error(), "Traceback (most recent call last)")
	assert.Contains(t, err.Error(), "ModuleNotFoundError: No module named 'no_such_module_for_this_test'")
	requireReaped(t, kernel)
}

// TestKernelDiesAtStart stands a shell script in for the kernel: it
// fails before connecting, and run reports that with what it printed.
// It needs neither Python nor Pyzo.
func TestKernelDiesAtStart(t *testing.T) {
	dir := fakePyzoDir(t, "echo 'ImportError: no kernel here' >&2\nexit 3\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		out    exampletest.Transcript
		kernel *os.Process
	)
	err := run(ctx, &out, config{python: "sh", pyzoDir: dir, timeout: 15 * time.Second, stopWait: time.Second,
		started: killOnCleanup(t, &kernel)})
	require.ErrorIs(t, err, errKernelExited)
	assert.Contains(t, err.Error(), "exit status 3")
	assert.Contains(t, err.Error(), "ImportError: no kernel here")
	requireReaped(t, kernel)
}

// TestMissingPyzoDir: a directory without the kernel is refused before
// anything starts, with a hint at scripts/fetch-pyzo.sh.
func TestMissingPyzoDir(t *testing.T) {
	var out exampletest.Transcript
	err := run(context.Background(), &out, config{python: "python3", pyzoDir: t.TempDir(), timeout: time.Second, stopWait: time.Second})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "scripts/fetch-pyzo.sh")
	assert.True(t, errors.Is(err, os.ErrNotExist), "%v", err)
	assert.Empty(t, out.Lines())
}
