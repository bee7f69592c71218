package interop

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

// lineLog is a reactor.Logger that keeps every line.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) Printf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *lineLog) yoton() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.lines {
		if strings.HasPrefix(s, "Yoton: ") {
			out = append(out, s)
		}
	}
	return out
}

var portRE = regexp.MustCompile(`:\d+\.$`)

// samePorts replaces the port at the end of each line by PORT.
func samePorts(lines []string) []string {
	out := make([]string, len(lines))
	for i, s := range lines {
		out[i] = portRE.ReplaceAllString(s, ":PORT.")
	}
	slices.Sort(out)
	return out
}

// TestVerboseLinesAsPython: a verbose Python context and a Go context
// with a logger print the same lines for the same events: waiting and
// hosting at, when binding and a peer joins; connected at, when
// connecting.
func TestVerboseLinesAsPython(t *testing.T) {
	ctx := testkit.Context(t)
	goLog := &lineLog{}
	x := reactorkit.NewContext(t, reactorkit.NewReactor(t, reactor.WithLogger(goLog)))
	p, _ := startPython(t, ctx, nil)
	p.call(map[string]any{"op": "context", "name": "v", "verbose": 1}, nil)

	// Python hosts, Go connects.
	var b bindReply
	p.call(map[string]any{"op": "bind", "ctx": "v", "conn": "host", "addr": "127.0.0.1:0"}, &b)
	if _, err := x.Connect(ctx, fmt.Sprintf("127.0.0.1:%d", b.Port), ""); err != nil {
		t.Fatal(err)
	}
	p.call(map[string]any{"op": "wait_connected", "ctx": "v", "conn": "host"}, nil)
	var pyHosting struct {
		Lines []string `json:"lines"`
	}
	p.call(map[string]any{"op": "wait_log", "contains": "hosting at"}, &pyHosting)
	goConnected := goLog.yoton()

	// Go hosts, Python connects.
	c, err := x.Bind("127.0.0.1:0", 1, "")
	if err != nil {
		t.Fatal(err)
	}
	_, port := c.LocalAddr()
	p.call(map[string]any{"op": "connect", "ctx": "v", "conn": "client", "addr": fmt.Sprintf("127.0.0.1:%d", port), "timeout": 5}, nil)
	select {
	case <-c.Established():
	case <-ctx.Done():
		t.Fatal("Python never joined the Go host")
	}
	var pyAll struct {
		Lines []string `json:"lines"`
	}
	p.call(map[string]any{"op": "wait_log", "contains": "connected at"}, &pyAll)
	goHosting := goLog.yoton()[len(goConnected):]

	pick := func(lines []string, word string) []string {
		var out []string
		for _, s := range lines {
			if strings.HasPrefix(s, "Yoton: ") && strings.Contains(s, word) {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return samePorts(out)
	}
	py, gov := pick(pyAll.Lines, " at "), samePorts(append(slices.Clone(goConnected), goHosting...))
	if !slices.Equal(py, gov) {
		t.Fatalf("Python printed %q, Go logged %q", py, gov)
	}
	want := []string{"Yoton: connected at 127.0.0.1:PORT.", "Yoton: hosting at 127.0.0.1:PORT.", "Yoton: waiting at 127.0.0.1:PORT."}
	if !slices.Equal(slices.Compact(py), want) {
		t.Fatalf("Python printed %q, want %q", py, want)
	}
}
