#!/usr/bin/env python3
"""The database outage test: the distributed shape (`migrate`, `serve`, two `work`) of the built
binary, on a PostgreSQL cluster of the test's own (initdb on a free port), which is stopped and
started again under it. Standard library only.

  python3 scripts/db-outage-test.py     # after `cargo test --workspace` (CI) or `cargo build`

Three scenarios, each with what a user or an operator would notice checked and measured:

1. The database stops in the middle of a fan-out to OUTAGE_MEMBERS members (default 40,000).
   While it is down every API request answers 503 `unavailable` with Retry-After within 2 s,
   /readyz answers 503, and no process exits; each process logs the outage once. After it
   starts again, readiness returns, the API answers, and the broadcast completes with exactly
   one inbox row per member.
2. The database stops in the middle of a push pass (OUTAGE_PUSH_MEMBERS members, default 600,
   at 100 pushes/s through the project's WeChat mock). After it starts again every push goes
   out, none twice, and every delivery is recorded.
3. A statement that waits past the statement timeout (a lock on `posts` held by the test,
   FINGERTIP_DATABASE_STATEMENT_TIMEOUT_MS=2000) answers 503, and the next request succeeds.

Prints the figures docs/operations.md quotes (time to a 503, recovery times). The cluster lives
in a temporary directory and is removed at the end; logs go to target/db-outage/. As root it
runs PostgreSQL as the `postgres` user (runuser). Settings (environment): FINGERTIP_BIN
(target/debug/fingertip), FINGERTIP_MOCK_BIN (target/debug/fingertip-mock-wechat),
OUTAGE_PG_BIN (the newest /usr/lib/postgresql/*/bin), OUTAGE_MEMBERS, OUTAGE_PUSH_MEMBERS,
OUTAGE_DOWN_SECS (10).
"""

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Absolute: the processes run in OUT.
BIN = os.path.abspath(os.environ.get("FINGERTIP_BIN", os.path.join(REPO, "target/debug/fingertip")))
MOCK_BIN = os.path.abspath(
    os.environ.get("FINGERTIP_MOCK_BIN", os.path.join(REPO, "target/debug/fingertip-mock-wechat")))
OUT = os.path.join(REPO, "target/db-outage")
N = int(os.environ.get("OUTAGE_MEMBERS", "40000"))
N_PUSH = int(os.environ.get("OUTAGE_PUSH_MEMBERS", "600"))
DOWN_SECS = float(os.environ.get("OUTAGE_DOWN_SECS", "10"))
APPID, SECRET, TEMPLATE = "wx-outage", "outage-secret", "tpl-outage"
PUSH_RATE = 100
T0 = time.monotonic()


def say(msg):
    print(f"db-outage [{time.monotonic() - T0:.0f}s]: {msg}", flush=True)


def passed(msg):
    print(f"PASS: {msg}", flush=True)


class Failed(Exception):
    pass


