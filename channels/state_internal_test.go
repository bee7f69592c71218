package channels

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

// TestStateNextIgnoresResends: a state that arrives equal to the current
// one (a peer resending its state to a newcomer) does not wake Next; the
// next different one does.
func TestStateNextIgnoresResends(t *testing.T) {
	r := reactorkit.NewReactor(t)
	x := reactorkit.NewContext(t, r)
	st, err := NewStateChannel(x, "resend", Object)
	require.NoError(t, err)
	deposit := func(v any) {
		b, err := Object.Encode(v)
		require.NoError(t, err)
		testkit.Do(t, r, func() { st.deposit(reactor.Package{SourceID: 1, Data: b}) })
	}
	deposit(int64(1))
	m, ok := st.Recv()
	require.True(t, ok)
	require.Equal(t, any(int64(1)), m)

	next := make(chan any, 1)
	go func() {
		m, err := st.Next(testkit.Context(t))
		assert.NoError(t, err)
		next <- m
	}()
	require.Eventually(t, func() bool { // Next is waiting
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.changed != nil
	}, testkit.Timeout, time.Millisecond)
	deposit(true) // equal to 1 for Python (and so for Object states)
	deposit(int64(2))
	assert.Equal(t, any(int64(2)), testkit.Wait(t, next, "Next"))
}
