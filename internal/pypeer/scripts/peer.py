# -*- coding: utf-8 -*-
"""peer.py: a command-driven Python yoton peer for the Go interop tests.

    python3 peer.py [--module NAME]... [ROLE [ROLE OPTIONS]]

Without a ROLE it reads one JSON command per line on stdin and writes
exactly one JSON reply line per command on stdout. A reply is
{"ok": true, ...} or {"error": "..."}. Between commands (and while a
command waits) yoton events are processed, so signals (closed, timedout,
received) and event-driven channels keep working.

The commands are those of this script's Peer class, plus those of each
command module named with --module: NAME loads peer_NAME.py from this
directory. A module may define

  Commands           a class whose op_<name>(self, cmd) methods are more
                     commands; it is mixed into Peer (ahead of it), so it
                     can use Peer's helpers, and its __init__, if any,
                     calls super().__init__() first;
  add_roles(parsers) argparse subcommands (each with set_defaults(run=fn)):
                     a ROLE runs fn(args) instead of the command loop.

The modules: flow (state channels and sync-mode publish/subscribe),
clientserver (yoton's RequestServer and do_request), examples (the Python
nodes of the example programs in examples/, as roles).

yoton itself prints diagnostics with print() (for instance "Yoton: Handshake
failed: ..." from its host thread); sys.stdout is therefore redirected to
stderr, and those lines are also kept in a log that the "log" and "wait_log"
commands expose. Replies (and what a role prints) go to the real stdout
(OUT) only.

Values of 64-bit integers that JSON cannot carry exactly (context ids, slot
ids) are decimal strings. Binary messages are hex strings; object messages
are reported as Python repr() strings.

See internal/pypeer/doc.go for the list of commands.
"""

import sys

if __name__ == "__main__":
    # Command modules "import peer": let them share this running copy
    # (one CommandError, one OUT) instead of loading the file again.
    sys.modules.setdefault("peer", sys.modules[__name__])

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

# Keep the real stdout for replies; everything else printed goes to stderr.
OUT = sys.stdout


class _LogTee(object):
    """Writes to stderr and records complete lines for the log commands."""

    def __init__(self, target):
        self._target = target
        self._lock = threading.Lock()
        self._partial = ""
        self.lines = []

    def write(self, text):
        with self._lock:
            self._target.write(text)
            self._target.flush()
            self._partial += text
            while "\n" in self._partial:
                line, self._partial = self._partial.split("\n", 1)
                self.lines.append(line)
        return len(text)

    def flush(self):
        self._target.flush()

    def snapshot(self):
        with self._lock:
            return list(self.lines)


LOG = _LogTee(sys.stderr)
sys.stdout = LOG

import yoton  # noqa: E402  (after the stdout redirection on purpose)
from yoton.misc import slot_hash, port_hash, UID  # noqa: E402

# Python objects the Go side compares against (by name). Each value must be
# encodable by yoton's OBJECT message type.
OBJECT_TABLE = {
    "none": None,
    "true": True,
    "false": False,
    "zero": 0,
    "minus_one": -1,
    "int_255": 255,
    "int_256": 256,
    "int64_max": 2**63 - 1,
    "int64_min_plus_one": -(2**63 - 1),
    "int64_min": -(2**63),
    "float_0_1": 0.1,
    "float_1e16": 1e16,
    "float_neg_zero": -0.0,
    "float_1e_05": 1e-05,
    "float_inf": float("inf"),
    "float_neg_inf": float("-inf"),
    "text_ascii": "hello",
    "text_unicode": "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c \U0001f389",
    "text_empty": "",
    "text_254": "x" * 254,
    "text_255": "y" * 255,
    "text_300": "".join(chr(ord("a") + i % 26) for i in range(300)),
    "list_empty": [],
    "tuple_empty": (),
    "dict_empty": {},
    "list_mixed": [1, 2.5, "three", None, True, False],
    "list_300_ints": list(range(300)),
    "tuple_nested": (1, (2, (3, ("four", [5, (6,)]))), ()),
    "dict_tuple_keys": {(1, 2): "a", ("x", 3): [4, 5], "plain": {"inner": (None,)}},
    "dict_mixed_keys": {1: "int", 2.5: "float", "s": "str", None: "none", False: "bool"},
    "request_like": ("echo", ("arg",), {"sleep": 0.0}),
}

