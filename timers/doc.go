// Package timers holds the pieces of yoton's event system that do not
// touch sockets: a deadline heap that an event loop drives, and the Signal
// type that queues handler calls onto a loop.
//
// Nothing here starts a goroutine. A Heap is driven by its owner (the
// reactor runs its heap on the loop goroutine); a Signal posts its handler
// calls through the Loop it was made with, so handlers always run on that
// loop's goroutine.
package timers
