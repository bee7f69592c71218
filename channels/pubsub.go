package channels

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goyoton/yoton/internal/queue"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/timers"
)

// Flow-control constants of yoton's sync mode (see docs/protocol.md, section 7).
const (
	// SendLockWait is the longest a PubChannel send waits while a
	// subscriber in sync mode says it is full.
	SendLockWait = time.Second
	// SendLockExpiry is how long a "full" message locks a PubChannel if no
	// "ok" follows; each subscriber's "full" expires on its own after it
	// (a subscriber that stays full repeats it every SyncRepeat).
	SendLockExpiry = 10 * time.Second
	// MaxFullSubscribers bounds the set of subscribers a PubChannel
	// remembers as full; one more drops the one that said so longest ago.
	MaxFullSubscribers = 1024
	// SyncHighWater: a SubChannel in sync mode says "full" once more
	// than this many messages are queued (yoton's _HWM).
	SyncHighWater = 32
	// SyncLowWater: a full SubChannel in sync mode says "ok" once fewer
	// than this many messages are queued (yoton's _LWM).
	SyncLowWater = 16
	// SyncRepeat is how often a SubChannel in sync mode repeats its
	// status, when it checks its queue (on arrivals and reads).
	SyncRepeat = 4 * time.Second
)

// queueStatus is a SubChannel's sync-mode state (yoton's QUEUE_NULL,
// QUEUE_OK and QUEUE_FULL).
type queueStatus uint8

const (
	statusNull queueStatus = iota // not in sync mode
	statusOK
	statusFull
)

// PubChannel is the publishing end of publish/subscribe: every message
// it sends reaches every SubChannel at the same slot in the network.
// Safe for concurrent use.
type PubChannel[T any] struct {
	base
	mt MessageType[T]

	lockMu    sync.Mutex
	fullFrom  map[uint64]time.Time // source id → when it said "full"
	lockUntil time.Time
	unlocked  chan struct{}
	lockWait  atomic.Int64 // the longest a Send waits while locked, in ns

	sent, sentBytes atomic.Uint64 // messages Send handed to the context
}

// NewPubChannel attaches a publishing channel to x at slotBase: it sends
// on slot slotBase.<type>.pub-sub and hears subscribers' flow-control
// messages on slotBase.<type>.sub-pub. It fails with reactor.ErrSlotNotFree when
// x already has a channel sending on that slot, with reactor.ErrInvalidSlot for
// a blank slotBase, and with ErrNilContext or ErrNilMessageType for a nil
// x or mt. Safe for concurrent use.
func NewPubChannel[T any](x *reactor.Context, slotBase string, mt MessageType[T]) (*PubChannel[T], error) {
	if mt == nil {
		return nil, ErrNilMessageType
	}
	p := &PubChannel[T]{mt: mt, fullFrom: map[uint64]time.Time{}, unlocked: make(chan struct{})}
	p.lockWait.Store(int64(SendLockWait))
	if err := p.attach(x, slotBase, mt.Name(), patternPubSub, patternSubPub, (*pubReceiver[T])(p), p.Close); err != nil {
		return nil, err
	}
	return p, nil
}

// Send publishes m. An empty encoding (an empty string, say) sends
// nothing, as in yoton. While a subscriber in sync mode reports it is
// full, Send first waits up to SendLockWait (see SetLockWait); it also waits (bounded)
// while the context's connections are congested. ctx bounds both waits.
// Send returns reactor.ErrClosed once the channel, its context or its reactor is
// closed, and wraps ErrEncode when mt cannot encode m. On the loop
// goroutine (in a callback) it never waits. Safe for concurrent use.
func (p *PubChannel[T]) Send(ctx context.Context, m T) error {
	if p.closed.Load() {
		return errClosed
	}
	b, err := p.mt.Encode(m)
	if err != nil {
		if !errors.Is(err, ErrEncode) {
			err = fmt.Errorf("%w (%s): %w", ErrEncode, p.mt.Name(), err)
		}
		return err
	}
	if len(b) == 0 {
		return nil
	}
	err = p.waitUnlocked(ctx)
	if err == nil {
		err = p.ep.Send(ctx, b, everyone)
	}
	if err == nil {
		p.sent.Add(1)
		p.sentBytes.Add(uint64(len(b)))
	}
	if err != nil {
		if errors.Is(err, reactor.ErrClosed) {
			// The context (or its reactor) closed under us: report it
			// as the channel's reactor.ErrClosed, keeping the cause.
			return fmt.Errorf("%w: %w", errClosed, err)
		}
		return err
	}
	return nil
}

