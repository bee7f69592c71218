// Package interop holds the interoperability tests of the Go yoton against
// the real Python yoton 2.2 (the copy shipped in Debian's pyzo package).
// It has no API: everything is in its _test.go files.
//
// The tests drive Python processes through internal/pypeer (the peer.py
// command script) and check, with expectations taken from the Python side
// (its repr() of a value, its own hash functions, the ids it reports) or
// computed independently in Go:
//
//   - connecting both ways (Go binds / Python connects and the reverse),
//     and the ids exchanged in the handshake (Python's UID.get_hex pads on
//     the right, so a Python id below 2^60 arrives multiplied by 16);
//   - publish/subscribe of text, binary and object messages in both
//     directions, including every value of peer.py's OBJECT_TABLE and
//     Go-built values, and the order of 1000 messages;
//   - forwarding through a Python context between two Go contexts and
//     through a Go context between two Python contexts, exactly once;
//   - slot and port hashes, slot-name normalisation and channel slot ids;
//   - closing from either side, a killed peer, and heartbeats that keep an
//     idle connection from timing out;
//   - Listen: Python contexts joining one Go port with their ordinary
//     connect (also mid-stream), WithMaxConnections refusing one,
//     DropBacklog; honest Go and Python connects getting into a Listen and
//     a Bind while slow and idle clients hold the port;
//   - WithReconnect against a Python host that is killed and started again
//     on the same port (queued packages in order, none twice; state both
//     ways), and giving up;
//   - NEW_CONNECTION through a Go hub with Python and Go leaves (every
//     state reaches every newcomer) and Python ignoring the Go-only link
//     messages silently.
//
// To run them, fetch the Python peer once, then run the package:
//
//	scripts/fetch-pyzo.sh
//	go test ./internal/interop/
//
// (or point YOTON_PYTHONPATH at a directory holding the yoton package).
// Without the peer the tests skip, except when CI=true, where they fail so
// that CI cannot silently lose them.
package interop
