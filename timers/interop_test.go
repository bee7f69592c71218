package timers_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/timers"
)

func pyCall(t *testing.T, cmd map[string]any, reply any) {
	t.Helper()
	p := pypeer.Require(t).Start(t, "peer.py")
	require.NoError(t, p.Call(testkit.Context(t), cmd, reply), "python %v", cmd["op"])
}

// TestInteropTimerSetters runs the same scenarios on Python yoton's
// Timer (its interval and oneshot properties) and on a Go timer
// (SetInterval, SetMode).
func TestInteropTimerSetters(t *testing.T) {
	var py struct {
		Results timerSemantics `json:"results"`
	}
	pyCall(t, map[string]any{"op": "timer_semantics"}, &py)
	assert.Equal(t, wantTimerSemantics(), py.Results, "what Python yoton does")
	r := reactorkit.NewReactor(t)
	assert.Equal(t, py.Results, goTimerSemantics(t, r), "Go against Python")
}

// TestInteropSignalBindOnce: Python yoton ignores the second bind of a
// handler it finds equal (the same function, or the same method of the
// same object) and keeps distinct closures apart. BindKey does the same
// with a key that stands for Python's identity of the handler.
func TestInteropSignalBindOnce(t *testing.T) {
	var py struct {
		Counts map[string]int `json:"counts"`
	}
	pyCall(t, map[string]any{"op": "signal_semantics"}, &py)

	r := reactorkit.NewReactor(t)
	type holder struct{ calls *int }
	type methodKey struct {
		recv *holder
		name string
	}
	count := func(bind func(s *timers.Signal[struct{}], calls *int)) int {
		s := timers.NewSignal[struct{}](r)
		calls := 0
		bind(s, &calls)
		testkit.Do(t, r, func() { assert.NoError(t, s.EmitNow(struct{}{})) })
		return calls
	}
	bindKey := func(s *timers.Signal[struct{}], key any, fn func(struct{})) {
		_, _ = s.BindKey(key, fn) // ErrAlreadyBound for a second bind: ignored, as in Python
	}
	method := func(h *holder) func(struct{}) { return func(struct{}) { *h.calls++ } }
	closure := func(calls *int) func(struct{}) { return func(struct{}) { *calls++ } }
	got := map[string]int{
		"function_twice": count(func(s *timers.Signal[struct{}], calls *int) {
			plain := func(struct{}) { *calls++ }
			bindKey(s, "plain", plain)
			bindKey(s, "plain", plain)
		}),
		"method_twice": count(func(s *timers.Signal[struct{}], calls *int) {
			h := &holder{calls}
			bindKey(s, methodKey{h, "method"}, method(h))
			bindKey(s, methodKey{h, "method"}, method(h))
		}),
		"methods_of_two_objects": count(func(s *timers.Signal[struct{}], calls *int) {
			h, other := &holder{calls}, &holder{calls}
			bindKey(s, methodKey{other, "method"}, method(other))
			bindKey(s, methodKey{h, "method"}, method(h))
		}),
		"closures_same_literal": count(func(s *timers.Signal[struct{}], calls *int) {
			bindKey(s, "closure a", closure(calls))
			bindKey(s, "closure b", closure(calls))
		}),
		"same_closure_twice": count(func(s *timers.Signal[struct{}], calls *int) {
			same := closure(calls)
			bindKey(s, "same", same)
			bindKey(s, "same", same)
		}),
		"unbind_after_double_bind": count(func(s *timers.Signal[struct{}], calls *int) {
			plain := func(struct{}) { *calls++ }
			bindKey(s, "plain", plain)
			bindKey(s, "plain", plain)
			s.UnbindKey("plain")
		}),
	}
	assert.Equal(t, py.Counts, got)
}
