#!/usr/bin/env python3
"""The web console in a real browser: Debian's chromium, driven by chromedriver over the
W3C WebDriver protocol (plain HTTP and JSON, so this script needs only Python's standard
library; nothing downloads a browser).

It starts the WeChat mock (which also plays one WeCom app and WeCom's sign-in page) and the real
`fingertip` binary pointed at it, on a temporary SQLite file; seeds through the JSON API two
units, members (张三 and the secretary 赵书记 bound to WeChat through the mock, 李四 in WeCom), a
lesson broadcast to the first unit, a notice to the second, a meeting next week and a study
meeting starting in ten minutes; then, in a 375 px wide window (a phone) and a 1280 px one (a
laptop):

- opens /console/, is sent to the login page, which shows a QR code;
- logs in with the admin's password by typing into the form and pressing the button;
- finds the home page's four parts, the broadcast with its read count and the meeting;
- opens the lesson's page; at 1280 px 张三 reads the lesson through the API meanwhile and the
  page's read count rises by itself;
- opens the roster tab and the printable sheet of invite codes with their QR codes, a member's
  page, and imports a roster file with a bad line (the report lists that line alone);
- opens the meetings tab, the new meeting form (choosing 定期 shows the rule builder), the
  meeting's record and its check-in screen; at 1280 px 张三 checks in with the study meeting's
  screen code through the API, the screen's count rises by itself, and its code changes when
  its 30 s are up (the one wait of up to 40 s: the screen's own clock, not a test's);
- opens the study tab (the unit's study hours, member by member);
- opens the audit log and verifies its chain;
- writes a monthly classroom in the composer: the preview, the audience's size and the rule's
  next five days follow the typing, and sending lands on the new broadcast's page;
- checks that the browser logged no error (a Content-Security-Policy violation would be one);
- logs out with the button and is back at the login page.

Then 赵书记 logs in by the QR code, approved through the API with the secretary's mini-program
token as the mini-program would, sees the first unit's month and gets the 404 page for the
second unit's notice; and 李四 opens the lesson's WeCom card link at 375 px: WeCom's sign-in
(the mock) identifies him, the page shows the lesson, and the admin API lists him as read.
A screenshot of each page lands under --screenshots (default target/console-screenshots).

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
WECOM_CORP, WECOM_SECRET, WECOM_AGENT = "ww-mock-corpid", "mock-corpsecret", 1000002


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


def bind(api, mock, invite_code, openid):
    """A member's phone binding to their invite code: `wx.login` (the mock's code), then bind.
    Returns the member's access token."""
    _, code = http("POST", f"{mock}/mock/codes", {"openid": openid})
    status, login = http("POST", f"{api}/auth/wechat/login", {"code": code["code"]})
    assert status == 200 and login.get("bind_token"), login
    status, bound = http(
        "POST", f"{api}/auth/wechat/bind", {"bind_token": login["bind_token"], "invite_code": invite_code}
    )
    assert status == 200, bound
    return bound["access_token"]


