package reactor

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
)

// largeTests reports whether the tests at full size run
// (YOTON_LARGE_TESTS=1): they publish gigabytes and take a minute, so the
// CI runs them scaled down (TestQueueByteBudget) and the closing notes of
// issue 9 report the full-size run.
func largeTests(t *testing.T) {
	if os.Getenv("YOTON_LARGE_TESTS") != "1" {
		t.Skip("set YOTON_LARGE_TESTS=1 to run the full-size test")
	}
}

// residentKiB reads a field of /proc/self/status (VmRSS, VmHWM), in KiB.
func residentKiB(t *testing.T, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if name, rest, ok := bytes.Cut(line, []byte(":")); ok && string(name) == field {
			kib, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			require.NoError(t, err)
			return kib
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// TestPublishOneGiBToStalledPeer (issue 9's target, full size): 1 GiB
// published in 1 MiB packages to a peer that never reads keeps the
// publisher's peak RSS under its queue byte budget plus 64 MiB (above
// what it used before), and once the peer reads, everything not counted
// as dropped arrives, in order.
//
// The queue holds at most the budget; the packages it drops are garbage
// that Go's collector frees at its own pace, by default once the heap has
// doubled (GOGC=100), which lets the peak reach about 1.6 times the
// budget. The test therefore sets a soft memory limit (as GOMEMLIMIT
// does) of the budget plus 48 MiB; without it the peak was 402 MiB above
// the start for a 256 MiB budget.
func TestPublishOneGiBToStalledPeer(t *testing.T) {
	largeTests(t)
	const (
		budget  = 256 << 20 // the default WithQueueBytes
		payload = 1 << 20
		n       = 1024
	)
	r := newReactor(t)
	x := newContext(t, r, WithQueueBytes(budget))
	_, p := rawPair(t, x, true)
	runtime.GC()
	base := residentKiB(t, "VmRSS")
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(base<<10 + budget + 48<<20))
	// Sent on the loop, 16 packages per turn: a user goroutine would wait
	// SendWait (1 s, yoton's) per package while the queue is congested.
	for i := 0; i < n; i += 16 {
		testkit.Do(t, r, func() {
			for j := i; j < i+16; j++ {
				data := make([]byte, payload)
				binary.LittleEndian.PutUint64(data, uint64(j))
				require.NoError(t, x.send(context.Background(), testSlot, data, 0, 0))
			}
		})
	}
	testkit.Barrier(t, r)
	peak := residentKiB(t, "VmHWM")
	t.Logf("RSS before %d MiB, peak %d MiB (+%d MiB), budget %d MiB, dropped %d",
		base>>10, peak>>10, (peak-base)>>10, budget>>20, x.Discarded())
	assert.Less(t, peak-base, int64(budget+64<<20)>>10, "peak RSS grew by %d MiB", (peak-base)>>10)
	dropped := x.Discarded()
	var got []uint64
	for uint64(len(got))+dropped < n {
		h, data, err := p.readFrame(waitTimeout)
		require.NoError(t, err, "after %d packages (%d dropped)", len(got), dropped)
		if h.Slot == testSlot {
			got = append(got, binary.LittleEndian.Uint64(data))
		}
	}
	for i := 1; i < len(got); i++ {
		require.Less(t, got[i-1], got[i], "in order, once")
	}
	assert.Equal(t, uint64(n-1), got[len(got)-1])
}
