// Package exampletest holds what the tests of the example programs share:
// a transcript that a program prints to while a test waits for lines in
// it, and a wait for the lines a Python peer prints.
//
// Everything here is for tests; nothing starts a goroutine.
package exampletest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/pypeer"
)

// Transcript is an io.Writer that keeps what a program prints, line by
// line, and lets a test wait for a line. Safe for concurrent use.
//
// A test that runs the program on a goroutine should call End when it
// returns, so that waits do not outlast it (Go does that).
type Transcript struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	changed chan struct{} // closed (and replaced) when a line is added
	ended   bool          // End was called: no more lines will come
	endErr  error
}

// Write records p; every complete line becomes visible to Wait.
func (t *Transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.partial[:i]))
		t.partial = t.partial[i+1:]
		added = true
	}
	if added && t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
	return len(p), nil
}

// End marks the transcript as complete, with the error of the program
// that wrote it: waits for lines that are not there fail at once.
func (t *Transcript) End(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended, t.endErr = true, err
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
}

// Lines returns the complete lines written so far.
func (t *Transcript) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.lines...)
}

// String returns everything written so far.
func (t *Transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n") + "\n" + string(t.partial)
}

// Wait waits until a line matching the regular expression pattern has
// been written and returns its submatches (the whole line first). It
// fails when ctx ends first, or when the transcript ended without one.
func (t *Transcript) Wait(ctx context.Context, pattern string) ([]string, error) {
	re := regexp.MustCompile(pattern)
	seen := 0
	for {
		t.mu.Lock()
		for ; seen < len(t.lines); seen++ {
			if m := re.FindStringSubmatch(t.lines[seen]); m != nil {
				t.mu.Unlock()
				return m, nil
			}
		}
		if t.ended {
			err := t.endErr
			t.mu.Unlock()
			return nil, fmt.Errorf("no line matches %s; the program ended with error %v; transcript:\n%s", pattern, err, t)
		}
		if t.changed == nil {
			t.changed = make(chan struct{})
		}
		changed := t.changed
		t.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("no line matches %s: %w; transcript:\n%s", pattern, ctx.Err(), t)
		}
	}
}

// RequireWait is Wait that fails the test on error.
func (t *Transcript) RequireWait(tb testing.TB, ctx context.Context, pattern string) []string {
	tb.Helper()
	m, err := t.Wait(ctx, pattern)
	require.NoError(tb, err)
	return m
}

// RequireInOrder checks that every pattern matches a line, after the line
// the previous pattern matched (other lines may come between them).
func RequireInOrder(tb testing.TB, lines []string, patterns ...string) {
	tb.Helper()
	i := 0
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		require.Less(tb, i, len(lines), "no line matches %s (in order) in:\n%s", p, strings.Join(lines, "\n"))
		i++
	}
}

// Count returns how many lines match pattern.
func Count(lines []string, pattern string) int {
	re := regexp.MustCompile(pattern)
	n := 0
	for _, l := range lines {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// Go runs run(ctx, transcript) on a new goroutine and returns the
// transcript, which ends when run returns, and a wait for run's error.
// run must return once ctx ends.
func Go(ctx context.Context, run func(context.Context, io.Writer) error) (*Transcript, func() error) {
	out := &Transcript{}
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = run(ctx, out)
		out.End(err)
	}()
	return out, func() error {
		<-done
		return err
	}
}

// GoWithInput is Go for a program that also reads lines: run gets the
// returned channel as its input. stop closes the input (the end of
// stdin), cancels run's context (Ctrl-C) and returns run's error; it may
// be called more than once.
func GoWithInput(ctx context.Context, run func(ctx context.Context, in <-chan string, w io.Writer) error) (out *Transcript, in chan<- string, stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	input := make(chan string)
	out, wait := Go(ctx, func(ctx context.Context, w io.Writer) error { return run(ctx, input, w) })
	var once sync.Once
	return out, input, func() error {
		once.Do(func() {
			close(input)
			cancel()
		})
		return wait()
	}
}

// WaitPeerLine reads lines from a Python peer's stdout until one matches
// pattern, and returns its submatches and every line read (the matching
// one last). It fails the test when the output ends or ctx ends first.
func WaitPeerLine(tb testing.TB, ctx context.Context, p *pypeer.Process, pattern string) ([]string, []string) {
	tb.Helper()
	re := regexp.MustCompile(pattern)
	var read []string
	for {
		line, err := p.ReadLine(ctx)
		require.NoError(tb, err, "waiting for %s from the Python peer; it printed:\n%s", pattern, strings.Join(read, "\n"))
		read = append(read, line)
		if m := re.FindStringSubmatch(line); m != nil {
			return m, read
		}
	}
}

// RequireFind returns the submatches of the first line that matches
// pattern (the whole line first), failing the test when none does.
func RequireFind(tb testing.TB, lines []string, pattern string) []string {
	tb.Helper()
	re := regexp.MustCompile(pattern)
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			return m
		}
	}
	require.FailNow(tb, "no line matches "+pattern, strings.Join(lines, "\n"))
	return nil
}

// WaitPeerLines reads lines from a Python peer's stdout until each
// pattern has matched a line, in any order, and returns every line read.
// It fails the test when the output ends or ctx ends first.
func WaitPeerLines(tb testing.TB, ctx context.Context, p *pypeer.Process, patterns ...string) []string {
	tb.Helper()
	left := map[*regexp.Regexp]bool{}
	for _, pat := range patterns {
		left[regexp.MustCompile(pat)] = true
	}
	var read []string
	for len(left) > 0 {
		line, err := p.ReadLine(ctx)
		require.NoError(tb, err, "waiting for %q from the Python peer; it printed:\n%s", patterns, strings.Join(read, "\n"))
		read = append(read, line)
		for re := range left {
			if re.MatchString(line) {
				delete(left, re)
				break
			}
		}
	}
	return read
}

// Find returns the submatches of line for pattern, or nil.
func Find(line, pattern string) []string {
	return regexp.MustCompile(pattern).FindStringSubmatch(line)
}
