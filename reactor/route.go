package reactor

import (
	"fmt"
	"log/slog"

	"github.com/goyoton/yoton/slots"
)

// Routing: what the context does with a package it sends (stamp it,
// hand it to every connection) and with one that arrives (drop
// duplicates and forgeries, deliver it to the channel at its slot,
// forward it to the other connections, act on context messages).

// sendNow stamps and routes a package at once. Loop goroutine only.
func (x *Context) sendNow(slot uint64, data []byte) {
	x.drain() // keep sequence order with packages already submitted
	x.sendSeq++
	x.route(Package{Slot: slot, SourceID: x.id, SourceSeq: x.sendSeq, Data: data})
}

// route hands a stamped package to every alive connection, or to the
// startup queue when there is none. With DropBacklog only connected
// connections take it, and with none it is dropped. Loop goroutine.
func (x *Context) route(p Package) {
	if x.backlog == DropBacklog {
		if x.connected == 0 {
			x.discarded.Add(1)
			return
		}
		for _, c := range x.conns {
			if c.IsConnected() {
				c.enqueue(p)
			}
		}
		return
	}
	if x.alive == 0 {
		before := x.startup.Discarded()
		if !x.startup.Push(p) {
			x.discarded.Add(x.startup.Discarded() - before)
		}
		return
	}
	for _, c := range x.conns {
		if c.alive() {
			c.enqueue(p)
		}
	}
}

// receive routes a package received from conn. Loop goroutine.
func (x *Context) receive(p Package, from *Connection) {
	if p.SourceSeq == 0 {
		// Never routed: a Go-only link message (link.go), or something
		// Python's dedup drops as well.
		if p.Slot == linkSlot {
			from.receiveLink(p)
		}
		return
	}
	if p.SourceID == x.id {
		// Our own package, back through a loop in the network. Python
		// yoton deposits it (its seen map lacks its own id); it must not
		// reach our own channels, nor travel on.
		return
	}
	if owner := x.peerLinks[p.SourceID]; owner != nil && owner != from {
		// A direct peer's own packages come over its own link (copies
		// around a loop come later and are duplicates): another link
		// claiming its id is forging it, e.g. to silence it with a huge
		// sequence number.
		x.forged.Add(1)
		return
	}
	switch x.seen.accept(p.SourceID, p.SourceSeq, from) {
	case duplicate:
		return // duplicate or loop
	case forgedSeq, otherLink:
		x.forged.Add(1)
		return
	}
	forward, deposit := false, false
	switch p.DestID {
	case 0:
		forward, deposit = true, true
	case x.id:
		deposit = true
	default:
		forward = true
	}
	if deposit {
		x.recvSeq++
		p.RecvSeq = x.recvSeq
	}
	if forward {
		switch {
		case p.Slot == slots.ContextSlot && string(p.Data) == newConnectionMessage:
			x.forwardNewConnection(p, from)
		case p.Slot == slots.ContextSlot && string(p.Data) == closeConnectionMessage:
			// About one link only: never forwarded (Python forwards it,
			// and every node then closes its links to that id).
		default:
			for _, c := range x.conns {
				if c != from && c.alive() {
					c.enqueue(p)
				}
			}
		}
	}
	if !deposit {
		return
	}
	if p.Slot == slots.ContextSlot {
		x.contextMessage(p, from)
		return
	}
	if rx := (*x.recvSnap.Load())[p.Slot]; rx != nil {
		rx.Deposit(p)
		x.r.touch(rx)
	}
}

// contextMessage handles a message on the context slot that arrived from
// the connection from. Loop goroutine.
func (x *Context) contextMessage(p Package, from *Connection) {
	switch msg := string(p.Data); msg {
	case closeConnectionMessage:
		// Only the peer of the connection it arrived on may close that
		// connection: a third party naming someone else's id (Python
		// closes every connection to that id) closes nothing.
		if from != nil && from.IsConnected() && from.PeerID() == p.SourceID {
			from.closeOnLoop(closeError(ErrPeerClosed, ReasonClosedFromThere), false)
		} else {
			x.r.logEvent(slog.LevelWarn, []slog.Attr{x.logAttr(), slog.String("source", fmt.Sprintf("%016x", p.SourceID)), slog.String("on", from.String())}, "yoton: ignored CLOSE_CONNECTION from %x on %s (not its peer)", p.SourceID, from)
		}
	case newConnectionMessage:
		x.newConnection()
	default:
		x.r.logEvent(slog.LevelWarn, []slog.Attr{x.logAttr(), slog.String("source", fmt.Sprintf("%016x", p.SourceID))}, "yoton: received unknown context message: %q", msg)
	}
}
