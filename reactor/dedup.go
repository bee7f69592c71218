package reactor

import "time"

// Bounds of a context's deduplication memory: the last sequence number
// seen from each source, and the link its packages come over.
const (
	// DedupSources is the most sources a context remembers at once (about
	// 50 bytes each). A flood of new source ids beyond it makes the
	// context forget the sources it heard from least recently.
	DedupSources = 1 << 16
	// DedupAge is how long a source that sends nothing is remembered at
	// least (and at most twice as long).
	DedupAge = time.Minute
	// SourceRetie is how long the link a source is tied to may bring
	// nothing new from it while another connected link brings new numbers
	// in its name, before the source is tied to that other link. It is how
	// a source is learned again when a far link of a ring breaks and its
	// packages take the other way round; it is also how long a source
	// must be silent before a peer on another link can speak in its name.
	SourceRetie = 2 * time.Second
)

// dedup remembers the last sequence number of every source, in two
// generations: a source found in the old one moves to the current one,
// and when the current one is full (half of DedupSources) or DedupAge
// old, the old one is dropped and the current one becomes old. Memory is
// bounded by DedupSources; an active source is never forgotten unless
// DedupSources/2 new sources appear between two of its packages. Forgetting
// a source is safe for packages that follow (their numbers only grow); it
// would let through a duplicate that arrives later than that, which
// network loops deliver within milliseconds. Loop-owned.
//
// Each source is also tied to the link its packages first came over (see
// sourceEntry): that is what keeps a peer from injecting packages in the
// name of a source it is not the path to.
type dedup struct {
	cur, old map[uint64]sourceEntry
	since    time.Time // when cur was started
	ticks    uint32    // a coarse clock: housekeeping rounds so far
}

// sourceEntry is what a context remembers of one source: the last
// sequence number it delivered, and the link the source is tied to.
//
// The rule (docs/protocol-notes.md, "Sources are tied to a link"): a
// source's packages are taken only from the link its first package came
// over, for as long as that link is connected and keeps bringing them. A
// package in its name that comes over another link is dropped: when its
// number is new it is counted as forged, since every package of a source
// travels every path and the tied link delivers it too (a copy that
// overtook on a faster path around a loop is counted as well, and
// delivered when the tied link brings it). When the tied link closes or
// goes down to reconnect, or has brought nothing new from the source for
// SourceRetie, the next link that brings a new number for the source
// becomes its link. Packages are still delivered exactly once: the
// sequence number is checked first.
type sourceEntry struct {
	seq   uint64
	link  *Connection // nil for packages that came over no connection
	heard uint32      // d.ticks when link last brought a new number
}

// retieTicks is SourceRetie on dedup's coarse clock.
const retieTicks = uint32(SourceRetie / housekeepInterval)

func newDedup() dedup {
	return dedup{cur: map[uint64]sourceEntry{}, since: time.Now()}
}

// MaxSeqJump is the largest step a known source's sequence number may
// take from one package to the next one this context sees. A source
// numbers its packages one by one, so a larger step (a package claiming
// number 2^64-1, say, which would make every later real package look like
// a duplicate) is a forgery: it is dropped and counted in Context.Forged.
const MaxSeqJump = 1 << 32

// verdict is what dedup says of a package.
type verdict int

const (
	fresh     verdict = iota // new: deliver it
	duplicate                // seen already (or a loop): drop it
	forgedSeq                // an implausible jump: drop and count it
	otherLink                // new, but claimed by a link the source is not tied to
)

// accept judges seq for source, arriving over from, and remembers it when
// it is fresh.
func (d *dedup) accept(source, seq uint64, from *Connection) verdict {
	e, ok := d.cur[source]
	if !ok && d.old != nil {
		if e, ok = d.old[source]; ok {
			delete(d.old, source)
			d.cur[source] = e // heard from again: into the current generation
		}
	}
	v := fresh
	switch {
	case seq <= e.seq:
		v = duplicate
	case ok && seq-e.seq > MaxSeqJump:
		v = forgedSeq
	case ok && e.link != from && e.link != nil && e.link.IsConnected() && d.ticks-e.heard < retieTicks:
		v = otherLink
	default:
		d.cur[source] = sourceEntry{seq: seq, link: from, heard: d.ticks}
	}
	if len(d.cur) >= DedupSources/2 {
		d.rotate(time.Now())
	}
	return v
}

// expire drops the old generation once the current one is DedupAge old,
// and advances the coarse clock. Called from housekeeping (every
// housekeepInterval).
func (d *dedup) expire(now time.Time) {
	d.ticks++
	if now.Sub(d.since) >= DedupAge {
		d.rotate(now)
	}
}

func (d *dedup) rotate(now time.Time) {
	d.old, d.cur, d.since = d.cur, make(map[uint64]sourceEntry, len(d.cur)/2), now
}

// size is the number of sources remembered (for tests).
func (d *dedup) size() int { return len(d.cur) + len(d.old) }
