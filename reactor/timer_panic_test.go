package reactor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A panicking timer callback is logged; the timers due with it and after
// it still run.
func TestAfterFuncPanicDoesNotStallTimers(t *testing.T) {
	logged := make(chan string, 4)
	r := newReactor(t, WithLogger(chanLogger(logged)))
	ran := make(chan int, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, r.Do(ctx, func() {
		r.afterFunc(time.Millisecond, func() { panic("boom") })
		r.afterFunc(time.Millisecond, func() { ran <- 1 })
		r.afterFunc(20*time.Millisecond, func() { ran <- 2 })
	}))
	for _, want := range []int{1, 2} {
		select {
		case got := <-ran:
			require.Equal(t, want, got)
		case <-ctx.Done():
			t.Fatalf("timer %d never ran after a panicking one", want)
		}
	}
	select {
	case line := <-logged:
		require.Contains(t, line, "boom")
	case <-ctx.Done():
		t.Fatal("the panic was not logged")
	}
}

type chanLogger chan string

func (c chanLogger) Printf(format string, args ...any) {
	select {
	case c <- fmt.Sprintf(format, args...):
	default:
	}
}
