# -*- coding: utf-8 -*-
"""pubsub.py: one side of a yotonbench pub/sub run, on real Python yoton
(2.2). The Go runner (bench/cmd/yotonbench) starts it; its peer may be
another pubsub.py or a Go yoton process (interop).

    python3 pubsub.py sub --count M [--subs K] [--idle S]
        Binds K contexts (each with a SubChannel) on free ports of
        127.0.0.1, prints "READY host:port[,host:port...]" on stdout,
        receives until K*M messages arrived (or nothing came for S
        seconds), then prints one line
        RESULT {"count", "bytes", "seconds", "cpu_user", "cpu_sys"}
        where seconds is the time from the first message to the last, and
        stays connected until stdin closes.

    python3 pubsub.py pub --addr HOST:PORT[,...] --size N --count M
        Connects one context to every address, sends one preallocated
        N-byte payload M times on a yoton.BINARY PubChannel, flushes,
        prints "SENT" and stays connected until stdin closes (so that no
        close races the last packages).

Queues are raised to (2**20, "new") so that nothing is discarded; with
--defaults (the benchmark's defaults scenario) every context keeps
yoton's default queue_params, (10000, "old"). yoton
prints diagnostics with print(): stdout is redirected to stderr and only
the protocol lines go to the real stdout. Flags the Go roles take and
this script does not use (--sync, --cpuprofile, ...) are accepted and
ignored.
"""

import argparse
import json
import resource
import socket
import sys
import time

_OUT = sys.stdout
sys.stdout = sys.stderr

import yoton  # noqa: E402  (after the stdout redirect)

SLOT = "bench"
QUEUE = (1 << 20, "new")


def emit(line):
    _OUT.write(line + "\n")
    _OUT.flush()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def context(args):
    """A context with the benchmark's queues, or yoton's defaults."""
    if args.defaults:
        return yoton.Context()
    return yoton.Context(queue_params=QUEUE)


def bind(ctx):
    """Binds ctx on a free port and returns "host:port"."""
    # Debian's yoton 4.12.3 binds one port above the one asked for (its
    # first try is port + int(1**0.5)); ask for port-1 and read port1 back.
    conn = ctx.bind("127.0.0.1:%d" % (free_port() - 1), max_tries=20)
    return "127.0.0.1:%d" % conn.port1


def run_sub(args):
    subs = []
    addrs = []
    for _ in range(args.subs):
        ctx = context(args)
        subs.append((ctx, yoton.SubChannel(ctx, SLOT, yoton.BINARY)))
        addrs.append(bind(ctx))
    emit("READY " + ",".join(addrs))

    want = args.count * args.subs
    count = 0
    nbytes = 0
    first = last = None
    idle_until = time.time() + args.idle + 30  # first message: allow startup
    while count < want:
        got = 0
        for _, sub in subs:
            batch = sub.recv_all()
            if not batch and len(subs) == 1:
                m = sub.recv(0.2)  # waits on the queue's condition
                batch = [m] if m else []
            if batch:
                got += len(batch)
                nbytes += sum(len(m) for m in batch)
        if not got:
            if time.time() > idle_until:
                break
            if len(subs) > 1:
                time.sleep(0.0005)
            continue
        now = time.perf_counter()
        if first is None:
            first = now
        last = now
        count += got
        idle_until = time.time() + args.idle

    ru = resource.getrusage(resource.RUSAGE_SELF)
    seconds = (last - first) if first is not None else 0.0
    emit("RESULT " + json.dumps({"count": count, "bytes": nbytes, "seconds": seconds,
                                 "cpu_user": ru.ru_utime, "cpu_sys": ru.ru_stime}))
    sys.stdin.read()  # until the runner closes stdin (after the publisher)
    for ctx, _ in subs:
        ctx.close()


def run_pub(args):
    ctx = context(args)
    pub = yoton.PubChannel(ctx, SLOT, yoton.BINARY)
    for addr in args.addr.split(","):
        ctx.connect(addr, timeout=5.0)
    payload = b"x" * args.size
    send = pub.send
    for _ in range(args.count):
        send(payload)
    ctx.flush(timeout=600.0)
    emit("SENT")
    sys.stdin.read()  # until the runner closes stdin
    ctx.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["pub", "sub"])
    p.add_argument("--addr", default="")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--subs", type=int, default=1)
    p.add_argument("--idle", type=float, default=10.0)
    p.add_argument("--defaults", action="store_true")
    args, _ = p.parse_known_args()
    if args.role == "sub":
        run_sub(args)
    else:
        run_pub(args)


if __name__ == "__main__":
    main()
