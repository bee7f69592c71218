// Package pypeer lets Go tests drive real Python yoton 2.2 processes.
//
// The Python peer is the yoton package shipped inside Debian's pyzo package.
// scripts/fetch-pyzo.sh (at the module root) unpacks it into a cache
// directory; [PythonPath] finds it there (or through YOTON_PYTHONPATH), and
// [Require] skips a test when it is missing, or fails it when the
// environment variable CI is "true" so that CI cannot silently lose the
// interop tests.
//
// [Peer.Start] runs the Python peer, internal/pypeer/scripts/peer.py, with
// python3 -u. It reads one JSON command per line on stdin and writes
// exactly one JSON reply line per command on stdout: {"ok": true, ...} or
// {"error": "message"}. It keeps processing yoton events
// (yoton.process_events) between commands and while a command waits, so
// yoton signals and event-driven channels work. yoton's own print()
// output goes to stderr (never stdout) and into a log the "log" and
// "wait_log" commands expose.
//
// Command modules add to it: peer.py --module NAME ([Peer.StartModule])
// loads scripts/peer_NAME.py, whose Commands class is mixed into peer.py's
// Peer (more commands, sharing its helpers and protocol) and whose
// add_roles adds roles: a role named on the command line runs instead of
// the command loop. The modules:
//
//	flow         state channels and sync-mode publish/subscribe:
//	             state_send_last, sub_status, wait_sub_full, publish (a
//	             publisher thread), publish_status, wait_pub_locked,
//	             wait_published (internal/interop's state and sync tests)
//	clientserver Python yoton's clientserver module: serve (a
//	             RequestServer), requests, request (do_request), stop
//	examples     roles, not commands: the Python nodes of the example
//	             programs (calc-client, replier, chat, hub-client), which
//	             print lines for people on stdout
//
// Each module's docstring gives its commands' fields.
//
// 64-bit ids travel as decimal strings; binary messages as hex strings;
// object messages are reported as Python repr() strings. Every command
// takes "ctx" (context name, default "main") where it makes sense, and
// waiting commands take "timeout" in seconds (default 5).
//
//	context      {"name", "queue_params": [size, "old"|"new"], "verbose",
//	             "id" (decimal string: force the context id)}
//	             → id, id_hex (the id as yoton writes it in the handshake), pid
//	bind         {"addr", "max_tries", "conn"} → port (the port really bound:
//	             Debian's yoton binds one above the requested port; with port
//	             "0" the peer picks a free one)
//	connect      {"addr", "timeout", "conn"} → peer_id, peer_pid, port, peer_port
//	wait_connected {"conn"} → peer_id, peer_pid, port, peer_port
//	watch        {"conn"} (every connection is watched from its creation)
//	closed       {"conn"} → reason, timedout (list of timedout signal values)
//	status       {"conn"} → alive, connected, waiting, closed_reason, ...
//	pub, sub, state, rep {"slot", "type": "text"|"binary"|"object", "sync"
//	             (sub), "mode" (rep, default "event")} → slot_out, slot_in
//	send         {"kind": "pub"|"state", "slot", "type", "value"|"table"} → repr;
//	             {"kind", "slot", "type", "values": [...]} sends each → count
//	             (an object value {"tuple": [...]} is a tuple)
//	recv         {"slot", "type", "count"} → messages
//	state_recv   {"slot", "type", "until"} → value, set (whether a state
//	             arrived or was sent)
//	req          {"slot", "method", "args", "kwargs"} → repr or exception
//	             (the rep side has echo, add(a, b), fail(msg), context_id(),
//	             greet(name, greeting, punctuation), describe(*args,
//	             **kwargs) → (args, kwargs), work(i) → ("py", i))
//	req_many     {"slot", "calls": [{"method", "args", "kwargs"}]} → results
//	             (one {"repr"}, {"exception"} or {"cancelled"} per call)
//	rep_mode     {"slot", "mode"} (yoton's set_mode: off, event, thread)
//	hold, release {"name", "slot"}: the next call of rep method name
//	             publishes "entered <name>" (text, on slot) and blocks its
//	             replier's thread until "release" {"name"}
//	table        → names, reprs (the script's OBJECT_TABLE)
//	pack, unpack {"value"|"table"} → hex, repr; {"hex"} → repr
//	hash         {"names", "normalize" (apply yoton's strip().lower() first)}
//	             → slot (decimal strings), port, names (as hashed)
//	log, wait_log {"contains"} → lines (what yoton printed)
//	close_conn   {"conn", "reason"}; close_context; process
//	exit         {"close": bool} replies, then exits with status 0
//
// Commands that run one of yoton's objects through a scripted sequence and
// report what it did, for the side-by-side tests of issue 11 (each
// command's docstring in peer.py gives its fields):
//
//	future_semantics, signal_semantics, timer_semantics: Future, Signal
//	             and Timer state machines; signal_packages: the heartbeat
//	             and close packages' bytes; pack_literal: a dict literal's
//	             encoding; file_wrap, file_call: a FileWrapper;
//	             text_decode, raw_text, raw_text_send: TEXT decoding of
//	             arbitrary bytes; recv_each: SubChannel reads one by one;
//	             service_rep: a replier with keyword-argument methods
//
// Concurrency: a [Process] has one goroutine reading stdout (lines are
// handed over through a channel) and one waiting for the process to exit;
// the test's Cleanup kills the process if it still runs and waits for both,
// so goleak stays clean. Reads and Call are meant to be used from one
// goroutine at a time; Send, Kill, Wait, Pid, Stderr and CloseStdin are
// safe for concurrent use.
//
// A typical test:
//
//	func TestInterop(t *testing.T) {
//		p := pypeer.Require(t)
//		proc := p.Start(t, "peer.py")
//		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//		defer cancel()
//		var r struct{ ID string `json:"id"` }
//		if err := proc.Call(ctx, map[string]any{"op": "context"}, &r); err != nil {
//			t.Fatal(err)
//		}
//		var b struct{ Port int `json:"port"` }
//		if err := proc.Call(ctx, map[string]any{"op": "bind", "addr": "127.0.0.1:0", "conn": "c1"}, &b); err != nil {
//			t.Fatal(err)
//		}
//		// ... connect a Go context to 127.0.0.1:b.Port ...
//	}
package pypeer
