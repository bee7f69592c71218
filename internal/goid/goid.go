// Package goid reads the id of the calling goroutine. The reactor uses it
// to tell whether a blocking call was made on its loop goroutine, where
// waiting would deadlock. It costs about a microsecond, so it is kept off
// the per-message paths.
package goid

import "runtime"

// Current returns the id of the calling goroutine, or 0 if it cannot be
// read.
func Current() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	// "goroutine 123 [running]:..."
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	b = b[len(prefix):]
	var id int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}
