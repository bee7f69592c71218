# -*- coding: utf-8 -*-
"""flow_peer.py: a command-driven Python yoton peer for the Go interop tests
of state channels and of sync-mode (flow-controlled) publish/subscribe.

Same protocol as peer.py: one JSON command per line on stdin, exactly one
JSON reply line per command on stdout, {"ok": true, ...} or {"error": "..."}.
yoton's own print() output goes to stderr. Between commands, and while a
command waits, yoton events are processed (yoton.process_events), which a
SubChannel in sync mode needs: it checks its queue in its received signal.

Commands (every one takes "ctx", default "main"; waits take "timeout" in s):

  context         {"name", "queue_params": [size, "old"|"new"]} -> id, pid
  bind            {"addr", "conn"} -> port (really bound; "host:0" picks one)
  connect         {"addr", "conn", "timeout"} -> peer_id
  wait_connected  {"conn"} -> peer_id
  pub, sub, state {"slot", "type": "text"|"object", "sync" (sub)}
  send            {"kind": "pub"|"state", "slot", "type", "value" | "values"}
  recv            {"slot", "type", "count"} -> messages (takes count messages)
  state_recv      {"slot", "type", "until"} -> value, set (waits for "until"
                  when given; object values are reported as repr())
  state_send_last {"slot", "type"}
  sub_status      {"slot", "type"} -> pending, status (0 off, 1 ok, 2 full)
  wait_sub_full   {"slot", "type"} -> pending (waits until the sub said "full")
  publish         {"slot", "count", "size"}: a thread publishes count text
                  messages "<i>:xxx..." of size characters -> {}
  publish_status  {"slot"} -> sent, done, locked, error
  wait_pub_locked {"slot"} -> sent, locked (waits until the publisher's send
                  lock is set, or it is done)
  wait_published  {"slot"} -> sent (waits until the thread is done)
  exit            replies, then exits
"""

import json
import os
import queue
import socket
import sys
import threading
import time
import traceback

_REPLY_OUT = sys.stdout
sys.stdout = sys.stderr  # yoton prints diagnostics; keep stdout for replies

import yoton  # noqa: E402  (after the stdout redirection on purpose)

TYPES = {"text": yoton.TEXT, "object": yoton.OBJECT}


class CommandError(Exception):
    """A command could not be carried out; reported as {"error": ...}."""


class Publisher(object):
    """Publishes numbered text messages from a thread of its own, so that
    a send lock (sync mode at the subscriber) does not block the commands."""

    def __init__(self, channel, count, size):
        self.channel = channel
        self.count = count
        self.size = size
        self.sent = 0
        self.done = False
        self.error = None
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            for i in range(self.count):
                head = "%d:" % i
                self.channel.send(head + "x" * max(0, self.size - len(head)))
                self.sent += 1
        except Exception as e:  # reported by publish_status
            self.error = "%s: %s" % (type(e).__name__, e)
        self.done = True

    def status(self):
        return {
            "sent": self.sent,
            "done": self.done,
            "locked": bool(self.channel._is_send_locked),
            "error": self.error,
        }


