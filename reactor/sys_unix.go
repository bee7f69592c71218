//go:build unix

package reactor

import "syscall"

// readSocket reads from the socket fd into b, retrying on EINTR; n <= 0
// means nothing more now (EAGAIN), end of stream or an error, which the
// loop's next read reports.
func readSocket(fd int, b []byte) int {
	for {
		n, err := syscall.Read(fd, b)
		if err == syscall.EINTR {
			continue
		}
		return n
	}
}

// shutdownWrite half-closes the socket fd: the peer reads end of file.
func shutdownWrite(fd int) { _ = syscall.Shutdown(fd, syscall.SHUT_WR) }

// socketPair returns two connected unix stream sockets, close-on-exec.
func socketPair() ([2]int, error) {
	syscall.ForkLock.RLock() // as the standard library: no fork between the two calls
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return fds, err
	}
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	return fds, nil
}

func closeFd(fd int) { _ = syscall.Close(fd) }
