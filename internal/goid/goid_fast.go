//go:build (amd64 || arm64) && !purego

package goid

// getg returns the runtime's pointer to the calling goroutine (goid_*.s).
func getg() uintptr

func current() ID { return ID(getg()) }
