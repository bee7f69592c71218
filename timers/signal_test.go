package timers_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

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
	r := reactorkit.NewReactor(t)
	s := timers.NewSignal[int](r)
	c := &calls{r: r}
	s.Bind(c.handler("a"))
	s.Bind(c.handler("b"))
	s.Bind(c.handler("c"))
	assert.Equal(t, 3, s.HandlerCount())
	require.NoError(t, s.Emit(1))
	require.NoError(t, s.Emit(2))
	testkit.Barrier(t, r)
	assert.Equal(t, []string{"a:1", "b:1", "c:1", "a:2", "b:2", "c:2"}, c.got)
	assert.False(t, c.offLoop)
}

func TestSignalEmitTakesHandlersBoundAtEmit(t *testing.T) {
	r := reactorkit.NewReactor(t)
	s := timers.NewSignal[int](r)
	c := &calls{r: r}
	s.Bind(c.handler("a"))
	// Hold the loop so the emit cannot run before the Bind below.
	release := make(chan struct{})
	require.NoError(t, r.Post(func() { <-release }))
	require.NoError(t, s.Emit(1))
	s.Bind(c.handler("late"))
	close(release)
	testkit.Barrier(t, r)
	assert.Equal(t, []string{"a:1"}, c.got)
}

func TestSignalUnbind(t *testing.T) {
	r := reactorkit.NewReactor(t)
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
	testkit.Barrier(t, r)
	assert.Equal(t, []string{"a:1", "c:1"}, c.got)

	s.UnbindAll()
	assert.Equal(t, 0, s.HandlerCount())
	require.NoError(t, s.Emit(2))
	testkit.Barrier(t, r)
	assert.Equal(t, []string{"a:1", "c:1"}, c.got)
	// Ids are not reused after UnbindAll.
	d := s.Bind(c.handler("d"))
	assert.NotEqual(t, a, d)
	assert.False(t, s.Unbind(a))
}

