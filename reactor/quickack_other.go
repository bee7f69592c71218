//go:build !linux

package reactor

// quickAck is a no-op where TCP_QUICKACK does not exist.
func quickAck(int) {}