func (p *PubChannel[T]) waitUnlocked(ctx context.Context) error {
	p.lockMu.Lock()
	locked := p.lockedLocked(time.Now())
	ch := p.unlocked
	p.lockMu.Unlock()
	wait := time.Duration(p.lockWait.Load())
	if !locked || wait <= 0 || p.x.Reactor().OnLoop() {
		return nil
	}
	return p.ops.WaitSignal(ctx, ch, wait)
}

// SetLockWait sets the longest a Send waits while a subscriber in sync
// mode says it is full (yoton's send lock): SendLockWait by default, and
// 0 makes Send never wait for it (Throttled still reports the lock).
// Python yoton has no such setting. A "full" message cannot be
// authenticated: any peer that reaches the network can send one in a
// made-up name, so a publisher that does not rely on sync-mode
// subscribers may turn the wait off, or bound it lower. Safe for
// concurrent use.
func (p *PubChannel[T]) SetLockWait(d time.Duration) {
	p.lockWait.Store(int64(max(d, 0)))
}

// PubStats counts what a PubChannel sent. JSON-tagged for expvar.
type PubStats struct {
	Sent      uint64 `json:"sent"`       // messages handed to the context (its queues may still drop them)
	SentBytes uint64 `json:"sent_bytes"` // their payload bytes
	Throttled bool   `json:"throttled"`  // a subscriber in sync mode says it is full
}

// Stats returns the channel's counters. Safe for concurrent use.
func (p *PubChannel[T]) Stats() PubStats {
	return PubStats{Sent: p.sent.Load(), SentBytes: p.sentBytes.Load(), Throttled: p.Throttled()}
}

// Pending returns 0: a PubChannel queues nothing it receives (the
// flow-control messages of its subscribers act at once), as in yoton,
// whose PubChannel bypasses its queue and never emits received. Safe for
// concurrent use.
func (p *PubChannel[T]) Pending() int { return 0 }

// Throttled reports whether a subscriber in sync mode has said it is
// full and has not said "ok" since (nor has the lock expired after
// SendLockExpiry): while it is true, each Send first waits up to
// SendLockWait. It is yoton's send lock, read-only. Safe for concurrent
// use.
func (p *PubChannel[T]) Throttled() bool {
	p.lockMu.Lock()
	defer p.lockMu.Unlock()
	return p.lockedLocked(time.Now())
}

// lockedLocked forgets the "full" messages that expired and reports
// whether the send lock holds. Under lockMu.
func (p *PubChannel[T]) lockedLocked(now time.Time) bool {
	for src, at := range p.fullFrom {
		if now.Sub(at) >= SendLockExpiry {
			delete(p.fullFrom, src)
		}
	}
	return len(p.fullFrom) > 0 && now.Before(p.lockUntil)
}

// deposit takes a flow-control message ("full" or "ok") from a
// subscriber. Loop goroutine (through its receiver adapter).
func (p *PubChannel[T]) deposit(pk reactor.Package) {
	p.lockMu.Lock()
	defer p.lockMu.Unlock()
	now := time.Now()
	if string(pk.Data) == "full" {
		if _, known := p.fullFrom[pk.SourceID]; !known && len(p.fullFrom) >= MaxFullSubscribers {
			oldest, when := uint64(0), now
			for src, at := range p.fullFrom {
				if !at.After(when) {
					oldest, when = src, at
				}
			}
			delete(p.fullFrom, oldest)
		}
		p.fullFrom[pk.SourceID] = now
		p.lockUntil = now.Add(SendLockExpiry)
		return
	}
	delete(p.fullFrom, pk.SourceID)
	if len(p.fullFrom) > 0 {
		// As yoton: any status message that leaves the set non-empty
		// renews the lock.
		p.lockUntil = now.Add(SendLockExpiry)
		return
	}
	close(p.unlocked)
	p.unlocked = make(chan struct{})
}

// Close detaches the channel; Send returns reactor.ErrClosed afterwards.
// Idempotent; safe for concurrent use.
func (p *PubChannel[T]) Close() error {
	p.close()
	return nil
}

