package channels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
	"github.com/goyoton/yoton/wire"
)

// ReqChannel is the requesting end of request/reply: yoton's remote
// procedure call. Call sends a request by method name and returns a
// future for the reply; one of the RepChannels at the same slot in the
// network handles it (the first free one to answer).
//
// Everything is safe for concurrent use. Replies are read on the loop
// goroutine, where the futures complete; their callbacks run there too.
type ReqChannel struct {
	base
	loop *reactor.Reactor

	// Received is emitted on the loop, with the channel, once per batch
	// of packages that arrived for it (offers and replies; yoton's
	// received signal). The futures complete before it is emitted.
	Received *timers.Signal[*ReqChannel]
	posted   bool // loop-owned: a Received emit is queued

	counter atomic.Uint64
	timeout atomic.Int64 // time.Duration

	mu      sync.Mutex
	items   map[uint64]*request
	ticking bool               // the resend check is scheduled (or about to be)
	credits map[uint64]*credit // grants from Go repliers (reqrep_fast.go)
	waiting []uint64           // calls no replier took, oldest first (and some taken since)
	// Announcements ("req?") open, and calls held back unannounced while
	// a Go replier's grant serves us (reqrep_fast.go).
	announced, held int
	fastCalls       atomic.Uint64
	// Stats counters.
	calls, replies, remoteErrors atomic.Uint64
}

// request is one outstanding call.
type request struct {
	fut      *futures.Future[any]
	payload  []byte    // the encoded request, until a replier takes it
	replier  uint64    // 0 until a "req!" won
	direct   bool      // sent straight to replier within its grant
	held     bool      // not announced yet (see ReqChannel.held)
	nextSend time.Time // when to announce it again
}

// NewReqChannel attaches a requesting channel to x at slotBase: it sends
// on slotBase.obj.req-rep and receives on slotBase.obj.rep-req (request/
// reply always carries objects). It fails with reactor.ErrSlotNotFree when x
// already has a channel on either slot, with reactor.ErrInvalidSlot for a
// blank slotBase, and with ErrNilContext for a nil x. Safe for concurrent use.
func NewReqChannel(x *reactor.Context, slotBase string) (*ReqChannel, error) {
	if x == nil {
		return nil, ErrNilContext
	}
	c := &ReqChannel{loop: x.Reactor(), items: map[uint64]*request{}, credits: map[uint64]*credit{}}
	c.Received = timers.NewSignal[*ReqChannel](x.Reactor())
	c.timeout.Store(int64(DefaultRequestTimeout))
	if err := c.attach(x, slotBase, Object.Name(), patternReqRep, patternRepReq, (*reqReceiver)(c), c.Close); err != nil {
		return nil, err
	}
	return c, nil
}

// SetTimeout sets the auto-cancel timeout given to the futures of later
// calls (DefaultRequestTimeout to begin with); d <= 0 means no limit.
// Change one future's with its SetAutoCancelTimeout. Safe for concurrent
// use.
func (c *ReqChannel) SetTimeout(d time.Duration) { c.timeout.Store(int64(d)) }

// Timeout returns the auto-cancel timeout of later calls. Safe for
// concurrent use.
func (c *ReqChannel) Timeout() time.Duration { return time.Duration(c.timeout.Load()) }

// FastCalls returns how many calls went straight to a Go replier within
// its grant (the fast path between Go nodes, docs/protocol-notes.md 10)
// instead of through yoton's announce-and-offer exchange. Safe for
// concurrent use.
func (c *ReqChannel) FastCalls() uint64 { return c.fastCalls.Load() }

// ReqStats counts what a ReqChannel did. JSON-tagged for expvar.
type ReqStats struct {
	Calls        uint64 `json:"calls"`         // calls made (Call, Call[T], Method)
	Replies      uint64 `json:"replies"`       // results that arrived
	RemoteErrors uint64 `json:"remote_errors"` // errors the repliers raised
	Outstanding  int    `json:"outstanding"`   // calls waiting for their reply now
	FastCalls    uint64 `json:"fast_calls"`    // calls sent straight to a Go replier
}

// Stats returns the channel's counters. Calls that are neither replied
// to, failed remotely nor outstanding were cancelled, timed out or lost
// with the channel. Safe for concurrent use.
func (c *ReqChannel) Stats() ReqStats {
	return ReqStats{
		Calls:        c.calls.Load(),
		Replies:      c.replies.Load(),
		RemoteErrors: c.remoteErrors.Load(),
		Outstanding:  c.Outstanding(),
		FastCalls:    c.fastCalls.Load(),
	}
}

