// Package reactor is the heart of the Go yoton: one gnet event loop that
// owns every socket of a process, the contexts (network nodes) that live
// on it, their connections, and the routing of packages between them.
//
// # Goroutines
//
// A Reactor runs exactly one event loop goroutine (the loop goroutine).
// It decodes every package read from every connection, deduplicates and
// forwards it, deposits it into the receiving channel, runs timers, and
// runs every callback: channels' Received handlers, connections' Closed
// and TimedOut handlers, anything given to Post. Loop-owned state is never
// touched by other goroutines; they reach it through Post and Do.
//
// The only other goroutines are one per Bind or Listener that only
// accepts sockets, with up to 16 more that hand them to the loop (started
// as sockets arrive faster than one can; handshakes run on the loop, any
// number at once), one
// per connection made with WithReconnect while it is down and redialing,
// two per connection of a context made WithTLS (they copy between the TLS
// connection and a socket pair the loop drives: gnet cannot carry TLS),
// and the caller's own goroutine during Connect. Close ends them all.
//
// # Serving many peers
//
// Bind is yoton's: it serves exactly one peer. Listen serves any number
// on one port: each peer that completes the handshake becomes a
// Connection of the context. Connect with WithReconnect keeps a
// connection across drops. A connection that has no peer at the moment
// (a waiting Bind, a reconnecting connection that is down) never makes a
// sender wait; WithBacklog chooses whether it keeps a backlog for its
// next peer. Go nodes agree on a few things Python nodes never see
// (docs/protocol-notes.md in the repository).
//
// Blocking calls (Connect, Flush, a channel's Recv, a Send that waits for
// room) take a context.Context. Made on the loop goroutine, where waiting
// would deadlock, they return ErrBlockingCall at once instead.
//
// # Channels
//
// Channels plug into a context through one seam: Context.Attach takes an
// Attachment (the full slot names the channel sends and receives at, the
// Receiver that takes its packages on the loop goroutine, and the Close
// that closing the context calls) and returns an *Endpoint, through which
// the channel sends (Endpoint.Send, addressed by a Destination), hears of
// newcomers to the network (OnNewConnection) and lets go of its slots
// (Detach). Every channel kind of package channels attaches this way, and
// so can a channel kind of your own, as yoton lets programs define channel
// classes (see the Context.Attach example). A context holds one sending
// and one receiving channel per slot (ErrSlotNotFree).
//
// # Batching
//
// Endpoint.Send appends to the context's submission queue and wakes the
// loop only when that queue goes from empty to non-empty; the loop drains
// the whole queue in one turn and writes each connection's share with one
// writev. On the receiving side every complete package in one read is
// decoded and deposited (Receiver.Deposit) before receivers are told
// (Receiver.EndBatch), once, that a batch arrived.
//
// # Errors, options and observability
//
// One sentinel per meaning: ErrClosed for a closed reactor, context,
// connection or channel (a closed channel returns it wrapped), and
// ErrBlockingCall, ErrSlotNotFree and ErrInvalidSlot, which packages
// channels and futures return as they are and do not re-export. A
// connection's close is a *CloseError
// (Connection.Err, ClosedEvent.Err, DisconnectedEvent.Err): its Reason is
// Python yoton's text, errors.Is matches ErrClosed and the kind of close
// recorded where it happened (ErrPeerClosed, ErrConnTimedOut,
// ErrSlowConsumer, ErrProtocol, ErrAuth, ErrConnect), and Unwrap gives
// the socket or dial error behind it. Every option is checked by the
// constructor it is given to: an invalid value is an error wrapping
// ErrBadOption.
//
// The reactor is silent unless given a logger: WithLogger gets Python
// yoton's verbose lines and the diagnostics as text, WithSlog the same as
// structured records (component, context, conn, peer, status, reason,
// kind, listen, remote, err) at levels Info, Warn and Error. Connections
// and contexts count what went through them (Connection.Stats,
// Context.Stats), in JSON-tagged structs ready for expvar.
//
// # Platforms
//
// The tests run on Linux only; the package also builds for macOS and
// Windows, untested. On systems that are not unix, WithTLS connections
// fail with an error wrapping errors.ErrUnsupported, and large package
// bodies are read through gnet's buffer instead of straight into the
// package.
//
// # Example
//
//	r, _ := reactor.New()
//	defer r.Close()
//	host, _ := r.NewContext()
//	conn, _ := host.Bind("localhost:0", 1, "")
//	_, port := conn.LocalAddr()
//	peer, _ := r.NewContext()
//	_, err := peer.Connect(ctx, fmt.Sprintf("localhost:%d", port), "")
//
// Channels (package channels) attach to a Context at a slot and send and
// receive through it.
package reactor
