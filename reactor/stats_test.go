package reactor

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStats: packages and bytes are counted both ways on the connections
// and summed on the contexts; the stats encode as JSON (for expvar).
func TestStats(t *testing.T) {
	r := newReactor(t)
	x, y := newContext(t, r), newContext(t, r)
	rx := newRecorder(t, y, testSlot)
	bound, connected := connectPair(t, x, y)
	before := bound.Stats()
	for range 5 {
		send(t, x, "0123456789")
	}
	rx.waitN(t, 5)
	out, in := bound.Stats(), connected.Stats()
	assert.Equal(t, uint64(5), out.PackagesOut-before.PackagesOut)
	assert.Equal(t, uint64(5*(56+10)), out.BytesOut-before.BytesOut, "56-byte headers and 10-byte payloads")
	assert.GreaterOrEqual(t, in.PackagesIn, uint64(5))
	assert.GreaterOrEqual(t, in.BytesIn, uint64(5*(56+10)))
	assert.Zero(t, out.Queued)

	xs, ys := x.Stats(), y.Stats()
	assert.Equal(t, 1, xs.Connections)
	assert.GreaterOrEqual(t, xs.PackagesOut, out.PackagesOut)
	assert.GreaterOrEqual(t, ys.PackagesIn, uint64(5))
	assert.Positive(t, ys.Sources, "y heard from x")
	b, err := json.Marshal(xs)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"packages_out":`)
}

// TestWithSlog: WithSlog sends the verbose lines to a slog.Logger.
func TestWithSlog(t *testing.T) {
	var buf syncWriter
	r := newReactor(t, WithSlog(slog.New(slog.NewTextHandler(&buf, nil))))
	x := newContext(t, r)
	bindLocal(t, x)
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), "Yoton: waiting at") }, waitTimeout, time.Millisecond)
	assert.Contains(t, buf.String(), "component=yoton")
}

// syncWriter is a bytes.Buffer safe for concurrent writes and reads.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
