package reactor

import "syscall"

// quickAck asks the kernel to acknowledge received data at once instead
// of delaying the ACK. Python yoton leaves Nagle's algorithm on, so a
// Python sender holds back its next small segment until our ACK arrives;
// with Linux's delayed ACKs that stalled Python→Go streams to about
// 2 MB/s. TCP_QUICKACK is not sticky, so it is set after every read.
func quickAck(fd int) {
	_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
}
