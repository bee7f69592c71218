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
	"github.com/goyoton/yoton/internal/queue"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
	"github.com/goyoton/yoton/wire"
)

// Request/reply as yoton 2.2 speaks it (docs/protocol.md, section 8):
//
//   - The requester numbers its requests from 1 and announces request id
//     with "req?" to everyone, dest_seq = id + 2^63, resent every 0.5 s
//     while nobody has taken it.
//   - A free replier answers the oldest announcement it holds with "req!"
//     (dest_id = requester, same dest_seq) and takes no other while that
//     one is open.
//   - The first "req!" wins: the requester sends the request itself,
//     (method, args, kwargs), to that replier only (dest_seq = id), then
//     "req-" to everyone so that the other repliers drop it. Later "req!"s
//     for it are refused.
//   - The replier answers the requester with dest_seq = id: the returned
//     value, or ("yoton_ERROR_HANDLING_REQUEST", message).

// Messaging patterns of request/reply.
const (
	patternReqRep = "req-rep"
	patternRepReq = "rep-req"
)

// Request/reply constants, as yoton has them.
const (
	// DefaultRequestTimeout is how long a request waits for its reply
	// before its future cancels itself (yoton's auto-cancel timeout).
	DefaultRequestTimeout = 10 * time.Second
	// ResendInterval is how often a requester repeats the announcement of
	// a request nobody has taken yet.
	ResendInterval = 500 * time.Millisecond
	// PreRequestExpiry is how long a replier keeps waiting for a request
	// it offered to take ("req!") before it offers to take another one.
	PreRequestExpiry = 10 * time.Second
	// ErrorObject is the first item of the tuple a replier sends back
	// when handling a request failed; the second item is the message.
	ErrorObject = "yoton_ERROR_HANDLING_REQUEST"
)

// seqRef is added to a request id in the dest_seq of announcements.
const seqRef = 1 << 63

// resendCheck is how often a requester looks for announcements to resend
// (yoton checks every 0.1 s too).
const resendCheck = 100 * time.Millisecond

var (
	msgAsk    = []byte("req?")
	msgTake   = []byte("req!")
	msgCancel = []byte("req-")
)

// Kwargs holds the keyword arguments of a call. Keys are argument names;
// values are anything Call accepts as an argument.
type Kwargs map[string]any

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
// reply always carries objects). It fails with ErrSlotNotFree when x
// already has a channel on either slot, and with ErrInvalidSlot for a
// blank slotBase or a nil x. Safe for concurrent use.
func NewReqChannel(x *reactor.Context, slotBase string) (*ReqChannel, error) {
	if x == nil {
		return nil, fmt.Errorf("%w: nil context", ErrInvalidSlot)
	}
	c := &ReqChannel{loop: x.Reactor(), items: map[uint64]*request{}, credits: map[uint64]*credit{}}
	c.Received = timers.NewSignal[*ReqChannel](x.Reactor())
	c.timeout.Store(int64(DefaultRequestTimeout))
	if err := c.init(x, slotBase, Object.Name(), patternReqRep, patternRepReq, c); err != nil {
		return nil, err
	}
	c.track(c)
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
// the channel ends every outstanding future with ErrClosed.
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
		return nil, 0, ErrClosed
	}
	payload, err := encodeRequest(method, args, kwargs)
	if err != nil {
		return nil, 0, err
	}
	id := c.counter.Add(1)
	fut, err := futures.New[any](c.loop, futures.OnCancel(func() { c.cancelled(id) }))
	if err != nil {
		return nil, 0, err
	}
	now := time.Now()
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return nil, 0, ErrClosed
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
		if err := c.x.Send(context.Background(), c.slotOutID, msgAsk, 0, id+seqRef); err != nil {
			c.abandon(id, err)
			return nil, 0, c.sendErr(err)
		}
	}
	return fut, id, nil
}

// sendErr reports a closed context or reactor as the channel's ErrClosed.
func (c *ReqChannel) sendErr(err error) error {
	if errors.Is(err, reactor.ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
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
	c.loop.AfterFunc(resendCheck, c.resend)
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
		_ = c.x.Send(context.Background(), c.slotOutID, msgAsk, 0, id+seqRef)
	}
	c.loop.AfterFunc(resendCheck, c.resend)
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
		_ = c.x.Send(context.Background(), c.slotOutID, msgCancel, 0, id+seqRef)
		c.announceHeld()
	}
}

