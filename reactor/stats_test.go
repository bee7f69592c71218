package reactor

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
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

// TestWithSlogFields: WithSlog sends the verbose lines as records whose
// attributes say what they are about, at the level their cause calls
// for.
func TestWithSlogFields(t *testing.T) {
	rec := newRecordHandler()
	r := newReactor(t, WithSlog(slog.New(rec)))
	x, y := newContext(t, r), newContext(t, r)
	bound, connected := connectPair(t, x, y)
	connected.SetName("to x")

	waiting := rec.wait(t, "Yoton: waiting at")
	assert.Equal(t, slog.LevelInfo, waiting.level)
	assert.Equal(t, "yoton", waiting.attrs["component"])
	assert.Equal(t, fmt.Sprintf("%016x", x.ID()), waiting.attrs["context"])
	host, port := bound.LocalAddr()
	assert.Equal(t, net.JoinHostPort(host, strconv.Itoa(port)), waiting.attrs["listen"])

	// The peer closes: y's connection closes by command (Info, no kind),
	// x's because the peer closed it (Info, kind peer-closed).
	connected.Close("")
	mine := rec.wait(t, "Yoton: connected connection closed: "+ReasonDefault)
	assert.Equal(t, slog.LevelInfo, mine.level)
	assert.Equal(t, "to x", mine.attrs["conn"])
	assert.Equal(t, fmt.Sprintf("%016x", y.ID()), mine.attrs["context"])
	assert.Equal(t, ReasonDefault, mine.attrs["reason"])
	assert.NotContains(t, mine.attrs, "kind")
	theirs := rec.wait(t, "Yoton: hosting connection closed: "+ReasonClosedFromThere)
	assert.Equal(t, "peer-closed", theirs.attrs["kind"])
	assert.Equal(t, fmt.Sprintf("%016x", x.ID()), theirs.attrs["context"])
	assert.NotEmpty(t, theirs.attrs["peer"])
	require.ErrorIs(t, bound.Err(), ErrPeerClosed)

	// A foreign handshake at a Listen port: a Warn record naming the
	// remote address, and one handshake failure in the context's stats.
	l, err := x.Listen("127.0.0.1:0")
	require.NoError(t, err)
	lh, lp := l.Addr()
	raw := dialRaw(t, net.JoinHostPort(lh, strconv.Itoa(lp)), false)
	raw.write([]byte("GET / HTTP/1.0\r\n\r\n"))
	refused := rec.wait(t, "handshake with")
	assert.Equal(t, slog.LevelWarn, refused.level)
	assert.Equal(t, raw.nc.LocalAddr().String(), refused.attrs["remote"])
	assert.NotEmpty(t, refused.attrs["err"])
	assert.Equal(t, uint64(1), x.Stats().HandshakeFailures)
	assert.Zero(t, y.Stats().HandshakeFailures)
}

// record is one slog record, its attributes flattened to strings.
type record struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// recordHandler is a slog.Handler that hands every record to the test.
type recordHandler struct {
	attrs []slog.Attr
	out   chan record
}

func newRecordHandler() *recordHandler { return &recordHandler{out: make(chan record, 256)} }

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	rec := record{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	select {
	case h.out <- rec:
	default: // the test stopped reading
	}
	return nil
}

func (h *recordHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recordHandler{attrs: append(slices.Clip(h.attrs), attrs...), out: h.out}
}

func (h *recordHandler) WithGroup(string) slog.Handler { return h }

// wait returns the first record whose message contains text, skipping
// the others.
func (h *recordHandler) wait(t testing.TB, text string) record {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case r := <-h.out:
			if strings.Contains(r.msg, text) {
				return r
			}
		case <-timer.C:
			t.Fatalf("no log record containing %q", text)
		}
	}
}
