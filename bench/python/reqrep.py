# -*- coding: utf-8 -*-
"""reqrep.py: one side of a yotonbench req/rep run, on real Python yoton
(2.2): a RepChannel whose echo(x) returns x, and a ReqChannel calling it.

    python3 reqrep.py rep [--size N] [--outstanding K]
        Binds a context with the RepChannel (thread mode) on a free port
        of 127.0.0.1, prints "READY host:port" and serves until stdin
        closes. It takes the flags the Go repliers get and ignores them:
        yoton's replier handles one request at a time.

    python3 reqrep.py req --addr HOST:PORT --size N --mode MODE
                          --duration S --warmup W [--outstanding K]
        Connects, calls echo() with an N-character string for W seconds
        unmeasured, then for S seconds, and prints
        RESULT {"calls", "seconds", "p50_us", "p99_us", "p999_us",
                "mean_us", "cpu_user", "cpu_sys"}.
        MODE latency: one call at a time, each timed; MODE throughput: K
        calls in flight (K may be 1), counted. The requester may be Go
        yoton's replier's peer (yotonbench's req/rep interop cells).

yoton's request needs two round trips (a pre-request that a replier
acknowledges, then the request), and Future.result() polls every 10 ms.
"""

import argparse
import collections
import json
import math
import resource
import socket
import sys
import time

_OUT = sys.stdout
sys.stdout = sys.stderr

import yoton  # noqa: E402  (after the stdout redirect)

SLOT = "benchrr"
QUEUE = (1 << 20, "new")
TIMEOUT = 30.0


def emit(line):
    _OUT.write(line + "\n")
    _OUT.flush()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Echo(yoton.RepChannel):
    def echo(self, x):
        return x


def run_rep(args):
    ctx = yoton.Context(queue_params=QUEUE)
    rep = Echo(ctx, SLOT)
    rep.set_mode("thread")
    # See pubsub.py: Debian's yoton binds one port above the one asked for.
    conn = ctx.bind("127.0.0.1:%d" % (free_port() - 1), max_tries=20)
    emit("READY 127.0.0.1:%d" % conn.port1)
    sys.stdin.read()
    ctx.close()


def percentile(s, p):
    return s[min(max(int(math.ceil(p * len(s))) - 1, 0), len(s) - 1)]


def run_req(args):
    ctx = yoton.Context(queue_params=QUEUE)
    req = yoton.ReqChannel(ctx, SLOT)
    ctx.connect(args.addr.split(",")[0], timeout=10.0)
    payload = "x" * args.size

    def check(r):
        if len(r) != len(payload):
            raise RuntimeError("bad reply")

    def call():
        check(req.echo(payload).result(TIMEOUT))

    res = {}
    warm_end = time.perf_counter() + args.warmup
    n = 0
    while n < 3 or time.perf_counter() < warm_end:
        call()
        n += 1
    if args.mode == "latency":
        lat = []
        start = time.perf_counter()
        end = start + args.duration
        now = start
        while now < end:
            call()
            t = time.perf_counter()
            lat.append(t - now)
            now = t
        res["calls"] = len(lat)
        res["seconds"] = now - start
        s = sorted(lat)
        res["p50_us"] = percentile(s, 0.50) * 1e6
        res["p99_us"] = percentile(s, 0.99) * 1e6
        res["p999_us"] = percentile(s, 0.999) * 1e6
        res["mean_us"] = sum(s) / len(s) * 1e6
    else:
        futs = collections.deque(req.echo(payload) for _ in range(max(args.outstanding, 1)))
        start = time.perf_counter()
        end = start + args.duration
        calls = 0
        now = start
        while now < end:
            check(futs.popleft().result(TIMEOUT))
            futs.append(req.echo(payload))
            calls += 1
            now = time.perf_counter()
        res["calls"] = calls
        res["seconds"] = now - start
    ru = resource.getrusage(resource.RUSAGE_SELF)
    res["cpu_user"] = ru.ru_utime
    res["cpu_sys"] = ru.ru_stime
    emit("RESULT " + json.dumps(res))
    sys.stdin.read()
    ctx.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["rep", "req"])
    p.add_argument("--addr", default="")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--mode", default="latency", choices=["latency", "throughput"])
    p.add_argument("--outstanding", type=int, default=64)
    p.add_argument("--duration", type=float, default=1.0)
    p.add_argument("--warmup", type=float, default=0.2)
    args, _ = p.parse_known_args()
    if args.role == "rep":
        run_rep(args)
    else:
        run_req(args)


if __name__ == "__main__":
    main()
