// The wrapper run for real: `wx` played by Node (fetch for wx.request, the `ws` package for
// wx.connectSocket) against a running Fingertip server and its WeChat mock, as a member's phone
// would use it: log in, bind with the invite code, open the live inbox, receive a broadcast,
// poll the inbox with its ETag (304), read, survive an expired access token, meet a 404, and
// log out. scripts/client-check.sh starts the server and runs this after compiling the wrapper:
//
//   node test/smoke.mjs <server base URL> <WeChat mock base URL> <admin user> <admin password>

import assert from "node:assert/strict";
import WebSocket from "ws";

const [base, mock, adminUser, adminPass] = process.argv.slice(2);
if (!adminPass) {
  console.error("usage: node test/smoke.mjs <base> <mock> <admin user> <admin password>");
  process.exit(2);
}

// --- `wx`, as much of it as the wrapper uses ---------------------------------------------
const storage = new Map();
globalThis.wx = {
  request({ url, method, data, header, timeout, success, fail }) {
    fetch(url, {
      method,
      headers: header,
      body: data === undefined ? undefined : JSON.stringify(data),
      signal: AbortSignal.timeout(timeout ?? 15000),
    })
      .then(async (r) => {
        const text = await r.text();
        let body = text;
        try {
          body = text ? JSON.parse(text) : "";
        } catch {
          // not JSON: as text, as wx.request gives it
        }
        const h = {};
        r.headers.forEach((v, k) => {
          h[k] = v;
        });
        success({ statusCode: r.status, data: body, header: h });
      })
      .catch((e) => fail({ errMsg: String(e) }));
  },
  connectSocket({ url }) {
    const ws = new WebSocket(url);
    return {
      onOpen: (cb) => ws.on("open", () => cb({})),
      onMessage: (cb) => ws.on("message", (d) => cb({ data: d.toString() })),
      onClose: (cb) => ws.on("close", (code, reason) => cb({ code, reason: reason.toString() })),
      onError: (cb) => ws.on("error", (e) => cb({ errMsg: String(e) })),
      send: ({ data }) => ws.send(data),
      close: ({ code }) => ws.close(code ?? 1000),
    };
  },
  getStorageSync: (k) => storage.get(k) ?? "",
  setStorageSync: (k, v) => storage.set(k, v),
  removeStorageSync: (k) => storage.delete(k),
};

const { FingertipClient, ApiError, storageTokenStore } = await import("../build/client.js");

// --- the admin's side, straight over HTTP ---------------------------------------------------
async function call(method, path, token, body) {
  const r = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
const admin = (await call("POST", "/api/v1/auth/admin/login", undefined, { username: adminUser, password: adminPass })).access_token;
const unit = await call("POST", "/api/v1/admin/units", admin, { name: "审计一科党支部" });
const member = await call("POST", "/api/v1/admin/members", admin, { name: "陈十", unit_id: unit.id });
assert.ok(member.invite_code, "a new member has an invite code");
const post = await call("POST", "/api/v1/admin/posts", admin, {
  kind: "lesson",
  title: "指尖课堂：审计人的初心",
  summary: "本月学习",
  body_md: "# 正文",
  study_minutes: 30,
});

// --- the member's phone ---------------------------------------------------------------------
let ended = 0;
const api = new FingertipClient({ baseUrl: base, tokens: storageTokenStore(), onSessionEnded: () => ended++ });

const { code } = await (await fetch(`${mock}/mock/codes`, { method: "POST", body: JSON.stringify({ openid: "o-smoke-1" }) })).json();
const first = await api.login(code);
assert.equal(first.bind_required, true, "an unbound account is asked to bind");
const bound = await api.bind(first.bind_token, member.invite_code);
assert.equal(bound.member.name, "陈十");
assert.ok(api.tokens.get(), "the tokens are kept");
assert.equal((await api.me()).name, "陈十");

// The live inbox: the unread count on connect, then the broadcast as it arrives.
const messages = [];
let told;
const toldOf = new Promise((resolve) => {
  told = resolve;
});
const live = api.live((m) => {
  messages.push(m);
  if (m.type === "inbox.new") told(m);
});
const deadline = Date.now() + 10000;
while (!messages.some((m) => m.type === "inbox.unread_count") && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 50));
}
assert.deepEqual(messages[0], { type: "inbox.unread_count", unread_count: 0 });
await call("POST", "/api/v1/admin/broadcasts", admin, { post_id: post.id, audience: { member_ids: [member.id] } });
const news = await Promise.race([toldOf, new Promise((_, no) => setTimeout(() => no(new Error("no inbox.new within 15 s")), 15000))]);
assert.equal(news.item.title, "指尖课堂：审计人的初心");
assert.equal(news.unread_count, 1);

// The inbox, then the same poll with its ETag: nothing to download.
const page = await api.inbox({ limit: 20 });
assert.equal(page.notModified, false);
assert.equal(page.data.items.length, 1);
assert.equal(page.data.unread_count, 1);
assert.ok(page.etag, "the page has an ETag");
assert.deepEqual(await api.inbox({ limit: 20 }, page.etag), { notModified: true });

const item = await api.item(page.data.items[0].id);
assert.equal(item.data.body_md, "# 正文");
// Reading time: the first heartbeat of an opening starts its clock; the year lists the target.
const beat = await api.studyHeartbeat(page.data.items[0].id, "smoke-session-1", 0);
assert.equal(beat.credited_seconds, 0, "the first heartbeat only starts the clock");
const prefs = await api.setPushPreferences({ off_site: true, digest_at: "19:30" });
assert.equal(prefs.off_site, true, "off on an assignment");
assert.equal(prefs.digest_at, "19:30");
assert.ok(prefs.next_digest_at, "the next digest is announced");
await api.setPushPreferences({ off_site: false });
const study = await api.myStudy();
assert.equal(study.target_minutes, 32 * 60, "the default yearly target");
const read = await api.markRead(page.data.items[0].id);
assert.equal(read.unread_count, 0);
const again = await api.inbox({ limit: 20 }, page.etag);
assert.equal(again.notModified, false, "a read changes the page");
assert.ok(again.data.items[0].read_at);
assert.equal((await api.unreadCount()).data?.unread_count, 0);

// An access token that no longer works is refreshed once, and the call goes through.
const kept = api.tokens.get();
api.tokens.set({ access: "expired.token.value", refresh: kept.refresh });
assert.equal((await api.me()).name, "陈十");
assert.notEqual(api.tokens.get().access, "expired.token.value", "a new access token is kept");

// Errors carry the API's code.
await assert.rejects(api.item("999999"), (e) => e instanceof ApiError && e.status === 404 && e.code === "not_found");
await assert.rejects(api.answer("999999", { answer: "attending" }), (e) => e instanceof ApiError && e.status === 404);
const meetings = await api.meetings({ when: "upcoming" });
assert.ok(Array.isArray(meetings.items));

// Logging out ends the session here and on the server.
live.close();
await api.logout();
assert.equal(api.tokens.get(), undefined);
await assert.rejects(api.me(), (e) => e instanceof ApiError && e.status === 401);
assert.equal(ended, 0, "no refresh was tried without tokens");

console.log(`client smoke test: passed (${messages.length} live messages)`);
process.exit(0);
