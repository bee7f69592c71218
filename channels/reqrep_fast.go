package channels

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goyoton/yoton/reactor"
)

// The fast path between Go requesters and Go repliers (Go only; written
// down in docs/protocol-notes.md, section 10).
//
//   - A Go replier's "req!" carries a marker after the yoton word:
//     "req! goyoton-fast/1". Python requesters never read a "req!"'s data.
//   - A Go requester that sees the marker asks that replier for credit:
//     "goyoton-credit?" on the req-rep slot, dest_id = the replier,
//     dest_seq = 2^63 (no announcement has id 0, and requests stay below
//     2^63). Only the replier deposits it; Python nodes only forward it.
//   - The replier grants a window of requests, out of its room:
//     "goyoton-credit n=K" on the rep-req slot, dest_id = the requester,
//     dest_seq = 2^63. n=0 takes the grant back.
//   - Within its window the requester sends a request straight to the
//     replier (dest_id = replier, dest_seq = id): the very package that
//     follows a "req!" in yoton's exchange, without the "req?", "req!"
//     and "req-" before it. The reply is yoton's.
//
// The replier counts what it granted as taken when it decides whether to
// offer for an announcement, so a granted window never overbooks it. A
// grant shrinks by one with each reply while announcements wait at the
// replier from other requesters (a Python requester's, say), so that the
// replier serves them through yoton's exchange; a grant unused
// for grantIdle is taken back. A requester stops using a grant when the
// replier has been silent for creditLease with requests outstanding (it
// may be gone); those calls then wait for their replies or their ctx.

// Fast-path messages and constants.
var (
	msgTakeFast  = []byte("req! goyoton-fast/1")
	msgCreditAsk = []byte("goyoton-credit?")
	creditPrefix = "goyoton-credit n="
)

const (
	// announceWindow is how many calls a requester that holds a grant
	// announces at once beyond it; the others wait unannounced until the
	// grant or an announcement slot takes them. Announcing every call
	// would flood the other repliers (a Python one handles announcements
	// one by one) with announcements the grant serves first.
	announceWindow = 8
	// grantIdle is how long a replier keeps a grant that its requester
	// does not use.
	grantIdle = 250 * time.Millisecond
	// creditLease is how long a requester trusts a grant from a replier
	// that answers nothing while requests to it are outstanding.
	creditLease = time.Second
)

// ---- requester side ----

// credit is a requester's grant from one Go replier. Under ReqChannel.mu.
type credit struct {
	window   int       // requests the replier lets us send straight
	inFlight int       // direct requests not answered yet
	heard    time.Time // when the replier last sent us anything
	asked    time.Time // when we last asked for credit
}

// pickReplierLocked returns a Go replier that has room for one more
// direct request, and counts it. Under c.mu.
func (c *ReqChannel) pickReplierLocked(now time.Time) (uint64, bool) {
	for id, cr := range c.credits {
		if cr.inFlight > 0 && now.Sub(cr.heard) > creditLease {
			cr.window = 0 // silent with requests outstanding: maybe gone
		}
		if cr.inFlight < cr.window {
			cr.inFlight++
			return id, true
		}
	}
	return 0, false
}

// sendDirect sends request id's payload straight to replier. Any goroutine.
func (c *ReqChannel) sendDirect(replier, id uint64, payload []byte) error {
	return c.ep.Send(context.Background(), payload, to(replier, id))
}

// fastReplierSeen notes that replier speaks the fast path (its "req!"
// carried the marker) and asks it for credit, at most once per
// creditLease while we have none. Loop goroutine.
func (c *ReqChannel) fastReplierSeen(replier uint64, now time.Time) {
	c.mu.Lock()
	cr := c.credits[replier]
	if cr == nil {
		if len(c.credits) >= maxCredits {
			c.mu.Unlock()
			return
		}
		cr = &credit{heard: now}
		c.credits[replier] = cr
	}
	ask := cr.inFlight >= cr.window && now.Sub(cr.asked) > creditLease/10
	if ask {
		cr.asked = now
	}
	c.mu.Unlock()
	if ask {
		_ = c.ep.Send(context.Background(), msgCreditAsk, to(replier, seqRef))
	}
}

