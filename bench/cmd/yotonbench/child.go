package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// proc is a running child process and the runner's side of the line
// protocol: lines delivers its stdout lines (closed at EOF), send writes a
// line to its stdin, finish closes stdin and waits.
type proc struct {
	name  string
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines <-chan string
	errs  *tailBuffer // the last bytes of its stderr, for error messages
}

// start starts cmd. Its stderr is kept (the tail) and shown only when
// the run fails: Python yoton and the peers print diagnostics there.
func start(name string, cmd *exec.Cmd) (*proc, error) {
	p := &proc{name: name, cmd: cmd, errs: &tailBuffer{max: 4096}}
	cmd.Stderr = p.errs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if p.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ch := make(chan string, 64)
	go func() { // ends at EOF of the child's stdout
		defer close(ch)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 16<<20) // READY lines of the scale clients are long
		for sc.Scan() {
			ch <- strings.TrimSpace(sc.Text())
		}
	}()
	p.lines = ch
	return p, nil
}

// failed wraps err with the process name and the tail of its stderr.
func (p *proc) failed(err error) error {
	if tail := strings.TrimSpace(p.errs.String()); tail != "" {
		return fmt.Errorf("%s: %w; its stderr ends with:\n%s", p.name, err, tail)
	}
	return fmt.Errorf("%s: %w", p.name, err)
}

// expect waits for a line "word rest" and returns rest; other lines are
// ignored.
func (p *proc) expect(ctx context.Context, word string, d time.Duration) (string, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", p.failed(fmt.Errorf("exited before %s (%v)", word, p.cmd.Wait()))
			}
			if l == word {
				return "", nil
			}
			if rest, found := strings.CutPrefix(l, word+" "); found {
				return rest, nil
			}
		case <-t.C:
			return "", p.failed(fmt.Errorf("no %s within %v", word, d))
		case <-ctx.Done():
			return "", p.failed(ctx.Err())
		}
	}
}

func (p *proc) send(line string) error {
	_, err := io.WriteString(p.in, line+"\n")
	return err
}

// finish closes stdin, reads the rest of the output and waits for the
// process to exit, killing it after d.
func (p *proc) finish(d time.Duration) error {
	t := time.AfterFunc(d, func() { _ = p.cmd.Process.Kill() })
	defer t.Stop()
	_ = p.in.Close()
	for range p.lines {
	}
	if err := p.cmd.Wait(); err != nil {
		return p.failed(err)
	}
	return nil
}

// kill ends a child that has not been waited for (on error paths).
func (p *proc) kill() {
	if p.cmd.ProcessState == nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// cpu is the user+sys time of an exited child.
func (p *proc) cpu() time.Duration {
	if p.cmd.ProcessState == nil {
		return 0
	}
	return p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = t.b[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.ToValidUTF8(t.b, nil))
}

// errEarlyExit is returned when a child ends before saying what it must.
var errEarlyExit = errors.New("exited early")
