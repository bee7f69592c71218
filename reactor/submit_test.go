package reactor

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
)

// A burst larger than the context's queue, submitted while the loop is
// busy, reaches the peer whole: the loop writes a connection's queue out
// as it fills instead of discarding, and counts nothing as discarded.
func TestSubmitBurstLargerThanQueueIsNotDiscarded(t *testing.T) {
	const queueSize, total = 100, 300
	r := newReactor(t)
	from := newContext(t, r, WithQueue(queueSize, DiscardOld))
	to := newContext(t, r)
	connectPair(t, to, from)
	rx := newRecorder(t, to, testSlot)

	// Block the loop until the sender has waited SendWait once and then
	// queued past the context's queue size.
	release := make(chan struct{})
	blocked := make(chan struct{})
	require.NoError(t, r.Post(func() { close(blocked); <-release }))
	<-blocked
	sent := make(chan error, 1)
	go func() {
		for i := 0; i < total; i++ {
			if err := from.send(testkit.Context(t), testSlot, []byte(fmt.Sprint(i)), 0, 0); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	for {
		from.subMu.Lock()
		over := len(from.subQ) > queueSize
		from.subMu.Unlock()
		if over {
			break
		}
		runtime.Gosched()
	}
	close(release)
	require.NoError(t, testkit.Wait(t, sent, "the sender"))
	got := payloads(rx.waitN(t, total))
	for i, p := range got {
		require.Equal(t, fmt.Sprint(i), p)
	}
	require.Zero(t, from.Discarded())
}
