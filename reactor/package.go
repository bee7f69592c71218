package reactor

import "github.com/goyoton/yoton/wire"

// Package is one yoton package: the header fields and the payload.
//
// A package delivered to a Receiver owns its Data: the reactor allocated
// it for this package and copied the bytes into it once, straight from
// the socket. The same Data may also be queued for forwarding to other
// contexts, so receivers must treat it as read-only.
type Package struct {
	Slot      uint64
	SourceID  uint64
	SourceSeq uint64
	DestID    uint64
	DestSeq   uint64
	// RecvSeq numbers the packages this context deposited, in arrival
	// order (not on the wire). SubChannel selection orders by it.
	RecvSeq uint64
	Data    []byte
}

func (p *Package) header() wire.Header {
	return wire.Header{
		Slot:      p.Slot,
		SourceID:  p.SourceID,
		SourceSeq: p.SourceSeq,
		DestID:    p.DestID,
		DestSeq:   p.DestSeq,
		Length:    uint64(len(p.Data)),
	}
}

// Receiver takes the packages the loop deposits for one slot: what a
// channel gives Attach for its receiving slot (the built-in channels
// give unexported adapters, so that these methods stay out of their
// API). Both methods run on the loop goroutine and must not block.
type Receiver interface {
	// Deposit hands over one package addressed to the receiver's slot.
	Deposit(p Package)
	// EndBatch is called after the deposits of a loop turn (possibly more
	// than once per turn; it must be idempotent).
	EndBatch()
}