// Deposit handles a package from a replier: a "req!" offering to take a
// request, or a reply. Packages not addressed to this context are
// ignored. Loop goroutine (reactor.Receiver).
func (c *ReqChannel) Deposit(p reactor.Package) {
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
		_ = c.x.Send(context.Background(), c.slotOutID, msgCancel, replier, id+seqRef)
		return
	}
	_ = c.x.Send(context.Background(), c.slotOutID, payload, replier, id)
	_ = c.x.Send(context.Background(), c.slotOutID, msgCancel, 0, id+seqRef)
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
		_ = it.fut.SetException(&futures.RemoteError{Message: msg})
		return
	}
	_ = it.fut.SetResult(v)
}

// EndBatch queues one Received emit: replies are handled as they are
// deposited. Loop goroutine (reactor.Receiver).
func (c *ReqChannel) EndBatch() { emitOnce(c.loop, &c.posted, c.Received, c) }

// Pending returns 0: a ReqChannel handles offers and replies as they
// arrive, on the loop, and queues none (yoton's queues them until its
// event loop processes them; Outstanding counts the calls waiting for a
// reply). Safe for concurrent use.
func (c *ReqChannel) Pending() int { return 0 }

// Close detaches the channel: Call returns ErrClosed afterwards and
// every outstanding future fails with ErrClosed (running ones too: no
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
		_ = items[id].fut.SetException(ErrClosed)
	}
	return nil
}