// creditGranted handles a replier's "goyoton-credit n=K": the new window,
// into which waiting calls move at once. Loop goroutine.
func (c *ReqChannel) creditGranted(p reactor.Package) {
	n, err := parseCredit(p.Data)
	if err != nil || n < 0 {
		return
	}
	c.mu.Lock()
	cr := c.credits[p.SourceID]
	if cr == nil {
		// Only from a replier whose "req!" showed it speaks the fast
		// path: a made-up grant would draw calls to nobody.
		c.mu.Unlock()
		return
	}
	cr.window, cr.heard = n, time.Now()
	c.mu.Unlock()
	c.moveWaiting(p.SourceID)
	c.announceHeld()
}

// anyGrantLocked reports whether a Go replier lets us send straight to
// it. Under c.mu.
func (c *ReqChannel) anyGrantLocked() bool {
	for _, cr := range c.credits {
		if cr.window > 0 {
			return true
		}
	}
	return false
}

// leftWaitingLocked counts off a call that stops waiting for a replier
// (taken, moved to a grant, cancelled or dropped). Under c.mu.
func (c *ReqChannel) leftWaitingLocked(it *request) {
	if it.replier != 0 {
		return
	}
	if it.held {
		it.held = false
		c.held--
	} else {
		c.announced--
	}
}

// announceHeld announces held calls, oldest first, while there is room
// among the announcements (or no grant holds them back any more). Any
// goroutine.
func (c *ReqChannel) announceHeld() {
	c.mu.Lock()
	if c.held == 0 {
		c.mu.Unlock()
		return
	}
	limit := announceWindow
	if !c.anyGrantLocked() {
		limit = len(c.items)
	}
	var ids []uint64
	now := time.Now()
	for _, id := range c.waiting {
		if c.held == 0 || c.announced >= limit {
			break
		}
		if it := c.items[id]; it != nil && it.held && it.replier == 0 {
			it.held = false
			it.nextSend = now.Add(ResendInterval)
			c.held--
			c.announced++
			ids = append(ids, id)
		}
	}
	start := len(ids) > 0 && !c.ticking
	if start {
		c.ticking = true
	}
	c.mu.Unlock()
	if start {
		_ = c.onLoop(c.startTick)
	}
	for _, id := range ids {
		_ = c.ep.Send(context.Background(), msgAsk, to(0, id+seqRef))
	}
}

// maxCredits bounds the repliers a requester keeps grants from (a peer
// could make up ids).
const maxCredits = 1024

// directAnswered counts off a direct request to replier that was answered
// (or given up) and moves a waiting call into the freed room. Loop
// goroutine, or any goroutine for a call given up.
func (c *ReqChannel) directAnswered(replier uint64) {
	c.mu.Lock()
	if cr := c.credits[replier]; cr != nil {
		if cr.inFlight > 0 {
			cr.inFlight--
		}
		cr.heard = time.Now()
	}
	c.mu.Unlock()
	c.moveWaiting(replier)
	c.announceHeld()
}

// moveWaiting sends calls that wait for a replier (announced, not taken)
// straight to replier while its window has room, oldest first, and tells
// the other repliers ("req-") to forget their announcements. Any
// goroutine.
func (c *ReqChannel) moveWaiting(replier uint64) {
	for {
		c.mu.Lock()
		cr := c.credits[replier]
		if cr == nil || cr.inFlight >= cr.window || len(c.waiting) == 0 {
			c.mu.Unlock()
			return
		}
		id := c.waiting[0]
		c.waiting = c.waiting[1:]
		it := c.items[id]
		if it == nil || it.replier != 0 {
			c.mu.Unlock()
			continue
		}
		if ok, _ := it.fut.SetRunningOrNotifyCancel(); !ok {
			c.mu.Unlock()
			continue
		}
		wasHeld := it.held
		c.leftWaitingLocked(it)
		cr.inFlight++
		it.replier, it.direct = replier, true
		payload := it.payload
		it.payload = nil
		c.mu.Unlock()
		c.fastCalls.Add(1)
		_ = c.sendDirect(replier, id, payload)
		if !wasHeld {
			_ = c.ep.Send(context.Background(), msgCancel, to(0, id+seqRef))
		}
	}
}

// ---- replier side ----

