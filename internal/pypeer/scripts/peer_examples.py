# -*- coding: utf-8 -*-
"""peer_examples.py: Python yoton roles for the Go example networks
(peer.py --module examples ROLE ...).

Each role is one node of an example in examples/, written with
plain Python yoton 2.2, so that a Go network and a Python process can be
seen to talk (by hand, or from the examples' Go tests):

  calc-client --connect ADDR
      The client of examples/clientserver: a ReqChannel and a SubChannel
      following the server's log. Makes its calls, prints one line per
      reply and per log line, then "done", and exits.

  replier --connect ADDR [--name NAME] [--work SECONDS]
      A replier of examples/multireqrep: a RepChannel in thread mode whose
      square(n, requester) takes SECONDS and returns (NAME, n*n). Prints
      "ready NAME" once connected and a line per request, then serves until
      stdin ends (or Ctrl-C).

  chat --connect ADDR [--name NAME] [--say TEXT]...
      A node of examples/chat: announces "*** NAME joined", publishes
      "NAME: line" for every --say argument and every line read on stdin,
      and prints every line it hears from the others. Prints "joined as
      NAME" once connected; at the end of stdin it announces "*** NAME
      left", prints "left" and exits (Ctrl-C just exits).

  hub-client --connect ADDR [--name NAME]
      A client of examples/hub: subscribes to the hub's ticks
      ("telemetry"), follows its roster (the StateChannel "clients") and
      says "hello NAME PORT" on "reports" once connected. Prints "joined
      as NAME from port PORT", every tick as it arrives, and "state: ..."
      whenever a newer roster arrives (older copies, which other clients
      resend when someone joins, are ignored, as the Go clients do).
      Every line read on stdin goes to the hub as the report "NAME: line";
      at the end of stdin it prints "left" and exits (Ctrl-C just exits).
      Python yoton does not reconnect: if the hub goes away, so does the
      subscription.

Start it with yoton on the path, for example:

  PYTHONPATH=~/.cache/goyoton/pyzo/usr/share/pyzo/pyzo \\
      python3 internal/pypeer/scripts/peer.py --module examples chat --connect localhost:yotonchat+2

What a role prints goes to stdout, one line at a time; yoton's own
diagnostics go to stderr.
"""

import time

import yoton

import peer


def say(*args):
    peer.OUT.write(" ".join(str(a) for a in args) + "\n")
    peer.OUT.flush()


def say_queued(sub):
    """Prints every message queued on the SubChannel sub."""
    while True:
        msg = sub.recv(False)
        if not msg:
            return
        say(msg)


# ---- examples/clientserver


def calc_client(args):
    ct = yoton.Context()
    log = yoton.SubChannel(ct, "log")
    req = yoton.ReqChannel(ct, "calc")
    ct.connect(args.connect)
    say("connected to", args.connect)
    calls = [("add", (3, 4)), ("upper", ("hello from python",)), ("divide", (22, 7)), ("divide", (1, 0))]
    for name, call_args in calls:
        shown = "%s(%s)" % (name, ", ".join(repr(a) for a in call_args))
        future = getattr(req, name)(*call_args)
        err = future.exception(args.timeout)
        if err is None:
            say("%s = %r" % (shown, future.result(0)))
        else:
            say("%s failed: %s" % (shown, str(err).splitlines()[0]))
        say("log:", log.recv(args.timeout))
    ct.flush()
    ct.close()
    say("done")


# ---- examples/multireqrep


class Worker(yoton.RepChannel):
    """The replier of examples/multireqrep."""

    name = "python"
    work_seconds = 0.1

    def square(self, n, requester=""):
        say("replier %s: working on square(%d) for %s" % (self.name, n, requester))
        time.sleep(self.work_seconds)
        return self.name, n * n


def replier(args):
    ct = yoton.Context()
    rep = Worker(ct, "work")
    rep.name = args.name
    rep.work_seconds = args.work
    rep.set_mode("thread")
    ct.connect(args.connect)
    say("ready", args.name)
    for _ in peer.lines_and_events():
        pass
    ct.close()
    say("done")


# ---- examples/chat


def chat(args):
    ct = yoton.Context()
    pub = yoton.PubChannel(ct, "chat")
    sub = yoton.SubChannel(ct, "chat")
    if args.bind:
        conn = ct.bind(args.bind)
        say("bound at port", conn.port1)
    if args.connect:
        ct.connect(args.connect)
    pub.send("*** %s joined" % args.name)
    say("joined as", args.name)
    for text in args.say:
        pub.send("%s: %s" % (args.name, text))

    for line in peer.lines_and_events(lambda: say_queued(sub)):
        line = line.rstrip("\r\n")
        if line:
            pub.send("%s: %s" % (args.name, line))
    pub.send("*** %s left" % args.name)
    ct.flush()
    ct.close()
    say("left")


# ---- examples/hub


def parse_hub_state(msg):
    """Decode the hub's roster "clients=2 names=ada,cy rev=7 hub=...";
    None for anything else."""
    try:
        fields = dict(f.split("=", 1) for f in msg.split())
        names = fields["names"].split(",") if fields["names"] else []
        if len(names) != int(fields["clients"]):
            return None
        return {"names": names, "rev": int(fields["rev"]), "hub": int(fields["hub"])}
    except (KeyError, ValueError):
        return None


def describe_hub_state(st):
    """The roster for people, as the Go clients print it."""
    names = st["names"]
    if not names:
        return "0 clients"
    if len(names) == 1:
        return "1 client: " + names[0]
    return "%d clients: %s" % (len(names), ", ".join(names))


def hub_client(args):
    ct = yoton.Context()
    ticks = yoton.SubChannel(ct, "telemetry")
    state = yoton.StateChannel(ct, "clients")
    reports = yoton.PubChannel(ct, "reports")
    conn = ct.connect(args.connect)
    reports.send("hello %s %d" % (args.name, conn.port1))
    say("joined as", args.name, "from port", conn.port1)
    newest = [None]  # (hub, rev) of the newest roster printed

    def poll():
        say_queued(ticks)
        st = parse_hub_state(state.recv())
        if st is not None and (newest[0] is None or (st["hub"], st["rev"]) > newest[0]):
            newest[0] = (st["hub"], st["rev"])
            say("state:", describe_hub_state(st))

    for line in peer.lines_and_events(poll):
        if line.strip():
            reports.send("%s: %s" % (args.name, line.strip()))
    ct.flush()
    ct.close()
    say("left")


def add_roles(parsers):
    p = parsers.add_parser("calc-client", help="client of examples/clientserver")
    p.add_argument("--connect", required=True)
    p.add_argument("--timeout", type=float, default=10.0)
    p.set_defaults(run=calc_client)

    p = parsers.add_parser("replier", help="replier of examples/multireqrep")
    p.add_argument("--connect", required=True)
    p.add_argument("--name", default="python")
    p.add_argument("--work", type=float, default=0.1, help="seconds each request takes")
    p.set_defaults(run=replier)

    p = parsers.add_parser("chat", help="node of examples/chat")
    p.add_argument("--connect", default="")
    p.add_argument("--bind", default="")
    p.add_argument("--name", default="python")
    p.add_argument("--say", action="append", default=[])
    p.set_defaults(run=chat)

    p = parsers.add_parser("hub-client", help="client of examples/hub")
    p.add_argument("--connect", required=True)
    p.add_argument("--name", default="python")
    p.set_defaults(run=hub_client)