def seed(api, mock, token):
    """Two units. The first: 张三 (bound to WeChat, in WeCom as zhangsan), 李四 (in WeCom as lisi),
    王五, and the secretary 赵书记 (bound to WeChat); a lesson broadcast to it, a meeting next week
    and a study meeting starting in ten minutes. The second: 钱六 and a notice of its own."""

    def ok(status, body, want=201):
        assert status == want, body
        return body

    unit = ok(*http("POST", f"{api}/admin/units", {"name": "第一党支部"}, token))
    other = ok(*http("POST", f"{api}/admin/units", {"name": "第二党支部"}, token))
    people = {}
    for name, extra in [
        ("张三", {"wecom_userid": "zhangsan"}),
        ("李四", {"wecom_userid": "lisi"}),
        ("王五", {}),
        ("赵书记", {"role": "secretary"}),
    ]:
        people[name] = ok(*http("POST", f"{api}/admin/members", {"name": name, "unit_id": unit["id"], **extra}, token))
    ok(*http("POST", f"{api}/admin/members", {"name": "钱六", "unit_id": other["id"]}, token))
    http("POST", f"{mock}/mock/wecom/users", {"agentid": WECOM_AGENT, "userids": ["zhangsan", "lisi"]})
    post = ok(
        *http(
            "POST",
            f"{api}/admin/posts",
            {"kind": "lesson", "title": "十二月党课", "summary": "审计精神", "body_md": "# 正文\n\n**学习**党章。", "study_minutes": 30},
            token,
        )
    )
    lesson = ok(*http("POST", f"{api}/admin/broadcasts", {"post_id": post["id"], "audience": {"unit_ids": [unit["id"]]}}, token))
    notice = ok(*http("POST", f"{api}/admin/posts", {"kind": "notice", "title": "二支部通知", "body_md": "只给第二党支部。"}, token))
    theirs = ok(*http("POST", f"{api}/admin/broadcasts", {"post_id": notice["id"], "audience": {"unit_ids": [other["id"]]}}, token))

    def at(seconds):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))

    for title, starts in [("第四季度党员大会", 7 * 86400), ("支部学习会", 600)]:
        ok(
            *http(
                "POST",
                f"{api}/admin/meetings",
                {
                    "kind": "general_meeting" if starts > 3600 else "study_day",
                    "title": title,
                    "starts_at": at(starts),
                    "ends_at": at(starts + 7200),
                    "place": "三楼会议室",
                    "unit_id": unit["id"],
                    "audience": {"unit_ids": [unit["id"]]},
                },
                token,
            )
        )
    phones = {
        "张三": bind(api, mock, people["张三"]["invite_code"], "o-zhangsan"),
        "赵书记": bind(api, mock, people["赵书记"]["invite_code"], "o-zhao"),
    }
    return {"lesson": lesson["id"], "theirs": theirs["id"], "phones": phones}


