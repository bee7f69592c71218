package main

// Go yoton req/rep (scenario 3) — NOT YET AVAILABLE.
//
// The library has no channels.ReqChannel / RepChannel yet (issue 4). Until
// it has, the req/rep rows of Go yoton say "not yet available" instead of a
// number. To add the scenario, replace the registerPending call below with
//
//	registerRole(sysGoyoton, "rep", goyotonRep)
//	registerRole(sysGoyoton, "req", goyotonReq)
//
// and write the two roles in this file, following the libzmq ones
// (sys_libzmq.go) and Python's (python/reqrep.py, the peer to match):
//
//   - goyotonRep: a reactor, a context (reactor.WithQueue(goQueueSize,
//     goQueueRule)), a RepChannel on slot benchSlot whose handler "echo"
//     returns its argument, Bind("127.0.0.1:0", 1, ""), then
//     io.say("%s %s", readyWord, "host:port") and io.waitEOF().
//   - goyotonReq: Connect to a.addrList()[0]; in mode "latency" call
//     callLoop(a, true, func() error { echo one a.size-byte payload and
//     wait for its future }), in mode "throughput" call pipeline(a, send,
//     recv) with a.outstanding futures in flight; then
//     io.sayJSON(resultWord, res) and io.waitEOF().
//
// Nothing else changes: the runner finds the roles in roleFuncs, runs the
// scenario, computes the ratios and plots the percentiles.
func init() {
	registerPending(sysGoyoton, kindReqRep,
		"not yet available: the library has no ReqChannel/RepChannel yet (issue 4)")
}
