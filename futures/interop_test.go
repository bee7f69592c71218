package futures_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/internal/pypeer"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/reactor"
)

// futureCase is one operation on a future in one state, as peer.py's
// future_semantics reports it for Python yoton's Future.
type futureCase struct {
	State    string  `json:"state"`
	Op       string  `json:"op"`
	Returned string  `json:"returned"` // repr() of the return value, or "raise <Type>"
	After    string  `json:"after"`
	Result   *string `json:"result"` // str() of the result or exception of a done future
}

// goFutureCase runs c.Op on a Go future in state c.State and describes
// the outcome as Python would: Cancel's and SetRunningOrNotifyCancel's
// answers as True/False, ErrInvalidState of SetRunningOrNotifyCancel as
// yoton's RuntimeError. SetResult and SetException return None in
// Python; here their error must be ErrInvalidState exactly when they
// changed nothing.
func goFutureCase(t *testing.T, r *reactor.Reactor, state, op string) futureCase {
	t.Helper()
	f := newFuture[string](t, r)
	switch state {
	case "running":
		_, _ = f.SetRunningOrNotifyCancel()
	case "cancelled":
		f.Cancel()
	case "failed":
		_, _ = f.SetRunningOrNotifyCancel()
		require.NoError(t, f.SetException(errors.New("boom")))
	case "succeeded":
		_, _ = f.SetRunningOrNotifyCancel()
		require.NoError(t, f.SetResult("7"))
	}
	require.Equal(t, state, futureState(f), "making a %s future", state)

	got := futureCase{State: state, Op: op, Returned: "None"}
	var setErr error
	switch op {
	case "cancel":
		got.Returned = pyBool(f.Cancel())
	case "set_result":
		setErr = f.SetResult("8")
	case "set_exception":
		setErr = f.SetException(errors.New("bang"))
	case "set_running_or_notify_cancel":
		ok, err := f.SetRunningOrNotifyCancel()
		got.Returned = pyBool(ok)
		if errors.Is(err, futures.ErrInvalidState) {
			got.Returned = "raise RuntimeError"
		} else {
			require.NoError(t, err)
		}
	default:
		t.Fatalf("unknown op %q", op)
	}
	got.After = futureState(f)
	if op == "set_result" || op == "set_exception" {
		if got.After == state {
			assert.ErrorIs(t, setErr, futures.ErrInvalidState, "%s on a %s future changed nothing", op, state)
		} else {
			assert.NoError(t, setErr, "%s on a %s future", op, state)
		}
	}
	if f.IsDone() && !f.Cancelled() {
		v, err := f.Result(testkit.Context(t))
		s := v
		if err != nil {
			s = err.Error()
		}
		got.Result = &s
	}
	return got
}

func futureState[T any](f *futures.Future[T]) string {
	switch {
	case f.Running():
		return "running"
	case f.Cancelled():
		return "cancelled"
	case !f.IsDone():
		return "pending"
	case f.Err(context.Background()) != nil: // done: no wait
		return "failed"
	}
	return "succeeded"
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// TestInteropFutureStateMachine runs every operation on a future in
// every state, on Python yoton's Future and on a Go one, and checks that
// they agree, except where Go has a documented reason not to.
func TestInteropFutureStateMachine(t *testing.T) {
	p := pypeer.Require(t).Start(t, "peer.py")
	var py struct {
		Cases []futureCase `json:"cases"`
	}
	require.NoError(t, p.Call(testkit.Context(t), map[string]any{"op": "future_semantics"}, &py))
	require.Len(t, py.Cases, 20, "5 states x 4 operations")

	// Go only: SetException also fails a pending future (the owner of a
	// call that could not start says why; yoton ignores it).
	bang := "bang"
	differs := map[string]futureCase{
		"pending/set_exception": {State: "pending", Op: "set_exception", Returned: "None", After: "failed", Result: &bang},
	}
	r := reactorkit.NewReactor(t)
	for _, want := range py.Cases {
		name := want.State + "/" + want.Op
		t.Run(name, func(t *testing.T) {
			got := goFutureCase(t, r, want.State, want.Op)
			if d, ok := differs[name]; ok {
				assert.Equal(t, d, got, "Go's documented difference")
				assert.NotEqual(t, want, got, "Python still does otherwise")
				return
			}
			assert.Equal(t, want, got)
		})
	}
	assert.Len(t, differs, 1)
}

// TestCancelAnswersAsYoton: Cancel is false only while the call runs.
func TestCancelAnswersAsYoton(t *testing.T) {
	r := reactorkit.NewReactor(t)
	tests := []struct {
		name          string
		make          func(*futures.Future[int]) error
		wantCancel    bool
		wantCancelled bool
	}{
		{name: "pending", make: func(*futures.Future[int]) error { return nil }, wantCancel: true, wantCancelled: true},
		{name: "running", make: func(f *futures.Future[int]) error { return expectRunning(f, true) }},
		{name: "cancelled", make: func(f *futures.Future[int]) error { f.Cancel(); return nil }, wantCancel: true, wantCancelled: true},
		{name: "failed", make: func(f *futures.Future[int]) error { return f.SetException(errors.New("x")) }, wantCancel: true},
		{name: "succeeded", make: func(f *futures.Future[int]) error {
			return errors.Join(expectRunning(f, true), f.SetResult(1))
		}, wantCancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFuture[int](t, r)
			require.NoError(t, tt.make(f))
			assert.Equal(t, tt.wantCancel, f.Cancel(), "Cancel")
			assert.Equal(t, tt.wantCancelled, f.Cancelled(), "Cancelled")
		})
	}
}