// Outstanding returns how many calls are not done yet. Safe for
// concurrent use.
func (c *ReqChannel) Outstanding() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Call asks a replier to run method with the positional arguments args
// and the keyword arguments kwargs (either may be nil) and returns the
// future of its reply (yoton's req.method(*args, **kwargs)).
//
// Arguments are values of the object codec (nil, bool, integers,
// floats, string, []any, wire.Tuple, *wire.Dict, map[string]any) or Go
// values that convert to them: slices and arrays become lists, maps
// dicts, named basic types their base type. Anything else fails with an
// error wrapping ErrEncode, before anything is sent.
//
// The future succeeds with the decoded reply (nil, bool, int64,
// float64, string, []any, wire.Tuple or *wire.Dict); it fails with a
// *futures.RemoteError when the replier reports an error. As in yoton,
// it cancels itself (with a *futures.AutoCancelError) when no replier
// has taken the call after Timeout; once a replier runs it, it waits for
// the reply however long that takes, and forever if the replier died:
// bound the wait with Call[T]'s ctx, which also makes the channel forget
// the call. Cancelling a pending future sends yoton's "req-". Closing
// the channel ends every outstanding future with reactor.ErrClosed.
//
// Call does not wait for the reply; it waits for room only while the
// context's connections are congested (at most reactor.SendWait, as
// every send does). Safe for concurrent use, also on the loop goroutine.
func (c *ReqChannel) Call(method string, args []any, kwargs Kwargs) (*futures.Future[any], error) {
	fut, _, err := c.call(method, args, kwargs)
	return fut, err
}

// call is Call, also returning the call's id.
func (c *ReqChannel) call(method string, args []any, kwargs Kwargs) (*futures.Future[any], uint64, error) {
	if c.closed.Load() {
		return nil, 0, errClosed
	}
	payload, err := encodeRequest(method, args, kwargs)
	if err != nil {
		return nil, 0, err
	}
	id := c.counter.Add(1)
	c.calls.Add(1)
	fut, err := futures.New[any](c.loop, futures.OnCancel(func() { c.cancelled(id) }))
	if err != nil {
		return nil, 0, err
	}
	now := time.Now()
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return nil, 0, errClosed
	}
	if replier, ok := c.pickReplierLocked(now); ok {
		// A Go replier has room for us: straight to it (reqrep_fast.go).
		_, _ = fut.SetRunningOrNotifyCancel()
		c.items[id] = &request{fut: fut, replier: replier, direct: true}
		c.mu.Unlock()
		c.fastCalls.Add(1)
		if err := c.sendDirect(replier, id, payload); err != nil {
			c.abandon(id, err)
			return nil, 0, c.sendErr(err)
		}
		return fut, id, nil
	}
	it := &request{fut: fut, payload: payload, nextSend: now.Add(ResendInterval)}
	if c.announced >= announceWindow && c.anyGrantLocked() {
		it.held = true // a grant will take it, or a slot among the announcements
		c.held++
	} else {
		c.announced++
	}
	c.items[id] = it
	held := it.held
	if len(c.waiting) > 2*len(c.items)+64 {
		c.waiting = slices.DeleteFunc(c.waiting, func(w uint64) bool {
			it := c.items[w]
			return it == nil || it.replier != 0
		})
	}
	c.waiting = append(c.waiting, id)
	startTick := !c.ticking
	c.ticking = true
	c.mu.Unlock()

	if d := c.Timeout(); d > 0 {
		if err := fut.SetAutoCancelTimeout(d); err != nil {
			c.abandon(id, err)
			return nil, 0, c.sendErr(err)
		}
	}
	if startTick {
		if err := c.onLoop(c.startTick); err != nil {
			c.abandon(id, err)
			return nil, 0, c.sendErr(err)
		}
	}
	if !held {
		if err := c.ep.Send(context.Background(), msgAsk, to(0, id+seqRef)); err != nil {
			c.abandon(id, err)
			return nil, 0, c.sendErr(err)
		}
	}
	return fut, id, nil
}

// sendErr reports a closed context or reactor as the channel's reactor.ErrClosed.
func (c *ReqChannel) sendErr(err error) error {
	if errors.Is(err, reactor.ErrClosed) {
		return fmt.Errorf("%w: %w", errClosed, err)
	}
	return err
}