def check(ok, msg):
    if not ok:
        raise Failed(msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(secs, what, pred, every=0.1):
    end = time.monotonic() + secs
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise Failed(f"timed out after {secs}s waiting for {what}")
        time.sleep(every)


# --- the cluster -------------------------------------------------------------------------


class Cluster:
    """A PostgreSQL of the test's own: initdb in a temporary directory, on a free port."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
        self.bin = os.environ.get("OUTAGE_PG_BIN") or (bins[-1] if bins else "")
        check(os.path.exists(os.path.join(self.bin, "initdb")), f"no initdb in {self.bin!r}: install postgresql or set OUTAGE_PG_BIN")
        self.dir = tempfile.mkdtemp(prefix="fingertip-outage-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(OUT, "postgres.log")
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.user = "postgres"
            open(self.log, "a").close()
            os.chown(self.log, pw.pw_uid, pw.pw_gid)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/fingertip"

    def run(self, *cmd):
        full = [os.path.join(self.bin, cmd[0]), *cmd[1:]]
        if self.user:
            full = ["runuser", "-u", self.user, "--", *full]
        r = subprocess.run(full, capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"{' '.join(cmd[:2])} failed: {r.stdout}{r.stderr}")

    def init(self):
        self.run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self):
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self.run("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t", "60", "start")

    def stop(self):
        # `fast`: what a restart or a failover does to the clients (their connections are cut).
        self.run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    def psql(self, sql, db="fingertip"):
        r = subprocess.run(
            ["psql", f"postgres://postgres@127.0.0.1:{self.port}/{db}", "-v", "ON_ERROR_STOP=1", "-qtAX", "-c", sql],
            capture_output=True, text=True, timeout=120,
        )
        check(r.returncode == 0, f"psql failed: {r.stderr}")
        return r.stdout.strip()

    def remove(self):
        try:
            self.stop()
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the processes -----------------------------------------------------------------------


class Procs:
    def __init__(self, env):
        self.env = env
        self.procs = {}

    def log(self, name):
        return os.path.join(OUT, f"{name}.log")

    def run(self, name, *args):
        with open(self.log(name), "a") as f:
            r = subprocess.run([BIN, *args], cwd=OUT, env=self.env, stdout=f, stderr=subprocess.STDOUT, timeout=300)
        check(r.returncode == 0, f"fingertip {' '.join(args)} failed (see {self.log(name)})")

    def start(self, name, *args, binary=BIN):
        f = open(self.log(name), "a")
        self.procs[name] = subprocess.Popen([binary, *args], cwd=OUT, env=self.env, stdout=f, stderr=subprocess.STDOUT)

    def alive(self):
        return {n: p.poll() is None for n, p in self.procs.items()}

    def stop_all(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    def count(self, name, text):
        with open(self.log(name), errors="replace") as f:
            return sum(text in line for line in f)


# --- HTTP --------------------------------------------------------------------------------


class Http:
    def __init__(self, base):
        self.base = base
        self.token = None

    def call(self, method, path, body=None, timeout=30):
        """(status, json body or text, headers, seconds)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if self.token:
            req.add_header("authorization", f"Bearer {self.token}")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, raw, headers = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, raw, headers = e.code, e.read(), e.headers
        except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
            return None, str(e), {}, time.monotonic() - started
        took = time.monotonic() - started
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode(errors="replace")
        return status, parsed, headers, took

    def ok(self, method, path, body=None):
        status, b, _, _ = self.call(method, path, body)
        check(status is not None and 200 <= status < 300, f"{method} {path} answered {status}: {b}")
        return b


def mock_call(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def mock_sent(base):
    with urllib.request.urlopen(base + "/mock/sent", timeout=10) as r:
        return json.loads(r.read())


# --- the outage, as the API sees it ------------------------------------------------------


def while_down(http, procs, secs):
    """Calls the API every 0.25 s for `secs`: each must be a 503 `unavailable` with Retry-After
    within 2 s; /readyz must say not ready. Returns (calls, slowest seconds)."""
    end = time.monotonic() + secs
    calls, slowest = 0, 0.0
    while time.monotonic() < end:
        for path in ("/api/v1/admin/posts", "/api/v1/admin/broadcasts", "/readyz"):
            status, body, headers, took = http.call("GET", path, timeout=10)
            calls += 1
            slowest = max(slowest, took)
            check(status == 503, f"while the database is down GET {path} answered {status}: {body}")
            check(headers.get("Retry-After"), f"GET {path}: 503 without Retry-After")
            check(took < 2.0, f"GET {path} took {took:.2f}s to answer 503 (wanted under 2 s)")
            if path != "/readyz":
                check(body.get("error", {}).get("code") == "unavailable", f"GET {path}: {body}")
        dead = [n for n, up in procs.alive().items() if not up]
        check(not dead, f"processes exited while the database was down: {dead}")
        time.sleep(0.25)
    return calls, slowest


def back_up(cluster, http):
    """Starts the database; seconds until /readyz is 200 and until the API answers 200."""
    started = time.monotonic()
    cluster.start()
    wait_for(60, "readiness after the restart", lambda: http.call("GET", "/readyz", timeout=5)[0] == 200, every=0.05)
    ready = time.monotonic() - started
    wait_for(60, "the API after the restart", lambda: http.call("GET", "/api/v1/admin/posts", timeout=5)[0] == 200, every=0.05)
    return ready, time.monotonic() - started


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in glob.glob(os.path.join(OUT, "*.log")):
        os.remove(f)
    for b in (BIN, MOCK_BIN):
        check(os.access(b, os.X_OK), f"{b} is missing: build it with `cargo test --workspace --no-run` or `cargo build`")
    for tool in ("psql", "runuser") if os.geteuid() == 0 else ("psql",):
        check(shutil.which(tool), f"{tool} is not installed")

    cluster = Cluster()
    procs = None
    try:
        cluster.init()
        cluster.start()
        cluster.psql("CREATE DATABASE fingertip", db="postgres")
        say(f"PostgreSQL of its own on port {cluster.port} ({cluster.bin}); {N} members for the fan-out, {N_PUSH} for the pushes")

        mock_port, api_port = free_port(), free_port()
        mock = f"http://127.0.0.1:{mock_port}"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "FINGERTIP_DATABASE_URL": cluster.url,
            "FINGERTIP_JWT_SECRET": "outage-test-secret-outage-test-secret",
            "FINGERTIP_ADMIN_USERNAME": "admin",
            "FINGERTIP_ADMIN_PASSWORD": "outage-test-password",
            "FINGERTIP_BIND": f"127.0.0.1:{api_port}",
            "FINGERTIP_FANOUT_BATCH": "100",
            "FINGERTIP_FANOUT_LEASE_SECS": "5",
            "FINGERTIP_WECHAT_APPID": APPID,
            "FINGERTIP_WECHAT_SECRET": SECRET,
            "FINGERTIP_WECHAT_API_BASE": mock,
            "FINGERTIP_WECHAT_RATE": str(PUSH_RATE),
            # Pushes go at once whatever the hour the test runs at.
            "FINGERTIP_QUIET_HOURS": "off",
            "FINGERTIP_DATABASE_STATEMENT_TIMEOUT_MS": "2000",
            "FINGERTIP_LOG_FORMAT": "text",
            "NO_COLOR": "1",
            "RUST_LOG": "info,sqlx=warn,sea_orm=warn,actix_server=warn",
        }
        procs = Procs(env)
        procs.start("mock", "--bind", f"127.0.0.1:{mock_port}", "--appid", APPID, "--secret", SECRET, binary=MOCK_BIN)
        procs.run("migrate", "migrate")
        procs.start("serve", "serve")
        procs.start("work1", "work")
        procs.start("work2", "work")
        http = Http(f"http://127.0.0.1:{api_port}")
        wait_for(60, "the API to be ready", lambda: http.call("GET", "/readyz", timeout=5)[0] == 200)
        wait_for(10, "the mock", lambda: http.call("GET", "/healthz")[0] == 200 and mock_ready(mock))
        login = http.ok("POST", "/api/v1/auth/admin/login", {"username": "admin", "password": "outage-test-password"})
        http.token = login["access_token"]

        fanout_case(cluster, procs, http)
        push_case(cluster, procs, http, mock)
        slow_case(cluster, http)

        alive = procs.alive()
        check(all(alive.values()), f"a process exited: {alive}")
        for name in ("serve", "work1", "work2"):
            down = procs.count(name, "database unavailable")
            back = procs.count(name, "database answers again")
            failed = procs.count(name, "pass failed")
            check(down <= 2 and back == down, f"{name}: {down} 'database unavailable' and {back} 'answers again' lines for 2 outages")
            check(failed == 0, f"{name}: {failed} 'pass failed' lines: an outage must not be logged pass by pass")
        passed("no process exited; each logged each outage at most once and its end once, and no failed pass")
        say("all scenarios passed")
    finally:
        if procs:
            procs.stop_all()
        cluster.remove()


def mock_ready(mock):
    try:
        with urllib.request.urlopen(mock + "/mock/stats", timeout=2) as r:
            return r.status == 200
    except Exception:
        return False


def fanout_case(cluster, procs, http):
    say("case 1: the database stops mid fan-out")
    unit = http.ok("POST", "/api/v1/admin/units", {"name": "外勤审计组"})["id"]
    cluster.psql(
        f"INSERT INTO members (name, unit_id, role, active, created_at, updated_at) "
        f"SELECT '审计员' || g, {unit}, 'member', true, now(), now() FROM generate_series(1, {N}) AS g"
    )
    post = http.ok("POST", "/api/v1/admin/posts", {"kind": "lesson", "title": "停库测试党课", "body_md": "正文"})["id"]
    b = http.ok("POST", "/api/v1/admin/broadcasts", {"post_id": post, "audience": {"unit_ids": [unit]}, "channels": ["inbox"]})
    bid = b["id"]
    check(b["audience_size"] == N, f"audience_size {b['audience_size']}, wanted {N}")

    def rows():
        return int(cluster.psql(f"SELECT count(*) FROM inbox_items WHERE broadcast_id = {bid}"))

    partial = wait_for(120, "the fan-out to be under way", lambda: (lambda n: n if n >= N // 20 else 0)(rows()), every=0.05)
    check(partial < N, f"the fan-out finished ({partial} rows) before the stop: raise OUTAGE_MEMBERS")
    cluster.stop()
    say(f"stopped the database with {partial} of {N} inbox rows written")
    calls, slowest = while_down(http, procs, DOWN_SECS)
    passed(f"case 1: while down {calls} API calls each answered 503 with Retry-After, the slowest in {slowest * 1000:.0f} ms")
    ready, api = back_up(cluster, http)
    passed(f"case 1: after the start /readyz was 200 in {ready:.2f} s and the API answered in {api:.2f} s")
    started = time.monotonic()
    wait_for(180, f"broadcast {bid} to be sent", lambda: http.ok("GET", f"/api/v1/admin/broadcasts/{bid}")["status"] == "sent", every=0.25)
    n = rows()
    d = int(cluster.psql(f"SELECT count(DISTINCT member_id) FROM inbox_items WHERE broadcast_id = {bid}"))
    check(n == N and d == N, f"{n} inbox rows for {d} members, wanted {N} and {N}")
    stats = http.ok("GET", f"/api/v1/admin/broadcasts/{bid}")["stats"]
    check(stats["recipients"] == N and stats["delivered"] == N, f"the API's stats disagree: {stats}")
    passed(f"case 1: the broadcast completed {time.monotonic() - started:.1f} s after the API was back: {N} rows, one per member")


def push_case(cluster, procs, http, mock):
    say("case 2: the database stops mid push pass")
    mock_call(mock, "/mock/templates", {"template_id": TEMPLATE, "keywords": ["thing1", "time2"]})
    http.ok("PUT", "/api/v1/admin/push/templates/lesson", {"template_id": TEMPLATE, "page": "pages/inbox/item?id={item_id}", "fields": {"thing1": "title", "time2": "time"}})
    unit = http.ok("POST", "/api/v1/admin/units", {"name": "推送测试组"})["id"]
    cluster.psql(
        f"INSERT INTO members (name, unit_id, role, wechat_openid, active, created_at, updated_at) "
        f"SELECT '推送' || g, {unit}, 'member', 'o-outage-' || g, true, now(), now() FROM generate_series(1, {N_PUSH}) AS g"
    )
    cluster.psql(
        f"INSERT INTO wechat_credits (member_id, template_id, credits, updated_at) "
        f"SELECT id, '{TEMPLATE}', 1, now() FROM members WHERE unit_id = {unit}"
    )
    for g in range(1, N_PUSH + 1):
        mock_call(mock, "/mock/grants", {"openid": f"o-outage-{g}", "template_id": TEMPLATE, "count": 1})
    post = http.ok("POST", "/api/v1/admin/posts", {"kind": "lesson", "title": "停库推送测试", "body_md": "正文"})["id"]
    bid = http.ok("POST", "/api/v1/admin/broadcasts", {"post_id": post, "audience": {"unit_ids": [unit]}, "channels": ["wechat"]})["id"]

    def ours():
        return [m for m in mock_sent(mock) if m.get("template") == TEMPLATE]

    wait_for(60, "pushes to be under way", lambda: len(ours()) >= N_PUSH // 5, every=0.05)
    cluster.stop()
    sent_at_stop = len(ours())
    say(f"stopped the database with {sent_at_stop} of {N_PUSH} pushes at the mock")
    calls, slowest = while_down(http, procs, DOWN_SECS / 2)
    passed(f"case 2: while down {calls} API calls each answered 503 with Retry-After, the slowest in {slowest * 1000:.0f} ms")
    ready, _ = back_up(cluster, http)
    started = time.monotonic()

    def settled():
        left = int(cluster.psql(
            f"SELECT count(*) FROM push_deliveries WHERE broadcast_id = {bid} AND status IN ('pending', 'sending')"))
        return left == 0

    wait_for(120, "every push to be settled", settled, every=0.25)
    by_status = dict(
        line.split("|") for line in cluster.psql(
            f"SELECT status, count(*) FROM push_deliveries WHERE broadcast_id = {bid} GROUP BY status").splitlines())
    sends = ours()
    per_member = {}
    for m in sends:
        for u in m["touser"]:
            per_member[u] = per_member.get(u, 0) + 1
    twice = {u: c for u, c in per_member.items() if c > 1}
    check(not twice, f"{len(twice)} members got a push twice: {list(twice.items())[:5]}")
    check(len(per_member) == N_PUSH, f"{len(per_member)} of {N_PUSH} members got their push")
    check(int(by_status.get("sent", 0)) == N_PUSH, f"deliveries by status {by_status}, wanted all {N_PUSH} sent")
    passed(
        f"case 2: {sent_at_stop} pushes out before the stop; /readyz back in {ready:.2f} s; all {N_PUSH} sent "
        f"{time.monotonic() - started:.1f} s later, none twice, every one recorded sent ({by_status})"
    )


def slow_case(cluster, http):
    say("case 3: a statement waits past the statement timeout (2 s)")
    holder = subprocess.Popen(
        ["psql", cluster.url, "-v", "ON_ERROR_STOP=1", "-qtAX", "-c",
         "BEGIN; LOCK TABLE posts IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(10, "the lock to be held", lambda: cluster.psql(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'posts' AND l.mode = 'AccessExclusiveLock' AND l.granted") == "1")
        status, body, headers, took = http.call("GET", "/api/v1/admin/posts", timeout=30)
        check(status == 503 and body.get("error", {}).get("code") == "unavailable", f"a statement past the timeout answered {status}: {body}")
        check(headers.get("Retry-After"), "503 without Retry-After")
        check(1.5 <= took < 4, f"answered in {took:.2f} s, wanted about the 2 s statement timeout")
        ready = http.call("GET", "/readyz")[0]
        check(ready == 200, f"one slow statement made /readyz answer {ready}")
    finally:
        holder.terminate()
        holder.wait(timeout=10)
        # The server side of the holder would sleep on (pg_sleep does not notice the client go).
        cluster.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                     "WHERE query LIKE '%pg_sleep(8)%' AND pid <> pg_backend_pid()")
    wait_for(10, "the API after the lock", lambda: http.call("GET", "/api/v1/admin/posts")[0] == 200)
    passed(f"case 3: a statement held by a lock answered 503 `unavailable` after {took:.2f} s; readiness stayed 200; the next request succeeded")


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        for f in sorted(glob.glob(os.path.join(OUT, "*.log"))):
            print(f"--- {f} (last 15 lines)", file=sys.stderr)
            with open(f, errors="replace") as fh:
                for line in fh.readlines()[-15:]:
                    print(line.rstrip(), file=sys.stderr)
        sys.exit(1)
