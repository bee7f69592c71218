package reactor

import "time"

// Bounds of a context's deduplication memory: the last sequence number
// seen from each source.
const (
	// DedupSources is the most sources a context remembers at once (about
	// 40 bytes each). A flood of new source ids beyond it makes the
	// context forget the sources it heard from least recently.
	DedupSources = 1 << 16
	// DedupAge is how long a source that sends nothing is remembered at
	// least (and at most twice as long).
	DedupAge = time.Minute
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
type dedup struct {
	cur, old map[uint64]uint64
	since    time.Time // when cur was started
}

func newDedup() dedup {
	return dedup{cur: map[uint64]uint64{}, since: time.Now()}
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
)

// accept judges seq for source and remembers it when it is fresh.
func (d *dedup) accept(source, seq uint64) verdict {
	last, ok := d.cur[source]
	if !ok && d.old != nil {
		if last, ok = d.old[source]; ok {
			delete(d.old, source)
			d.cur[source] = last // heard from again: into the current generation
		}
	}
	v := fresh
	switch {
	case seq <= last:
		v = duplicate
	case ok && seq-last > MaxSeqJump:
		v = forgedSeq
	default:
		d.cur[source] = seq
	}
	if len(d.cur) >= DedupSources/2 {
		d.rotate(time.Now())
	}
	return v
}

// expire drops the old generation once the current one is DedupAge old.
// Called from housekeeping.
func (d *dedup) expire(now time.Time) {
	if now.Sub(d.since) >= DedupAge {
		d.rotate(now)
	}
}

func (d *dedup) rotate(now time.Time) {
	d.old, d.cur, d.since = d.cur, make(map[uint64]uint64, len(d.cur)/2), now
}

// size is the number of sources remembered (for tests).
func (d *dedup) size() int { return len(d.cur) + len(d.old) }
