//go:build !unix

package reactor

import (
	"errors"
	"fmt"
	"runtime"
)

// readSocket reads nothing where the loop's sockets are not file
// descriptors it may read itself: large bodies go through gnet's buffer.
func readSocket(int, []byte) int { return 0 }

// shutdownWrite does nothing: closing the connection ends the stream.
func shutdownWrite(int) {}

// socketPair is not available: TLS (which relays through a socket pair)
// needs a unix system.
func socketPair() ([2]int, error) {
	return [2]int{}, fmt.Errorf("socket pairs on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func closeFd(int) {}