// SubChannel is the subscribing end of publish/subscribe. Messages
// arrive in a bounded queue (the context's queue size and discard rule)
// and are read with Recv, TryRecv, RecvAll, Messages or, together with
// other SubChannels, SelectSubChannel and RecvSelected. In sync mode
// (SetSyncMode) it slows its publishers down when its queue grows. Safe
// for concurrent use.
type SubChannel[T any] struct {
	base
	mt MessageType[T]

	// Received is emitted on the loop, with the channel, once per batch
	// of arrived messages (several messages may give one emit; there is
	// no promise that they have not been read in the mean time).
	Received *timers.Signal[*SubChannel[T]]

	mu      sync.Mutex
	q       *queue.Ring[reactor.Package]
	waiters int
	arrived chan struct{}
	posted  bool // loop-owned: a Received emit is queued

	// Sync mode, under mu. status and repeatAt change on the loop only
	// (in checkStatus and SetSyncMode), so the "full" and "ok" messages
	// leave in the order they were decided; readers off the loop only
	// look, and post a check when one is due.
	status      queueStatus
	repeatAt    time.Time // when the current status is sent again
	checkPosted bool      // a checkStatus is queued on the loop

	ref uint64 // RecvSelected takes the messages up to this RecvSeq

	received, receivedBytes uint64 // under mu: messages deposited
}

// NewSubChannel attaches a subscribing channel to x at slotBase: it
// receives on slot slotBase.<type>.pub-sub and sends its sync-mode
// messages on slotBase.<type>.sub-pub. Its queue takes the context's
// queue size and discard rule. It fails with reactor.ErrSlotNotFree when x
// already has a channel receiving on that slot, with reactor.ErrInvalidSlot for
// a blank slotBase, and with ErrNilContext or ErrNilMessageType for a nil
// x or mt. Safe for concurrent use.
func NewSubChannel[T any](x *reactor.Context, slotBase string, mt MessageType[T]) (*SubChannel[T], error) {
	if mt == nil {
		return nil, ErrNilMessageType
	}
	if x == nil {
		return nil, ErrNilContext
	}
	s := &SubChannel[T]{mt: mt, q: newQueue(x), arrived: make(chan struct{})}
	s.Received = timers.NewSignal[*SubChannel[T]](x.Reactor())
	if err := s.attach(x, slotBase, mt.Name(), patternSubPub, patternPubSub, (*subReceiver[T])(s), s.Close); err != nil {
		return nil, err
	}
	return s, nil
}

// deposit queues one arrived package. Loop goroutine (through its receiver adapter).
func (s *SubChannel[T]) deposit(p reactor.Package) {
	s.mu.Lock()
	if !s.closed.Load() {
		s.q.Push(p)
		s.received++
		s.receivedBytes += uint64(len(p.Data))
	}
	s.mu.Unlock()
}

// SubStats counts what a SubChannel received. JSON-tagged for expvar.
type SubStats struct {
	Received      uint64 `json:"received"`       // messages that arrived (discarded ones included)
	ReceivedBytes uint64 `json:"received_bytes"` // their payload bytes
	Pending       int    `json:"pending"`        // queued now
	Discarded     uint64 `json:"discarded"`      // dropped by the full queue
}

// Stats returns the channel's counters. Safe for concurrent use.
func (s *SubChannel[T]) Stats() SubStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SubStats{Received: s.received, ReceivedBytes: s.receivedBytes, Pending: s.q.Len(), Discarded: s.q.Discarded()}
}

// endBatch wakes waiting receivers, checks the queue in sync mode and
// queues one Received emit. Loop goroutine (through its receiver adapter).
func (s *SubChannel[T]) endBatch() {
	s.mu.Lock()
	if s.waiters > 0 {
		close(s.arrived)
		s.arrived = make(chan struct{})
		s.waiters = 0
	}
	inSync := s.status != statusNull
	s.mu.Unlock()
	if inSync {
		// yoton binds _check_queue_status to its received signal.
		s.checkStatus()
	}
	emitOnce(s.x.Reactor(), &s.posted, s.Received, s)
}

// SetSyncMode turns sync mode on or off (yoton's set_sync_mode). In sync
// mode the channel sends "full" to its publishers once more than
// SyncHighWater messages are queued, and "ok" once fewer than
// SyncLowWater are; it repeats its status every SyncRepeat. Every
// PubChannel at the slot then holds each Send back (at most
// SendLockWait) while any of its subscribers is full. Turning it off
// while full sends "ok" first. The channel checks its queue after each
// batch of arrivals and on every read; the status messages are sent on
// the loop. Safe for concurrent use; off the loop it returns once the
// loop has applied the change.
func (s *SubChannel[T]) SetSyncMode(on bool) {
	st := statusNull
	if on {
		st = statusOK
	}
	apply := func() { s.changeStatus(st) }
	if err := s.x.Reactor().Do(context.Background(), apply); err != nil {
		s.setStatus(st) // the reactor is closed: nobody is left to tell
	}
}