TYPES = {
    "text": yoton.TEXT,
    "binary": yoton.BINARY,
    "object": yoton.OBJECT,
}


# Hold points: a PeerRep method named in HOLDS blocks (in the replier's
# thread: use mode "thread") until the "release" command, after
# publishing "entered <name>" on the hold's text PubChannel. The "hold"
# command arms one; it holds at most one call.
HOLDS = {}
HOLDS_LOCK = threading.Lock()


def _hold_point(name):
    with HOLDS_LOCK:
        h = HOLDS.pop(name, None)
    if h is None:
        return
    h["pub"].send("entered " + name)
    h["release"].wait(30)


class PeerRep(yoton.RepChannel):
    """A RepChannel with a few methods for the tests (echo is inherited)."""

    def add(self, a, b):
        return a + b

    def fail(self, message="failure requested"):
        raise RuntimeError(message)

    def context_id(self):
        return str(self._context.id)

    def greet(self, name, greeting="Hello", punctuation="!"):
        return "%s, %s%s" % (greeting, name, punctuation)

    def describe(self, *args, **kwargs):
        """Returns what arrived, for checking the encoding of a call."""
        return args, kwargs

    def work(self, i):
        """Returns ("py", i), after a hold point named "work"."""
        _hold_point("work")
        return "py", i


class CommandError(Exception):
    """A command could not be carried out; reported as {"error": ...}."""


