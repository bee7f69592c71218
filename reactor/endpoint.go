package reactor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/goyoton/yoton/slots"
)

// Attachment describes a channel attaching to a context (Context.Attach):
// the slots it sends and receives at, what takes its packages, and how
// Context.Close and CloseChannels close it.
//
// Every channel kind of package channels attaches this way, and so can a
// channel kind of your own (yoton lets programs define channel classes):
// choose slot names that do not clash with the built-in patterns, as
// yoton's base + "." + type name + "." + pattern.
type Attachment struct {
	// SendSlot is the full name of the slot the channel sends at, "" for
	// a channel that only receives. Names are normalised as yoton does
	// (lower case, whitespace trimmed: slots.Normalize) before they are
	// hashed.
	SendSlot string
	// RecvSlot is the full name of the slot the channel receives at, ""
	// for a channel that only sends.
	RecvSlot string
	// Receiver takes the packages that arrive at RecvSlot; required when
	// RecvSlot is set. Its methods run on the loop goroutine.
	Receiver Receiver
	// Close closes the channel when its context closes (Context.Close,
	// CloseChannels); it runs on the goroutine that closes the context.
	// It should call Endpoint.Detach. nil: the endpoint is detached.
	Close func() error
}

// Destination addresses a package (yoton's dest_id and dest_seq header
// fields). The zero Destination is "every channel at the slot",
// what publishers use.
type Destination struct {
	// ID is the id of the one context the package is for (a requester's
	// or a replier's); 0 for every context.
	ID uint64
	// Seq is the number the package refers to at its destination, such
	// as the request id a reply answers; the receiving channel gives it
	// its meaning.
	Seq uint64
}

// Endpoint is a channel's attachment to a context, made by Attach: the
// channel sends through it and detaches it when it closes. All its
// methods are safe for concurrent use, on the loop goroutine too.
type Endpoint struct {
	x        *Context
	name     string // the slot name used in errors
	sendSlot uint64
	recvSlot uint64
	closeFn  func() error

	detached atomic.Bool
	mu       sync.Mutex
	unhooks  []func() // OnNewConnection registrations
}

// Attach attaches a channel to the context at a's slots. It fails with
// ErrSlotNotFree when a channel of this context sends or receives at one
// of them already, and with ErrInvalidSlot when a names no slot or a
// receiving slot without a Receiver. Safe for concurrent use, on the
// loop goroutine too.
func (x *Context) Attach(a Attachment) (*Endpoint, error) {
	send, recv := strings.TrimSpace(a.SendSlot), strings.TrimSpace(a.RecvSlot)
	if send == "" && recv == "" {
		return nil, fmt.Errorf("%w: an attachment needs a sending or a receiving slot", ErrInvalidSlot)
	}
	if recv != "" && a.Receiver == nil {
		return nil, fmt.Errorf("%w: %s: a receiving slot needs a Receiver", ErrInvalidSlot, a.RecvSlot)
	}
	e := &Endpoint{x: x, name: a.SendSlot, closeFn: a.Close}
	if send != "" {
		e.sendSlot = slots.Hash(slots.Normalize(a.SendSlot))
	} else {
		e.name = a.RecvSlot
	}
	if recv != "" {
		e.recvSlot = slots.Hash(slots.Normalize(a.RecvSlot))
	}
	if err := x.register(e.sendSlot, e.recvSlot, a.Receiver, e.name); err != nil {
		return nil, err
	}
	x.trackChannel(e)
	return e, nil
}

// Context returns the context the endpoint is attached to. Safe for
// concurrent use.
func (e *Endpoint) Context() *Context { return e.x }

// Send queues data for the network at the endpoint's sending slot,
// addressed to to. The context stamps it with its id and next sequence
// number on the loop, in the order Send was called, and takes ownership
// of data (do not modify it afterwards). An empty data is a no-op, as in
// yoton.
//
// Off the loop goroutine, Send waits while the context's queues to
// connected peers are past yoton's tiny length, until they drain, ctx
// ends (ctx's error) or SendWait passes; then it queues the package
// anyway, and the queues' discard rule bounds memory. On the loop
// goroutine it never waits. Send still works after Detach, so that a
// closing channel can send its last words (a subscriber's "ok", a
// replier's withdrawn offers); refusing its users' sends once closed is
// the channel's business. It returns an error wrapping ErrInvalidSlot
// for an endpoint that only receives. Safe for concurrent use.
func (e *Endpoint) Send(ctx context.Context, data []byte, to Destination) error {
	if e.sendSlot == 0 {
		return fmt.Errorf("%w: %s: endpoint has no sending slot", ErrInvalidSlot, e.name)
	}
	return e.x.send(ctx, e.sendSlot, data, to.ID, to.Seq)
}

// OnNewConnection registers fn to run on the loop goroutine whenever the
// context hears that a context joined the network (yoton's
// NEW_CONNECTION; state channels resend their state then). The returned
// function unregisters it; Detach unregisters it too. Safe for
// concurrent use.
func (e *Endpoint) OnNewConnection(fn func()) (remove func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.detached.Load() {
		return func() {}
	}
	remove = e.x.onNewConnection(fn) // idempotent: Detach may call it again
	e.unhooks = append(e.unhooks, remove)
	return remove
}

// Detach takes the endpoint off its context: nothing more is delivered
// to its Receiver, its slots are free again for other channels, and its
// OnNewConnection functions are unregistered.
// It reports whether this call detached it (false when it was detached
// already). Safe for concurrent use.
func (e *Endpoint) Detach() bool {
	if e.detached.Swap(true) {
		return false
	}
	e.x.unregister(e.sendSlot, e.recvSlot)
	e.x.untrackChannel(e)
	e.mu.Lock()
	unhooks := e.unhooks
	e.unhooks = nil
	e.mu.Unlock()
	for _, remove := range unhooks {
		remove()
	}
	return true
}

// closeChannel closes the endpoint's channel for Context.Close and
// CloseChannels.
func (e *Endpoint) closeChannel() {
	if e.closeFn != nil {
		_ = e.closeFn()
	}
	e.Detach()
}
