package channels

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

// TestReadNowDoesNotWaitForAnotherRead: while another read holds the
// Reader (a goroutine blocked in ReadLine, say), ReadNow returns "" at
// once instead of waiting behind it; afterwards it reads as usual.
func TestReadNowDoesNotWaitForAnotherRead(t *testing.T) {
	r := reactorkit.NewReactor(t)
	x := reactorkit.NewContext(t, r)
	sub, err := NewSubChannel(x, "in", Text)
	require.NoError(t, err)
	rd, err := NewReader(sub)
	require.NoError(t, err)
	testkit.Do(t, r, func() {
		sub.deposit(reactor.Package{SourceID: 1, Data: []byte("queued")})
		sub.endBatch()
	})

	rd.mu.Lock() // a read under way
	m, err := rd.ReadNow()
	rd.mu.Unlock()
	require.NoError(t, err)
	require.Equal(t, "", m)

	m, err = rd.ReadNow()
	require.NoError(t, err)
	require.Equal(t, "queued", m)
}

// TestWriterOnLoopNeverWaits: on the loop goroutine, a Writer that
// another goroutine is using (its Send waiting for a full subscriber,
// say) refuses with ErrBlockingCall instead of stalling the loop; once
// free, it writes there as usual.
func TestWriterOnLoopNeverWaits(t *testing.T) {
	r := reactorkit.NewReactor(t)
	x := reactorkit.NewContext(t, r)
	pub, err := NewPubChannel(x, "out", Text)
	require.NoError(t, err)
	w, err := NewWriter(pub)
	require.NoError(t, err)

	w.mu.Lock() // a Write under way on another goroutine
	testkit.Do(t, r, func() {
		_, err := w.Write([]byte("x"))
		assert.ErrorIs(t, err, reactor.ErrBlockingCall)
		assert.ErrorIs(t, w.WriteLines([]string{"y"}), reactor.ErrBlockingCall)
		assert.ErrorIs(t, w.Close(), reactor.ErrBlockingCall)
	})
	w.mu.Unlock()
	assert.False(t, pub.IsClosed(), "a refused Close closes nothing")
	testkit.Do(t, r, func() {
		n, err := w.Write([]byte("x"))
		assert.NoError(t, err)
		assert.Equal(t, 1, n)
	})
	require.NoError(t, w.Close())
}

func TestSliceChars(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{s: "abc\n", n: 0, want: "abc\n"},
		{s: "abc\n", n: 1, want: "a"},
		{s: "abc\n", n: 4, want: "abc\n"},
		{s: "abc\n", n: 5, want: "abc\n"},
		{s: "abc\n", n: -1, want: "abc"},
		{s: "abc\n", n: -4, want: ""},
		{s: "abc\n", n: -5, want: ""},
		{s: "é日🎉\n", n: 2, want: "é日"},
		{s: "é日🎉\n", n: -2, want: "é日"},
		{s: "", n: 3, want: ""},
		{s: "", n: -3, want: ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sliceChars(tt.s, tt.n), "%q[:%d]", tt.s, tt.n)
	}
}

// TestNilOptionsAreErrors: a nil option is an invalid option, not a
// panic, for every constructor of the package that takes options.
func TestNilOptionsAreErrors(t *testing.T) {
	x := reactorkit.NewContext(t, reactorkit.NewReactor(t))
	pub, err := NewPubChannel(x, "nil-opt", Text)
	require.NoError(t, err)
	sub, err := NewSubChannel(x, "nil-opt", Text)
	require.NoError(t, err)
	_, err = NewWriter(pub, nil)
	require.ErrorIs(t, err, reactor.ErrBadOption)
	_, err = NewReader(sub, nil)
	require.ErrorIs(t, err, reactor.ErrBadOption)
	_, err = NewRepChannel(x, "nil-opt", nil)
	require.ErrorIs(t, err, reactor.ErrBadOption)
}
