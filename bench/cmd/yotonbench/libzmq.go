package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/goyoton/yoton/bench/scripts"
)

// libzmqLinked is set by sys_libzmq.go, which only builds with -tags
// libzmq (cgo and libzmq's headers), so that `go vet ./...` and `go test
// ./...` work on a machine without libzmq.
var libzmqLinked bool

// haveLibzmq reports whether libzmq's development files are installed.
func haveLibzmq() bool {
	if _, err := exec.LookPath("pkg-config"); err == nil {
		return exec.Command("pkg-config", "--exists", "libzmq").Run() == nil
	}
	_, err := os.Stat("/usr/include/zmq.h")
	return err == nil
}

// installLibzmq runs scripts/install-deps.sh (embedded), which installs
// libzmq3-dev with apt-get.
func installLibzmq(stderr io.Writer) error {
	fmt.Fprintln(stderr, "yotonbench: libzmq is missing: installing libzmq3-dev with apt-get (bench/scripts/install-deps.sh)")
	cmd := exec.Command("bash", "-s")
	cmd.Stdin = bytes.NewReader(scripts.InstallDeps)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("install-deps.sh: %w", err)
	}
	if !haveLibzmq() {
		return errors.New("libzmq still not found after install-deps.sh")
	}
	return nil
}

// libzmqPeer returns an executable that runs the libzmq roles: this one
// when it was built with -tags libzmq, otherwise a copy of yotonbench
// built now with the tag into dir (installing libzmq3-dev first when it
// is missing). Building needs the bench module's source, which `go run`
// and `go test` have.
func libzmqPeer(self, dir string, stderr io.Writer) (string, error) {
	if libzmqLinked {
		return self, nil
	}
	if !haveLibzmq() {
		if err := installLibzmq(stderr); err != nil {
			return "", err
		}
	}
	src := sourceDir()
	if src == "" {
		return "", errors.New("no source to build the libzmq peer from: build yotonbench with -tags libzmq")
	}
	out := filepath.Join(dir, "yotonbench-libzmq")
	fmt.Fprintln(stderr, "yotonbench: building the libzmq peer (go build -tags libzmq ./cmd/yotonbench)")
	cmd := exec.Command("go", "build", "-tags", "libzmq", "-o", out, ".")
	cmd.Dir = src
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build -tags libzmq: %w", err)
	}
	return out, nil
}

// sourceDir is the directory of this package's source when it exists
// here, "" otherwise.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(filepath.Join(dir, "sys_libzmq.go")); err != nil {
		return ""
	}
	return dir
}

// libzmqVersion asks the libzmq peer for libzmq's version.
func libzmqVersion(exe string) string {
	cmd := exec.Command(exe, "-role", sysLibzmq+".version")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
