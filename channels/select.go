package channels

import "github.com/goyoton/yoton/reactor"

// Selectable is a SubChannel of any message type, as SelectSubChannel
// takes and returns it. Only *SubChannel[T] implements it (its selection
// methods are unexported). Compare the value SelectSubChannel returns
// with your channels, or switch on its type, to call RecvSelected on the
// concrete channel. Its methods are safe for concurrent use.
type Selectable interface {
	// Pending returns the number of queued messages.
	Pending() int
	// SlotIncoming returns the full name of the slot the channel
	// receives on.
	SlotIncoming() string

	// pendingSeqs returns the RecvSeq of the oldest queued message and
	// one past that of the newest; ok is false when none is queued.
	pendingSeqs() (first, next uint64, ok bool)
	// selectUpTo makes RecvSelected take the messages whose RecvSeq is
	// below ref.
	selectUpTo(ref uint64)
}

// SelectSubChannel returns the channel, among chs, whose oldest queued
// message arrived first, or nil when none has a message queued (yoton's
// select_sub_channel). It also marks on that channel how far
// RecvSelected may read: up to, not including, the oldest message
// queued on any other of chs. Calling
//
//	for {
//		switch ch := channels.SelectSubChannel(a, b); ch {
//		case nil:
//			return // nothing queued
//		case a:
//			msgs, err := a.RecvSelected()
//			...
//		case b:
//			msgs, err := b.RecvSelected()
//			...
//		}
//	}
//
// thus reads the messages of several channels in the order the context
// received them, whatever their message types. The channels must belong
// to one context (the order is that context's RecvSeq); nil interface
// values are skipped. In sync mode each channel checks its queue, as on a read.
//
// Safe for concurrent use, but the mark is per channel: select and read
// a set of channels from one goroutine at a time, or the marks of two
// selections may mix.
func SelectSubChannel(chs ...Selectable) Selectable {
	var (
		first    Selectable
		smallest uint64 // oldest RecvSeq found so far
		ref      uint64 // how far first may be read
		found    bool
	)
	for _, ch := range chs {
		if ch == nil {
			continue
		}
		seq1, seq2, ok := ch.pendingSeqs()
		if !ok {
			continue
		}
		switch {
		case !found:
			first, smallest, ref, found = ch, seq1, seq2, true
		case seq1 < smallest:
			// The new first cannot read past the old first's oldest
			// message, nor past its own newest.
			ref = min(smallest, ref, seq2)
			first, smallest = ch, seq1
		default:
			// The current first cannot read past this channel's oldest.
			ref = min(ref, seq1)
		}
	}
	if !found {
		return nil
	}
	first.selectUpTo(ref)
	return first
}

// pendingSeqs implements Selectable. Safe for concurrent use.
func (s *SubChannel[T]) pendingSeqs() (first, next uint64, ok bool) {
	s.mu.Lock()
	n := s.q.Len()
	if n > 0 {
		first, next, ok = s.q.At(0).RecvSeq, s.q.At(n-1).RecvSeq+1, true
	}
	due := s.checkDueLocked()
	s.mu.Unlock()
	s.afterRead(due)
	return first, next, ok
}

// selectUpTo implements Selectable. Safe for concurrent use.
func (s *SubChannel[T]) selectUpTo(ref uint64) {
	s.mu.Lock()
	s.ref = ref
	s.mu.Unlock()
}

// RecvSelected returns, oldest first and without waiting, the queued
// messages that arrived before the oldest message queued on the other
// channels given to the last SelectSubChannel call that returned this
// channel (yoton's recv_selected). Before any such call it returns
// nothing. Messages that fail to decode are left out and their errors
// joined. Safe for concurrent use; see SelectSubChannel for the order
// of calls.
func (s *SubChannel[T]) RecvSelected() ([]T, error) {
	return s.takeWhile(func(p reactor.Package) bool { return p.RecvSeq < s.ref })
}