func TestSignalEmitNow(t *testing.T) {
	r := reactorkit.NewReactor(t)
	s := timers.NewSignal[int](r)
	c := &calls{r: r}
	s.Bind(c.handler("a"))
	s.Bind(c.handler("b"))

	assert.ErrorIs(t, s.EmitNow(1), timers.ErrNotOnLoop)
	testkit.Barrier(t, r)
	assert.Empty(t, c.got, "EmitNow off the loop calls nothing")

	var err error
	var during []string
	testkit.Do(t, r, func() {
		err = s.EmitNow(2)
		during = append(during, c.got...) // handlers ran before EmitNow returned
	})
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

// TestSignalBindKey: a second BindKey with an equal key is ignored, as
// Python yoton ignores the second bind of a handler; Bind always binds.
func TestSignalBindKey(t *testing.T) {
	r := reactorkit.NewReactor(t)
	type methodKey struct {
		recv *calls
		name string
	}
	tests := []struct {
		name string
		bind func(s *timers.Signal[int], c *calls) error
		want []string
	}{
		{
			name: "same key twice binds once",
			bind: func(s *timers.Signal[int], c *calls) error {
				first, err := s.BindKey("a", c.handler("a"))
				if err != nil {
					return err
				}
				again, err := s.BindKey("a", c.handler("a again"))
				if !errors.Is(err, timers.ErrAlreadyBound) {
					return fmt.Errorf("second BindKey: %v, want ErrAlreadyBound", err)
				}
				if again != first {
					return fmt.Errorf("second BindKey returned id %d, want the first's %d", again, first)
				}
				return nil
			},
			want: []string{"a:1"},
		},
		{
			name: "different keys bind both",
			bind: func(s *timers.Signal[int], c *calls) error {
				h := c.handler("h")
				_, err1 := s.BindKey(methodKey{c, "h"}, h)
				_, err2 := s.BindKey(methodKey{&calls{}, "h"}, h) // another receiver
				return errors.Join(err1, err2)
			},
			want: []string{"h:1", "h:1"},
		},
		{
			name: "equal struct keys are one key",
			bind: func(s *timers.Signal[int], c *calls) error {
				_, err1 := s.BindKey(methodKey{c, "h"}, c.handler("h"))
				_, err2 := s.BindKey(methodKey{c, "h"}, c.handler("h again"))
				if !errors.Is(err2, timers.ErrAlreadyBound) {
					return fmt.Errorf("second BindKey: %v, want ErrAlreadyBound", err2)
				}
				return err1
			},
			want: []string{"h:1"},
		},
		{
			name: "the first stays where it was bound",
			bind: func(s *timers.Signal[int], c *calls) error {
				_, err1 := s.BindKey("a", c.handler("a"))
				s.Bind(c.handler("b"))
				_, err2 := s.BindKey("a", c.handler("a again"))
				if !errors.Is(err2, timers.ErrAlreadyBound) {
					return fmt.Errorf("second BindKey: %v, want ErrAlreadyBound", err2)
				}
				return err1
			},
			want: []string{"a:1", "b:1"},
		},
		{
			name: "Bind binds the same function twice",
			bind: func(s *timers.Signal[int], c *calls) error {
				h := c.handler("h")
				s.Bind(h)
				s.Bind(h)
				return nil
			},
			want: []string{"h:1", "h:1"},
		},
		{
			name: "a key is free again after UnbindKey",
			bind: func(s *timers.Signal[int], c *calls) error {
				if _, err := s.BindKey("a", c.handler("a")); err != nil {
					return err
				}
				if !s.UnbindKey("a") {
					return errors.New("UnbindKey of a bound key returned false")
				}
				if s.UnbindKey("a") {
					return errors.New("second UnbindKey returned true")
				}
				_, err := s.BindKey("a", c.handler("a2"))
				return err
			},
			want: []string{"a2:1"},
		},
		{
			name: "Unbind by id frees the key",
			bind: func(s *timers.Signal[int], c *calls) error {
				id, err := s.BindKey(1, c.handler("one"))
				if err != nil {
					return err
				}
				if !s.Unbind(id) {
					return errors.New("Unbind of a keyed handler returned false")
				}
				_, err = s.BindKey(1, c.handler("uno"))
				return err
			},
			want: []string{"uno:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := timers.NewSignal[int](r)
			c := &calls{r: r}
			require.NoError(t, tt.bind(s, c))
			assert.Equal(t, len(tt.want), s.HandlerCount())
			require.NoError(t, s.Emit(1))
			testkit.Barrier(t, r)
			assert.Equal(t, tt.want, c.got)
		})
	}
}

func TestSignalBindKeyRefusesBadHandlers(t *testing.T) {
	r := reactorkit.NewReactor(t)
	type withAny struct{ v any }
	tests := []struct {
		name string
		key  any
		fn   func(int)
	}{
		{name: "nil key", key: nil, fn: func(int) {}},
		{name: "slice key", key: []int{1}, fn: func(int) {}},
		{name: "map key", key: map[string]int{}, fn: func(int) {}},
		{name: "func key", key: func() {}, fn: func(int) {}},
		{name: "struct holding a slice", key: withAny{[]int{1}}, fn: func(int) {}},
		{name: "nil function", key: "k", fn: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := timers.NewSignal[int](r)
			id, err := s.BindKey(tt.key, tt.fn)
			assert.ErrorIs(t, err, timers.ErrBadHandler)
			assert.Zero(t, id)
			assert.Zero(t, s.HandlerCount())
			assert.False(t, s.UnbindKey(tt.key), "matches nothing, never panics")
		})
	}
}

// TestSignalBindKeyConcurrent: of goroutines binding one key at once,
// exactly one binds it; the others get its id and ErrAlreadyBound.
func TestSignalBindKeyConcurrent(t *testing.T) {
	r := reactorkit.NewReactor(t)
	s := timers.NewSignal[int](r)
	const n = 8
	type result struct {
		id  timers.HandlerID
		err error
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			id, err := s.BindKey("shared", func(int) {})
			results <- result{id, err}
		})
	}
	wg.Wait()
	close(results)
	var bound []timers.HandlerID
	ids := map[timers.HandlerID]bool{}
	for res := range results {
		ids[res.id] = true
		if res.err == nil {
			bound = append(bound, res.id)
		} else {
			assert.ErrorIs(t, res.err, timers.ErrAlreadyBound)
		}
	}
	assert.Len(t, bound, 1, "exactly one bind")
	assert.Len(t, ids, 1, "every caller got the one id")
	assert.Equal(t, 1, s.HandlerCount())
}
