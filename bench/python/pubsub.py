# -*- coding: utf-8 -*-
"""pubsub.py: one side of the yotonbench pub/sub throughput test, on real
Python yoton (2.2). The Go runner (bench/cmd/yotonbench) starts two of these.

    python3 pubsub.py sub --count M [--idle S]
        Binds 127.0.0.1 on a free port, prints "READY <port>" on stdout,
        receives until M messages arrived (or nothing came for S seconds),
        then prints one JSON line:
        {"count", "bytes", "seconds", "cpu_user", "cpu_sys"}
        where seconds is the time from the first message to the last, and
        stays connected until stdin closes.

    python3 pubsub.py pub --addr HOST:PORT --size N --count M
        Connects, sends one preallocated N-byte payload M times on a
        yoton.BINARY PubChannel, flushes, prints "SENT" and stays connected
        until stdin closes (so that no close races the last packages).

Queues are raised to (2**20, "new") so that nothing is discarded. yoton
prints diagnostics with print(): stdout is redirected to stderr and only
the protocol lines go to the real stdout.
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


def run_sub(args):
    ctx = yoton.Context(queue_params=QUEUE)
    sub = yoton.SubChannel(ctx, SLOT, yoton.BINARY)
    # Debian's yoton 4.12.3 binds one port above the one asked for (its
    # first try is port + int(1**0.5)); ask for port-1 and read port1 back.
    conn = ctx.bind("127.0.0.1:%d" % (free_port() - 1), max_tries=20)
    emit("READY %d" % conn.port1)

    count = 0
    nbytes = 0
    first = last = None
    idle_until = time.time() + args.idle + 30  # first message: allow startup
    while count < args.count:
        batch = sub.recv_all()
        if not batch:
            m = sub.recv(0.2)  # waits on the queue's condition
            if not m:
                if time.time() > idle_until:
                    break
                continue
            batch = [m]
        now = time.perf_counter()
        if first is None:
            first = now
        last = now
        count += len(batch)
        nbytes += sum(len(m) for m in batch)
        idle_until = time.time() + args.idle

    ru = resource.getrusage(resource.RUSAGE_SELF)
    seconds = (last - first) if first is not None else 0.0
    emit(json.dumps({"count": count, "bytes": nbytes, "seconds": seconds,
                     "cpu_user": ru.ru_utime, "cpu_sys": ru.ru_stime}))
    sys.stdin.read()  # until the runner closes stdin (after the publisher)
    ctx.close()


def run_pub(args):
    ctx = yoton.Context(queue_params=QUEUE)
    pub = yoton.PubChannel(ctx, SLOT, yoton.BINARY)
    ctx.connect(args.addr, timeout=5.0)
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
    p.add_argument("--idle", type=float, default=10.0)
    args = p.parse_args()
    if args.role == "sub":
        run_sub(args)
    else:
        run_pub(args)


if __name__ == "__main__":
    main()