class Peer(object):
    def __init__(self):
        self.contexts = {}  # name -> Context
        self.conns = {}  # name -> Connection
        self.conn_events = {}  # name -> {"closed": reason or None, "timedout": [bool]}
        self.channels = {}  # (ctx, kind, slot, type) -> channel
        self.exiting = False

    # ---- helpers

    @staticmethod
    def named(table, name, what):
        """table[name], or a CommandError saying there is no such what."""
        try:
            return table[name]
        except KeyError:
            raise CommandError("no %s named %r" % (what, name))

    def ctx(self, cmd):
        return self.named(self.contexts, cmd.get("ctx", "main"), "context")

    def conn(self, cmd):
        return self.named(self.conns, cmd.get("conn", ""), "connection")

    def watch_conn(self, name, conn):
        """Record the closed and timedout signals of a connection.

        Signals are delivered as yoton events, so the handlers only run while
        yoton.process_events() is called (always, in this script's loop).
        """
        if name in self.conn_events:
            return
        rec = {"closed": None, "timedout": []}
        self.conn_events[name] = rec

        def on_closed(c, reason):
            rec["closed"] = reason

        def on_timedout(c, timedout):
            rec["timedout"].append(bool(timedout))

        # Plain functions are held strongly by yoton's signals (methods would
        # only be held by weak reference).
        conn.closed.bind(on_closed)
        conn.timedout.bind(on_timedout)

    def channel(self, cmd, kind, create=False):
        ctx_name = cmd.get("ctx", "main")
        slot = cmd["slot"]
        typ = cmd.get("type", "text")
        if kind in ("req", "rep"):
            typ = "object"
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
        elif kind == "req":
            ch = yoton.ReqChannel(context, slot)
        elif kind == "rep":
            ch = PeerRep(context, slot)
            ch.set_mode(cmd.get("mode", "event"))
        else:
            raise CommandError("unknown channel kind %r" % kind)
        self.channels[key] = ch
        return ch

    @staticmethod
    def value(cmd, typ):
        """The message a send-like command carries, as a Python value."""
        if "table" in cmd:
            if typ != "object":
                raise CommandError("table values are for object channels")
            name = cmd["table"]
            if name not in OBJECT_TABLE:
                raise CommandError("no table value named %r" % name)
            return OBJECT_TABLE[name]
        if "value" not in cmd:
            raise CommandError("missing value")
        v = cmd["value"]
        if typ == "binary":
            if not isinstance(v, str):
                raise CommandError("binary values are hex strings")
            return bytes.fromhex(v)
        if typ == "object" and isinstance(v, dict) and list(v) == ["tuple"]:
            # JSON has no tuples: the object value {"tuple": [...]} is one.
            return tuple(v["tuple"])
        return v

    @staticmethod
    def fmt(typ, msg):
        """How a received message is reported back."""
        if typ == "binary":
            return bytes(msg).hex()
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
            # Blocks on the event queue: wakes up as soon as an event
            # arrives (pred may also turn true in another thread: a
            # publisher thread, a hold point, a log line).
            yoton.process_events(min(0.005, remaining))

    # ---- commands

    def op_context(self, cmd):
        name = cmd.get("name", "main")
        if name in self.contexts:
            raise CommandError("context %r exists" % name)
        qp = cmd.get("queue_params")
        if qp is not None:
            qp = (int(qp[0]), str(qp[1]))
        c = yoton.Context(verbose=int(cmd.get("verbose", 0)), queue_params=qp)
        if cmd.get("id") is not None:
            # Force the context id (decimal string), e.g. one below 2**60 to
            # show that UID.get_hex pads on the right in the handshake.
            forced = int(cmd["id"])
            if not 0 < forced < 2**64:
                raise CommandError("context id out of range: %r" % cmd["id"])
            c._id = forced
        self.contexts[name] = c
        return {"id": str(c.id), "id_hex": UID(c.id).get_hex(), "pid": os.getpid()}

    def op_bind(self, cmd):
        context = self.ctx(cmd)
        name = cmd.get("conn", "")
        if name in self.conns:
            raise CommandError("connection %r exists" % name)
        addr = cmd["addr"]
        max_tries = int(cmd.get("max_tries", 1))
        host, _, port = addr.rpartition(":")
        if port == "0":
            conn = self._bind_free(context, host, max_tries, name)
        else:
            conn = context.bind(addr, max_tries=max_tries, name=name)
        self.conns[name] = conn
        self.watch_conn(name, conn)
        return {"port": conn.port1, "host": conn.hostname1}

    @staticmethod
    def _bind_free(context, host, max_tries, name):
        """Bind near a free port the OS picks (port "0" in the address).

        yoton cannot bind to port 0, and Debian's yoton 2.2 starts one port
        above the requested one, so ask for the free port minus one. The
        reply reports the port actually bound (connection.port1).
        """
        last = None
        for _ in range(20):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((host.split("://")[-1] or "127.0.0.1", 0))
                free = s.getsockname()[1]
            finally:
                s.close()
            try:
                return context.bind("%s:%d" % (host, free - 1), max_tries=max_tries, name=name)
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
        self.watch_conn(name, conn)
        return {
            "peer_id": str(conn.id2),
            "peer_pid": conn.pid2,
            "port": conn.port1,
            "peer_port": conn.port2,
        }

    def op_wait_connected(self, cmd):
        conn = self.conn(cmd)
        if not self.wait_until(lambda: conn.is_connected or not conn.is_alive, cmd.get("timeout", 5)):
            raise CommandError("timed out waiting for connection %r" % cmd.get("conn"))
        if not conn.is_connected:
            raise CommandError("connection %r closed: %s" % (cmd.get("conn"), self.conn_events.get(cmd.get("conn"), {}).get("closed")))
        return {"peer_id": str(conn.id2), "peer_pid": conn.pid2, "port": conn.port1, "peer_port": conn.port2}

    def op_watch(self, cmd):
        self.watch_conn(cmd.get("conn", ""), self.conn(cmd))
        return {}

    def op_closed(self, cmd):
        self.conn(cmd)
        name = cmd.get("conn", "")
        rec = self.conn_events[name]
        if not self.wait_until(lambda: rec["closed"] is not None, cmd.get("timeout", 5)):
            raise CommandError("timed out waiting for connection %r to close" % name)
        return {"reason": rec["closed"], "timedout": list(rec["timedout"])}

    def op_status(self, cmd):
        conn = self.conn(cmd)
        rec = self.conn_events.get(cmd.get("conn", ""), {})
        return {
            "alive": conn.is_alive,
            "connected": conn.is_connected,
            "waiting": conn.is_waiting,
            "closed_reason": rec.get("closed"),
            "timedout": list(rec.get("timedout", [])),
            "port": conn.port1,
            "peer_port": conn.port2,
            "peer_id": str(conn.id2),
            "peer_pid": conn.pid2,
            "connection_count": conn._context.connection_count,
        }

    def make_channel(self, cmd, kind):
        """Makes (or finds) a channel → its slot ids."""
        ch = self.channel(cmd, kind, create=True)
        return {"slot_out": str(ch._slot_out_h), "slot_in": str(ch._slot_in_h)}

    def op_pub(self, cmd):
        return self.make_channel(cmd, "pub")

    def op_sub(self, cmd):
        return self.make_channel(cmd, "sub")

    def op_state(self, cmd):
        return self.make_channel(cmd, "state")

    def op_rep(self, cmd):
        return self.make_channel(cmd, "rep")

    def op_send(self, cmd):
        kind = cmd.get("kind", "pub")
        if kind not in ("pub", "state"):
            raise CommandError("send works on pub and state channels, not %r" % kind)
        ch = self.channel(cmd, kind)
        typ = cmd.get("type", "text")
        if "values" in cmd:
            # Many messages in one command, in order.
            values = cmd["values"]
            if not isinstance(values, list):
                raise CommandError("values must be a list")
            for v in values:
                ch.send(self.value({"value": v}, typ))
            return {"count": len(values)}
        v = self.value(cmd, typ)
        ch.send(v)
        return {"repr": repr(v)}

    def op_recv(self, cmd):
        ch = self.channel(cmd, cmd.get("kind", "sub"))
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

    def op_req(self, cmd):
        ch = self.channel(cmd, "req", create=True)
        method = cmd["method"]
        args = tuple(cmd.get("args") or [])
        kwargs = cmd.get("kwargs") or {}
        fut = getattr(ch, method)(*args, **kwargs)
        if not self.wait_until(fut.done, cmd.get("timeout", 5)):
            fut.cancel()
            raise CommandError("timed out waiting for the reply to %r" % method)
        if fut.cancelled():
            raise CommandError("request %r was cancelled" % method)
        exc = fut.exception(0)
        if exc is not None:
            return {"exception": str(exc)}
        return {"repr": repr(fut.result(0))}

    def op_req_many(self, cmd):
        """Makes several requests at once and waits for all of them.

        {"calls": [{"method", "args", "kwargs"}, ...]} → results, one per
        call: {"repr"}, {"exception"} or {"cancelled": true}.
        """
        ch = self.channel(cmd, "req", create=True)
        futs = []
        for c in cmd["calls"]:
            futs.append(getattr(ch, c["method"])(*tuple(c.get("args") or []), **(c.get("kwargs") or {})))
        if not self.wait_until(lambda: all(f.done() for f in futs), cmd.get("timeout", 5)):
            for f in futs:
                f.cancel()
            raise CommandError("timed out: %d of %d calls done" % (sum(f.done() for f in futs), len(futs)))
        results = []
        for f in futs:
            if f.cancelled():
                results.append({"cancelled": True})
            elif f.exception(0) is not None:
                results.append({"exception": str(f.exception(0))})
            else:
                results.append({"repr": repr(f.result(0))})
        return {"results": results}

    def op_hold(self, cmd):
        """Arms the hold point of a PeerRep method: its next call
        publishes "entered <name>" (text) on slot "slot" and blocks until
        "release"."""
        name = cmd["name"]
        pub = self.channel({"ctx": cmd.get("ctx", "main"), "slot": cmd["slot"], "type": "text"}, "pub", create=True)
        with HOLDS_LOCK:
            HOLDS[name] = {"pub": pub, "release": threading.Event()}
            self.released = getattr(self, "released", {})
            self.released[name] = HOLDS[name]["release"]
        return {}

    def op_release(self, cmd):
        ev = getattr(self, "released", {}).get(cmd["name"])
        if ev is None:
            raise CommandError("no hold named %r" % cmd["name"])
        ev.set()
        return {}

    def op_rep_mode(self, cmd):
        self.channel(cmd, "rep").set_mode(cmd["mode"])
        return {}

    def op_table(self, cmd):
        return {
            "names": list(OBJECT_TABLE.keys()),
            "reprs": {k: repr(v) for k, v in OBJECT_TABLE.items()},
        }

    def op_pack(self, cmd):
        v = self.value(cmd, "object")
        return {"hex": yoton.OBJECT.message_to_bytes(v).hex(), "repr": repr(v)}

    def op_unpack(self, cmd):
        return {"repr": repr(yoton.OBJECT.message_from_bytes(bytes.fromhex(cmd["hex"])))}

    def op_hash(self, cmd):
        names = cmd.get("names", [])
        if cmd.get("normalize"):
            # What yoton's channels do to a full slot name before hashing
            # (channels_base.py: slot.strip().lower()).
            names = [n.strip().lower() for n in names]
        return {
            "slot": [str(slot_hash(n)) for n in names],
            "port": [port_hash(n) for n in names],
            "names": names,
        }

    def op_log(self, cmd):
        return {"lines": LOG.snapshot()}

    def op_wait_log(self, cmd):
        want = cmd["contains"]
        if not self.wait_until(lambda: any(want in l for l in LOG.snapshot()), cmd.get("timeout", 5)):
            raise CommandError("timed out waiting for a log line containing %r" % want)
        return {"lines": LOG.snapshot()}

    def op_close_conn(self, cmd):
        self.conn(cmd).close(cmd.get("reason"))
        return {}

    def op_close_context(self, cmd):
        name = cmd.get("ctx", "main")
        self.ctx(cmd).close()
        self.contexts.pop(name, None)
        for key in [k for k in self.channels if k[0] == name]:
            del self.channels[key]
        return {}

    def op_process(self, cmd):
        yoton.process_events(False)
        return {}

    def op_exit(self, cmd):
        if cmd.get("close"):
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
            reply = fn(cmd) or {}
            reply["ok"] = True
            return reply
        except CommandError as e:
            return {"error": str(e)}
        except Exception as e:
            sys.stderr.write(traceback.format_exc())
            return {"error": "%s: %s" % (type(e).__name__, e)}

    # ---- issue 11: what Python yoton does, for side-by-side tests
    # (futures, timers, wire, clientserver packages)

    def op_future_semantics(self, cmd):
        """yoton's Future, each operation in each state.

        → cases: one {"state", "op", "returned", "after", "result"} per
        (state, op); "returned" is repr() of the return value or
        "raise <Type>", "after" the state afterwards, "result" str() of
        the result or exception of a done future (else null).
        """
        from yoton.channels.channels_reqrep import Future

        class _Req(object):
            def _send(self, *args):
                pass  # cancel() of a pending future sends "req-"

        names = {0: "pending", 1: "running", 2: "cancelled", 3: "failed", 4: "succeeded"}

        def make(state):
            f = Future(_Req(), None, 1)
            if state == "running":
                f.set_running_or_notify_cancel()
            elif state == "cancelled":
                f.cancel()
            elif state == "failed":
                f.set_running_or_notify_cancel()
                f.set_exception("boom")
            elif state == "succeeded":
                f.set_running_or_notify_cancel()
                f.set_result(7)
            if names[f._status] != state:
                raise CommandError("could not make a %s future" % state)
            return f

        ops = [
            ("cancel", lambda f: f.cancel()),
            ("set_result", lambda f: f.set_result(8)),
            ("set_exception", lambda f: f.set_exception("bang")),
            ("set_running_or_notify_cancel", lambda f: f.set_running_or_notify_cancel()),
        ]
        cases = []
        for state in ["pending", "running", "cancelled", "failed", "succeeded"]:
            for op, fn in ops:
                f = make(state)
                try:
                    returned = repr(fn(f))
                except Exception as e:
                    returned = "raise " + type(e).__name__
                result = str(f._result) if f._status in (3, 4) else None
                cases.append({"state": state, "op": op, "returned": returned,
                              "after": names[f._status], "result": result})
        return {"cases": cases}

    def op_signal_semantics(self, cmd):
        """How many times yoton's Signal.emit_now calls a handler bound in
        various ways → counts (by case name)."""
        calls = []

        def plain(*args):
            calls.append("plain")

        class Holder(object):
            def method(self, *args):
                calls.append("method")

        def make_closure(tag):
            def closure(*args):
                calls.append(tag)
            return closure

        def count(bind):
            del calls[:]
            s = yoton.Signal()
            bind(s)
            s.emit_now()
            return len(calls)

        h, other = Holder(), Holder()  # both kept alive: yoton holds methods weakly
        same = make_closure("same")

        def unbind_after_double(s):
            s.bind(plain)
            s.bind(plain)
            s.unbind(plain)

        return {"counts": {
            "function_twice": count(lambda s: (s.bind(plain), s.bind(plain))),
            "method_twice": count(lambda s: (s.bind(h.method), s.bind(h.method))),
            "methods_of_two_objects": count(lambda s: (s.bind(other.method), s.bind(h.method))),
            "closures_same_literal": count(lambda s: (s.bind(make_closure("a")), s.bind(make_closure("b")))),
            "same_closure_twice": count(lambda s: (s.bind(same), s.bind(same))),
            "unbind_after_double_bind": count(unbind_after_double),
        }}

    def op_timer_semantics(self, cmd):
        """yoton's Timer interval and oneshot properties, set while the
        timer runs and while it is stopped → results (by scenario)."""
        out = {}
        fires = []

        def on_fire(*args):
            fires.append(time.monotonic())

        # A running repeating timer made one-shot: it fires once more
        # (at its current deadline), then stops.
        t = yoton.Timer(0.02, oneshot=False)
        t.bind(on_fire)
        t.start()
        t.oneshot = True
        self.wait_until(lambda: len(fires) >= 1, 5)
        self.wait_until(lambda: len(fires) >= 2, 0.3)
        out["oneshot_while_running"] = {"fires": len(fires), "running": t.running}
        t.stop()

        # A running one-shot timer made repeating: it keeps firing.
        del fires[:]
        t = yoton.Timer(0.02, oneshot=True)
        t.bind(on_fire)
        t.start()
        t.oneshot = False
        repeated = self.wait_until(lambda: len(fires) >= 3, 5)
        out["repeating_while_running"] = {"repeats": repeated, "running": t.running}
        t.stop()

        # A running timer given a new interval: the current deadline
        # stays, the new interval counts from the next restart.
        del fires[:]
        t = yoton.Timer(0.5, oneshot=False)
        t.bind(on_fire)
        started = time.monotonic()
        t.start()
        t.interval = 0.01
        self.wait_until(lambda: len(fires) >= 1, 5)
        first = fires[0] - started if fires else None
        again = self.wait_until(lambda: len(fires) >= 2, 0.25)
        out["interval_while_running"] = {
            "first_at_old_deadline": first is not None and first >= 0.4,
            "then_new_interval": again,
            "interval": t.interval,
        }
        t.stop()

        # Set while stopped: nothing starts; start() uses the new values.
        del fires[:]
        t = yoton.Timer(1.0, oneshot=True)
        t.bind(on_fire)
        t.interval = 0.01
        t.oneshot = False
        running_after_set = t.running
        t.start()
        repeated = self.wait_until(lambda: len(fires) >= 3, 5)
        out["set_while_stopped"] = {
            "running_after_set": running_after_set,
            "repeats_after_start": repeated,
            "interval": t.interval,
        }
        t.stop()

        bad = {}
        for v in (0, -1):
            try:
                yoton.Timer(1.0).interval = v
                bad[str(v)] = "accepted"
            except ValueError:
                bad[str(v)] = "ValueError"
        out["bad_interval"] = bad
        return {"results": out}

    def op_signal_packages(self, cmd):
        """yoton.core's PACKAGE_HEARTBEAT and PACKAGE_CLOSE → their header
        bytes (hex) and payload lengths."""
        from yoton.core import PACKAGE_HEARTBEAT, PACKAGE_CLOSE

        out = {}
        for name, p in (("heartbeat", PACKAGE_HEARTBEAT), ("close", PACKAGE_CLOSE)):
            header, data = p.parts()
            out[name] = {"header": bytes(header).hex(), "data_len": len(data)}
        return out

    def op_pack_literal(self, cmd):
        """{"expr": a Python literal (ast.literal_eval)} → hex (yoton's
        OBJECT encoding) and repr."""
        import ast

        v = ast.literal_eval(cmd["expr"])
        return {"hex": yoton.OBJECT.message_to_bytes(v).hex(), "repr": repr(v)}


    # ---- issue 11: FileWrapper, strict text decoding, a replier class
    # (channels package: file.go, messagetype.go, reqrep_service.go)

    def _issue11(self):
        """Per-peer state of the ops below, made on first use."""
        st = getattr(self, "_issue11_state", None)
        if st is None:
            st = self._issue11_state = {"files": {}, "raw": {}}
        return st

    def op_file_wrap(self, cmd):
        """Wraps the text channel of kind "kind" ("sub" or "pub", made if
        needed) at "slot" in a yoton.FileWrapper, with "chunksize", "echo"
        (slot of a text PubChannel to echo on) and "isatty" when given
        (else FileWrapper's defaults) → {"isatty": isatty()}."""
        kind = cmd.get("kind", "sub")
        ctx = cmd.get("ctx", "main")
        ch = self.channel({"ctx": ctx, "slot": cmd["slot"], "type": "text"}, kind, create=True)
        echo = None
        if cmd.get("echo"):
            echo = self.channel({"ctx": ctx, "slot": cmd["echo"], "type": "text"}, "pub", create=True)
        kwargs = {}
        if "isatty" in cmd:
            kwargs["isatty"] = bool(cmd["isatty"])
        f = yoton.FileWrapper(ch, int(cmd.get("chunksize", 0)), echo, **kwargs)
        self._issue11()["files"][(ctx, cmd["slot"], kind)] = f
        return {"isatty": f.isatty()}

    def op_file_call(self, cmd):
        """Calls "method" of the FileWrapper at "slot" and "kind" with
        "args", after waiting (processing events) until its channel has
        "pending" messages queued (default 0: at once) → {"value": what it
        returned} or {"exception": "Type: message"}, and "pending", what
        is left queued afterwards."""
        key = (cmd.get("ctx", "main"), cmd["slot"], cmd.get("kind", "sub"))
        f = self._issue11()["files"].get(key)
        if f is None:
            raise CommandError("no FileWrapper for %r" % (key,))
        want = int(cmd.get("pending", 0))
        if want and not self.wait_until(lambda: f._channel.pending >= want, cmd.get("timeout", 5)):
            raise CommandError("timed out waiting for %d queued messages (%d)" % (want, f._channel.pending))
        try:
            out = {"value": getattr(f, cmd["method"])(*(cmd.get("args") or []))}
        except Exception as e:
            out = {"exception": "%s: %s" % (type(e).__name__, e)}
        out["pending"] = f._channel.pending
        return out

    def op_text_decode(self, cmd):
        """yoton.TEXT.message_from_bytes on each of "hex" (a list of hex
        strings) → results, each {"value"} or {"exception": "Type:
        message"}."""
        results = []
        for h in cmd["hex"]:
            try:
                results.append({"value": yoton.TEXT.message_from_bytes(bytes.fromhex(h))})
            except Exception as e:
                results.append({"exception": "%s: %s" % (type(e).__name__, e)})
        return {"results": results}

    def op_raw_text(self, cmd):
        """Makes a channel of kind "kind" ("pub" or "state") at "slot"
        whose message type is named "txt" but passes bytes through
        unchecked: it sends what yoton.TEXT never would (invalid UTF-8)."""

        class RawText(yoton.MessageType):
            def message_type_name(self):
                return "txt"

            def message_to_bytes(self, message):
                return message

            def message_from_bytes(self, bb):
                return bb

        kind = cmd.get("kind", "pub")
        key = (cmd.get("ctx", "main"), cmd["slot"], kind)
        cls = {"pub": yoton.PubChannel, "state": yoton.StateChannel}[kind]
        self._issue11()["raw"][key] = cls(self.ctx(cmd), cmd["slot"], RawText())
        return {}

    def op_raw_text_send(self, cmd):
        """Sends each of "hex" (hex strings) as it is on the channel made
        by raw_text at "slot" and "kind"."""
        key = (cmd.get("ctx", "main"), cmd["slot"], cmd.get("kind", "pub"))
        ch = self._issue11()["raw"].get(key)
        if ch is None:
            raise CommandError("no raw text channel for %r" % (key,))
        for h in cmd["hex"]:
            ch.send(bytes.fromhex(h))
        return {"count": len(cmd["hex"])}

    def op_recv_each(self, cmd):
        """Reads "count" messages from the text SubChannel at "slot", one
        recv(False) each after waiting for one to be queued, or with
        "all", one recv_all() once "count" are queued → results, each
        {"value"} or {"exception": "Type: message"}, and "pending" left."""
        ch = self.channel(cmd, "sub")
        count = int(cmd.get("count", 1))
        results = []

        def attempt(fn):
            try:
                results.append({"value": fn()})
            except Exception as e:
                results.append({"exception": "%s: %s" % (type(e).__name__, e)})

        if cmd.get("all"):
            if not self.wait_until(lambda: ch.pending >= count, cmd.get("timeout", 5)):
                raise CommandError("timed out waiting for %d queued messages" % count)
            attempt(ch.recv_all)
        else:
            for _ in range(count):
                if not self.wait_until(lambda: ch.pending > 0, cmd.get("timeout", 5)):
                    raise CommandError("timed out after %d of %d messages" % (len(results), count))
                attempt(lambda: ch.recv(False))
        return {"results": results, "pending": ch.pending}

    def op_service_rep(self, cmd):
        """A RepChannel at "slot" whose methods are the Python side of the
        Go test service (internal/interop/service_test.go), in "mode"."""

        class ServiceRep(yoton.RepChannel):
            def add_numbers(self, a, b):
                return a + b

            def greet(self, name, greeting="Hello", punctuation="!"):
                return "%s, %s%s" % (greeting, name, punctuation)

            def area(self, width, height):
                return width * height

            def scaled(self, x, scale=1, **kwargs):
                return [x * scale, sorted(kwargs.items())]

        ch = ServiceRep(self.ctx(cmd), cmd["slot"])
        ch.set_mode(cmd.get("mode", "event"))
        self._issue11()["raw"][(cmd.get("ctx", "main"), cmd["slot"], "rep")] = ch
        return {}


