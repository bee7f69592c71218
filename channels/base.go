package channels

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/goyoton/yoton/internal/loop"
	"github.com/goyoton/yoton/internal/queue"
	"github.com/goyoton/yoton/reactor"
)

// Messaging patterns: the last part of a slot name, as (outgoing, incoming).
const (
	patternPubSub = "pub-sub"
	patternSubPub = "sub-pub"
)

// base is what every channel has: its context, its endpoint there and
// its two slot names.
type base struct {
	x       *reactor.Context
	ep      *reactor.Endpoint
	ops     loop.Loop // the reactor's loop operations (timers, waits)
	slotOut string
	slotIn  string
	closed  atomic.Bool
}

// attach attaches the channel to x through the reactor's one seam,
// Context.Attach: rx (an unexported adapter of the channel) takes its
// packages, and closeFn (the channel's Close) runs when the context
// closes.
func (b *base) attach(x *reactor.Context, slotBase, typeName, outPattern, inPattern string, rx reactor.Receiver, closeFn func() error) error {
	if x == nil {
		return ErrNilContext
	}
	if strings.TrimSpace(slotBase) == "" {
		return fmt.Errorf("%w: %q", reactor.ErrInvalidSlot, slotBase)
	}
	b.x = x
	b.ops = loop.Of(x.Reactor())
	if outPattern != "" {
		b.slotOut = slotBase + "." + typeName + "." + outPattern
	}
	if inPattern != "" {
		b.slotIn = slotBase + "." + typeName + "." + inPattern
	}
	ep, err := x.Attach(reactor.Attachment{SendSlot: b.slotOut, RecvSlot: b.slotIn, Receiver: rx, Close: closeFn})
	if err != nil {
		return err
	}
	b.ep = ep
	return nil
}

// SlotOutgoing returns the full name of the slot the channel sends on
// ("" if it does not send), as given: base + "." + type name + "." +
// pattern, before normalisation, as Python's slot_outgoing. Safe for
// concurrent use.
func (b *base) SlotOutgoing() string { return b.slotOut }

// SlotIncoming returns the full name of the slot the channel receives on
// ("" if it does not receive), as Python's slot_incoming. Safe for
// concurrent use.
func (b *base) SlotIncoming() string { return b.slotIn }

// Context returns the channel's context. Safe for concurrent use.
func (b *base) Context() *reactor.Context { return b.x }

// IsClosed reports whether the channel was closed (by Close, or by its
// context's Close or CloseChannels). Safe for concurrent use.
func (b *base) IsClosed() bool { return b.closed.Load() }

// close marks the channel closed and detaches its endpoint; it reports
// whether this call closed it.
func (b *base) close() bool {
	if b.closed.Swap(true) {
		return false
	}
	b.ep.Detach()
	return true
}

// to addresses a package to context id, about number seq.
func to(id, seq uint64) reactor.Destination { return reactor.Destination{ID: id, Seq: seq} }

// everyone addresses a package to every channel at the slot.
var everyone = reactor.Destination{}

// newQueue returns a queue bounded by x's queue limits, for a channel's
// incoming packages.
func newQueue(x *reactor.Context) *queue.Ring[reactor.Package] {
	l := x.QueueLimits()
	return queue.New[reactor.Package](l.Size, queue.Discard(l.Discard)).WithBytes(l.Bytes, packageBytes)
}

func packageBytes(p reactor.Package) int { return len(p.Data) }

// The receiving side of each channel kind: reactor.Receiver adapters,
// unexported so that Deposit and EndBatch stay out of the channels' API.
// Each is the channel's own struct under another name (a free
// conversion); their methods run on the loop goroutine.
type (
	pubReceiver[T any]   PubChannel[T]
	subReceiver[T any]   SubChannel[T]
	stateReceiver[T any] StateChannel[T]
	reqReceiver          ReqChannel
	repReceiver          RepChannel
)

func (r *pubReceiver[T]) Deposit(p reactor.Package)   { (*PubChannel[T])(r).deposit(p) }
func (r *pubReceiver[T]) EndBatch()                   {}
func (r *subReceiver[T]) Deposit(p reactor.Package)   { (*SubChannel[T])(r).deposit(p) }
func (r *subReceiver[T]) EndBatch()                   { (*SubChannel[T])(r).endBatch() }
func (r *stateReceiver[T]) Deposit(p reactor.Package) { (*StateChannel[T])(r).deposit(p) }
func (r *stateReceiver[T]) EndBatch()                 { (*StateChannel[T])(r).endBatch() }
func (r *reqReceiver) Deposit(p reactor.Package)      { (*ReqChannel)(r).deposit(p) }
func (r *reqReceiver) EndBatch()                      { (*ReqChannel)(r).endBatch() }
func (r *repReceiver) Deposit(p reactor.Package)      { (*RepChannel)(r).deposit(p) }
func (r *repReceiver) EndBatch()                      { (*RepChannel)(r).endBatch() }
