// Package slots names things the way Python yoton 2.2 does: it turns
// channel names into the 64-bit slot ids carried in every package header,
// and parses yoton addresses ("[protocol://]host:port").
//
// A channel's slot id is the hash of its full slot name. Python yoton
// builds that name as slot_base + "." + type_name + "." + pattern, strips
// white space, lower-cases it, and hashes it with an unbounded-integer
// hash (slot_hash). ID does all of that; Hash is the bare hash, Normalize
// the strip-and-lower step and FullName the name itself. Ids 0 to 7 are
// reserved (ConnectionSlot and ContextSlot are the ones in use), and Hash
// never returns them. The hash must use big integers: a version that
// wraps at 64 bits agrees with Python only for names shorter than about
// 130 ASCII characters (about 70 for CJK or emoji).
//
// ParseAddress follows Python's split_address, including its port names:
// "localhost:chat" means port PortHash("chat"), and "localhost:chat+1" the
// port after it, so that two programs agree on a port by agreeing on a
// name.
//
// Everything in this package is a pure function, safe for concurrent use
// and free of goroutines; ParseAddress alone may block, on the system
// resolver, and only for "publichost" addresses.
//
// For example, a Python PubChannel(ctx, "chat") sends text on the slot
// below and a SubChannel(ctx, "chat") receives on it (a Pub's outgoing
// pattern and a Sub's incoming one are both "pub-sub"):
//
//	slot := slots.ID("chat", "txt", "pub-sub")
//	addr, err := slots.ParseAddress("localhost:chat")
//	if err != nil {
//		return err
//	}
//	if addr.Protocol != "tcp" {
//		return fmt.Errorf("unsupported protocol %q", addr.Protocol)
//	}
//	conn, err := net.Dial("tcp", addr.String())
package slots
