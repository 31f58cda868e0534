#!/usr/bin/env python3
"""Login flood: what a burst of wrong passwords costs the server (standard library only).

Starts `fingertip` (API and workers, a temporary SQLite file) and measures:

1. the peak resident memory (VmHWM) of the process while 150 wrong-password logins arrive at
   once, each from its own address (X-Forwarded-For, which the server trusts for this run) and
   for its own username, so that none is stopped by the per-address or per-username throttle and
   every one reaches the password check: this is what the bounded argon2 pool must absorb;
2. the same burst from one address, where the throttle answers most of them with 429;
3. how long a wrong password takes for a username that exists and for one that does not
   (the median of 10 each): they should be the same, so the time does not tell which exist.

    python3 scripts/login-flood.py [--bin target/release/fingertip] [--parallel 150]
"""

import argparse
import concurrent.futures
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def login(base, username, password, address):
    body = json.dumps({"username": username, "password": password}).encode()
    req = urllib.request.Request(
        base + "/api/v1/auth/admin/login",
        body,
        method="POST",
        headers={"content-type": "application/json", "x-forwarded-for": address},
    )
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, (time.perf_counter() - t) * 1000


def burst(base, n, same_address):
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        futures = [
            pool.submit(
                login,
                base,
                f"flood-{i}",
                "wrong-password",
                "192.0.2.1" if same_address else f"10.{i // 250}.{i % 250}.1",
            )
            for i in range(n)
        ]
        return [f.result() for f in futures]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="target/release/fingertip")
    ap.add_argument("--parallel", type=int, default=150)
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)

    tmp = tempfile.mkdtemp(prefix="fingertip-flood-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        FINGERTIP_BIND=f"127.0.0.1:{port}",
        FINGERTIP_DATABASE_URL=f"sqlite://{tmp}/flood.db?mode=rwc",
        FINGERTIP_JWT_SECRET="flood-secret-flood-secret-flood-secret",
        FINGERTIP_ADMIN_USERNAME="admin",
        FINGERTIP_ADMIN_PASSWORD="correct-horse-battery",
        FINGERTIP_TRUST_FORWARDED_FOR="true",
        FINGERTIP_LOG_FORMAT="text",
        RUST_LOG="warn",
    )
    env.pop("FINGERTIP_REDIS_URL", None)
    server = subprocess.Popen([args.bin], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(tmp, "server.log"), "w"))
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("the server did not start; see " + tmp)
        # Warm up, so the dummy hash and the pools exist (not as "admin": its 10 tries a quarter
        # hour are for the timing below).
        login(base, "nobody", "x", "10.255.0.2")
        idle = rss_kib(server.pid, "VmRSS")
        print(f"binary: {args.bin}")
        print(f"resident memory after start-up: {idle / 1024:.0f} MiB")

        t = time.perf_counter()
        results = burst(base, args.parallel, same_address=False)
        took = time.perf_counter() - t
        statuses = {s: sum(1 for r in results if r[0] == s) for s in sorted({r[0] for r in results})}
        peak = rss_kib(server.pid, "VmHWM")
        print(f"{args.parallel} parallel wrong logins, {args.parallel} addresses and usernames: "
              f"statuses {statuses}, {took:.2f} s, slowest answer {max(r[1] for r in results):.0f} ms")
        print(f"peak resident memory (VmHWM) so far: {peak / 1024:.0f} MiB (goal < 300 MB)")

        results = burst(base, args.parallel, same_address=True)
        statuses = {s: sum(1 for r in results if r[0] == s) for s in sorted({r[0] for r in results})}
        print(f"{args.parallel} parallel wrong logins from one address: statuses {statuses}")
        print(f"peak resident memory (VmHWM) after both bursts: "
              f"{rss_kib(server.pid, 'VmHWM') / 1024:.0f} MiB; now {rss_kib(server.pid, 'VmRSS') / 1024:.0f} MiB")

        known = [login(base, "admin", f"wrong-{i}", f"10.254.{i}.1")[1] for i in range(10)]
        unknown = [login(base, f"ghost-{i}", "wrong", f"10.253.{i}.1")[1] for i in range(10)]
        print(f"wrong password, known username: median {statistics.median(known):.1f} ms; "
              f"unknown username: median {statistics.median(unknown):.1f} ms (10 each)")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
