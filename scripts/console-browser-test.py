#!/usr/bin/env python3
"""The web console in a real browser: Debian's chromium, driven by chromedriver over the
W3C WebDriver protocol (plain HTTP and JSON, so this script needs only Python's standard
library; nothing downloads a browser).

It starts the real `fingertip` binary on a temporary SQLite file, seeds a unit, members, a
lesson broadcast to them and a meeting through the JSON API, then, in a 375 px wide window
(a phone) and a 1280 px one (a laptop):

- opens /console/, is sent to the login page, which shows a QR code;
- logs in with the admin's password by typing into the form and pressing the button;
- finds the home page's four parts, the broadcast with its read count and the meeting;
- opens the lesson's page (counts, read rate, recipients) from the home page;
- opens the roster tab and the printable sheet of invite codes with their QR codes, a member's
  page and the import page;
- opens the meetings tab, the new meeting form (choosing 定期 shows the rule builder), the
  meeting's record and its check-in screen;
- opens the audit log and verifies its chain;
- writes a monthly classroom in the composer: the preview, the audience's size and the rule's
  next five days follow the typing, and sending lands on the new broadcast's page;
- checks that the browser logged no error (a Content-Security-Policy violation would be one);
- saves a screenshot of each page under --screenshots (default target/console-screenshots);
- logs out with the button and is back at the login page.

    python3 scripts/console-browser-test.py --bin target/debug/fingertip

Exit status 0 when every check passed, 1 otherwise.
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ADMIN, PASSWORD = "admin", "console-test-password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, token=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def wait_for(url, what, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"console-browser-test: {what} did not answer at {url}")


class Browser:
    """Just enough of WebDriver: a session, navigation, elements, typing, clicks, screenshots
    and the browser's log."""

    def __init__(self, driver, width, height):
        self.driver = driver
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": "/usr/bin/chromium",
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            f"--window-size={width},{height}",
                        ],
                    },
                    "goog:loggingPrefs": {"browser": "ALL"},
                }
            }
        }
        status, body = http("POST", f"{driver}/session", caps, timeout=60)
        if status != 200:
            raise SystemExit(f"console-browser-test: no browser session: {body}")
        self.sid = body["value"]["sessionId"]
        self.base = f"{driver}/session/{self.sid}"

    def call(self, method, path, body=None):
        status, answer = http(method, self.base + path, body)
        if status != 200:
            raise RuntimeError(f"WebDriver {method} {path}: {status} {answer}")
        return answer["value"]

    def go(self, url):
        self.call("POST", "/url", {"url": url})

    def url(self):
        return self.call("GET", "/url")

    def source(self):
        return self.call("GET", "/source")

    def find(self, css):
        found = self.call("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def exists(self, css):
        return bool(self.call("POST", "/elements", {"using": "css selector", "value": css}))

    def type(self, css, text):
        self.call("POST", f"/element/{self.find(css)}/value", {"text": text})

    def click(self, css):
        self.call("POST", f"/element/{self.find(css)}/click", {})

    def click_link(self, text):
        found = self.call("POST", "/element", {"using": "link text", "value": text})
        self.call("POST", f"/element/{next(iter(found.values()))}/click", {})

    def text(self, css):
        return self.call("GET", f"/element/{self.find(css)}/text")

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.call("GET", "/screenshot")))

    def errors(self):
        # chromedriver's log endpoint (not part of W3C WebDriver, but chromedriver keeps it).
        status, answer = http("POST", self.base + "/se/log", {"type": "browser"})
        if status != 200:
            return []
        return [e for e in answer["value"] if e.get("level") == "SEVERE"]

    def wait_url(self, suffix, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.url().endswith(suffix):
                return True
            time.sleep(0.1)
        return False

    def wait(self, check, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if check():
                    return True
            except RuntimeError:
                pass
            time.sleep(0.1)
        return False

    def quit(self):
        http("DELETE", self.base)


def seed(api, token):
    """A unit with three members, a lesson broadcast to them, and a meeting next week."""
    _, unit = http("POST", f"{api}/admin/units", {"name": "第一党支部"}, token)
    for name in ["张三", "李四", "王五"]:
        http("POST", f"{api}/admin/members", {"name": name, "unit_id": unit["id"]}, token)
    _, post = http(
        "POST",
        f"{api}/admin/posts",
        {"kind": "lesson", "title": "十二月党课", "summary": "审计精神", "body_md": "# 正文", "study_minutes": 30},
        token,
    )
    status, b = http(
        "POST",
        f"{api}/admin/broadcasts",
        {"post_id": post["id"], "audience": {"unit_ids": [unit["id"]]}},
        token,
    )
    assert status == 201, b
    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7 * 86400))
    ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7 * 86400 + 7200))
    status, m = http(
        "POST",
        f"{api}/admin/meetings",
        {
            "kind": "general_meeting",
            "title": "第四季度党员大会",
            "starts_at": starts,
            "ends_at": ends,
            "place": "三楼会议室",
            "unit_id": unit["id"],
            "audience": {"unit_ids": [unit["id"]]},
        },
        token,
    )
    assert status == 201, m
    return b["id"]


