# -*- coding: utf-8 -*-
"""peer_flow.py: peer.py's commands for flow control (peer.py --module flow).

State channels and sync-mode (flow-controlled) publish/subscribe; peer.py
has the rest (context, bind, connect, pub, sub, state, send, recv,
state_recv, ...). A SubChannel in sync mode checks its queue in its
received signal: peer.py processes yoton events all the time, which it
needs. Every command takes "ctx" (default "main"); waits take "timeout"
in seconds (default 5).

  state_send_last {"slot", "type"}
  sub_status      {"slot", "type"} -> pending, status (0 off, 1 ok, 2 full)
  wait_sub_full   {"slot", "type"} -> pending (waits until the sub said "full")
  publish         {"slot", "count", "size"}: a thread publishes count text
                  messages "<i>:xxx..." of size characters -> {}
  publish_status  {"slot"} -> sent, done, locked, error
  wait_pub_locked {"slot"} -> sent, locked (waits until the publisher's send
                  lock is set, or it is done)
  wait_published  {"slot"} -> sent (waits until the thread is done)
"""

import threading

from peer import CommandError


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


class Commands(object):
    def __init__(self):
        super().__init__()
        self.publishers = {}  # (ctx, slot) -> Publisher

    def publisher(self, cmd):
        key = (cmd.get("ctx", "main"), cmd["slot"])
        try:
            return self.publishers[key]
        except KeyError:
            raise CommandError("no publisher thread for slot %r" % cmd["slot"])

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
