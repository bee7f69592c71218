// Command yotoncat sends and receives yoton messages from the command
// line, in the spirit of nngcat and the nats CLI: publish, subscribe, call
// a replier, serve one, watch a state channel, or make a clientserver
// request. It joins a yoton network of Go or Python (Pyzo) processes.
//
//	go install github.com/goyoton/yoton/cmd/yotoncat@latest
//
// Every subcommand but request makes one context that joins the network
// at -addr: with -connect (the default) it connects to a context bound or
// listening there, with -bind it binds addr and waits for one peer (port 0
// picks a free port; the port is printed on stderr). Messages are sent and
// received at slot -slot with message type -type (text, json: JSON text on
// the text slots, object: yoton's object codec, written and printed as
// JSON, or as Python repr).
//
//	yotoncat sub  -addr 127.0.0.1:4000 -bind -slot news              # print what arrives
//	yotoncat pub  -addr 127.0.0.1:4000 -slot news hello world        # two messages
//	tail -f log | yotoncat pub -addr 127.0.0.1:4000 -slot news       # one per line
//	yotoncat pub  -addr 127.0.0.1:4000 -slot data -type object '{"a": [1, 2.5]}'
//	yotoncat sub  -addr 127.0.0.1:4000 -slot data -type object -json -count 1 -timeout 5s
//	yotoncat serve -addr 127.0.0.1:5000 -bind -slot calc -echo       # echo(args...) → args
//	yotoncat serve -addr 127.0.0.1:5000 -bind -slot sh -exec date    # exec(args...) → stdout of "date args..."
//	yotoncat call -addr 127.0.0.1:5000 -slot calc -kw k=true echo 1 '"x"'
//	yotoncat state -addr 127.0.0.1:6000 -slot status                 # current state and every change
//	yotoncat request -addr localhost:yotonserver 'time?'             # clientserver.DoRequest
//
// Flags come before the arguments (METHOD, messages, TEXT): Go's flag
// package stops at the first argument. Call arguments (and -kw values) are parsed as JSON when they parse,
// else taken as strings; JSON numbers become int64 when they are integers
// (no fraction, no exponent) and float64 otherwise, objects *wire.Dict in
// their order, arrays lists. A remote error is printed on stderr and the
// exit status is 1; a usage error exits with 2. Ctrl-C ends any
// subcommand cleanly. With -stats, a subcommand that joins a network
// prints, when it ends, the counters of its context and connections
// (reactor.ContextStats and ConnectionStats) as one JSON line on stderr:
//
//	yotoncat call -stats -addr 127.0.0.1:5000 -slot calc echo 1
//	{"context":{"connections":1,"packages_in":3,...},"connections":{"yotoncat 127.0.0.1:5000":{...}}}
package main