def wait_sent(api, token, broadcast_id, seconds=30):
    """Until the embedded fan-out worker has delivered the broadcast."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        _, b = http("GET", f"{api}/admin/broadcasts/{broadcast_id}", token=token)
        if isinstance(b, dict) and b.get("status") == "sent":
            return
        time.sleep(0.1)
    raise SystemExit("console-browser-test: the broadcast was not delivered in time")


def run(base, driver, width, height, shots, problems):
    tag = f"{width}px"
    b = Browser(driver, width, height)
    try:
        b.go(f"{base}/console/")
        if not b.url().endswith("/console/login"):
            problems.append(f"{tag}: /console/ without a session went to {b.url()}")
        if not b.exists(".qr-code svg"):
            problems.append(f"{tag}: the login page shows no QR code")
        b.screenshot(os.path.join(shots, f"console-login-{tag}.png"))
        b.type("#username", ADMIN)
        b.type("#password", PASSWORD)
        b.click("button.primary")
        if not b.wait_url("/console/"):
            problems.append(f"{tag}: logging in did not reach the home page ({b.url()})")
            return
        page = b.source()
        for part in ["broadcasts", "meetings", "failed", "unbound"]:
            if not b.exists(f"section#{part}"):
                problems.append(f"{tag}: the home page has no {part} section")
        for text in ["十二月党课", "第四季度党员大会", "三楼会议室", "张三"]:
            if text not in page:
                problems.append(f"{tag}: the home page does not show {text}")
        if "<li>admin" in b.source():
            problems.append(f"{tag}: the bootstrap admin (no unit) is listed as a member to bind")
        b.screenshot(os.path.join(shots, f"console-home-{tag}.png"))
        b.click_link("十二月党课")
        if not b.exists("section#stats progress") or "张三" not in b.source():
            problems.append(f"{tag}: the broadcast's page shows no counts or recipients")
        b.screenshot(os.path.join(shots, f"console-broadcast-{tag}.png"))
        b.click("header nav a[href$='/console/roster']")
        if not b.wait_url("/console/roster"):
            problems.append(f"{tag}: the roster tab did not open ({b.url()})")
        elif "李四" not in b.source():
            problems.append(f"{tag}: the roster does not list 李四")
        b.screenshot(os.path.join(shots, f"console-roster-{tag}.png"))
        b.click("a.print")
        if not b.wait_url("/console/roster/invites") or not b.exists(".invite svg"):
            problems.append(f"{tag}: the invite sheet shows no QR code")
        b.screenshot(os.path.join(shots, f"console-invites-{tag}.png"))
        b.go(f"{base}/console/roster")
        b.click_link("李四")
        if not b.wait(lambda: b.exists("section#binding")) or not b.exists("form.member"):
            problems.append(f"{tag}: the member's page shows no binding or no form")
        b.screenshot(os.path.join(shots, f"console-member-{tag}.png"))
        b.go(f"{base}/console/roster/import")
        if not b.exists("input[type=file]"):
            problems.append(f"{tag}: the import page has no file field")
        b.click("header nav a[href$='/console/meetings']")
        b.click_link("新建会议")
        if not b.wait_url("/console/meetings/new") or not b.exists("form.meeting"):
            problems.append(f"{tag}: the new meeting form did not open ({b.url()})")
        shown = lambda css: b.call("GET", f"/element/{b.find(css)}/displayed")
        if shown("#freq") or not shown("#starts"):
            problems.append(f"{tag}: a one-off meeting's form shows the rule, or hides the start")
        b.click("#when-rule")
        if not b.wait(lambda: shown("#freq") and not shown("#starts")):
            problems.append(f"{tag}: choosing 定期 does not show the rule builder")
        b.screenshot(os.path.join(shots, f"console-meeting-new-{tag}.png"))
        b.click("header nav a[href$='/console/meetings']")
        b.click_link("第四季度党员大会")
        b.screenshot(os.path.join(shots, f"console-meeting-{tag}.png"))
        b.click("a.action")
        if not b.exists(".screen-qr svg") or not b.exists("#code"):
            problems.append(f"{tag}: the check-in screen shows no code or QR code")
        b.screenshot(os.path.join(shots, f"console-checkin-{tag}.png"))
        b.go(f"{base}/console/")
        b.click("header nav a[href$='/console/audit']")
        b.click("a[href$='verify=1']")
        if not b.exists("#verified.notice"):
            problems.append(f"{tag}: the audit log's chain did not verify")
        b.screenshot(os.path.join(shots, f"console-audit-{tag}.png"))
        # The composer: the preview, the audience's size and the schedule follow the typing
        # (its script), and sending lands on the new broadcast's page.
        b.click("header nav a[href$='/console/compose']")
        if not b.wait_url("/console/compose"):
            problems.append(f"{tag}: the composer did not open ({b.url()})")
        b.type("#title", f"指尖课堂 {tag}")
        b.type("#body", "## 本期要点\n\n**学习**党章。")
        if not b.wait(lambda: b.exists("#preview strong")):
            problems.append(f"{tag}: the composer's preview did not follow the typing")
        if not b.wait(lambda: b.text("#size").isdigit()):
            problems.append(f"{tag}: the composer shows no audience size ({b.text('#size')})")
        b.click("#when-rule")
        if not b.wait(lambda: b.text("#schedule") == "每月1日 09:00"
                      and len(b.call("POST", "/elements", {"using": "css selector", "value": "#occurrences li"})) == 5):
            problems.append(f"{tag}: the rule's words and next five days did not show ({b.text('#schedule')})")
        b.screenshot(os.path.join(shots, f"console-compose-{tag}.png"))
        b.click("#send")
        if not b.wait(lambda: "scheduled=1" in b.url()) or "每月1日 09:00" not in b.source():
            problems.append(f"{tag}: sending did not reach the broadcast's page ({b.url()})")
        b.screenshot(os.path.join(shots, f"console-scheduled-{tag}.png"))
        for e in b.errors():
            problems.append(f"{tag}: the browser logged an error: {e.get('message')}")
        b.click("header form button")
        if not b.wait_url("/console/login"):
            problems.append(f"{tag}: logging out did not return to the login page ({b.url()})")
    finally:
        b.quit()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default="target/debug/fingertip")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    ap.add_argument("--screenshots", default="target/console-screenshots")
    args = ap.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="fingertip-console-")
    port, driver_port = free_port(), free_port()
    env = dict(
        os.environ,
        FINGERTIP_DATABASE_URL=f"sqlite://{tmp}/console.db?mode=rwc",
        FINGERTIP_BIND=f"127.0.0.1:{port}",
        FINGERTIP_ADMIN_USERNAME=ADMIN,
        FINGERTIP_ADMIN_PASSWORD=PASSWORD,
        RUST_LOG="warn",
    )
    procs = []
    try:
        log = open(os.path.join(tmp, "server.log"), "w")
        procs.append(subprocess.Popen([args.bin], env=env, stdout=log, stderr=log))
        procs.append(
            subprocess.Popen(
                [args.chromedriver, f"--port={driver_port}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", "the server")
        wait_for(f"http://127.0.0.1:{driver_port}/status", "chromedriver")
        api = f"{base}/api/v1"
        status, login = http("POST", f"{api}/auth/admin/login", {"username": ADMIN, "password": PASSWORD})
        assert status == 200, login
        token = login["access_token"]
        wait_sent(api, token, seed(api, token))
        problems = []
        for width, height in [(375, 812), (1280, 900)]:
            run(base, f"http://127.0.0.1:{driver_port}", width, height, args.screenshots, problems)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    if problems:
        print("console-browser-test: FAILED", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"console-browser-test: passed at 375 px and 1280 px; screenshots in {args.screenshots}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
