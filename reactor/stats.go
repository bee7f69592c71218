package reactor

import "context"

// ConnectionStats counts what went through one connection. The JSON names
// are for publishing it (with expvar, say:
// expvar.Publish("yoton", expvar.Func(func() any { return x.Stats() }))).
type ConnectionStats struct {
	PackagesIn  uint64 `json:"packages_in"`  // packages received whole (heartbeats and close not counted)
	PackagesOut uint64 `json:"packages_out"` // packages handed to the socket
	BytesIn     uint64 `json:"bytes_in"`     // their bytes, headers included
	BytesOut    uint64 `json:"bytes_out"`
	Queued      int    `json:"queued"`       // packages waiting in the connection's queue now
	QueuedBytes int    `json:"queued_bytes"` // their payload bytes
	Discarded   uint64 `json:"discarded"`    // packages the full queue dropped
	Reconnects  uint64 `json:"reconnects"`   // times a WithReconnect connection came back
}

// ContextStats is what went through a context: its connections' counters
// summed (those it still lists), and its own.
type ContextStats struct {
	Connections int    `json:"connections"` // connected now
	PackagesIn  uint64 `json:"packages_in"`
	PackagesOut uint64 `json:"packages_out"`
	BytesIn     uint64 `json:"bytes_in"`
	BytesOut    uint64 `json:"bytes_out"`
	Queued      int    `json:"queued"`
	QueuedBytes int    `json:"queued_bytes"`
	Reconnects  uint64 `json:"reconnects"`
	Discarded   uint64 `json:"discarded"` // dropped by any of its queues (Context.Discarded)
	Forged      uint64 `json:"forged"`    // refused as forged (Context.Forged)
	Sources     int    `json:"sources"`   // sources its dedup memory holds
	// HandshakeFailures counts the peers turned away during the
	// handshake at this context's Bind and Listen ports: a foreign or
	// malformed handshake line, silence (WithHandshakeTimeout), a failed
	// TLS handshake or authentication, or one handshake too many
	// (WithMaxHandshakes).
	HandshakeFailures uint64 `json:"handshake_failures"`
}

// Stats returns the connection's counters. It reads them on the loop: at
// once on the loop goroutine, else through one loop round trip (zero
// Stats once the reactor is closed). Safe for concurrent use.
func (c *Connection) Stats() ConnectionStats {
	var st ConnectionStats
	_ = c.x.r.Do(context.Background(), func() { st = c.statsOnLoop() })
	return st
}

func (c *Connection) statsOnLoop() ConnectionStats {
	st := c.stats
	st.Queued, st.QueuedBytes = c.pending.Len(), c.pending.Bytes()
	st.Discarded = c.pending.Discarded()
	return st
}

// Stats returns the context's counters: its connections' summed, and its
// own. It reads them on the loop (see Connection.Stats). Safe for
// concurrent use.
func (x *Context) Stats() ContextStats {
	var st ContextStats
	_ = x.r.Do(context.Background(), func() {
		for _, c := range x.conns {
			cs := c.statsOnLoop()
			st.PackagesIn += cs.PackagesIn
			st.PackagesOut += cs.PackagesOut
			st.BytesIn += cs.BytesIn
			st.BytesOut += cs.BytesOut
			st.Queued += cs.Queued
			st.QueuedBytes += cs.QueuedBytes
			st.Reconnects += cs.Reconnects
		}
		st.Sources = x.seen.size()
	})
	st.Connections = x.ConnectionCount()
	st.Discarded = x.Discarded()
	st.Forged = x.Forged()
	st.HandshakeFailures = x.handshakeFailures.Load()
	return st
}
