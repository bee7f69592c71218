# -*- coding: utf-8 -*-
"""peer_clientserver.py: peer.py's commands for Python yoton's
clientserver module (peer.py --module clientserver), for the Go interop
tests of package clientserver.

  serve    {"addr", "async", "handler": "default"|"record"}
           starts a yoton.RequestServer in its own thread -> port.
           "record" answers "Python got " + request and keeps the requests.
  requests -> requests (what the "record" handler was given, as is)
  request  {"addr", "request", "timeout"} -> reply (yoton.do_request; null
           when it returned None)
  stop     stops the server
"""

import threading

import yoton


class RecordingServer(yoton.RequestServer):
    def __init__(self, *args, **kwargs):
        yoton.RequestServer.__init__(self, *args, **kwargs)
        self.lock = threading.Lock()
        self.requests = []

    def handle_request(self, request):
        with self.lock:
            self.requests.append(request)
        return "Python got " + request


class Commands(object):
    def __init__(self):
        super().__init__()
        self.server = None

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
        return {}
