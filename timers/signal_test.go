package timers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

func newLoop(t *testing.T) *reactor.Reactor {
	t.Helper()
	r, err := reactor.New()
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	return r
}

// settle waits until everything already posted to r has run.
func settle(t *testing.T, r *reactor.Reactor) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, r.Do(ctx, func() {}))
}

// calls is touched by handlers on the loop only; tests read it after sync.
type calls struct {
	r       *reactor.Reactor
	got     []string
	offLoop bool
}

func (c *calls) handler(name string) func(int) {
	return func(v int) {
		if !c.r.OnLoop() {
			c.offLoop = true
		}
		c.got = append(c.got, name+":"+string(rune('0'+v)))
	}
}

func TestSignalEmitRunsHandlersOnLoopInOrder(t *testing.T) {
	r := newLoop(t)
	s := timers.NewSignal[int](r)
	c := &calls{r: r}
	s.Bind(c.handler("a"))
	s.Bind(c.handler("b"))
	s.Bind(c.handler("c"))
	assert.Equal(t, 3, s.HandlerCount())
	require.NoError(t, s.Emit(1))
	require.NoError(t, s.Emit(2))
	settle(t, r)
	assert.Equal(t, []string{"a:1", "b:1", "c:1", "a:2", "b:2", "c:2"}, c.got)
	assert.False(t, c.offLoop)
}

func TestSignalEmitTakesHandlersBoundAtEmit(t *testing.T) {
	r := newLoop(t)
	s := timers.NewSignal[int](r)
	c := &calls{r: r}
	s.Bind(c.handler("a"))
	// Hold the loop so the emit cannot run before the Bind below.
	release := make(chan struct{})
	require.NoError(t, r.Post(func() { <-release }))
	require.NoError(t, s.Emit(1))
	s.Bind(c.handler("late"))
	close(release)
	settle(t, r)
	assert.Equal(t, []string{"a:1"}, c.got)
}

func TestSignalUnbind(t *testing.T) {
	r := newLoop(t)
	s := timers.NewSignal[int](r)
	c := &calls{r: r}
	a := s.Bind(c.handler("a"))
	b := s.Bind(c.handler("b"))
	s.Bind(c.handler("c"))
	assert.NotEqual(t, a, b)
	assert.True(t, s.Unbind(b))
	assert.False(t, s.Unbind(b), "twice")
	assert.False(t, s.Unbind(timers.HandlerID(999)))
	assert.Equal(t, 2, s.HandlerCount())
	require.NoError(t, s.Emit(1))
	settle(t, r)
	assert.Equal(t, []string{"a:1", "c:1"}, c.got)

	s.UnbindAll()
	assert.Equal(t, 0, s.HandlerCount())
	require.NoError(t, s.Emit(2))
	settle(t, r)
	assert.Equal(t, []string{"a:1", "c:1"}, c.got)
	// Ids are not reused after UnbindAll.
	d := s.Bind(c.handler("d"))
	assert.NotEqual(t, a, d)
	assert.False(t, s.Unbind(a))
}

func TestSignalEmitNow(t *testing.T) {
	r := newLoop(t)
	s := timers.NewSignal[int](r)
	c := &calls{r: r}
	s.Bind(c.handler("a"))
	s.Bind(c.handler("b"))

	assert.ErrorIs(t, s.EmitNow(1), timers.ErrNotOnLoop)
	settle(t, r)
	assert.Empty(t, c.got, "EmitNow off the loop calls nothing")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	var during []string
	require.NoError(t, r.Do(ctx, func() {
		err = s.EmitNow(2)
		during = append(during, c.got...) // handlers ran before EmitNow returned
	}))
	assert.NoError(t, err)
	assert.Equal(t, []string{"a:2", "b:2"}, during)
	assert.False(t, c.offLoop)
}

func TestSignalEmitAfterLoopClosed(t *testing.T) {
	r, err := reactor.New()
	require.NoError(t, err)
	s := timers.NewSignal[int](r)
	s.Bind(func(int) {})
	require.NoError(t, r.Close())
	assert.ErrorIs(t, s.Emit(1), reactor.ErrClosed)
	// With no handler there is nothing to post.
	empty := timers.NewSignal[int](r)
	assert.NoError(t, empty.Emit(1))
}