// encodeRequest encodes (method, args, kwargs) as yoton's request object.
func encodeRequest(method string, args []any, kwargs Kwargs) ([]byte, error) {
	objArgs := make(wire.Tuple, len(args))
	for i, a := range args {
		v, err := toObject(a)
		if err != nil {
			return nil, fmt.Errorf("%w: %s() argument %d: %w", ErrEncode, method, i+1, err)
		}
		objArgs[i] = v
	}
	kw := wire.NewDict()
	for _, k := range slices.Sorted(maps.Keys(kwargs)) {
		v, err := toObject(kwargs[k])
		if err != nil {
			return nil, fmt.Errorf("%w: %s() argument %s: %w", ErrEncode, method, k, err)
		}
		if err := kw.Set(k, v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrEncode, err)
		}
	}
	b, err := wire.EncodeObject(wire.Tuple{method, objArgs, kw})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return b, nil
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
// goroutine it returns ErrBlockingCall.
func Call[T any](ctx context.Context, req *ReqChannel, method string, args ...any) (T, error) {
	var zero T
	if req.loop.OnLoop() {
		return zero, ErrBlockingCall
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

// RepMode is how a RepChannel handles requests (yoton's set_mode).
type RepMode int

// The modes of a RepChannel.
const (
	// RepOff handles nothing: requests wait in the channel's queue and
	// other repliers take them (yoton's 'off', the initial mode).
	RepOff RepMode = iota
	// RepEvent runs handlers on the loop goroutine (yoton's 'event'). A
	// slow handler blocks the whole reactor meanwhile.
	RepEvent
	// RepWorkers runs handlers on the channel's worker goroutines
	// (yoton's 'thread'), so a slow handler never blocks the loop.
	RepWorkers
)

// String returns yoton's name of the mode: "off", "event" or "thread".
// Safe for concurrent use.
func (m RepMode) String() string {
	switch m {
	case RepOff:
		return "off"
	case RepEvent:
		return "event"
	case RepWorkers:
		return "thread"
	}
	return fmt.Sprintf("RepMode(%d)", int(m))
}

// ErrBadHandler is returned by Register for a value that is not a
// function it can call, and by SetMode for an unknown mode.
var ErrBadHandler = errors.New("yoton: invalid request handler")

// Handler is the low-level form of a request handler: it gets the
// positional and keyword arguments as decoded (see Call for the types)
// and returns the reply, a value Call accepts as an argument, or an
// error, which the requester receives as a *futures.RemoteError with the
// error's text. It runs on the loop goroutine in RepEvent mode (where it
// must not block) and on a worker goroutine in RepWorkers mode (where
// several may run at once with WithWorkers(n > 1)). It must not keep or
// modify args and kwargs after returning.
type Handler func(args []any, kwargs *wire.Dict) (any, error)

// RepOption configures a RepChannel.
type RepOption interface{ applyRep(*repConfig) error }

type repConfig struct {
	workers        int
	window         int
	handlerTimeout time.Duration
}

// WithHandlerTimeout bounds how long one request may take: the context a
// handler gets (a registered Go function whose first parameter is a
// context.Context) ends after d, echo's sleep is cut to d (and then
// answers with an error), and a handler that returns later than d is
// counted in Overran. A handler that ignores its context still runs to
// its end: in RepEvent mode the loop waits for it, so keep event-mode
// handlers short. Default: no bound, as yoton.
func WithHandlerTimeout(d time.Duration) RepOption {
	return repOptionFunc(func(c *repConfig) error {
		if d <= 0 {
			return fmt.Errorf("%w: handler timeout %v <= 0", reactor.ErrBadOption, d)
		}
		c.handlerTimeout = d
		return nil
	})
}

type repOptionFunc func(*repConfig) error

func (f repOptionFunc) applyRep(c *repConfig) error { return f(c) }

// WithWindow sets how many requests a RepChannel in RepEvent mode takes
// at once: it offers to take ("req!") another request while fewer than n
// are offered, queued or running (default 1, yoton's rule of one request
// at a time). Handlers still run one after another on the loop; a window
// lets the requests of many callers flow without a round trip between
// them. In RepWorkers mode the window is the worker count. n must be at
// least 1.
func WithWindow(n int) RepOption {
	return repOptionFunc(func(c *repConfig) error {
		if n < 1 {
			return fmt.Errorf("%w: window of %d", reactor.ErrBadOption, n)
		}
		c.window = n
		return nil
	})
}

// WithWorkers sets how many requests a RepChannel in RepWorkers mode
// handles at once, each on a worker goroutine of its own (default 1, as
// yoton's one thread). n must be at least 1. The workers start with
// SetMode(RepWorkers) and end on Close (Shutdown waits for them).
func WithWorkers(n int) RepOption {
	return repOptionFunc(func(c *repConfig) error {
		if n < 1 {
			return fmt.Errorf("%w: %d workers", reactor.ErrBadOption, n)
		}
		c.workers = n
		return nil
	})
}

// RepChannel is the replying end of request/reply. Register the methods
// it serves, then SetMode to RepEvent or RepWorkers; it starts in
// RepOff, as yoton's. Every RepChannel serves echo(arg1, sleep=0),
// which returns (arg1, hex(context id)) after sleeping sleep seconds
// (without blocking the loop in RepEvent mode).
//
// A RepChannel takes one request at a time (up to its worker count in
// RepWorkers mode): while busy it does not offer to take another, so
// several repliers at one slot share the load and a slow one does not
// hold up the others. A handler's failure, panic, an unknown method or
// a request that does not decode becomes yoton's error reply; the
// channel keeps serving.
//
// All methods are safe for concurrent use. The protocol runs on the loop
// goroutine; handlers run there (RepEvent) or on the channel's worker
// goroutines (RepWorkers), which end on Close.
type RepChannel struct {
	base
	loop *reactor.Reactor

	// Received is emitted on the loop, with the channel, once per batch
	// of packages that arrived for it (announcements and requests;
	// yoton's received signal).
	Received *timers.Signal[*RepChannel]
	emitting bool         // loop-owned: a Received emit is queued
	pending  atomic.Int64 // requests and announcements not handled yet

	workers int
	window  int           // WithWindow: requests taken at once in RepEvent mode
	timeout time.Duration // WithHandlerTimeout; 0 for none
	overran atomic.Uint64 // handlers that took longer than timeout
	hexID   string
	ctx     context.Context // given to handlers; ends on Close
	stop    context.CancelFunc

	hmu      sync.RWMutex
	handlers map[string]*handler

	// Worker goroutines: counted under wmu; exited is closed once the
	// channel is closed and the last one has returned.
	wmu        sync.Mutex
	running    int
	exited     chan struct{}
	exitedOnce sync.Once

	// Loop-owned.
	in      *queue.Ring[reactor.Package] // deposited, not handled yet
	posted  bool                         // a process call is queued
	mode    RepMode
	preReqs []preRequest             // announcements waiting, oldest first
	preFrom map[uint64]int           // how many of preReqs each requester made
	offers  map[preRequest]time.Time // open offers ("req!"): when made
	expiry  *timers.Entry
	busy    int               // requests being handled
	backlog []reactor.Package // requests waiting for a free handler
	pool    chan reactor.Package

	// The fast path's grants to Go requesters (reqrep_fast.go).
	grants     map[uint64]*grant
	direct     map[preRequest]struct{} // direct requests not answered: requester, id
	grantCheck *timers.Entry

	dropped atomic.Uint64 // requests the full backlog discarded
}

// preRequest identifies an announcement: requester and dest_seq.
type preRequest struct{ source, seq uint64 }

// handler is a registered method.
type handler struct {
	call func(ctx context.Context, args []any, kwargs *wire.Dict) (any, error)
	echo bool // the built-in echo: sleeps on a timer in RepEvent mode
}

// NewRepChannel attaches a replying channel to x at slotBase: it
// receives on slotBase.obj.req-rep and sends on slotBase.obj.rep-req. It
// starts in RepOff mode. It fails with ErrSlotNotFree when x already has
// a channel on either slot, with ErrInvalidSlot for a blank slotBase or a
// nil x, and with reactor.ErrBadOption for an invalid option. Safe for
// concurrent use.
func NewRepChannel(x *reactor.Context, slotBase string, opts ...RepOption) (*RepChannel, error) {
	cfg := repConfig{workers: 1, window: 1}
	for _, o := range opts {
		if err := o.applyRep(&cfg); err != nil {
			return nil, err
		}
	}
	if x == nil {
		return nil, fmt.Errorf("%w: nil context", ErrInvalidSlot)
	}
	c := &RepChannel{
		loop:     x.Reactor(),
		workers:  cfg.workers,
		window:   cfg.window,
		timeout:  cfg.handlerTimeout,
		offers:   map[preRequest]time.Time{},
		preFrom:  map[uint64]int{},
		grants:   map[uint64]*grant{},
		direct:   map[preRequest]struct{}{},
		hexID:    fmt.Sprintf("0x%x", x.ID()),
		handlers: map[string]*handler{},
		exited:   make(chan struct{}),
		in:       x.NewQueue(),
	}
	c.Received = timers.NewSignal[*RepChannel](x.Reactor())
	c.ctx, c.stop = context.WithCancel(context.Background())
	c.handlers["echo"] = &handler{call: c.echo, echo: true}
	if err := c.init(x, slotBase, Object.Name(), patternRepReq, patternReqRep, c); err != nil {
		c.stop()
		return nil, err
	}
	c.track(c)
	return c, nil
}

// Handle registers h as the handler of method name, replacing any
// handler of that name (echo too); a nil h removes it. Safe for
// concurrent use; it applies to requests handled afterwards.
func (c *RepChannel) Handle(name string, h Handler) {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	if h == nil {
		delete(c.handlers, name)
		return
	}
	c.handlers[name] = &handler{call: func(_ context.Context, args []any, kwargs *wire.Dict) (any, error) {
		return h(args, kwargs)
	}}
}

// Register registers fn, any Go function, as the handler of method
// name, replacing any handler of that name. A Handler (or a function of
// its signature) is used as is; any other function is adapted:
//
//   - An optional first parameter of type context.Context gets a context
//     that ends when the channel closes.
//   - The other parameters take the positional arguments in order,
//     converted to the parameter types: int64 to any integer type (in
//     range), int64 or float64 to float types, lists and tuples to
//     slices and arrays, dicts to maps, nil to pointers, slices, maps and
//     interfaces; any and the decoded types take the value as it came. A
//     variadic function takes the extra arguments in its last parameter.
//   - A struct parameter after the positional ones takes the keyword
//     arguments by field (`yoton:"name"` tags, or the field's Python-style
//     name), and extra positional arguments fill its fields in order, as
//     described under RegisterService.
//   - A last parameter of type Kwargs gets the keyword arguments (those
//     no struct field takes); without either, a call with keyword
//     arguments fails.
//   - It may return nothing, a value, an error, or a value and an error.
//     The value is converted as Call converts arguments.
//
// Argument mismatches are reported to the requester in the words of a
// Python TypeError ("add() takes 2 positional arguments but 3 were
// given"). fn runs where a Handler runs. Register fails with an error
// wrapping ErrBadHandler when fn is not such a function. Safe for
// concurrent use.
func (c *RepChannel) Register(name string, fn any) error {
	call, err := adapt(name, fn)
	if err != nil {
		return err
	}
	c.hmu.Lock()
	defer c.hmu.Unlock()
	c.handlers[name] = &handler{call: call}
	return nil
}

// Overran returns how many requests took longer than WithHandlerTimeout
// (echo's sleeps cut to it included). Safe for concurrent use.
func (c *RepChannel) Overran() uint64 { return c.overran.Load() }

// Discarded returns how many requests and announcements the channel has
// dropped under its context's queue size and discard rule (its incoming
// queue and its backlog of requests waiting for a handler). Safe for
// concurrent use.
func (c *RepChannel) Discarded() uint64 { return c.dropped.Load() }

// Mode returns the mode the channel was last set to. Safe for concurrent
// use.
func (c *RepChannel) Mode() RepMode {
	var m RepMode
	if c.loop.OnLoop() {
		return c.mode
	}
	if err := c.loop.Do(context.Background(), func() { m = c.mode }); err != nil {
		return RepOff
	}
	return m
}

// SetMode sets how the channel handles requests (yoton's set_mode):
// RepOff stops handling (queued requests wait), RepEvent handles them on
// the loop goroutine, RepWorkers on worker goroutines. Leaving
// RepWorkers lets the workers finish the requests they hold, then they
// end. The change is made on the loop goroutine (at once when called
// there). It fails with ErrClosed on a closed channel and with
// ErrBadHandler for an unknown mode. Safe for concurrent use.
func (c *RepChannel) SetMode(m RepMode) error {
	if m < RepOff || m > RepWorkers {
		return fmt.Errorf("%w: unknown mode %v", ErrBadHandler, m)
	}
	if c.closed.Load() {
		return ErrClosed
	}
	apply := func() { c.applyMode(m) }
	if c.loop.OnLoop() {
		apply()
		return nil
	}
	if err := c.loop.Post(apply); err != nil {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return nil
}

// applyMode switches modes. Loop goroutine.
func (c *RepChannel) applyMode(m RepMode) {
	if c.closed.Load() {
		return
	}
	if m != c.mode {
		c.revokeGrants() // the capacity they were cut from changes
	}
	c.mode = m
	if m != RepWorkers && c.pool != nil {
		close(c.pool)
		c.pool = nil
	}
	if m == RepWorkers && c.pool == nil {
		c.startWorkers()
	}
	if m != RepOff {
		c.dispatch()
		c.schedule()
	}
}

// startWorkers starts the worker goroutines. Loop goroutine.
func (c *RepChannel) startWorkers() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed.Load() {
		return
	}
	pool := make(chan reactor.Package, c.workers)
	c.pool = pool
	for range c.workers {
		c.running++
		go c.work(pool)
	}
}

// work is a worker goroutine: it handles requests from pool until the
// pool is closed (mode change) or the channel closes.
func (c *RepChannel) work(pool <-chan reactor.Package) {
	defer c.workerExited()
	for {
		select {
		case <-c.ctx.Done():
			return
		case p, ok := <-pool:
			if !ok {
				return
			}
			c.sendReply(p, c.handle(c.ctx, p))
			if err := c.loop.Post(func() { c.answered(p); c.finished() }); err != nil {
				return
			}
		}
	}
}

func (c *RepChannel) workerExited() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.running--
	if c.running == 0 && c.closed.Load() {
		c.exitedOnce.Do(func() { close(c.exited) })
	}
}

// finished counts a handled request off. Loop goroutine.
func (c *RepChannel) finished() {
	c.busy--
	c.dispatch()
	c.offer()
	c.countPending()
}

// Deposit queues an arrived package. Loop goroutine (reactor.Receiver).
func (c *RepChannel) Deposit(p reactor.Package) {
	if !c.closed.Load() {
		before := c.in.Discarded()
		if !c.in.Push(p) {
			c.dropped.Add(c.in.Discarded() - before)
		}
	}
}

// EndBatch queues the handling of the batch. Loop goroutine
// (reactor.Receiver).
func (c *RepChannel) EndBatch() {
	if c.mode != RepOff {
		c.schedule()
	}
	c.countPending()
	emitOnce(c.loop, &c.emitting, c.Received, c)
}

// countPending publishes how many packages wait. Loop goroutine.
func (c *RepChannel) countPending() {
	c.pending.Store(int64(c.in.Len() + len(c.backlog)))
}

// Pending returns how many arrived packages (requests, and yoton's
// announcements) the channel has not handled yet: those queued while it
// is off or busy, and the requests waiting for a free handler. Safe for
// concurrent use.
func (c *RepChannel) Pending() int { return int(c.pending.Load()) }

// schedule queues one process call. Loop goroutine.
func (c *RepChannel) schedule() {
	if c.posted || c.in.Len() == 0 {
		return
	}
	c.posted = true
	if err := c.loop.Post(c.process); err != nil {
		c.posted = false
	}
}

// process handles every queued package, as yoton's
// _process_events_local. Loop goroutine.
func (c *RepChannel) process() {
	c.posted = false
	for c.mode != RepOff && !c.closed.Load() {
		p, ok := c.in.PopFront()
		if !ok {
			break
		}
		c.iterate(p)
		c.offer()
	}
	c.offer()
	c.countPending()
}

// iterate handles one package (yoton's _replier_iteration). Loop
// goroutine.
func (c *RepChannel) iterate(p reactor.Package) {
	if p.DestSeq == seqRef {
		// The fast path's credit request; nothing else has this number.
		if bytes.Equal(p.Data, msgCreditAsk) {
			c.creditAsked(p.SourceID)
		}
		return
	}
	if p.DestSeq > seqRef {
		pr := preRequest{source: p.SourceID, seq: p.DestSeq}
		// Either way, drop the queued announcement (a resent one must
		// not stack up).
		if n := len(c.preReqs); len(slices.DeleteFunc(c.preReqs, func(q preRequest) bool { return q == pr })) < n {
			c.preReqs = c.preReqs[:n-1]
			c.preReqGone(pr.source)
		}
		switch string(p.Data) {
		case "req-":
			delete(c.offers, pr)
		case "req?":
			if len(c.preReqs) >= c.in.Limit() {
				c.preReqGone(c.preReqs[0].source)
				c.preReqs = slices.Delete(c.preReqs, 0, 1)
			}
			c.preReqs = append(c.preReqs, pr)
			c.preFrom[pr.source]++
		}
		return
	}
	// A request: the offer it answers (if any) is closed; without one it
	// may come within a fast-path grant.
	if offer := (preRequest{source: p.SourceID, seq: p.DestSeq + seqRef}); c.offers[offer].IsZero() {
		c.directRequest(p)
	} else {
		delete(c.offers, offer)
	}
	if size, rule := c.x.QueueParams(); len(c.backlog) >= size {
		// Requests sent to us without an offer (a peer flooding us)
		// meet a full backlog: it obeys the queue size and rule too.
		c.dropped.Add(1)
		if rule == reactor.DiscardNew {
			c.answered(p) // never answered: settle its grant
			return
		}
		c.answered(c.backlog[0])
		c.backlog[0] = reactor.Package{}
		c.backlog = c.backlog[1:]
	}
	c.backlog = append(c.backlog, p)
	c.dispatch()
}

// free reports whether the channel can start handling one more request.
// Loop goroutine.
func (c *RepChannel) free() bool { return c.busy < c.capacity() }

// capacity is how many requests the channel takes at once in its mode:
// its window in RepEvent mode, its worker count in RepWorkers mode.
// Loop goroutine.
func (c *RepChannel) capacity() int {
	switch c.mode {
	case RepEvent:
		return c.window
	case RepWorkers:
		return c.workers
	}
	return 0
}

// room reports whether the channel can offer to take one more request:
// the requests it handles, holds and has offered to take are fewer than
// its capacity. Loop goroutine.
func (c *RepChannel) room() bool {
	return c.busy+len(c.backlog)+len(c.offers)+c.reserved() < c.capacity()
}

// dispatch hands waiting requests to handlers while there is room.
// Loop goroutine.
func (c *RepChannel) dispatch() {
	for len(c.backlog) > 0 && c.free() && !c.closed.Load() {
		p := c.backlog[0]
		c.backlog[0] = reactor.Package{}
		c.backlog = c.backlog[1:]
		if c.mode == RepWorkers {
			c.busy++
			c.pool <- p // never blocks: busy <= workers = cap(pool)
			continue
		}
		c.handleOnLoop(p)
	}
	if len(c.backlog) == 0 {
		c.backlog = nil
	}
}

// handleOnLoop handles a request in RepEvent mode. echo's sleep is a
// timer, during which the channel counts as busy. Loop goroutine.
func (c *RepChannel) handleOnLoop(p reactor.Package) {
	name, args, kwargs, err := decodeRequest(p.Data)
	if err != nil {
		c.sendReply(p, errorReply(err.Error()))
		c.answered(p)
		return
	}
	if h := c.lookup(name); h != nil && h.echo {
		if arg1, sleep, err := echoArgs(args, kwargs); err == nil && sleep > 0 {
			c.busy++
			var reply any = wire.Tuple{arg1, c.hexID}
			if c.timeout > 0 && sleep > c.timeout {
				c.overran.Add(1)
				reply = errorReply(fmt.Sprintf("echo: sleep of %v cut to the handler time-out %v", sleep, c.timeout))
				sleep = c.timeout
			}
			c.loop.AfterFunc(sleep, func() {
				c.sendReply(p, reply)
				c.answered(p)
				c.finished()
			})
			return
		}
	}
	c.sendReply(p, c.run(c.ctx, name, args, kwargs))
	c.answered(p)
}

// offer answers the oldest announcements with "req!" while the channel
// has room (yoton's _acknowledge_next_pre_request, which has room for
// one). Loop goroutine.
func (c *RepChannel) offer() {
	if len(c.preReqs) == 0 || c.closed.Load() {
		return
	}
	var now time.Time
	var grown []uint64
	for len(c.preReqs) > 0 && c.room() {
		pr := c.preReqs[0]
		c.preReqs = slices.Delete(c.preReqs, 0, 1)
		c.preReqGone(pr.source)
		if g := c.grants[pr.source]; g != nil {
			// A Go requester that asked for credit: its grant grows
			// instead, and it sends its oldest waiting call straight.
			if g.window++; !slices.Contains(grown, pr.source) {
				grown = append(grown, pr.source)
			}
			continue
		}
		if now.IsZero() {
			now = time.Now()
		}
		c.offers[pr] = now
		_ = c.x.Send(context.Background(), c.slotOutID, msgTakeFast, pr.source, pr.seq)
	}
	for _, id := range grown {
		c.sendGrant(id, c.grants[id].window)
	}
	if len(c.offers) > 0 && (c.expiry == nil || !c.expiry.Scheduled()) {
		c.expiry = c.loop.AfterFunc(PreRequestExpiry+resendCheck, c.expire)
	}
}

// preReqGone counts off an announcement of source that left preReqs.
// Loop goroutine.
func (c *RepChannel) preReqGone(source uint64) {
	if c.preFrom[source] <= 1 {
		delete(c.preFrom, source)
	} else {
		c.preFrom[source]--
	}
}

// expire drops the offers nobody followed up for PreRequestExpiry and
// makes new ones in their place. Loop goroutine.
func (c *RepChannel) expire() {
	c.expiry = nil
	now := time.Now()
	oldest := now
	for pr, at := range c.offers {
		if now.Sub(at) > PreRequestExpiry {
			delete(c.offers, pr)
		} else if at.Before(oldest) {
			oldest = at
		}
	}
	c.offer()
	if len(c.offers) > 0 && (c.expiry == nil || !c.expiry.Scheduled()) {
		left := PreRequestExpiry - now.Sub(oldest)
		c.expiry = c.loop.AfterFunc(max(left, 0)+resendCheck, c.expire)
	}
}

func (c *RepChannel) lookup(name string) *handler {
	c.hmu.RLock()
	defer c.hmu.RUnlock()
	return c.handlers[name]
}

// handle decodes a request and runs the handler it names. Any
// goroutine.
func (c *RepChannel) handle(ctx context.Context, p reactor.Package) any {
	name, args, kwargs, err := decodeRequest(p.Data)
	if err != nil {
		return errorReply(err.Error())
	}
	return c.run(ctx, name, args, kwargs)
}

// run runs the handler of method name and returns the reply: the
// handler's value, or the error tuple. It never panics. Any goroutine.
func (c *RepChannel) run(ctx context.Context, name string, args []any, kwargs *wire.Dict) (reply any) {
	h := c.lookup(name)
	if h == nil {
		return errorReply(fmt.Sprintf("Method '%s' not implemented.", name))
	}
	defer func() {
		if v := recover(); v != nil {
			reply = errorReply(fmt.Sprintf("panic in %s(): %v", name, v))
		}
	}()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
		start := time.Now()
		defer func() {
			if time.Since(start) > c.timeout {
				c.overran.Add(1)
			}
		}()
	}
	v, err := h.call(ctx, args, kwargs)
	if err != nil {
		return errorReply(err.Error())
	}
	obj, err := toObject(v)
	if err != nil {
		return errorReply(fmt.Sprintf("cannot send the reply of %s(): %v", name, err))
	}
	return obj
}