// abandon forgets a call that could not be sent.
func (c *ReqChannel) abandon(id uint64, err error) {
	c.mu.Lock()
	it := c.items[id]
	delete(c.items, id)
	if it != nil {
		c.leftWaitingLocked(it)
	}
	c.mu.Unlock()
	if it != nil {
		_ = it.fut.SetException(c.sendErr(err))
	}
}

// onLoop runs fn on the loop goroutine: at once when called there.
func (c *ReqChannel) onLoop(fn func()) error {
	if c.loop.OnLoop() {
		fn()
		return nil
	}
	return c.loop.Post(fn)
}

// startTick schedules the resend check. Loop goroutine.
func (c *ReqChannel) startTick() {
	c.ops.AfterFunc(resendCheck, c.resend)
}

// resend announces again every request nobody took within
// ResendInterval, oldest first, and reschedules itself while any request
// waits for a replier. Loop goroutine.
func (c *ReqChannel) resend() {
	now := time.Now()
	var due []uint64
	waiting := false
	c.mu.Lock()
	for id, it := range c.items {
		if it.replier != 0 || it.held {
			continue
		}
		waiting = true
		if !now.Before(it.nextSend) {
			it.nextSend = now.Add(ResendInterval)
			due = append(due, id)
		}
	}
	if !waiting || c.closed.Load() {
		c.ticking = false
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	slices.Sort(due)
	for _, id := range due {
		_ = c.ep.Send(context.Background(), msgAsk, to(0, id+seqRef))
	}
	c.ops.AfterFunc(resendCheck, c.resend)
}

// forget drops call id, which a replier runs but whose caller gave up:
// its reply, if it ever comes, is ignored. Any goroutine.
func (c *ReqChannel) forget(id uint64) {
	c.mu.Lock()
	it := c.items[id]
	delete(c.items, id)
	c.mu.Unlock()
	if it != nil {
		if it.direct {
			c.directAnswered(it.replier)
		}
		_ = it.fut.SetException(fmt.Errorf("%w: the caller stopped waiting", futures.ErrTimeout))
	}
}

// cancelled runs when the future of call id was cancelled (by its owner
// or its timeout): forget it and tell the repliers ("req-"). Any
// goroutine.
func (c *ReqChannel) cancelled(id uint64) {
	c.mu.Lock()
	it := c.items[id]
	delete(c.items, id)
	wasHeld := it != nil && it.held
	if it != nil {
		c.leftWaitingLocked(it)
	}
	c.mu.Unlock()
	if it != nil && !wasHeld && !c.closed.Load() {
		_ = c.ep.Send(context.Background(), msgCancel, to(0, id+seqRef))
		c.announceHeld()
	}
}

// deposit handles a package from a replier: a "req!" offering to take a
// request, or a reply. Packages not addressed to this context are
// ignored. Loop goroutine (through its receiver adapter).
func (c *ReqChannel) deposit(p reactor.Package) {
	if p.DestID == 0 || p.DestID != c.x.ID() || c.closed.Load() {
		return
	}
	switch {
	case p.DestSeq > seqRef:
		c.taken(p.DestSeq-seqRef, p.SourceID)
		if bytes.Equal(p.Data, msgTakeFast) {
			c.fastReplierSeen(p.SourceID, time.Now())
		}
	case p.DestSeq == seqRef:
		c.creditGranted(p)
	case p.DestSeq > 0:
		c.replied(p)
	}
}

// taken handles replier's "req!" for call id: the first one gets the
// request, later ones are ignored. A "req!" for a call that is done,
// cancelled or unknown gets a "req-" back, so that replier does not wait
// for a request that will never come. Loop goroutine.
func (c *ReqChannel) taken(id, replier uint64) {
	c.mu.Lock()
	it := c.items[id]
	if it != nil && it.replier != 0 {
		c.mu.Unlock()
		return
	}
	var payload []byte
	if it != nil {
		if ok, _ := it.fut.SetRunningOrNotifyCancel(); ok {
			c.leftWaitingLocked(it)
			it.replier = replier
			payload, it.payload = it.payload, nil
		}
	}
	c.mu.Unlock()
	if payload == nil {
		_ = c.ep.Send(context.Background(), msgCancel, to(replier, id+seqRef))
		return
	}
	_ = c.ep.Send(context.Background(), payload, to(replier, id))
	_ = c.ep.Send(context.Background(), msgCancel, to(0, id+seqRef))
	c.announceHeld()
}

// replied completes the call a reply answers. Replies for unknown calls,
// or from another context than the one that took the call, are ignored.
// Loop goroutine.
func (c *ReqChannel) replied(p reactor.Package) {
	c.mu.Lock()
	it := c.items[p.DestSeq]
	if it == nil || it.replier != p.SourceID {
		c.mu.Unlock()
		return
	}
	delete(c.items, p.DestSeq)
	c.mu.Unlock()
	if it.direct {
		c.directAnswered(it.replier)
	}
	v, err := wire.DecodeObject(p.Data)
	if err != nil {
		_ = it.fut.SetException(fmt.Errorf("%w (reply): %w", ErrDecode, err))
		return
	}
	if t, ok := v.(wire.Tuple); ok && len(t) == 2 && t[0] == ErrorObject {
		msg, ok := t[1].(string)
		if !ok {
			msg = wire.Repr(t[1])
		}
		c.remoteErrors.Add(1)
		_ = it.fut.SetException(&futures.RemoteError{Message: msg})
		return
	}
	c.replies.Add(1)
	_ = it.fut.SetResult(v)
}

// endBatch queues one Received emit: replies are handled as they are
// deposited. Loop goroutine (through its receiver adapter).
func (c *ReqChannel) endBatch() { emitOnce(c.loop, &c.posted, c.Received, c) }

// Pending returns 0: a ReqChannel handles offers and replies as they
// arrive, on the loop, and queues none (yoton's queues them until its
// event loop processes them; Outstanding counts the calls waiting for a
// reply). Safe for concurrent use.
func (c *ReqChannel) Pending() int { return 0 }

// Close detaches the channel: Call returns reactor.ErrClosed afterwards and
// every outstanding future fails with reactor.ErrClosed (running ones too: no
// reply can reach a closed channel). Idempotent; safe for concurrent use.
func (c *ReqChannel) Close() error {
	if !c.close() {
		return nil
	}
	c.mu.Lock()
	items := c.items
	c.items = map[uint64]*request{}
	clear(c.credits)
	c.waiting = nil
	c.announced, c.held = 0, 0
	c.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(items)) {
		_ = items[id].fut.SetException(errClosed)
	}
	return nil
}

