package interop

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// twoGoContexts returns a Go context and a second one connected to it
// through a Bind of the first, on one reactor.
func twoGoContexts(t *testing.T, ctx context.Context) (a, b *reactor.Context) {
	t.Helper()
	a = newGoContext(t)
	b, err := a.Reactor().NewContext()
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Bind("127.0.0.1:0", 1, "go")
	if err != nil {
		t.Fatal(err)
	}
	_, port := c.LocalAddr()
	if _, err := b.Connect(ctx, fmt.Sprintf("127.0.0.1:%d", port), ""); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// workReply checks that a reply of work(i) is ("go", i) or ("py", i) and
// says which.
func workReply(v any, i int) (string, error) {
	for _, who := range []string{"go", "py"} {
		if wire.Repr(v) == fmt.Sprintf("('%s', %d)", who, i) {
			return who, nil
		}
	}
	return "", fmt.Errorf("work(%d) returned %s", i, wire.Repr(v))
}

// TestFastPathPythonJoinsMidStream: Go calls stream from 32 callers to a
// Go replier with 4 workers, each call taking 5 ms of work (the
// Go fast path: requests sent straight within a grant). Meanwhile a
// Python context joins: first its replier, which must get a share of the
// Go calls (while the Go replier's window is full, calls go through
// yoton's exchange, which the free Python replier answers), then its
// requester, whose calls must all be answered. No call fails, none is
// answered wrongly.
func TestFastPathPythonJoinsMidStream(t *testing.T) {
	ctx := testkit.Context(t)
	a, b := twoGoContexts(t, ctx)
	rep, err := channels.NewRepChannel(b, "fast", channels.WithWorkers(4))
	if err != nil {
		t.Fatal(err)
	}
	shutdownWithTest(t, rep)
	if err := rep.Register("work", func(i int) wire.Tuple {
		time.Sleep(5 * time.Millisecond) // the work a call takes
		return wire.Tuple{"go", int64(i)}
	}); err != nil {
		t.Fatal(err)
	}
	if err := rep.SetMode(channels.RepWorkers); err != nil {
		t.Fatal(err)
	}
	req, err := channels.NewReqChannel(a, "fast")
	if err != nil {
		t.Fatal(err)
	}

	var (
		next, served, byPython atomic.Int64
		stop                   = make(chan struct{})
		wg                     sync.WaitGroup
		failMu                 sync.Mutex
		failure                error
	)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := int(next.Add(1))
				v, err := channels.Call[any](ctx, req, "work", i)
				who := ""
				if err == nil {
					who, err = workReply(v, i)
				}
				if err != nil {
					failMu.Lock()
					failure = fmt.Errorf("call %d: %w", i, err)
					failMu.Unlock()
					return
				}
				served.Add(1)
				if who == "py" {
					byPython.Add(1)
				}
			}
		}()
	}
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			failMu.Lock()
			err := failure
			failMu.Unlock()
			if err != nil {
				close(stop)
				wg.Wait()
				t.Fatalf("while waiting for %s: %v", what, err)
			}
			select {
			case <-ctx.Done():
				close(stop)
				wg.Wait()
				t.Fatalf("gave up waiting for %s (%d served, %d by Python)", what, served.Load(), byPython.Load())
			case <-poll.C:
			}
		}
	}
	waitFor("Go calls to flow", func() bool { return served.Load() >= 200 })
	if req.FastCalls() == 0 {
		t.Fatal("no call took the fast path")
	}

	// A Python replier joins mid-stream and gets a share.
	p, _ := startPython(t, ctx, nil)
	goHosts(t, a, p, "main", "py")
	p.call(map[string]any{"op": "rep", "slot": "fast", "mode": "thread"}, nil)
	before := served.Load()
	waitFor("the Python replier to serve Go calls", func() bool { return byPython.Load() >= 5 })

	// A Python requester joins mid-stream: every call is answered.
	calls := make([]map[string]any, 30)
	for i := range calls {
		calls[i] = map[string]any{"method": "work", "args": []any{1_000_000 + i}}
	}
	var many struct {
		Results []struct {
			Repr      string  `json:"repr"`
			Exception *string `json:"exception"`
		} `json:"results"`
	}
	p.call(map[string]any{"op": "req_many", "slot": "fast", "calls": calls, "timeout": 15}, &many)
	if len(many.Results) != len(calls) {
		t.Fatalf("Python got %d results for %d calls", len(many.Results), len(calls))
	}
	for i, res := range many.Results {
		if res.Exception != nil || (!strings.HasPrefix(res.Repr, "('go', ") && !strings.HasPrefix(res.Repr, "('py', ")) ||
			!strings.HasSuffix(res.Repr, fmt.Sprintf(" %d)", 1_000_000+i)) {
			t.Errorf("Python call %d: %+v", i, res)
		}
	}
	waitFor("Go calls to go on", func() bool { return served.Load() >= before+200 })
	close(stop)
	wg.Wait()
	if failure != nil {
		t.Fatal(failure)
	}
	t.Logf("%d Go calls served, %d of them by the Python replier, %d through the fast path",
		served.Load(), byPython.Load(), req.FastCalls())
}
