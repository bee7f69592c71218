package reactor

import "context"

// Sending: the submission queue every goroutine sends into, which the
// loop drains into the connections, and the bounded waits of senders.

// send queues a package for the network: the context stamps its id and
// the next sequence number on the loop, in the order Send was called.
// send takes ownership of data (do not modify it afterwards). An empty
// data is a no-op, as in yoton.
//
// When the context's outgoing queues are past yoton's tiny length, send
// waits until they drain, ctx ends, or SendWait passes, and then queues
// the package anyway (the queues' discard rule still bounds memory).
// It also waits (as long at most) while submitLimit packages are
// still waiting for the loop to take them. On the loop goroutine it
// never waits. Safe for concurrent use.
func (x *Context) send(ctx context.Context, slot uint64, data []byte, destID, destSeq uint64) error {
	if len(data) == 0 {
		return nil
	}
	if x.backlogHigh.Load() && !x.r.OnLoop() {
		if err := x.waitForRoom(ctx); err != nil {
			return err
		}
	}
	x.subMu.Lock()
	if x.submitFull() {
		// The loop is behind: do not let the submission queue grow
		// without bound.
		x.subMu.Unlock()
		if x.r.OnLoop() {
			x.drain()
		} else if err := x.waitForDrain(ctx); err != nil {
			return err
		}
		x.subMu.Lock()
	}
	if x.closed {
		// Closed, and not by its reactor: usable again, as yoton's.
		x.subMu.Unlock()
		if err := x.reopen(); err != nil {
			return err
		}
		x.subMu.Lock()
	}
	if len(x.subQ) >= x.submitHardLimit() {
		// The loop has not taken anything for SendWait (a callback
		// blocks it): apply the queue's discard rule here too.
		x.discarded.Add(1)
		if x.discard == DiscardNew {
			x.subMu.Unlock()
			return nil
		}
		x.subBytes -= len(x.subQ[0].Data)
		copy(x.subQ, x.subQ[1:])
		x.subQ[len(x.subQ)-1] = Package{}
		x.subQ = x.subQ[:len(x.subQ)-1]
	}
	x.subQ = append(x.subQ, Package{Slot: slot, DestID: destID, DestSeq: destSeq, Data: data})
	x.subBytes += len(data)
	post := !x.posted
	x.posted = true
	x.subMu.Unlock()
	if post {
		if err := x.r.Post(x.drain); err != nil {
			return err
		}
	}
	return nil
}

// Bounds of the submission queue (packages sent but not yet taken by the
// loop). They are larger than yoton's tiny queue because the loop takes
// the whole queue per turn: a few thousand small packages per wake is
// what makes one write per turn pay off.
const (
	submitLimit = 4096
	submitBytes = 4 << 20
)

// submitFull reports whether senders should wait for the loop to drain
// the submission queue: it holds submitLimit packages (or the context's
// queue size, if smaller) or submitBytes of payload. Under subMu.
func (x *Context) submitFull() bool {
	return len(x.subQ) >= min(submitLimit, x.queueSize) || x.subBytes >= submitBytes
}

// submitHardLimit is the length at which the submission queue discards.
func (x *Context) submitHardLimit() int { return max(submitLimit, x.queueSize) }

// waitForDrain waits (at most SendWait) until the loop has drained the
// submission queue, when it is still long. Not on the loop goroutine.
func (x *Context) waitForDrain(ctx context.Context) error {
	x.subMu.Lock()
	if !x.submitFull() || x.closed {
		x.subMu.Unlock()
		return nil
	}
	if x.drained == nil {
		x.drained = make(chan struct{})
	}
	ch := x.drained
	x.subMu.Unlock()
	return x.r.waitSignal(ctx, ch, SendWait)
}

// waitForRoom waits (at most SendWait) while the connections' queues are
// past the tiny length. Not on the loop goroutine.
func (x *Context) waitForRoom(ctx context.Context) error {
	x.drainMu.Lock()
	ch := x.drainCh
	x.drainMu.Unlock()
	if !x.backlogHigh.Load() {
		return nil
	}
	return x.r.waitSignal(ctx, ch, SendWait)
}

// drain moves the submission queue into the connections. Loop goroutine.
func (x *Context) drain() {
	x.subMu.Lock()
	q := x.subQ
	x.subQ = x.spareQ[:0]
	x.subBytes = 0
	x.posted = false
	if x.drained != nil {
		close(x.drained)
		x.drained = nil
	}
	x.subMu.Unlock()
	for i := range q {
		x.sendSeq++
		q[i].SourceID = x.id
		q[i].SourceSeq = x.sendSeq
		x.route(q[i])
		q[i] = Package{}
	}
	x.spareQ = q[:0]
}