class Peer(object):
    def __init__(self):
        self.contexts = {}
        self.conns = {}
        self.channels = {}  # (ctx, kind, slot, type) -> channel
        self.publishers = {}  # (ctx, slot) -> Publisher
        self.exiting = False

    # ---- helpers

    def ctx(self, cmd):
        name = cmd.get("ctx", "main")
        try:
            return self.contexts[name]
        except KeyError:
            raise CommandError("no context named %r" % name)

    def conn(self, cmd):
        name = cmd.get("conn", "")
        try:
            return self.conns[name]
        except KeyError:
            raise CommandError("no connection named %r" % name)

    def channel(self, cmd, kind, create=False):
        ctx_name = cmd.get("ctx", "main")
        slot = cmd["slot"]
        typ = cmd.get("type", "text")
        if typ not in TYPES:
            raise CommandError("unknown message type %r" % typ)
        key = (ctx_name, kind, slot, typ)
        ch = self.channels.get(key)
        if ch is not None:
            return ch
        if not create:
            raise CommandError("no %s channel for slot %r type %r in context %r" % (kind, slot, typ, ctx_name))
        context = self.ctx(cmd)
        if kind == "pub":
            ch = yoton.PubChannel(context, slot, TYPES[typ])
        elif kind == "sub":
            ch = yoton.SubChannel(context, slot, TYPES[typ])
            if cmd.get("sync"):
                ch.set_sync_mode(True)
        elif kind == "state":
            ch = yoton.StateChannel(context, slot, TYPES[typ])
        else:
            raise CommandError("unknown channel kind %r" % kind)
        self.channels[key] = ch
        return ch

    @staticmethod
    def fmt(typ, msg):
        if typ == "text":
            return msg
        return repr(msg)

    @staticmethod
    def wait_until(pred, timeout):
        """Process yoton events until pred() is true or timeout passes."""
        deadline = time.monotonic() + float(timeout)
        while True:
            yoton.process_events(False)
            if pred():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Wakes up as soon as an event arrives.
            yoton.process_events(min(0.005, remaining))

    def publisher(self, cmd):
        key = (cmd.get("ctx", "main"), cmd["slot"])
        try:
            return self.publishers[key]
        except KeyError:
            raise CommandError("no publisher thread for slot %r" % cmd["slot"])

    # ---- commands

    def op_context(self, cmd):
        name = cmd.get("name", "main")
        if name in self.contexts:
            raise CommandError("context %r exists" % name)
        qp = cmd.get("queue_params")
        if qp is not None:
            qp = (int(qp[0]), str(qp[1]))
        c = yoton.Context(queue_params=qp)
        self.contexts[name] = c
        return {"id": str(c.id), "pid": os.getpid()}

    def op_bind(self, cmd):
        context = self.ctx(cmd)
        name = cmd.get("conn", "")
        if name in self.conns:
            raise CommandError("connection %r exists" % name)
        addr = cmd["addr"]
        host, _, port = addr.rpartition(":")
        if port == "0":
            conn = self._bind_free(context, host, name)
        else:
            conn = context.bind(addr, max_tries=int(cmd.get("max_tries", 1)), name=name)
        self.conns[name] = conn
        return {"port": conn.port1}

    @staticmethod
    def _bind_free(context, host, name):
        """Bind near a free port the OS picks. Debian's yoton 2.2 binds one
        above the requested port, so ask for the free port minus one; the
        reply reports the port really bound (as peer.py does)."""
        last = None
        for _ in range(20):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((host.split("://")[-1] or "127.0.0.1", 0))
                free = s.getsockname()[1]
            finally:
                s.close()
            try:
                return context.bind("%s:%d" % (host, free - 1), max_tries=1, name=name)
            except OSError as e:
                last = e
        raise last

    def op_connect(self, cmd):
        context = self.ctx(cmd)
        name = cmd.get("conn", "")
        if name in self.conns:
            raise CommandError("connection %r exists" % name)
        conn = context.connect(cmd["addr"], timeout=float(cmd.get("timeout", 1.0)), name=name)
        self.conns[name] = conn
        return {"peer_id": str(conn.id2), "port": conn.port1, "peer_port": conn.port2}

    def op_wait_connected(self, cmd):
        conn = self.conn(cmd)
        if not self.wait_until(lambda: conn.is_connected or not conn.is_alive, cmd.get("timeout", 5)):
            raise CommandError("timed out waiting for connection %r" % cmd.get("conn"))
        if not conn.is_connected:
            raise CommandError("connection %r closed" % cmd.get("conn"))
        return {"peer_id": str(conn.id2), "port": conn.port1, "peer_port": conn.port2}

    def op_pub(self, cmd):
        ch = self.channel(cmd, "pub", create=True)
        return {"slot_out": str(ch._slot_out_h), "slot_in": str(ch._slot_in_h)}

    def op_sub(self, cmd):
        ch = self.channel(cmd, "sub", create=True)
        return {"slot_out": str(ch._slot_out_h), "slot_in": str(ch._slot_in_h)}

    def op_state(self, cmd):
        ch = self.channel(cmd, "state", create=True)
        return {"slot_out": str(ch._slot_out_h), "slot_in": str(ch._slot_in_h)}

    def op_send(self, cmd):
        kind = cmd.get("kind", "pub")
        if kind not in ("pub", "state"):
            raise CommandError("send works on pub and state channels, not %r" % kind)
        ch = self.channel(cmd, kind)
        if "values" in cmd:
            for v in cmd["values"]:
                ch.send(self.value(v, cmd))
            return {"count": len(cmd["values"])}
        if "value" not in cmd:
            raise CommandError("missing value")
        v = self.value(cmd["value"], cmd)
        ch.send(v)
        return {"repr": repr(v)}

    @staticmethod
    def value(v, cmd):
        # JSON has no tuples: an object value {"tuple": [...]} is a tuple.
        if cmd.get("type", "text") == "object" and isinstance(v, dict) and list(v) == ["tuple"]:
            return tuple(v["tuple"])
        return v

    def op_recv(self, cmd):
        ch = self.channel(cmd, "sub")
        typ = cmd.get("type", "text")
        count = int(cmd.get("count", 1))
        messages = []

        def got_all():
            # recv() checks the sync-mode queue status, as in yoton.
            while len(messages) < count and ch.pending:
                messages.append(self.fmt(typ, ch.recv(False)))
            return len(messages) >= count

        if not self.wait_until(got_all, cmd.get("timeout", 5)):
            raise CommandError("timed out after %d of %d messages: last %r" % (len(messages), count, messages[-3:]))
        return {"messages": messages}

    def op_state_recv(self, cmd):
        ch = self.channel(cmd, "state")
        typ = cmd.get("type", "text")
        if "until" in cmd:
            want = cmd["until"]
            if not self.wait_until(lambda: self.fmt(typ, ch.recv()) == want, cmd.get("timeout", 5)):
                raise CommandError("timed out; state is %r" % self.fmt(typ, ch.recv()))
        else:
            yoton.process_events(False)
        return {"value": self.fmt(typ, ch.recv()), "set": ch._current_package is not None}

    def op_state_send_last(self, cmd):
        self.channel(cmd, "state").send_last()
        return {}

    def op_sub_status(self, cmd):
        ch = self.channel(cmd, "sub")
        return {"pending": ch.pending, "status": ch._queue_status}

    def op_wait_sub_full(self, cmd):
        ch = self.channel(cmd, "sub")
        if not self.wait_until(lambda: ch._queue_status == 2, cmd.get("timeout", 5)):
            raise CommandError("sub never said full; %d pending" % ch.pending)
        return {"pending": ch.pending}

    def op_publish(self, cmd):
        key = (cmd.get("ctx", "main"), cmd["slot"])
        if key in self.publishers and not self.publishers[key].done:
            raise CommandError("a publisher thread runs for slot %r" % cmd["slot"])
        ch = self.channel(cmd, "pub", create=True)
        self.publishers[key] = Publisher(ch, int(cmd["count"]), int(cmd.get("size", 0)))
        return {}

    def op_publish_status(self, cmd):
        return self.publisher(cmd).status()

    def op_wait_pub_locked(self, cmd):
        p = self.publisher(cmd)
        if not self.wait_until(lambda: p.channel._is_send_locked or p.done, cmd.get("timeout", 5)):
            raise CommandError("publisher never locked; sent %d" % p.sent)
        return p.status()

    def op_wait_published(self, cmd):
        p = self.publisher(cmd)
        if not self.wait_until(lambda: p.done, cmd.get("timeout", 5)):
            raise CommandError("publisher not done; sent %d" % p.sent)
        return p.status()

    def op_exit(self, cmd):
        for c in list(self.contexts.values()):
            c.close()
        self.exiting = True
        return {}

    def handle(self, line):
        try:
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise CommandError("a command is a JSON object")
            op = cmd.get("op")
            fn = getattr(self, "op_%s" % op, None) if isinstance(op, str) else None
            if fn is None:
                raise CommandError("unknown op %r" % (op,))
            reply = fn(cmd)
            reply["ok"] = True
            return reply
        except CommandError as e:
            return {"error": str(e)}
        except Exception as e:
            sys.stderr.write(traceback.format_exc())
            return {"error": "%s: %s" % (type(e).__name__, e)}


def _reader(q):
    for line in sys.stdin:
        q.put(line)
    q.put(None)


def main():
    peer = Peer()
    lines = queue.Queue()
    threading.Thread(target=_reader, args=(lines,), daemon=True).start()
    while True:
        # Block on yoton's event queue (a sync-mode SubChannel checks its
        # queue in its received signal), then look for a command.
        yoton.process_events(0.005)
        try:
            line = lines.get_nowait()
        except queue.Empty:
            continue
        if line is None:
            break  # stdin closed
        if not line.strip():
            continue
        reply = peer.handle(line)
        _REPLY_OUT.write(json.dumps(reply, ensure_ascii=True) + "\n")
        _REPLY_OUT.flush()
        if peer.exiting:
            break
    sys.stderr.flush()
    os._exit(0)  # yoton's threads are daemons; leave without waiting for them


if __name__ == "__main__":
    main()