// sendReply encodes and sends a reply to the requester of p. A reply
// that does not encode is replaced by the error tuple. Any goroutine.
func (c *RepChannel) sendReply(p reactor.Package, reply any) {
	if c.closed.Load() {
		return
	}
	b, err := wire.EncodeObject(reply)
	if err != nil {
		b, _ = wire.EncodeObject(errorReply(fmt.Sprintf("cannot send the reply: %v", err)))
	}
	_ = c.x.Send(c.ctx, c.slotOutID, b, p.SourceID, p.DestSeq)
}

func errorReply(msg string) wire.Tuple { return wire.Tuple{ErrorObject, msg} }

// decodeRequest decodes yoton's (method, args, kwargs) request object.
func decodeRequest(b []byte) (name string, args []any, kwargs *wire.Dict, err error) {
	v, err := wire.DecodeObject(b)
	if err != nil {
		return "", nil, nil, fmt.Errorf("invalid request: %w", err)
	}
	t, ok := v.(wire.Tuple)
	if !ok {
		if l, isList := v.([]any); isList {
			t, ok = wire.Tuple(l), true
		}
	}
	if !ok || len(t) != 3 {
		return "", nil, nil, fmt.Errorf("invalid request: want (name, args, kwargs), got %s", clipRepr(v))
	}
	name, ok = t[0].(string)
	if !ok {
		return "", nil, nil, fmt.Errorf("invalid request: method name %s is not a string", clipRepr(t[0]))
	}
	switch a := t[1].(type) {
	case wire.Tuple:
		args = a
	case []any:
		args = a
	default:
		return "", nil, nil, fmt.Errorf("invalid request: arguments %s are not a tuple", clipRepr(t[1]))
	}
	switch k := t[2].(type) {
	case *wire.Dict:
		kwargs = k
	case nil:
	default:
		return "", nil, nil, fmt.Errorf("invalid request: keyword arguments %s are not a dict", clipRepr(t[2]))
	}
	return name, args, kwargs, nil
}

