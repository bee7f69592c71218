# -*- coding: utf-8 -*-
"""clientserver_peer.py: Python yoton's clientserver module for the Go
interop tests (package clientserver).

Reads one JSON command per line on stdin and writes exactly one JSON reply
line per command on stdout: {"ok": true, ...} or {"error": "..."}.

Commands:
  serve    {"addr", "async", "handler": "default"|"record"}
           starts a yoton.RequestServer in its own thread → port.
           "record" answers "Python got " + request and keeps the requests.
  requests → requests (what the "record" handler was given, as is)
  request  {"addr", "request", "timeout"} → reply (yoton.do_request; null
           when it returned None)
  stop     stops the server
  exit     replies, then exits with status 0

yoton's own print() output goes to stderr, never stdout.
"""

import json
import sys
import threading
import traceback

_REPLY_OUT = sys.stdout
sys.stdout = sys.stderr

import yoton  # noqa: E402  (after the stdout redirection on purpose)


class RecordingServer(yoton.RequestServer):
    def __init__(self, *args, **kwargs):
        yoton.RequestServer.__init__(self, *args, **kwargs)
        self.lock = threading.Lock()
        self.requests = []

    def handle_request(self, request):
        with self.lock:
            self.requests.append(request)
        return "Python got " + request


class Peer(object):
    def __init__(self):
        self.server = None
        self.exiting = False

    def handle(self, line):
        try:
            cmd = json.loads(line)
            op = cmd.get("op")
            fn = getattr(self, "op_" + str(op), None)
            if fn is None:
                return {"error": "unknown op %r" % (op,)}
            reply = fn(cmd) or {}
            reply["ok"] = True
            return reply
        except Exception as e:
            sys.stderr.write(traceback.format_exc())
            return {"error": "%s: %s" % (type(e).__name__, e)}

    def op_serve(self, cmd):
        if self.server is not None:
            raise RuntimeError("already serving")
        cls = RecordingServer if cmd.get("handler") == "record" else yoton.RequestServer
        server = cls(cmd.get("addr", "127.0.0.1:0"), bool(cmd.get("async", False)))
        # yoton's server thread calls listen() only once it runs; listen
        # here too, so that a client may connect as soon as we reply.
        server._bsd_socket.listen(1)
        server.start()
        self.server = server
        return {"port": server._bsd_socket.getsockname()[1]}

    def op_requests(self, cmd):
        with self.server.lock:
            return {"requests": list(self.server.requests)}

    def op_request(self, cmd):
        reply = yoton.do_request(cmd["addr"], cmd["request"], cmd.get("timeout", -1))
        return {"reply": reply}

    def op_stop(self, cmd):
        if self.server is not None:
            self.server.stop()
            self.server.join(5)

    def op_exit(self, cmd):
        self.exiting = True


def main():
    peer = Peer()
    for line in sys.stdin:
        if not line.strip():
            continue
        reply = peer.handle(line)
        _REPLY_OUT.write(json.dumps(reply, ensure_ascii=True) + "\n")
        _REPLY_OUT.flush()
        if peer.exiting:
            break
    sys.stderr.flush()


if __name__ == "__main__":
    main()