// SyncMode reports whether the channel is in sync mode. Safe for
// concurrent use.
func (s *SubChannel[T]) SyncMode() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status != statusNull
}

// checkDueLocked reports whether checkStatus would change or repeat the
// status now (yoton's _check_queue_status, without acting). Under mu.
func (s *SubChannel[T]) checkDueLocked() bool {
	switch s.status {
	case statusNull:
		return false
	case statusOK:
		if s.q.Len() > SyncHighWater {
			return true
		}
	case statusFull:
		if s.q.Len() < SyncLowWater {
			return true
		}
	}
	return s.repeatAt.Before(time.Now())
}

// nextStatusLocked is yoton's _check_queue_status: it updates the status
// and returns the message to send ("" for none). Under mu, loop only.
func (s *SubChannel[T]) nextStatusLocked(now time.Time) string {
	if s.status == statusNull {
		return ""
	}
	n := s.q.Len()
	switch {
	case n > SyncHighWater && s.status == statusOK:
		s.status = statusFull
		s.repeatAt = now.Add(SyncRepeat)
		return "full"
	case n < SyncLowWater && s.status == statusFull:
		s.status = statusOK
		s.repeatAt = now.Add(SyncRepeat)
		return "ok"
	}
	if s.repeatAt.Before(now) {
		s.repeatAt = now.Add(SyncRepeat)
		if s.status == statusOK {
			return "ok"
		}
		return "full"
	}
	return ""
}

// checkStatus runs the sync-mode check and sends its message. Loop
// goroutine.
func (s *SubChannel[T]) checkStatus() {
	s.mu.Lock()
	msg := s.nextStatusLocked(time.Now())
	s.mu.Unlock()
	if msg != "" {
		s.sendStatus(msg)
	}
}

// sendStatus sends "full" or "ok" to the publishers; as yoton, only
// while the context has a connection. Loop goroutine.
func (s *SubChannel[T]) sendStatus(msg string) {
	if s.x.ConnectionCount() == 0 {
		return
	}
	_ = s.ep.Send(context.Background(), []byte(msg), everyone)
}

// afterRead runs the sync-mode check after a read when one is due: at
// once on the loop, else by posting it there (once). Any goroutine;
// due was computed under mu.
func (s *SubChannel[T]) afterRead(due bool) {
	if !due {
		return
	}
	r := s.x.Reactor()
	if r.OnLoop() {
		s.checkStatus()
		return
	}
	s.mu.Lock()
	if s.checkPosted {
		s.mu.Unlock()
		return
	}
	s.checkPosted = true
	s.mu.Unlock()
	err := r.Post(func() {
		s.mu.Lock()
		s.checkPosted = false
		s.mu.Unlock()
		s.checkStatus()
	})
	if err != nil {
		s.mu.Lock()
		s.checkPosted = false
		s.mu.Unlock()
	}
}

// decode turns a payload into a message; its errors always wrap
// ErrDecode, whatever the MessageType returned.
func (s *SubChannel[T]) decode(b []byte) (T, error) {
	m, err := s.mt.Decode(b)
	if err != nil && !errors.Is(err, ErrDecode) {
		err = fmt.Errorf("%w (%s): %w", ErrDecode, s.mt.Name(), err)
	}
	return m, err
}

// Pending returns the number of queued messages. Safe for concurrent use.
func (s *SubChannel[T]) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.Len()
}

// Discarded returns how many messages the full queue has dropped. Safe
// for concurrent use.
func (s *SubChannel[T]) Discarded() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.Discarded()
}

// TryRecv returns the oldest queued message, or ErrNoMessage (reactor.ErrClosed
// once the channel is closed and empty) when there is none. It never
// blocks. A message that fails to decode is taken from the queue and
// its error (wrapping ErrDecode) returned. Safe for concurrent use.
func (s *SubChannel[T]) TryRecv() (T, error) {
	p, ok := s.take()
	if !ok {
		var zero T
		if s.closed.Load() {
			return zero, errClosed
		}
		return zero, ErrNoMessage
	}
	return s.decode(p.Data)
}

