package reactor

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
)

func TestQueueLimits(t *testing.T) {
	const size, sent = 5, 20
	all := make([]string, sent)
	for i := range all {
		all[i] = fmt.Sprintf("m%02d", i)
	}
	rules := []struct {
		rule Discard
		want []string
	}{
		{rule: DiscardOld, want: all[sent-size:]},
		{rule: DiscardNew, want: all[:size]},
	}
	// Where the packages wait while there is no peer.
	paths := []struct {
		name string
		// before runs before the packages are sent; after joins x with
		// peer and returns x's connection to it.
		before func(t *testing.T, x *Context) (after func(t *testing.T, peer *Context) *Connection)
	}{
		{name: "startup queue, then connect", before: func(t *testing.T, x *Context) func(*testing.T, *Context) *Connection {
			return func(t *testing.T, peer *Context) *Connection {
				_, c := connectPair(t, peer, x)
				return c
			}
		}},
		{name: "startup queue, then bind", before: func(t *testing.T, x *Context) func(*testing.T, *Context) *Connection {
			return func(t *testing.T, peer *Context) *Connection {
				c, _ := connectPair(t, x, peer)
				return c
			}
		}},
		{name: "queue of a waiting bind", before: func(t *testing.T, x *Context) func(*testing.T, *Context) *Connection {
			bound, addr := bindLocal(t, x)
			return func(t *testing.T, peer *Context) *Connection {
				_, err := peer.Connect(testkit.Context(t), addr, "")
				require.NoError(t, err)
				waitEstablished(t, bound)
				return bound
			}
		}},
	}
	for _, path := range paths {
		for _, rl := range rules {
			t.Run(path.name+", discard "+rl.rule.String(), func(t *testing.T) {
				r := newReactor(t)
				x := newContext(t, r, WithQueue(size, rl.rule))
				peer := newContext(t, r)
				rx := newRecorder(t, peer, testSlot)
				after := path.before(t, x)
				for _, m := range all {
					send(t, x, m)
				}
				testkit.Do(t, r, func() {
					assert.LessOrEqual(t, x.startup.Len(), size)
					for _, c := range x.conns {
						assert.LessOrEqual(t, c.pending.Len(), size)
					}
				})
				c := after(t, peer)
				require.NotNil(t, c)
				send(t, x, "end")
				got := rx.waitN(t, size+1)
				assert.Equal(t, append(append([]string(nil), rl.want...), "end"), payloads(got))
			})
		}
	}
}

func TestWithQueueRejectsBadValues(t *testing.T) {
	r := newReactor(t)
	tests := []struct {
		name string
		opt  ContextOption
	}{
		{name: "size 0", opt: WithQueue(0, DiscardOld)},
		{name: "negative size", opt: WithQueue(-3, DiscardNew)},
		{name: "unknown rule", opt: WithQueue(10, Discard(7))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.NewContext(tt.opt)
			assert.ErrorIs(t, err, ErrBadOption)
		})
	}
	x := newContext(t, r, WithQueue(7, DiscardNew))
	assert.Equal(t, QueueLimits{Size: 7, Bytes: DefaultQueueBytes, Discard: DiscardNew}, x.QueueLimits())
	q := x.newQueue()
	assert.Equal(t, 7, q.Limit())
}

func TestReactorOptionsRejectBadValues(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
	}{
		{name: "max package size 0", opt: WithMaxPackageSize(0)},
		{name: "high-water mark 0", opt: WithHighWaterMark(0)},
		{name: "negative high-water mark", opt: WithHighWaterMark(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.opt)
			assert.ErrorIs(t, err, ErrBadOption)
			assert.Nil(t, r)
		})
	}
}