def stdin_lines():
    """A queue of the lines read on stdin (newline included), then None at
    its end, filled by a daemon thread. Each line also posts a yoton event,
    which wakes up a process_events() that waits for events."""
    lines = queue.Queue()

    def read():
        for line in sys.stdin:
            lines.put(line)
            yoton.call_later(_wake)
        lines.put(None)
        yoton.call_later(_wake)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wake():
    pass


def lines_and_events(poll=None):
    """Yields each line read on stdin (newline included) until stdin ends,
    processing yoton events all along, between lines and while waiting for
    the next one: a line and an event are both handled as soon as they
    come. poll(), when given, runs after each round of events."""
    lines = stdin_lines()
    while True:
        yoton.process_events(False)
        if poll is not None:
            poll()
        try:
            line = lines.get_nowait()
        except queue.Empty:
            # Blocks on the event queue, which the stdin reader wakes up.
            yoton.process_events(0.01)
            continue
        if line is None:
            return
        yield line


def write_reply(obj):
    """Writes one reply line to OUT."""
    try:
        text = json.dumps(obj, ensure_ascii=True)
    except (TypeError, ValueError) as e:
        text = json.dumps({"error": "unencodable reply: %s" % e})
    OUT.write(text + "\n")
    OUT.flush()


def serve_commands(peer):
    """The command loop: one reply per command line, until stdin ends or
    the exit command."""
    for line in lines_and_events():
        if not line.strip():
            continue
        write_reply(peer.handle(line))
        if peer.exiting:
            return