// Recv returns the oldest queued message, waiting for one until ctx ends.
// On a closed channel it returns queued messages, then reactor.ErrClosed. On the
// loop goroutine it never waits: with nothing queued it returns
// reactor.ErrBlockingCall. A message that fails to decode is taken from the
// queue and its error (wrapping ErrDecode) returned; the next call
// returns the next message. Safe for concurrent use.
func (s *SubChannel[T]) Recv(ctx context.Context) (T, error) {
	var zero T
	onLoop := false
	checked := false
	for {
		s.mu.Lock()
		p, ok := s.q.PopFront()
		due := s.checkDueLocked()
		if ok {
			s.mu.Unlock()
			s.afterRead(due)
			return s.decode(p.Data)
		}
		if s.closed.Load() {
			s.mu.Unlock()
			return zero, errClosed
		}
		if !checked {
			checked = true
			s.mu.Unlock()
			s.afterRead(due)
			onLoop = s.x.Reactor().OnLoop()
			if onLoop {
				return zero, reactor.ErrBlockingCall
			}
			continue
		}
		s.waiters++
		ch := s.arrived
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-s.x.Reactor().Done():
			return zero, errClosed
		}
	}
}

// RecvAll returns every queued message, oldest first, without waiting.
// Messages that fail to decode are left out and their errors joined.
// Safe for concurrent use.
func (s *SubChannel[T]) RecvAll() ([]T, error) {
	return s.takeWhile(func(reactor.Package) bool { return true })
}

// take pops the oldest queued package, if any, and runs the sync-mode
// check a read calls for. Any goroutine.
func (s *SubChannel[T]) take() (reactor.Package, bool) {
	s.mu.Lock()
	p, ok := s.q.PopFront()
	due := s.checkDueLocked()
	s.mu.Unlock()
	s.afterRead(due)
	return p, ok
}

// takeWhile pops the queued packages, oldest first, while keep accepts
// the oldest, runs the sync-mode check and decodes them (see
// decodeAll). Any goroutine.
func (s *SubChannel[T]) takeWhile(keep func(reactor.Package) bool) ([]T, error) {
	s.mu.Lock()
	pkgs := make([]reactor.Package, 0, s.q.Len())
	for s.q.Len() > 0 && keep(s.q.At(0)) {
		p, _ := s.q.PopFront()
		pkgs = append(pkgs, p)
	}
	due := s.checkDueLocked()
	s.mu.Unlock()
	s.afterRead(due)
	return s.decodeAll(pkgs)
}

// decodeAll decodes pkgs, leaving out the ones that fail and joining
// their errors.
func (s *SubChannel[T]) decodeAll(pkgs []reactor.Package) ([]T, error) {
	out := make([]T, 0, len(pkgs))
	var errs []error
	for _, p := range pkgs {
		m, err := s.decode(p.Data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, m)
	}
	return out, joinErrors(errs)
}

// Messages iterates over the queued messages, taking each from the queue,
// until none is left; it never waits. A message that fails to decode is
// yielded with its error. Breaking out of the loop leaves the remaining
// messages queued. Safe for concurrent use, but concurrent readers each
// get some of the messages.
func (s *SubChannel[T]) Messages() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			p, ok := s.take()
			if !ok {
				return
			}
			if !yield(s.decode(p.Data)) {
				return
			}
		}
	}
}

// Close detaches the channel: no new message is queued, the queued ones
// can still be read, and waiting receivers return reactor.ErrClosed once it is
// empty. A channel in sync mode that said "full" says "ok" first, so its
// publishers do not stay held back. Idempotent; safe for concurrent use.
func (s *SubChannel[T]) Close() error {
	if !s.close() {
		return nil
	}
	s.mu.Lock()
	close(s.arrived)
	s.arrived = make(chan struct{})
	s.waiters = 0
	s.mu.Unlock()
	release := func() { s.changeStatus(statusNull) }
	if s.x.Reactor().OnLoop() {
		release()
	} else if err := s.x.Reactor().Post(release); err != nil {
		s.setStatus(statusNull) // the loop is gone: nobody to tell
	}
	return nil
}

// changeStatus sets the sync status and, if the channel was full, tells
// the publishers "ok" so that none stays throttled. Loop goroutine.
func (s *SubChannel[T]) changeStatus(st queueStatus) {
	s.mu.Lock()
	wasFull := s.status == statusFull
	s.status = st
	s.mu.Unlock()
	if wasFull {
		s.sendStatus("ok")
	}
}

func (s *SubChannel[T]) setStatus(st queueStatus) {
	s.mu.Lock()
	s.status = st
	s.mu.Unlock()
}
