package reactor

import (
	"bufio"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/wire"
)

// TestConnectKeepsPackagesSentWithTheHandshake: a host (Python's bind
// flushes what it queued while waiting) may send packages right behind
// its handshake line, in the same segment; Connect reads the line in
// chunks and decodes what came with it first.
func TestConnectKeepsPackagesSentWithTheHandshake(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	hostID := nextRawID()
	served := make(chan error, 1)
	go func() { // ends after one connection
		nc, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		t.Cleanup(func() { _ = nc.Close() })
		if _, err := bufio.NewReader(nc).ReadBytes('\n'); err != nil {
			served <- err
			return
		}
		out := wire.HandshakeLine(hostID, 1)
		out = append(out, frame(wire.Header{Slot: testSlot, SourceID: hostID, SourceSeq: 1}, []byte("first"))...)
		out = append(out, frame(wire.Header{Slot: testSlot, SourceID: hostID, SourceSeq: 2}, []byte("second"))...)
		_, err = nc.Write(out)
		served <- err
	}()
	r := newReactor(t)
	x := newContext(t, r)
	rx := newRecorder(t, x, testSlot)
	_, err = x.Connect(testkit.Context(t), ln.Addr().String(), "")
	require.NoError(t, err)
	require.NoError(t, testkit.Wait(t, served, "host"))
	assert.Equal(t, []string{"first", "second"}, payloads(rx.waitN(t, 2)))
}
