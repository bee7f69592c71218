package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goyoton/yoton/bench/python"
)

// errNoPython says how to get Python yoton.
var errNoPython = errors.New("python yoton not found: run scripts/fetch-pyzo.sh (or set YOTON_PYTHONPATH)")

// pythonPath returns the directory to put on PYTHONPATH so that Python can
// import yoton: flagDir when given, else $YOTON_PYTHONPATH, else
// ${YOTON_PYZO_DIR:-$HOME/.cache/goyoton/pyzo}/usr/share/pyzo/pyzo, where
// scripts/fetch-pyzo.sh unpacks it. (The same rule as the main module's
// internal/pypeer.PythonPath, which this module cannot import.)
func pythonPath(flagDir string) (string, error) {
	dir := flagDir
	if dir == "" {
		dir = os.Getenv("YOTON_PYTHONPATH")
	}
	if dir == "" {
		base := os.Getenv("YOTON_PYZO_DIR")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("%w: no YOTON_PYTHONPATH, YOTON_PYZO_DIR or home directory", errNoPython)
			}
			base = filepath.Join(home, ".cache", "goyoton", "pyzo")
		}
		dir = filepath.Join(base, "usr", "share", "pyzo", "pyzo")
	}
	if _, err := os.Stat(filepath.Join(dir, "yoton", "__init__.py")); err != nil {
		return "", fmt.Errorf("%w: no yoton in %s", errNoPython, dir)
	}
	return dir, nil
}

var pyzoVersion = regexp.MustCompile(`(?m)^__version__\s*=\s*"([^"]+)"`)

// pyEnv is a usable Python yoton.
type pyEnv struct {
	python    string // python3 executable
	path      string // PYTHONPATH
	version   string // "Python 3.11.7"
	yoton     string // "2.2 (pyzo 4.12.3)"
	scriptDir string // pubsub.py and reqrep.py, written by findPython
}

// findPython locates python3 and yoton and writes the scripts to a
// temporary directory (removed by close).
func findPython(pythonExe, flagDir string) (*pyEnv, error) {
	dir, err := pythonPath(flagDir)
	if err != nil {
		return nil, err
	}
	exe, err := exec.LookPath(pythonExe)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPython, err)
	}
	e := &pyEnv{python: exe, path: dir}
	out, err := e.command("-c", `import sys, yoton
print("Python %d.%d.%d" % sys.version_info[:3]); print(yoton.__version__)`).Output()
	if err != nil {
		return nil, fmt.Errorf("%w: import yoton from %s: %v", errNoPython, dir, err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) == 2 {
		e.version, e.yoton = f[0], f[1]
	}
	// yoton ships inside pyzo, whose __init__.py sits next to it; read
	// its version as text (importing pyzo would import Qt).
	if b, err := os.ReadFile(filepath.Join(dir, "__init__.py")); err == nil {
		if m := pyzoVersion.FindSubmatch(b); m != nil {
			e.yoton += " (pyzo " + string(m[1]) + ")"
		}
	}
	e.scriptDir, err = os.MkdirTemp("", "yotonbench-py")
	if err != nil {
		return nil, err
	}
	for name, body := range map[string][]byte{"pubsub.py": python.PubSub, "reqrep.py": python.ReqRep} {
		if err := os.WriteFile(filepath.Join(e.scriptDir, name), body, 0o644); err != nil {
			e.close()
			return nil, err
		}
	}
	return e, nil
}

func (e *pyEnv) close() {
	if e.scriptDir != "" {
		_ = os.RemoveAll(e.scriptDir)
	}
}

func (e *pyEnv) command(args ...string) *exec.Cmd {
	cmd := exec.Command(e.python, args...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+e.path, "PYTHONUNBUFFERED=1")
	return cmd
}

// roleCommand runs one role: pub and sub in pubsub.py, rep and req in
// reqrep.py. args are the flags the Go roles take.
func (e *pyEnv) roleCommand(role string, args []string) *exec.Cmd {
	script := "pubsub.py"
	if role == "rep" || role == "req" {
		script = "reqrep.py"
	}
	return e.command(append([]string{filepath.Join(e.scriptDir, script), role}, args...)...)
}
