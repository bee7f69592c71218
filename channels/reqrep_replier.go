package channels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goyoton/yoton/internal/loop"
	"github.com/goyoton/yoton/internal/objconv"
	"github.com/goyoton/yoton/internal/queue"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
	"github.com/goyoton/yoton/wire"
)

// RepMode is how a RepChannel handles requests (yoton's set_mode). A
// RepMode is a plain value, safe for concurrent use.
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
// function it can call.
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

// RepOption configures a RepChannel. Options are immutable values, safe
// for concurrent use.
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
// handlers short. Default: no bound, as yoton. Safe for concurrent use.
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
// least 1. Safe for concurrent use.
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
// SetMode(RepWorkers) and end on Close (Shutdown waits for them). Safe
// for concurrent use.
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
// A RepChannel takes as many requests at once as its window (WithWindow,
// 1 by default, in RepEvent mode) or its worker count (RepWorkers mode):
// while full it does not offer to take another, so several repliers at
// one slot share the load and a slow one does not hold up the others. A handler's failure, panic, an unknown method or
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
	// Stats counters: requests run, and those answered with an error.
	handled, failed atomic.Uint64
	hexID           string
	ctx             context.Context // given to handlers; ends on Close
	stop            context.CancelFunc

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
	expiry  *loop.Entry
	busy    int               // requests being handled
	backlog []reactor.Package // requests waiting for a free handler
	pool    chan reactor.Package

	// The fast path's grants to Go requesters (reqrep_fast.go).
	grants     map[uint64]*grant
	direct     map[preRequest]struct{} // direct requests not answered: requester, id
	grantCheck *loop.Entry

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
// starts in RepOff mode. It fails with reactor.ErrSlotNotFree when x already has
// a channel on either slot, with reactor.ErrInvalidSlot for a blank slotBase,
// with ErrNilContext for a nil x, and with reactor.ErrBadOption for an
// invalid option. Safe for concurrent use.
func NewRepChannel(x *reactor.Context, slotBase string, opts ...RepOption) (*RepChannel, error) {
	cfg := repConfig{workers: 1, window: 1}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", reactor.ErrBadOption)
		}
		if err := o.applyRep(&cfg); err != nil {
			return nil, err
		}
	}
	if x == nil {
		return nil, ErrNilContext
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
		in:       newQueue(x),
	}
	c.Received = timers.NewSignal[*RepChannel](x.Reactor())
	c.ctx, c.stop = context.WithCancel(context.Background())
	c.handlers["echo"] = &handler{call: c.echo, echo: true}
	if err := c.attach(x, slotBase, Object.Name(), patternRepReq, patternReqRep, (*repReceiver)(c), c.Close); err != nil {
		c.stop()
		return nil, err
	}
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

// RepStats counts what a RepChannel did. JSON-tagged for expvar.
type RepStats struct {
	Handled   uint64 `json:"handled"`   // requests run (or refused as undecodable)
	Errors    uint64 `json:"errors"`    // of those, answered with an error
	Overran   uint64 `json:"overran"`   // ran past WithHandlerTimeout (Overran)
	Discarded uint64 `json:"discarded"` // dropped by the full backlog (Discarded)
	Pending   int    `json:"pending"`   // waiting to be handled now (Pending)
}

// Stats returns the channel's counters. Safe for concurrent use.
func (c *RepChannel) Stats() RepStats {
	return RepStats{
		Handled:   c.handled.Load(),
		Errors:    c.failed.Load(),
		Overran:   c.overran.Load(),
		Discarded: c.dropped.Load(),
		Pending:   c.Pending(),
	}
}

// Mode returns the mode the channel was last set to. Safe for concurrent
// use; off the loop it waits for the loop to read the mode (while a
// RepEvent handler runs, that is until it returns), and it returns
// RepOff once the reactor is closed.
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
// there). It fails with reactor.ErrClosed on a closed channel and with
// ErrBadMode for an unknown mode. Safe for concurrent use.
func (c *RepChannel) SetMode(m RepMode) error {
	if m < RepOff || m > RepWorkers {
		return fmt.Errorf("%w: %d", ErrBadMode, int(m))
	}
	if c.closed.Load() {
		return errClosed
	}
	apply := func() { c.applyMode(m) }
	if c.loop.OnLoop() {
		apply()
		return nil
	}
	if err := c.loop.Post(apply); err != nil {
		return fmt.Errorf("%w: %w", errClosed, err)
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

// deposit queues an arrived package. Loop goroutine (through its receiver adapter).
func (c *RepChannel) deposit(p reactor.Package) {
	if !c.closed.Load() {
		before := c.in.Discarded()
		if !c.in.Push(p) {
			c.dropped.Add(c.in.Discarded() - before)
		}
	}
}

// endBatch queues the handling of the batch. Loop goroutine
// (through its receiver adapter).
func (c *RepChannel) endBatch() {
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
	if limits := c.x.QueueLimits(); len(c.backlog) >= limits.Size {
		// Requests sent to us without an offer (a peer flooding us)
		// meet a full backlog: it obeys the queue size and rule too.
		c.dropped.Add(1)
		if limits.Discard == reactor.DiscardNew {
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
			c.ops.AfterFunc(sleep, func() {
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
		_ = c.ep.Send(context.Background(), msgTakeFast, to(pr.source, pr.seq))
	}
	for _, id := range grown {
		c.sendGrant(id, c.grants[id].window)
	}
	if len(c.offers) > 0 && (c.expiry == nil || !c.expiry.Scheduled()) {
		c.expiry = c.ops.AfterFunc(PreRequestExpiry+resendCheck, c.expire)
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
		c.expiry = c.ops.AfterFunc(max(left, 0)+resendCheck, c.expire)
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
		c.handled.Add(1)
		c.failed.Add(1)
		return errorReply(err.Error())
	}
	return c.run(ctx, name, args, kwargs)
}

// run runs the handler of method name and returns the reply: the
// handler's value, or the error tuple. It never panics. Any goroutine.
func (c *RepChannel) run(ctx context.Context, name string, args []any, kwargs *wire.Dict) (reply any) {
	c.handled.Add(1)
	defer func() {
		if t, ok := reply.(wire.Tuple); ok && len(t) == 2 && t[0] == ErrorObject {
			c.failed.Add(1)
		}
	}()
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
	obj, err := objconv.ToObject(v)
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
	_ = c.ep.Send(c.ctx, b, to(p.SourceID, p.DestSeq))
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
			c.ops.CancelTimer(c.grantCheck)
			c.grantCheck = nil
		}
		if c.expiry != nil {
			c.ops.CancelTimer(c.expiry)
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
// for concurrent use; on the loop goroutine it returns reactor.ErrBlockingCall
// (after closing).
func (c *RepChannel) Shutdown(ctx context.Context) error {
	_ = c.Close()
	if c.loop.OnLoop() {
		return reactor.ErrBlockingCall
	}
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