func clipRepr(v any) string {
	s := wire.Repr(v)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// echo is yoton's default method: echo(arg1, sleep=0.0) returns
// (arg1, hex(context id)) after sleep seconds. On a worker the sleep
// ends early when the channel closes.
func (c *RepChannel) echo(ctx context.Context, args []any, kwargs *wire.Dict) (any, error) {
	arg1, sleep, err := echoArgs(args, kwargs)
	if err != nil {
		return nil, err
	}
	if sleep > 0 {
		t := time.NewTimer(sleep)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("echo: sleep of %v cut to the handler time-out %v", sleep, c.timeout)
			}
		}
	}
	return wire.Tuple{arg1, c.hexID}, nil
}

// echoArgs binds echo's arguments as Python would.
func echoArgs(args []any, kwargs *wire.Dict) (arg1 any, sleep time.Duration, err error) {
	if len(args) > 2 {
		return nil, 0, fmt.Errorf("echo() takes from 2 to 3 positional arguments but %d were given", len(args)+1)
	}
	var sleepV any = int64(0)
	have1 := len(args) > 0
	if have1 {
		arg1 = args[0]
	}
	if len(args) > 1 {
		sleepV = args[1]
	}
	for k, v := range kwargs.All() {
		switch k {
		case "arg1":
			if have1 {
				return nil, 0, errors.New("echo() got multiple values for argument 'arg1'")
			}
			arg1, have1 = v, true
		case "sleep":
			if len(args) > 1 {
				return nil, 0, errors.New("echo() got multiple values for argument 'sleep'")
			}
			sleepV = v
		default:
			return nil, 0, fmt.Errorf("echo() got an unexpected keyword argument %s", wire.Repr(k))
		}
	}
	if !have1 {
		return nil, 0, errors.New("echo() missing 1 required positional argument: 'arg1'")
	}
	var secs float64
	switch s := sleepV.(type) {
	case int64:
		secs = float64(s)
	case float64:
		secs = s
	case bool:
		if s {
			secs = 1
		}
	default:
		return nil, 0, fmt.Errorf("'%s' object cannot be interpreted as a number of seconds", pyTypeName(sleepV))
	}
	if secs < 0 || secs != secs {
		return nil, 0, errors.New("sleep length must be non-negative")
	}
	return arg1, time.Duration(min(secs, float64(time.Hour/time.Second)) * float64(time.Second)), nil
}

