// Package python holds the Python side of the benchmarks, embedded so that
// the runner finds it whatever directory it is started from.
package python

import _ "embed"

// PubSub is pubsub.py: a Python yoton publisher or subscriber, driven by
// command-line arguments (see its docstring).
//
//go:embed pubsub.py
var PubSub []byte

// ReqRep is reqrep.py: a Python yoton RepChannel (echo) or a ReqChannel
// measuring latency or throughput (see its docstring).
//
//go:embed reqrep.py
var ReqRep []byte
