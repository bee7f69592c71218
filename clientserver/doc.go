// Package clientserver is yoton's clientserver module: a telnet-like
// request/reply over one short TCP connection per request, for asking
// another process small things (protocol.md section 10).
//
// DoRequest connects, sends one request line (CRLF appended unless
// present), shuts down its writing side, reads the reply up to CRLF or
// end of file, and closes. A RequestServer accepts, reads one request up
// to CRLF (or end of file, or what arrived within the request timeout,
// one second as in yoton), answers it with its Handler's reply (CRLF
// appended unless present), shuts down and closes. Both speak to Python
// yoton's do_request and RequestServer, and take the same address forms
// ("localhost:port", "publichost:name+1", see slots.ParseAddress).
//
// # Goroutines
//
// A RequestServer lives on a reactor.Reactor, like everything else of a
// process: one goroutine of the server accepts clients and hands each
// socket to the reactor's loop goroutine, which reads the request (ending
// it at the request timeout for clients that do not end it), and calls
// the handler. The handler therefore runs on the loop and must return
// quickly; with WithAsync it runs on a goroutine per request instead
// (yoton's async_val), for slow handlers. Replies larger than a few KiB,
// and the replies of async handlers, are written by a goroutine per
// request. Close ends every goroutine of the server.
//
// The server has no logger of its own: it logs what goes wrong (accept
// errors, clients turned away or dropped, requests answered at the
// timeout, panicking handlers) through its reactor's logger
// (reactor.WithLogger or reactor.WithSlog), as Warn records and Error for
// a panic. Its options are checked by NewRequestServer: an invalid one is
// an error wrapping reactor.ErrBadOption.
//
// DoRequest needs no reactor: it blocks its caller on a socket of its
// own, until the reply is in or ctx ends. Do not call it from a callback
// on a loop goroutine.
//
// # From Python yoton
//
//	do_request(address, request, timeout)  DoRequest(ctx, address, request)
//	RequestServer(address, async_val)       NewRequestServer(r, address, handler, WithAsync())
//	server.handle_request (override)        the handler argument (nil: DefaultHandler)
//	server.start() / server.run()           serving starts in NewRequestServer; wait on Done
//	server.stop()                           Stop (Close also drops waiting clients)
//
// # Example
//
//	server, err := clientserver.NewRequestServer(r, "localhost:yotonserver", func(req string) string {
//		return "The time is " + time.Now().Format(time.TimeOnly)
//	})
//	...
//	reply, err := clientserver.DoRequest(ctx, "localhost:yotonserver", "time?")
package clientserver
