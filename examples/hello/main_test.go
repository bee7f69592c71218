package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
)

// TestMain checks that run leaves no goroutine behind. gnet starts a
// global goroutine pool when its package initialises; IgnoreCurrent
// leaves those out.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
		want []string // regular expressions that must match a line, besides the transcript
	}{
		{
			name: "defaults",
			cfg:  config{addr: "127.0.0.1:0"},
		},
		{
			name: "python",
			cfg:  config{addr: "127.0.0.1:0", python: true},
			want: []string{`^#   ct\.connect\("localhost:hello"\)$`},
		},
	}
	transcript := []string{
		`^host bound at 127\.0\.0\.1:\d+$`,
		`^client connected \(connected\)$`,
		`^text slot "hello\.txt\.pub-sub", object slot "hello\.obj\.pub-sub"$`,
		`^received text "hello"$`,
		`^received text "wörld"$`,
		`^received text "from Go"$`,
		`^received text "bye"$`,
		`^4 text messages arrived in [1-4] Received batch\(es\)$`,
		`^received object \('greeting', 42, \{'lang': 'en', \(1, 2\): \[3\.5, None, True\]\}\)$`,
		`^closed cleanly$`,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testkit.ContextTimeout(t, 10*time.Second)
			var out bytes.Buffer
			require.NoError(t, run(ctx, &out, tt.cfg))
			lines := bytes.Split(bytes.TrimRight(out.Bytes(), "\n"), []byte("\n"))
			requireInOrder(t, lines, transcript)
			for _, p := range tt.want {
				requireInOrder(t, lines, []string{p})
			}
		})
	}
}

// requireInOrder checks that every pattern matches a line, after the line
// the previous pattern matched (other lines may come between them).
func requireInOrder(t *testing.T, lines [][]byte, patterns []string) {
	t.Helper()
	i := 0
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		for i < len(lines) && !re.Match(lines[i]) {
			i++
		}
		require.Less(t, i, len(lines), "no line matches %s in:\n%s", p, bytes.Join(lines, []byte("\n")))
		i++
	}
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
	}{
		{name: "bad address", cfg: config{addr: "nocolon"}},
		{name: "bad port", cfg: config{addr: "127.0.0.1:99999"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testkit.ContextTimeout(t, 10*time.Second)
			var out bytes.Buffer
			require.Error(t, run(ctx, &out, tt.cfg))
			require.NotContains(t, out.String(), "closed cleanly")
		})
	}
}

func TestRunHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := run(ctx, &out, config{addr: "127.0.0.1:0"})
	// Connect gives up at once. (It reports the cause with %v, not %w,
	// so errors.Is(err, context.Canceled) is false; ErrConnect it is.)
	require.ErrorIs(t, err, reactor.ErrConnect)
	require.NotContains(t, out.String(), "closed cleanly")
}
