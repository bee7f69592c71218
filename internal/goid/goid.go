// Package goid tells goroutines apart. The reactor uses it to tell
// whether a blocking call was made on its loop goroutine, where waiting
// would deadlock.
//
// On amd64 and arm64, Current reads the goroutine pointer the runtime
// keeps in a register or thread-local slot (one instruction, no
// allocation); elsewhere it parses the id out of runtime.Stack (about a
// microsecond and one small buffer).
package goid

import "runtime"

// ID identifies a goroutine while it runs: two goroutines alive at the
// same time never have the same ID. An ID may be reused once its
// goroutine has returned, so only compare IDs of goroutines that are
// still running (the reactor compares with its loop goroutine, which
// runs as long as the reactor). The zero ID is never a goroutine's.
type ID uintptr

// Current returns the ID of the calling goroutine.
func Current() ID { return current() }

// fromStack is the portable form: the runtime's goroutine id, parsed
// out of the first line of runtime.Stack, "goroutine 123 [running]:".
func fromStack() ID {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id ID
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + ID(c-'0')
	}
	return id
}