// Call calls method on a replier through req, waits for the reply until
// ctx ends and converts it to T, a typed form of ReqChannel.Call: args
// are the positional arguments, and a last argument of type Kwargs gives
// the keyword arguments.
//
// Two deadlines apply. ctx bounds the whole wait: when it ends first the
// error wraps futures.ErrTimeout and ctx's error (context.DeadlineExceeded
// for a deadline); a call no replier took yet is cancelled ("req-"), and
// one a replier runs is forgotten (its late reply is dropped). The
// channel's Timeout (yoton's auto-cancel, 10 s by default) cancels a call
// that no replier has taken by then, with a *futures.AutoCancelError
// (which matches futures.ErrTimeout and context.DeadlineExceeded too); it
// never ends a call that runs. So errors.Is(err, context.DeadlineExceeded)
// catches both. A replier's failure is a *futures.RemoteError. A reply
// that does not convert to T (see Register for the conversions) gives an
// error wrapping ErrDecode. Safe for concurrent use; on the loop
// goroutine it returns reactor.ErrBlockingCall.
func Call[T any](ctx context.Context, req *ReqChannel, method string, args ...any) (T, error) {
	var zero T
	if req.loop.OnLoop() {
		return zero, reactor.ErrBlockingCall
	}
	var kwargs Kwargs
	if n := len(args); n > 0 {
		if kw, ok := args[n-1].(Kwargs); ok {
			args, kwargs = args[:n-1], kw
		}
	}
	fut, id, err := req.call(method, args, kwargs)
	if err != nil {
		return zero, err
	}
	v, err := fut.ResultOrCancel(ctx)
	if err != nil {
		if errors.Is(err, futures.ErrTimeout) && fut.Running() {
			req.forget(id)
		}
		return zero, err
	}
	return convertTo[T](v)
}

// Method returns a typed stub for one remote method, the Go form of
// yoton's proxy attribute req.method: add := Method[int64](req, "add")
// then sum, err := add(ctx, 3, 4). The stub behaves as Call. Safe for
// concurrent use.
func Method[T any](req *ReqChannel, method string) func(ctx context.Context, args ...any) (T, error) {
	return func(ctx context.Context, args ...any) (T, error) {
		return Call[T](ctx, req, method, args...)
	}
}
