package channels

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/slots"
)

// Messaging patterns: the last part of a slot name, as (outgoing, incoming).
const (
	patternPubSub = "pub-sub"
	patternSubPub = "sub-pub"
)

// base is what every channel has: its context and its two slots.
type base struct {
	x         *reactor.Context
	slotOut   string
	slotIn    string
	slotOutID uint64
	slotInID  uint64
	closed    atomic.Bool
	self      interface{ Close() error } // the channel, as tracked by the context
}

func (b *base) init(x *reactor.Context, slotBase, typeName, outPattern, inPattern string, rx reactor.Receiver) error {
	if x == nil {
		return ErrNilContext
	}
	if strings.TrimSpace(slotBase) == "" {
		return fmt.Errorf("%w: %q", ErrInvalidSlot, slotBase)
	}
	b.x = x
	if outPattern != "" {
		b.slotOut = slotBase + "." + typeName + "." + outPattern
		b.slotOutID = slots.Hash(slots.Normalize(b.slotOut))
	}
	if inPattern != "" {
		b.slotIn = slotBase + "." + typeName + "." + inPattern
		b.slotInID = slots.Hash(slots.Normalize(b.slotIn))
	}
	name := b.slotOut
	if name == "" {
		name = b.slotIn
	}
	return x.Register(b.slotOutID, b.slotInID, rx, name)
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

func (b *base) close() bool {
	if b.closed.Swap(true) {
		return false
	}
	b.x.Unregister(b.slotOutID, b.slotInID)
	if b.self != nil {
		b.x.UntrackChannel(b.self)
	}
	return true
}

// track registers the channel (its outer value) with the context so that
// Context.Close and CloseChannels close it.
func (b *base) track(self interface{ Close() error }) {
	b.self = self
	b.x.TrackChannel(self)
}
