package testkit_test

import (
	"context"
	"errors"
	"go/parser"
	"go/token"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goyoton/yoton/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestContextEndsWithTheTest(t *testing.T) {
	var ctx context.Context
	t.Run("test", func(t *testing.T) {
		ctx = testkit.Context(t)
		if err := ctx.Err(); err != nil {
			t.Fatalf("new context: %v", err)
		}
		dl, ok := ctx.Deadline()
		if !ok || time.Until(dl) > testkit.Timeout || time.Until(dl) < testkit.Timeout-time.Minute {
			t.Errorf("deadline in %v, want about %v", time.Until(dl), testkit.Timeout)
		}
	})
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("after the test: %v, want Canceled", ctx.Err())
	}
}

func TestContextInCleanup(t *testing.T) {
	var inCleanup context.Context
	var errInCleanup error
	t.Run("test", func(t *testing.T) {
		t.Cleanup(func() {
			inCleanup = testkit.Context(t)
			errInCleanup = inCleanup.Err()
		})
	})
	if errInCleanup != nil {
		t.Errorf("context made in a Cleanup function: %v, want a live one", errInCleanup)
	}
	// Its own cleanup, registered from the cleanup, has run since.
	if !errors.Is(inCleanup.Err(), context.Canceled) {
		t.Errorf("after the test: %v, want Canceled", inCleanup.Err())
	}
}

func TestContextTimeout(t *testing.T) {
	ctx := testkit.ContextTimeout(t, time.Millisecond)
	select {
	case <-ctx.Done():
	case <-time.After(testkit.Timeout):
		t.Fatal("a 1ms context did not end")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", ctx.Err())
	}
}

func TestWaitAndSend(t *testing.T) {
	ch := make(chan int, 1)
	testkit.Send(t, testkit.Context(t), ch, 7)
	if got := testkit.Wait(t, ch, "seven"); got != 7 {
		t.Errorf("Wait = %d, want 7", got)
	}
	close(ch)
	if got := testkit.Wait(t, ch, "the close"); got != 0 {
		t.Errorf("Wait on a closed channel = %d, want 0", got)
	}
}

// loop is a Doer that runs functions on a goroutine of its own.
type loop struct{ fns chan func() }

func (l loop) Do(ctx context.Context, fn func()) error {
	done := make(chan struct{})
	select {
	case l.fns <- func() { fn(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestDoAndBarrier(t *testing.T) {
	l := loop{fns: make(chan func())}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for fn := range l.fns {
			fn()
		}
	}()
	defer func() { close(l.fns); <-stopped }()
	ran := false
	testkit.Do(t, l, func() { ran = true })
	testkit.Barrier(t, l)
	if !ran {
		t.Error("Do returned before fn ran")
	}
}

func TestFreePorts(t *testing.T) {
	addr := testkit.FreePorts(t, 3)
	host, p, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("FreePorts = %q (%v)", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port+k)))
		if err != nil {
			t.Logf("port %d taken since (a race with another process, not a failure): %v", port+k, err)
			continue
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOnlyTestsImportTheKit: no file of the module but a _test.go file
// (or the kit itself) imports internal/testkit or a package below it.
func TestOnlyTestsImportTheKit(t *testing.T) {
	const kit = "github.com/goyoton/yoton/internal/testkit"
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate this file")
	}
	kitDir := filepath.Dir(self)
	root := filepath.Dir(filepath.Dir(kitDir))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path == kitDir || name == "testdata" || name == "vendor" || (name != "." && strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir // another module: it cannot import internal packages of this one
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			t.Logf("skipping %s: %v", path, err) // being edited, perhaps
			return nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == kit || strings.HasPrefix(p, kit+"/") {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s imports %s: the test kit is for _test.go files only", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