// Close detaches the channel: it stops handling requests, cancels the
// context its handlers get and tells the workers to stop after the
// request they are handling. It does not wait for them: Shutdown does.
// Idempotent; safe for concurrent use, also on the loop goroutine.
func (c *RepChannel) Close() error {
	if !c.close() {
		return nil
	}
	c.stop()
	c.wmu.Lock()
	if c.running == 0 {
		c.exitedOnce.Do(func() { close(c.exited) })
	}
	c.wmu.Unlock()
	clearAll := func() {
		if c.pool != nil {
			close(c.pool)
			c.pool = nil
		}
		c.in.Clear()
		c.preReqs, c.backlog = nil, nil
		clear(c.preFrom)
		clear(c.offers)
		c.revokeGrants()
		if c.grantCheck != nil {
			c.loop.CancelTimer(c.grantCheck)
			c.grantCheck = nil
		}
		if c.expiry != nil {
			c.loop.CancelTimer(c.expiry)
			c.expiry = nil
		}
	}
	if c.loop.OnLoop() {
		clearAll()
	} else {
		// A closed reactor runs nothing more: the workers end on ctx.
		_ = c.loop.Post(clearAll)
	}
	return nil
}

// Shutdown closes the channel and waits until its worker goroutines have
// returned, or ctx ends (then it returns ctx's error). Handlers get a
// context that ends on Close; one that ignores it delays Shutdown. Safe
// for concurrent use; on the loop goroutine it returns ErrBlockingCall
// (after closing).
func (c *RepChannel) Shutdown(ctx context.Context) error {
	_ = c.Close()
	if c.loop.OnLoop() {
		return ErrBlockingCall
	}
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
