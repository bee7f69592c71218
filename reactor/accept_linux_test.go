//go:build linux

package reactor

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/wire"
)

// TestAcceptSurvivesFileDescriptorExhaustion: accept failing with EMFILE
// is logged and retried; once descriptors are free the Bind serves.
func TestAcceptSurvivesFileDescriptorExhaustion(t *testing.T) {
	logged := make(chan string, 64)
	r := newReactor(t, WithLogger(chanLogger(logged)))
	x := newContext(t, r)
	bound, addr := bindLocal(t, x)

	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	open, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	tight := lim
	tight.Cur = uint64(len(open)) + 32
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &tight))
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) })
	var filler []*os.File
	release := func() {
		for _, f := range filler {
			_ = f.Close()
		}
		filler = nil
	}
	t.Cleanup(release)
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			require.True(t, errors.Is(err, syscall.EMFILE), "open: %v", err)
			break
		}
		filler = append(filler, f)
	}
	// One descriptor for the client's socket; none left for accept.
	require.NoError(t, filler[len(filler)-1].Close())
	filler = filler[:len(filler)-1]
	nc, err := net.Dial("tcp4", addr)
	require.NoError(t, err)
	defer nc.Close()

	for {
		line := testkit.Wait(t, logged, "accept error in the log")
		if strings.Contains(line, "accept") && strings.Contains(line, "too many open files") {
			break
		}
	}
	release()
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	p := &rawPeer{t: t, nc: nc, br: bufio.NewReader(nc), id: nextRawID()}
	p.write(wire.HandshakeLine(p.id, 1))
	_, _, err = wire.ParseHandshakeLine(p.readLine())
	require.NoError(t, err)
	p.sendPkg(testSlot, 1, "after EMFILE")
	waitEstablished(t, bound)
	assert.Equal(t, p.id, bound.PeerID())
}
