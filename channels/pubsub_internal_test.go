package channels

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

// TestPubFullSetBoundedAndExpiring: forged "full" messages from ever new
// source ids cannot grow a publisher's set past MaxFullSubscribers, and
// each entry stops locking the publisher SendLockExpiry after it was said.
func TestPubFullSetBoundedAndExpiring(t *testing.T) {
	x := reactorkit.NewContext(t, reactorkit.NewReactor(t))
	pub, err := NewPubChannel(x, "forged-full", Text)
	require.NoError(t, err)
	for i := 0; i < 2*MaxFullSubscribers; i++ {
		pub.deposit(reactor.Package{SourceID: uint64(100 + i), Data: []byte("full")})
	}
	pub.lockMu.Lock()
	n := len(pub.fullFrom)
	_, newest := pub.fullFrom[uint64(100+2*MaxFullSubscribers-1)]
	_, first := pub.fullFrom[100]
	pub.lockMu.Unlock()
	assert.Equal(t, MaxFullSubscribers, n)
	assert.True(t, newest, "the latest one is kept")
	assert.False(t, first, "the one that said so longest ago went first")
	assert.True(t, pub.Throttled())

	// Time passes (the entries are aged by hand): each entry expires on
	// its own, even while other status messages keep renewing the lock.
	pub.lockMu.Lock()
	for src := range pub.fullFrom {
		pub.fullFrom[src] = time.Now().Add(-SendLockExpiry)
	}
	pub.lockMu.Unlock()
	pub.deposit(reactor.Package{SourceID: 1, Data: []byte("ok")}) // renews lockUntil
	assert.False(t, pub.Throttled())
}