def load_module(name):
    """The command module peer_<name>.py of this directory."""
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise SystemExit("peer.py: bad module name %r" % name)
    try:
        return importlib.import_module("peer_" + name)
    except ModuleNotFoundError as e:
        if e.name != "peer_" + name:
            raise
        raise SystemExit("peer.py: no command module peer_%s.py next to peer.py" % name)


def make_peer(modules):
    """A Peer with the commands of the modules mixed in."""
    mixins = tuple(m.Commands for m in modules if hasattr(m, "Commands"))
    if not mixins:
        return Peer()
    return type("Peer", mixins + (Peer,), {})()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    modules_arg = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    modules_arg.add_argument("--module", action="append", default=[], metavar="NAME",
                             help="load the command module peer_NAME.py (repeatable)")
    opts, _ = modules_arg.parse_known_args(argv)
    modules = [load_module(name) for name in opts.module]

    ap = argparse.ArgumentParser(prog="peer.py", description=__doc__, parents=[modules_arg],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    add_roles = [m.add_roles for m in modules if hasattr(m, "add_roles")]
    if add_roles:
        parsers = ap.add_subparsers(dest="role", metavar="ROLE")
        for add in add_roles:
            add(parsers)
    args = ap.parse_args(argv)

    if getattr(args, "role", None):
        try:
            args.run(args)
        except KeyboardInterrupt:
            pass
    else:
        serve_commands(make_peer(modules))
    sys.stderr.flush()
    # yoton's threads are daemons; leave without waiting for them.
    os._exit(0)


if __name__ == "__main__":
    main()