def wait_sent(api, token, broadcast_id, seconds=30):
    """Until the embedded fan-out worker has delivered the broadcast."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        _, b = http("GET", f"{api}/admin/broadcasts/{broadcast_id}", token=token)
        if isinstance(b, dict) and b.get("status") == "sent":
            return
        time.sleep(0.1)
    raise SystemExit("console-browser-test: the broadcast was not delivered in time")


def run(base, driver, width, height, shots, problems, world):
    tag = f"{width}px"
    api = f"{base}/api/v1"
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
        for text in ["十二月党课", "第四季度党员大会", "三楼会议室", "李四"]:
            if text not in page:
                problems.append(f"{tag}: the home page does not show {text}")
        if "<li>admin" in b.source():
            problems.append(f"{tag}: the bootstrap admin (no unit) is listed as a member to bind")
        b.screenshot(os.path.join(shots, f"console-home-{tag}.png"))
        b.click_link("十二月党课")
        if not b.exists("section#stats progress") or "张三" not in b.source():
            problems.append(f"{tag}: the broadcast's page shows no counts or recipients")
        if not b.exists("#chart polyline#curve"):
            problems.append(f"{tag}: the broadcast's page shows no read curve")
        if world.get("live"):
            # 张三 reads it on the phone; the open page's count follows by itself.
            read_before = b.text("#s-read")
            phone = world["phones"]["张三"]
            _, inbox = http("GET", f"{api}/inbox", token=phone)
            item = next(i for i in inbox["items"] if i["title"] == "十二月党课")
            http("POST", f"{api}/inbox/{item['id']}/read", {}, phone)
            if not b.wait(lambda: b.text("#s-read") == str(int(read_before) + 1), seconds=20):
                problems.append(f"{tag}: the read count did not rise live ({read_before} -> {b.text('#s-read')})")
            # The curve follows on the next round: its last point leaves the baseline.
            last_y = lambda: float(b.call("GET", f"/element/{b.find('#curve')}/attribute/points").split()[-1].split(",")[1])
            if not b.wait(lambda: last_y() < 108.0, seconds=15):
                problems.append(f"{tag}: the read curve did not rise live")
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
        # A roster file with a bad line (line 3 names a unit that does not exist).
        b.call("POST", f"/element/{b.find('input[type=file]')}/value", {"text": world["roster_csv"]})
        b.click("form[enctype] button.action")
        if not b.wait(lambda: b.exists("#report")):
            problems.append(f"{tag}: importing the roster file showed no report")
        elif (
            b.text("#bad-lines td.num") != "3"
            or len(b.call("POST", "/elements", {"using": "css selector", "value": "#bad-lines tbody tr"})) != 1
        ):
            problems.append(f"{tag}: the import report does not list line 3 alone as bad")
        b.screenshot(os.path.join(shots, f"console-import-{tag}.png"))
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
        if world.get("live"):
            checkin(b, api, base, world, tag, shots, problems)
        b.go(f"{base}/console/")
        b.click("header nav a[href$='/console/study']")
        if not b.wait_url("/console/study") or not b.exists("table#study") or "李四" not in b.source():
            problems.append(f"{tag}: the study tab shows no unit year")
        b.screenshot(os.path.join(shots, f"console-study-{tag}.png"))
        b.go(f"{base}/console/")
        b.click("header nav a[href$='/console/calendar']")
        if not b.wait_url("/console/calendar") or not b.exists("table#calendar") or "主题党日" not in b.source():
            problems.append(f"{tag}: the calendar tab shows no rules")
        b.screenshot(os.path.join(shots, f"console-calendar-{tag}.png"))
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


def checkin(b, api, base, world, tag, shots, problems):
    """The study meeting starting in ten minutes: its screen's code, 张三 checking in with it
    on the phone, the count rising by itself, and a new code when the 30 seconds are up."""
    b.go(f"{base}/console/meetings")
    b.click_link("支部学习会")
    meeting = b.url().rstrip("/").split("/")[-1].split("?")[0]
    b.click("a.action")
    code = b.text("#code")
    status, answer = http("POST", f"{api}/meetings/{meeting}/check-in", {"code": code}, world["phones"]["张三"])
    if status != 200:
        problems.append(f"{tag}: checking in with the screen's code {code} failed: {status} {answer}")
    # The screen reloads itself every 5 s (its Refresh header).
    if not b.wait(lambda: b.text("#present") == "1", seconds=15):
        problems.append(f"{tag}: the check-in screen's count did not rise to 1 ({b.text('#present')})")
    b.screenshot(os.path.join(shots, f"console-checkin-counted-{tag}.png"))
    # A new code every 30 s: the screen shows it without anyone touching it.
    if not b.wait(lambda: b.text("#code") != code, seconds=40):
        problems.append(f"{tag}: the check-in screen's code did not change within 40 s")


def secretary_by_qr(base, driver, world, shots, problems):
    """赵书记 logs in by the QR code (the mini-program approves its ticket with the secretary's
    token), sees the first unit's month, cannot open the second unit's notice, and reads the
    lesson on WeCom's reading page as 李四 would after tapping the card."""
    api = f"{base}/api/v1"
    b = Browser(driver, 1280, 900)
    try:
        b.go(f"{base}/console/login")
        ticket = b.call("GET", f"/element/{b.find('input[name=ticket]')}/property/value")
        status, answer = http("POST", f"{api}/auth/console/approve", {"ticket": ticket}, world["phones"]["赵书记"])
        if status != 200:
            problems.append(f"QR login: approving the ticket failed: {status} {answer}")
        if not b.wait(lambda: b.url().endswith("/console/"), seconds=15):
            problems.append(f"QR login: the waiting login page did not enter the console ({b.url()})")
            return
        if "赵书记" not in b.source() or "支部学习会" not in b.source():
            problems.append("QR login: the secretary's home page does not show their name and their unit's meeting")
        if "二支部通知" in b.source():
            problems.append("QR login: the secretary's home page lists another unit's notice")
        b.screenshot(os.path.join(shots, "console-qr-login-home-1280px.png"))
        for e in b.errors():
            problems.append(f"QR login: the browser logged an error: {e.get('message')}")
        # Another unit's broadcast: the 404 page (which the browser logs as a failed load).
        b.go(f"{base}/console/broadcasts/{world['theirs']}")
        if "找不到" not in b.source() or "只给第二党支部" in b.source():
            problems.append("scope: the secretary opened another unit's broadcast")
        b.screenshot(os.path.join(shots, "console-other-unit-1280px.png"))
        for e in b.errors():
            if "status of 404" not in e.get("message", ""):
                problems.append(f"scope: the browser logged an error: {e.get('message')}")
    finally:
        b.quit()
    # WeCom's in-app browser: 李四 taps the card; the mock's sign-in page says the phone is his.
    b = Browser(driver, 375, 812)
    try:
        http("POST", f"{world['mock']}/mock/wecom/viewer", {"userid": "lisi"})
        b.go(f"{base}/m/broadcasts/{world['lesson']}")
        if not b.wait(lambda: "十二月党课" in b.source() and "/m/broadcasts/" in b.url()):
            problems.append(f"WeCom card: the reading page did not show the lesson ({b.url()})")
        b.screenshot(os.path.join(shots, "wecom-reading-375px.png"))
        _, read = http("GET", f"{api}/admin/broadcasts/{world['lesson']}/recipients?state=read", token=world["token"])
        if "李四" not in [r.get("name") for r in read.get("items", [])]:
            problems.append(f"WeCom card: opening the page did not mark the lesson read for 李四: {read}")
        for e in b.errors():
            problems.append(f"WeCom card: the browser logged an error: {e.get('message')}")
    finally:
        b.quit()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default="target/debug/fingertip")
    ap.add_argument("--mock-bin", default=None, help="default: fingertip-mock-wechat beside --bin")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    ap.add_argument("--screenshots", default="target/console-screenshots")
    args = ap.parse_args()
    mock_bin = args.mock_bin or os.path.join(os.path.dirname(args.bin), "fingertip-mock-wechat")
    os.makedirs(args.screenshots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="fingertip-console-")
    port, driver_port, mock_port = free_port(), free_port(), free_port()
    base, mock = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{mock_port}"
    env = dict(
        os.environ,
        FINGERTIP_DATABASE_URL=f"sqlite://{tmp}/console.db?mode=rwc",
        FINGERTIP_BIND=f"127.0.0.1:{port}",
        FINGERTIP_PUBLIC_URL=base,
        FINGERTIP_ADMIN_USERNAME=ADMIN,
        FINGERTIP_ADMIN_PASSWORD=PASSWORD,
        # Pushes go at once whatever the hour the test runs at.
        FINGERTIP_QUIET_HOURS="off",
        FINGERTIP_WECHAT_APPID="wx-mock-appid",
        FINGERTIP_WECHAT_SECRET="mock-secret",
        FINGERTIP_WECHAT_API_BASE=mock,
        FINGERTIP_WECOM_CORPID=WECOM_CORP,
        FINGERTIP_WECOM_SECRET=WECOM_SECRET,
        FINGERTIP_WECOM_AGENTID=str(WECOM_AGENT),
        FINGERTIP_WECOM_API_BASE=mock,
        FINGERTIP_WECOM_OAUTH_BASE=mock,
        RUST_LOG="warn",
    )
    roster = os.path.join(tmp, "花名册.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write("name,unit,role,tags,phone\n孙七,第一党支部,member,青年,13900000001\n周八,不存在的支部,member,,\n")
    procs = []
    problems = []
    try:
        log = open(os.path.join(tmp, "server.log"), "w")
        procs.append(
            subprocess.Popen(
                [mock_bin, "--bind", f"127.0.0.1:{mock_port}", "--corpid", WECOM_CORP,
                 "--corpsecret", WECOM_SECRET, "--agentid", str(WECOM_AGENT)],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        )
        wait_for(f"{mock}/mock/sent", "the WeChat mock")
        procs.append(subprocess.Popen([args.bin], env=env, stdout=log, stderr=log))
        procs.append(
            subprocess.Popen(
                [args.chromedriver, f"--port={driver_port}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        driver = f"http://127.0.0.1:{driver_port}"
        wait_for(f"{base}/healthz", "the server")
        wait_for(f"{driver}/status", "chromedriver")
        api = f"{base}/api/v1"
        status, login = http("POST", f"{api}/auth/admin/login", {"username": ADMIN, "password": PASSWORD})
        assert status == 200, login
        token = login["access_token"]
        world = seed(api, mock, token)
        world.update(token=token, mock=mock, roster_csv=roster)
        wait_sent(api, token, world["lesson"])
        # The phone's flows (live counts, checking in) once, at the laptop's width.
        for width, height, live in [(375, 812, False), (1280, 900, True)]:
            run(base, driver, width, height, args.screenshots, problems, dict(world, live=live))
        secretary_by_qr(base, driver, world, args.screenshots, problems)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if problems:
            try:
                with open(os.path.join(tmp, "server.log")) as f:
                    tail = f.read()[-3000:]
                print("console-browser-test: the server's log ends with:\n" + tail, file=sys.stderr)
            except OSError:
                pass
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
