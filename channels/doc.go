// Package channels holds yoton's channels: the typed endpoints through
// which programs exchange messages over a yoton network, byte-compatible
// with the channels of Python yoton 2.2.
//
// A channel is attached to a *reactor.Context at a slot base ("news",
// say). Its message type and messaging pattern complete the slot name,
// base + "." + type name + "." + pattern, so only channels of the same
// kind meet: a PubChannel[string] at "news" sends on "news.txt.pub-sub",
// where every SubChannel[string] at "news" in the network receives. A
// context holds at most one sending and one receiving channel per slot;
// a second one fails with reactor.ErrSlotNotFree.
//
// Message types convert messages to bytes and back. Text (Python's
// yoton.TEXT, type name "txt"), Binary ("bin") and Object ("obj", the
// tagged encoding of package wire) are built in; NewMessageType makes
// any other, and a Python peer meets it with a MessageType whose
// message_type_name() returns the same name. A message whose encoding is
// empty is never sent.
//
// Every channel attaches to its context through reactor.Context.Attach,
// the one seam between the reactor and channels, and sends through the
// reactor.Endpoint it returns; the methods the reactor calls to deliver
// packages are on unexported adapters, not on the channel types. A
// channel kind of your own (yoton lets programs subclass its channels)
// attaches the same way; see reactor.Attachment.
//
// # Goroutines
//
// Channels do no I/O themselves: the context's reactor runs one event
// loop goroutine that reads packages, deposits each into the queue of
// the channel at its slot, and runs every callback. Everything else is
// safe for concurrent use from any goroutine:
//
//   - Send encodes in the caller and hands the bytes to the context; it
//     waits only while a subscriber in sync mode says it is full (at most
//     SendLockWait) or while the context's connections are congested.
//   - Recv waits for a message until its ctx ends; TryRecv, RecvAll and
//     Messages never wait. Called on the loop goroutine, Recv never waits
//     either: with nothing queued it returns reactor.ErrBlockingCall.
//   - A SubChannel's Received signal is emitted on the loop goroutine,
//     once per batch of arrived messages, not once per message. Handlers
//     must not block; reading the queue with TryRecv or Messages is fine.
//
// Every incoming queue is bounded by the context's queue size and
// discard rule (reactor.WithQueue); Discarded counts what it dropped.
// Close detaches a channel: a closed PubChannel refuses to send, a closed
// SubChannel keeps its queued messages for reading and then returns
// reactor.ErrClosed (wrapped, as every closed channel does). Closing the
// context or the reactor closes its channels.
//
// # Errors, options and counters
//
// The reactor's sentinels come back as they are, not re-exported:
// reactor.ErrClosed, reactor.ErrBlockingCall, reactor.ErrSlotNotFree and
// reactor.ErrInvalidSlot. This package adds its own (ErrNoMessage,
// ErrNilContext, ErrNilMessageType, ErrBadMode, ErrEncode, ErrDecode,
// ErrBadHandler). Options (RepOption, WriterOption, ReaderOption and
// FileOption, which is both) are checked by the constructor they are
// given to: an invalid one, such as WithChunkSize(-1) or WithEcho(nil), is
// an error wrapping reactor.ErrBadOption, so NewWriter and NewReader return
// an error as the other constructors do.
//
// Every channel kind counts what it did: PubChannel.Stats (PubStats),
// SubChannel.Stats (SubStats), ReqChannel.Stats (ReqStats),
// RepChannel.Stats (RepStats) and StateChannel.Stats (StateStats), safe
// from any goroutine and JSON-tagged for expvar.
//
// # Example
//
// Two contexts on one reactor, one bound and one connected to it:
//
//	r, err := reactor.New()
//	if err != nil {
//		return err
//	}
//	defer r.Close()
//	host, _ := r.NewContext()
//	client, _ := r.NewContext()
//	conn, err := host.Bind("127.0.0.1:0", 1, "")
//	if err != nil {
//		return err
//	}
//	_, port := conn.LocalAddr()
//	if _, err := client.Connect(ctx, fmt.Sprintf("127.0.0.1:%d", port), ""); err != nil {
//		return err
//	}
//
//	pub, err := channels.NewPubChannel(host, "news", channels.Text)
//	if err != nil {
//		return err
//	}
//	sub, err := channels.NewSubChannel(client, "news", channels.Text)
//	if err != nil {
//		return err
//	}
//	if err := pub.Send(ctx, "hello"); err != nil {
//		return err
//	}
//	msg, err := sub.Recv(ctx) // "hello"
//
// Python yoton reaches the same channels with
// yoton.SubChannel(context, "news") or yoton.PubChannel(context, "news").
package channels