// grant is what a replier lent one Go requester. Loop-owned.
type grant struct {
	window   int       // direct requests the requester may have out
	inFlight int       // direct requests received and not answered
	used     time.Time // when it was made or the requester last sent a request in it
}

// reserved is the room the grants hold and nobody uses yet. Loop
// goroutine.
func (c *RepChannel) reserved() int {
	n := 0
	for _, g := range c.grants {
		n += max(g.window-g.inFlight, 0)
	}
	return n
}

// creditAsked handles a Go requester's "goyoton-credit?": its window grows
// by the room nobody holds. Loop goroutine.
func (c *RepChannel) creditAsked(requester uint64) {
	g := c.grants[requester]
	if g == nil {
		if len(c.grants) >= maxCredits {
			return
		}
		g = &grant{used: time.Now()}
		c.grants[requester] = g
	}
	free := c.capacity() - (c.busy + len(c.backlog) + len(c.offers) + c.reserved())
	if free > 0 && !c.othersWait(requester) {
		g.window += free
		c.sendGrant(requester, g.window)
	}
	c.scheduleGrantCheck()
}

// othersWait reports whether announcements of other requesters than
// requester wait for this replier (a requester's own announcements are
// its overflow, which its grant takes as it frees). Loop goroutine.
func (c *RepChannel) othersWait(requester uint64) bool {
	return len(c.preReqs) > c.preFrom[requester]
}

// sendGrant tells requester its window. Loop goroutine.
func (c *RepChannel) sendGrant(requester uint64, n int) {
	_ = c.ep.Send(context.Background(), []byte(creditPrefix+strconv.Itoa(n)), to(requester, seqRef))
}

// directRequest reports whether request p came straight from a Go
// requester within its grant, and counts it. Loop goroutine.
func (c *RepChannel) directRequest(p reactor.Package) bool {
	g := c.grants[p.SourceID]
	if g == nil {
		return false
	}
	g.inFlight++
	g.used = time.Now()
	c.direct[preRequest{source: p.SourceID, seq: p.DestSeq}] = struct{}{}
	return true
}

// answered settles a request that has been answered (or dropped by a
// full backlog): a direct one returns its room to the grant, which gives
// one back to the waiting announcements when there are any. Loop
// goroutine.
func (c *RepChannel) answered(p reactor.Package) {
	key := preRequest{source: p.SourceID, seq: p.DestSeq}
	if _, ok := c.direct[key]; !ok {
		return
	}
	delete(c.direct, key)
	g := c.grants[p.SourceID]
	if g == nil {
		return
	}
	g.inFlight--
	if g.window > 0 && c.othersWait(p.SourceID) {
		g.window--
		c.sendGrant(p.SourceID, g.window)
	}
}

// scheduleGrantCheck arms the check that takes back unused grants.
// Loop goroutine.
func (c *RepChannel) scheduleGrantCheck() {
	if c.grantCheck == nil || !c.grantCheck.Scheduled() {
		c.grantCheck = c.ops.AfterFunc(grantIdle, c.checkGrants)
	}
}

// checkGrants takes back the grants unused for grantIdle, and offers the
// freed room to waiting announcements. Loop goroutine.
func (c *RepChannel) checkGrants() {
	c.grantCheck = nil
	now := time.Now()
	for id, g := range c.grants {
		if g.inFlight == 0 && now.Sub(g.used) >= grantIdle {
			if g.window > 0 {
				c.sendGrant(id, 0)
			}
			delete(c.grants, id)
		}
	}
	c.offer()
	if len(c.grants) > 0 {
		c.scheduleGrantCheck()
	}
}

// revokeGrants takes every grant back (mode change, close). Loop
// goroutine.
func (c *RepChannel) revokeGrants() {
	for id, g := range c.grants {
		if g.window > 0 {
			c.sendGrant(id, 0)
		}
		delete(c.grants, id)
	}
	clear(c.direct)
}

// parseCredit reads the window of a "goyoton-credit n=K" message.
func parseCredit(data []byte) (int, error) {
	s, ok := strings.CutPrefix(string(data), creditPrefix)
	if !ok {
		return 0, fmt.Errorf("not a credit message: %q", data[:min(len(data), 40)])
	}
	return strconv.Atoi(s)
}
