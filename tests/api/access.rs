//! The access matrix: every operation of the served OpenAPI document, called as each kind of
//! caller on real objects, checked against the table below, which is `docs/authorization.md`
//! written out route by route. A route added without a row fails this test, and so does a row
//! whose route is gone.
//!
//! The callers: no token; a plain member of unit A; the secretary of A, where every object
//! under test lives; the secretary of B, A's sibling under R (A's objects are outside their
//! subtree, so they do not exist for them); the bootstrap admin, who belongs to no unit and so
//! is invited to no meeting.
//!
//! Every cell sends a valid request with real ids, so that its status says who may do it, not
//! what was wrong with the body. A call that changes something gets a fresh object of its own,
//! made by the admin before any cell runs, so that the cells do not depend on their order.
//! Check-in, attendance by hand, minutes and make-up study need a meeting that has begun or
//! ended: their cells run in a second phase, once the test clock has moved on.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Caller {
    /// No token.
    None,
    /// A plain member of unit A.
    Member,
    /// The secretary of unit A.
    SecIn,
    /// The secretary of unit B (A's sibling).
    SecOut,
    /// The bootstrap admin.
    Admin,
}

const CALLERS: [Caller; 5] = [
    Caller::None,
    Caller::Member,
    Caller::SecIn,
    Caller::SecOut,
    Caller::Admin,
];

/// One operation and the status each caller gets.
struct Row {
    method: &'static str,
    path: &'static str,
    /// None, Member, SecIn, SecOut, Admin.
    expect: [u16; 5],
}

const fn row(
    method: &'static str,
    path: &'static str,
    none: u16,
    member: u16,
    sec_in: u16,
    sec_out: u16,
    admin: u16,
) -> Row {
    Row {
        method,
        path,
        expect: [none, member, sec_in, sec_out, admin],
    }
}

/// What each caller gets. Objects named by a path id belong to unit A. Create calls ask for
/// unit A too: for the secretary of B that unit does not exist, and a body field naming
/// something that does not exist for the caller is a 400 naming the field (as for an id never
/// used; docs/authorization.md on `post_id`).
///
/// Member routes (`/api/v1/me*`, `/api/v1/inbox*`, `/api/v1/meetings*`) show every caller their
/// own view: the inbox item is the member's, so it is a 404 for anyone else; the meeting is
/// held for all of unit A (the member and A's secretary are invited, B's secretary and the
/// admin are not: 404).
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //   method    path                                                  None Member SecIn SecOut Admin
    // Operations (public).
    row("GET",    "/healthz",                                            200, 200,   200,  200,   200),
    row("GET",    "/readyz",                                             200, 200,   200,  200,   200),
    row("GET",    "/metrics",                                            200, 200,   200,  200,   200),
    // Logins take credentials, not a bearer token: valid ones work whoever sends them.
    row("POST",   "/api/v1/auth/admin/login",                            200, 200,   200,  200,   200),
    row("POST",   "/api/v1/auth/wechat/login",                           200, 200,   200,  200,   200),
    row("POST",   "/api/v1/auth/wechat/bind",                            200, 200,   200,  200,   200),
    row("POST",   "/api/v1/auth/refresh",                                200, 200,   200,  200,   200),
    // Without a body, logout ends the bearer token's session.
    row("POST",   "/api/v1/auth/logout",                                 401, 200,   200,  200,   200),
    row("GET",    "/api/v1/me",                                          401, 200,   200,  200,   200),
    // The audit log: admins only.
    row("GET",    "/api/v1/admin/audit",                                 401, 403,   403,  403,   200),
    row("GET",    "/api/v1/admin/audit/verify",                          401, 403,   403,  403,   200),
    // Units and members.
    row("POST",   "/api/v1/admin/units",                                 401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/units",                                 401, 403,   200,  200,   200),
    row("POST",   "/api/v1/admin/members",                               401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/members",                               401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/members/{id}",                          401, 403,   200,  404,   200),
    row("PATCH",  "/api/v1/admin/members/{id}",                          401, 403,   200,  404,   200),
    // A roster line for unit A: B's secretary gets the line back as an error, nothing imported.
    row("POST",   "/api/v1/admin/members/import",                        401, 403,   200,  200,   200),
    // Posts.
    row("POST",   "/api/v1/admin/posts",                                 401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/posts",                                 401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/posts/{id}",                            401, 403,   200,  404,   200),
    row("PATCH",  "/api/v1/admin/posts/{id}",                            401, 403,   200,  404,   200),
    // Broadcasts.
    row("POST",   "/api/v1/admin/broadcasts",                            401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/broadcasts",                            401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/broadcasts/{id}",                       401, 403,   200,  404,   200),
    row("PATCH",  "/api/v1/admin/broadcasts/{id}",                       401, 403,   200,  404,   200),
    row("GET",    "/api/v1/admin/broadcasts/{id}/recipients",            401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/broadcasts/{id}/cancel",                401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/broadcasts/{id}/remind",                401, 403,   202,  404,   202),
    // Push: one's own consents; the templates are the admins'.
    row("POST",   "/api/v1/me/wechat/subscriptions",                     401, 200,   200,  200,   200),
    row("GET",    "/api/v1/me/wechat/subscriptions",                     401, 200,   200,  200,   200),
    row("GET",    "/api/v1/admin/push/templates",                        401, 403,   403,  403,   200),
    row("PUT",    "/api/v1/admin/push/templates/{kind}",                 401, 403,   403,  403,   200),
    row("DELETE", "/api/v1/admin/push/templates/{kind}",                 401, 403,   403,  403,   204),
    // Meetings, the organiser's side.
    row("POST",   "/api/v1/admin/meetings",                              401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/meetings",                              401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/meetings/summary",                      401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/meetings/{id}",                         401, 403,   200,  404,   200),
    row("PATCH",  "/api/v1/admin/meetings/{id}",                         401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/meetings/{id}/cancel",                  401, 403,   200,  404,   200),
    row("GET",    "/api/v1/admin/meetings/{id}/checkin-code",            401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/meetings/{id}/attendance",              401, 403,   200,  404,   200),
    row("PUT",    "/api/v1/admin/meetings/{id}/minutes",                 401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/meetings/{id}/make-up",                 401, 403,   201,  404,   201),
    row("GET",    "/api/v1/admin/meetings/{id}/attendance.csv",          401, 403,   200,  404,   200),
    // Meetings, the invitee's side.
    row("GET",    "/api/v1/meetings",                                    401, 200,   200,  200,   200),
    row("GET",    "/api/v1/meetings/{id}",                               401, 200,   200,  404,   404),
    row("POST",   "/api/v1/meetings/{id}/answer",                        401, 200,   200,  404,   404),
    row("POST",   "/api/v1/meetings/{id}/check-in",                      401, 200,   200,  404,   404),
    // Meeting series.
    row("POST",   "/api/v1/admin/meeting-series",                        401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/meeting-series",                        401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/meeting-series/{id}",                   401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/meeting-series/{id}/cancel",            401, 403,   200,  404,   200),
    // The inbox: one's own only.
    row("GET",    "/api/v1/inbox",                                       401, 200,   200,  200,   200),
    row("GET",    "/api/v1/inbox/unread-count",                          401, 200,   200,  200,   200),
    row("GET",    "/api/v1/inbox/{id}",                                  401, 200,   404,  404,   404),
    row("POST",   "/api/v1/inbox/{id}/read",                             401, 200,   404,  404,   404),
    row("POST",   "/api/v1/inbox/read-all",                              401, 200,   200,  200,   200),
    // The live socket: a plain GET is not an upgrade, whoever sends it.
    row("GET",    "/api/v1/ws",                                          400, 400,   400,  400,   400),
];

/// Cells that need the meeting to have begun (check-in, attendance) or ended (minutes,
/// make-up): they run in the second phase.
const LATE: [&str; 4] = [
    "/api/v1/meetings/{id}/check-in",
    "/api/v1/admin/meetings/{id}/attendance",
    "/api/v1/admin/meetings/{id}/minutes",
    "/api/v1/admin/meetings/{id}/make-up",
];

const LESSON_TEMPLATE: &str = "tmpl-lesson-001";

/// Monday 7 December 2026, 09:00 in Shanghai: the first phase.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 1, 0, 0).unwrap()
}

/// The late meetings start an hour after `t0`; check-in ones last two hours, the ones to
/// close half an hour. The second phase is in the middle: check-in is open, the others ended.
const LATE_START_MINUTES: i64 = 60;
const PHASE_TWO_MINUTES: i64 = 120;

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

enum Body {
    None,
    Json(Value),
    Csv(String),
}

/// One request, ready to send.
struct Call {
    path: String,
    token: Option<String>,
    body: Body,
}

struct World {
    app: TestApp,
    a: String,
    member: Value,
    sec_in: Value,
    sec_out: Value,
    tokens: HashMap<Caller, String>,
    /// Unit A's post, scheduled and sent broadcasts, meeting and series.
    post: String,
    scheduled: String,
    sent: String,
    meeting: String,
    series: String,
    /// The member's inbox item (of `sent`).
    item: String,
    /// The meeting of each late cell, by (path, caller).
    late: HashMap<(&'static str, Caller), String>,
    n: AtomicUsize,
}

impl World {
    fn token(&self, c: Caller) -> Option<String> {
        self.tokens.get(&c).cloned()
    }

    fn uniq(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.n.fetch_add(1, Ordering::Relaxed))
    }

    async fn admin(&self) -> String {
        self.app.admin_token().await
    }

    /// Creates something as the admin; returns the body.
    async fn created(&self, path: &str, body: Value) -> Value {
        let r = self.app.post(path, &self.admin().await, body).await;
        assert_eq!(r.status, 201, "set-up: POST {path}: {:?}", r.body);
        r.body
    }

    async fn new_member(&self) -> Value {
        let body = json!({"name": self.uniq("党员"), "unit_id": self.a});
        self.created("/api/v1/admin/members", body).await
    }

    fn post_body(&self) -> Value {
        json!({
            "kind": "lesson", "title": self.uniq("学习党章 "), "summary": "本月学习",
            "body_md": "# 学习内容\n\n正文", "study_minutes": 30, "unit_id": self.a,
        })
    }

    async fn new_post(&self) -> String {
        id(&self.created("/api/v1/admin/posts", self.post_body()).await)
    }

    /// A broadcast of unit A's post to unit A: sent at once, or a week ahead.
    fn broadcast_body(&self, scheduled: bool) -> Value {
        let mut b = json!({
            "post_id": self.post, "unit_id": self.a, "audience": {"unit_ids": [self.a]},
        });
        if scheduled {
            b["send_at"] = json!(rfc(t0() + Duration::days(7)));
        }
        b
    }

    async fn new_broadcast(&self, scheduled: bool) -> String {
        let body = self.broadcast_body(scheduled);
        id(&self.created("/api/v1/admin/broadcasts", body).await)
    }

    /// A meeting of unit A for all of A, with unit A's lesson linked, without reminders.
    fn meeting_body(&self, starts: DateTime<Utc>, minutes: i64) -> Value {
        json!({
            "kind": "group_meeting", "title": self.uniq("党小组会 "), "unit_id": self.a,
            "starts_at": rfc(starts), "ends_at": rfc(starts + Duration::minutes(minutes)),
            "place": "三楼会议室", "audience": {"unit_ids": [self.a]}, "post_id": self.post,
            "reminder_offsets": [],
        })
    }

    async fn new_meeting(&self, starts: DateTime<Utc>, minutes: i64) -> String {
        let body = self.meeting_body(starts, minutes);
        id(&self.created("/api/v1/admin/meetings", body).await)
    }

    /// Fridays at 08:30 from 8 January 2027: no occurrence is due within the notice lead.
    fn series_body(&self) -> Value {
        json!({
            "kind": "study_day", "title": self.uniq("周五学习日 "), "unit_id": self.a,
            "starts_at": "2027-01-08T08:30:00+08:00", "duration_minutes": 180,
            "recurrence": "FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30",
            "timezone": "Asia/Shanghai", "place": "三楼会议室",
            "audience": {"unit_ids": [self.a]},
        })
    }

    async fn new_series(&self) -> String {
        id(&self
            .created("/api/v1/admin/meeting-series", self.series_body())
            .await)
    }

    /// A fresh WeChat session of a bound member: the token response.
    async fn wechat_session(&self, m: &Value) -> Value {
        let r = self.app.wechat_login(&format!("o-{}", id(m))).await;
        assert!(
            r.status == 200 && r.body["access_token"].is_string(),
            "set-up: wechat login: {:?}",
            r.body
        );
        r.body
    }

    fn person(&self, c: Caller) -> Option<&Value> {
        match c {
            Caller::Member => Some(&self.member),
            Caller::SecIn => Some(&self.sec_in),
            Caller::SecOut => Some(&self.sec_out),
            Caller::None | Caller::Admin => None,
        }
    }

    /// A fresh session of the caller (a token response); none for `None`.
    async fn session(&self, c: Caller) -> Option<Value> {
        match c {
            Caller::None => None,
            Caller::Admin => Some(self.app.admin_login().await),
            other => Some(self.wechat_session(self.person(other).unwrap()).await),
        }
    }

    async fn relogin(&mut self) {
        let mut tokens = HashMap::new();
        for c in [Caller::Member, Caller::SecIn, Caller::SecOut] {
            let t = self.app.member_token(self.person(c).unwrap()).await;
            tokens.insert(c, t);
        }
        tokens.insert(Caller::Admin, self.app.admin_token().await);
        self.tokens = tokens;
    }
}

async fn world() -> World {
    let app = spawn_app().await;
    app.clock.set(t0());
    let admin = app.admin_token().await;
    let r = app.create_unit(&admin, "机关党委", None).await;
    let a = app.create_unit(&admin, "第一党支部", Some(&r)).await;
    let b = app.create_unit(&admin, "第二党支部", Some(&r)).await;
    let sec_in = app
        .create_member(
            &admin,
            json!({"name": "书记甲", "unit_id": a, "role": "secretary"}),
        )
        .await;
    let sec_out = app
        .create_member(
            &admin,
            json!({"name": "书记乙", "unit_id": b, "role": "secretary"}),
        )
        .await;
    let member = app
        .create_member(&admin, json!({"name": "张三", "unit_id": a}))
        .await;
    // Someone in each unit who never logs in, so never reads anything.
    for (name, unit) in [("李四", &a), ("王五", &b)] {
        app.create_member(&admin, json!({"name": name, "unit_id": unit}))
            .await;
    }
    app.mock
        .register_template(LESSON_TEMPLATE, &["thing1", "time2", "phrase3", "thing4"]);
    let r = app
        .request(
            Method::PUT,
            "/api/v1/admin/push/templates/lesson",
            Some(&admin),
            Some(template_body(LESSON_TEMPLATE)),
        )
        .await;
    assert_eq!(r.status, 200, "set-up: push template: {:?}", r.body);
    let mut w = World {
        app,
        a,
        member,
        sec_in,
        sec_out,
        tokens: HashMap::new(),
        post: String::new(),
        scheduled: String::new(),
        sent: String::new(),
        meeting: String::new(),
        series: String::new(),
        item: String::new(),
        late: HashMap::new(),
        n: AtomicUsize::new(1),
    };
    w.relogin().await;
    w.post = w.new_post().await;
    w.scheduled = w.new_broadcast(true).await;
    w.sent = w.new_broadcast(false).await;
    w.meeting = w.new_meeting(t0() + Duration::days(2), 120).await;
    w.series = w.new_series().await;
    w.app.drain().await;
    let inbox = w
        .app
        .get("/api/v1/inbox?limit=100", &w.token(Caller::Member).unwrap())
        .await;
    w.item = inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["broadcast_id"] == w.sent.as_str())
        .map(id)
        .expect("the member has the sent broadcast in their inbox");
    // The meetings of the late cells, made now: a meeting cannot start in the past.
    let starts = t0() + Duration::minutes(LATE_START_MINUTES);
    for path in LATE {
        let minutes = if path.ends_with("/check-in") || path.ends_with("/attendance") {
            120
        } else {
            30
        };
        for c in CALLERS {
            let m = w.new_meeting(starts, minutes).await;
            w.late.insert((path, c), m);
        }
    }
    w
}

fn template_body(template_id: &str) -> Value {
    json!({
        "template_id": template_id,
        "page": "pages/inbox/item?id={item_id}",
        "fields": {"thing1": "title", "time2": "time", "phrase3": "kind", "thing4": "sender"},
    })
}

/// The kind whose template each caller's DELETE cell removes (set up for it beforehand).
fn delete_kind(c: Caller) -> &'static str {
    match c {
        Caller::None => "notice",
        Caller::Member => "announcement",
        Caller::SecIn => "disclosure",
        Caller::SecOut => "classroom",
        Caller::Admin => "meeting",
    }
}

/// Builds the request of one cell, with fresh objects for anything it changes.
async fn prepare(w: &World, r: &Row, c: Caller) -> Call {
    let tok = w.token(c);
    let call = |path: String, body: Body| Call {
        path,
        token: tok.clone(),
        body,
    };
    let with_id = |id: &str| r.path.replace("{id}", id);
    let p = r.path.to_string();
    match (r.method, r.path) {
        ("GET", "/healthz")
        | ("GET", "/readyz")
        | ("GET", "/metrics")
        | ("GET", "/api/v1/admin/audit")
        | ("GET", "/api/v1/admin/audit/verify")
        | ("GET", "/api/v1/me")
        | ("GET", "/api/v1/admin/units")
        | ("GET", "/api/v1/admin/meetings/summary")
        | ("GET", "/api/v1/me/wechat/subscriptions")
        | ("GET", "/api/v1/admin/push/templates")
        | ("GET", "/api/v1/inbox/unread-count")
        | ("GET", "/api/v1/ws") => call(p, Body::None),
        ("GET", "/api/v1/admin/members")
        | ("GET", "/api/v1/admin/posts")
        | ("GET", "/api/v1/admin/broadcasts")
        | ("GET", "/api/v1/admin/meetings")
        | ("GET", "/api/v1/admin/meeting-series")
        | ("GET", "/api/v1/meetings")
        | ("GET", "/api/v1/inbox") => call(format!("{p}?limit=100"), Body::None),

        ("POST", "/api/v1/auth/admin/login") => call(
            p,
            Body::Json(json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD})),
        ),
        ("POST", "/api/v1/auth/wechat/login") => {
            let code = w.app.mock.issue_code(&format!("o-{}", id(&w.member)));
            call(p, Body::Json(json!({"code": code})))
        }
        ("POST", "/api/v1/auth/wechat/bind") => {
            let m = w.new_member().await;
            let login = w.app.wechat_login(&format!("o-{}", id(&m))).await;
            let bind = login.body["bind_token"]
                .as_str()
                .unwrap_or_else(|| panic!("set-up: a bind token: {:?}", login.body))
                .to_string();
            call(
                p,
                Body::Json(json!({"bind_token": bind, "invite_code": m["invite_code"]})),
            )
        }
        ("POST", "/api/v1/auth/refresh") => {
            // The caller's own fresh session; with no token, the member's.
            let s = match w.session(c).await {
                Some(s) => s,
                None => w.wechat_session(&w.member).await,
            };
            call(p, Body::Json(json!({"refresh_token": s["refresh_token"]})))
        }
        ("POST", "/api/v1/auth/logout") => {
            // A fresh session of the caller, ended by its bearer token.
            let token = w
                .session(c)
                .await
                .map(|s| s["access_token"].as_str().unwrap().to_string());
            Call {
                path: p,
                token,
                body: Body::None,
            }
        }

        ("POST", "/api/v1/admin/units") => call(
            p,
            Body::Json(json!({"name": w.uniq("党小组 "), "parent_id": w.a})),
        ),
        ("POST", "/api/v1/admin/members") => call(
            p,
            Body::Json(json!({"name": w.uniq("新党员"), "unit_id": w.a})),
        ),
        ("GET", "/api/v1/admin/members/{id}") => call(with_id(&id(&w.member)), Body::None),
        ("PATCH", "/api/v1/admin/members/{id}") => {
            let m = w.new_member().await;
            call(
                with_id(&id(&m)),
                Body::Json(json!({"name": w.uniq("改名")})),
            )
        }
        ("POST", "/api/v1/admin/members/import") => call(
            p,
            Body::Csv(format!("name,unit\n{},{}\n", w.uniq("导入党员"), w.a)),
        ),

        ("POST", "/api/v1/admin/posts") => call(p, Body::Json(w.post_body())),
        ("GET", "/api/v1/admin/posts/{id}") => call(with_id(&w.post), Body::None),
        ("PATCH", "/api/v1/admin/posts/{id}") => {
            let post = w.new_post().await;
            call(
                with_id(&post),
                Body::Json(json!({"title": w.uniq("改过的标题 ")})),
            )
        }

        ("POST", "/api/v1/admin/broadcasts") => call(p, Body::Json(w.broadcast_body(true))),
        ("GET", "/api/v1/admin/broadcasts/{id}")
        | ("GET", "/api/v1/admin/broadcasts/{id}/recipients") => call(with_id(&w.sent), Body::None),
        ("PATCH", "/api/v1/admin/broadcasts/{id}") => {
            let b = w.new_broadcast(true).await;
            call(with_id(&b), Body::Json(json!({"urgent": true})))
        }
        ("POST", "/api/v1/admin/broadcasts/{id}/cancel") => {
            let b = w.new_broadcast(true).await;
            call(with_id(&b), Body::None)
        }
        ("POST", "/api/v1/admin/broadcasts/{id}/remind") => {
            // Sent at once; delivered by the drain that runs before the cells.
            let b = w.new_broadcast(false).await;
            call(with_id(&b), Body::None)
        }

        ("POST", "/api/v1/me/wechat/subscriptions") => call(
            p,
            Body::Json(json!({"results": {LESSON_TEMPLATE: "accept"}})),
        ),
        ("PUT", "/api/v1/admin/push/templates/{kind}") => call(
            r.path.replace("{kind}", "reminder"),
            Body::Json(template_body("tmpl-reminder-001")),
        ),
        ("DELETE", "/api/v1/admin/push/templates/{kind}") => {
            let kind = delete_kind(c);
            let tid = format!("tmpl-{kind}-001");
            w.app
                .mock
                .register_template(&tid, &["thing1", "time2", "phrase3", "thing4"]);
            let put = w
                .app
                .request(
                    Method::PUT,
                    &format!("/api/v1/admin/push/templates/{kind}"),
                    Some(&w.admin().await),
                    Some(template_body(&tid)),
                )
                .await;
            assert_eq!(put.status, 200, "set-up: template {kind}: {:?}", put.body);
            call(r.path.replace("{kind}", kind), Body::None)
        }

        ("POST", "/api/v1/admin/meetings") => {
            call(p, Body::Json(w.meeting_body(t0() + Duration::days(3), 90)))
        }
        ("GET", "/api/v1/admin/meetings/{id}")
        | ("GET", "/api/v1/admin/meetings/{id}/checkin-code")
        | ("GET", "/api/v1/admin/meetings/{id}/attendance.csv")
        | ("GET", "/api/v1/meetings/{id}") => call(with_id(&w.meeting), Body::None),
        ("PATCH", "/api/v1/admin/meetings/{id}") => {
            let m = w.new_meeting(t0() + Duration::days(3), 90).await;
            call(
                with_id(&m),
                Body::Json(json!({"title": w.uniq("改期前的会 ")})),
            )
        }
        ("POST", "/api/v1/admin/meetings/{id}/cancel") => {
            let m = w.new_meeting(t0() + Duration::days(3), 90).await;
            call(with_id(&m), Body::Json(json!({"reason": "上级检查改期"})))
        }
        ("POST", "/api/v1/admin/meetings/{id}/attendance") => call(
            with_id(&w.late[&(r.path, c)]),
            Body::Json(json!({"member_id": id(&w.member), "status": "present"})),
        ),
        ("PUT", "/api/v1/admin/meetings/{id}/minutes") => call(
            with_id(&w.late[&(r.path, c)]),
            Body::Json(json!({"minutes_md": "# 会议记录\n\n应到、实到。"})),
        ),
        ("POST", "/api/v1/admin/meetings/{id}/make-up") => {
            call(with_id(&w.late[&(r.path, c)]), Body::Json(json!({})))
        }
        ("POST", "/api/v1/meetings/{id}/answer") => {
            let m = w.new_meeting(t0() + Duration::days(3), 90).await;
            call(with_id(&m), Body::Json(json!({"answer": "attending"})))
        }
        ("POST", "/api/v1/meetings/{id}/check-in") => {
            let m = &w.late[&(r.path, c)];
            let code = w
                .app
                .get(
                    &format!("/api/v1/admin/meetings/{m}/checkin-code"),
                    &w.admin().await,
                )
                .await;
            assert_eq!(code.status, 200, "set-up: check-in code: {:?}", code.body);
            call(with_id(m), Body::Json(json!({"code": code.body["code"]})))
        }

        ("POST", "/api/v1/admin/meeting-series") => call(p, Body::Json(w.series_body())),
        ("GET", "/api/v1/admin/meeting-series/{id}") => call(with_id(&w.series), Body::None),
        ("POST", "/api/v1/admin/meeting-series/{id}/cancel") => {
            let s = w.new_series().await;
            call(with_id(&s), Body::None)
        }

        ("GET", "/api/v1/inbox/{id}") => call(with_id(&w.item), Body::None),
        ("POST", "/api/v1/inbox/{id}/read") => call(with_id(&w.item), Body::Json(json!({}))),
        ("POST", "/api/v1/inbox/read-all") => call(p, Body::None),

        (m, path) => panic!(
            "the access matrix has a row for {m} {path} but no request for it: add one to prepare()"
        ),
    }
}

async fn send(w: &World, method: &str, call: &Call) -> Resp {
    let method: Method = method.parse().unwrap();
    match &call.body {
        Body::None => {
            w.app
                .request(method, &call.path, call.token.as_deref(), None)
                .await
        }
        Body::Json(v) => {
            w.app
                .request(method, &call.path, call.token.as_deref(), Some(v.clone()))
                .await
        }
        Body::Csv(text) => {
            let mut req = w
                .app
                .http
                .request(method, format!("{}{}", w.app.base, call.path))
                .header("content-type", "text/csv")
                .body(text.clone());
            if let Some(t) = &call.token {
                req = req.bearer_auth(t);
            }
            let resp = req.send().await.expect("request is sent");
            let status = resp.status();
            let headers = resp.headers().clone();
            let text = resp.text().await.unwrap_or_default();
            Resp {
                status,
                body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
                headers,
            }
        }
    }
}

fn ids_of(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn units_of(body: &Value) -> Vec<Option<String>> {
    body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["unit_id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Every unit id of a tree view.
fn tree_ids(nodes: &Value, out: &mut Vec<String>) {
    for n in nodes.as_array().into_iter().flatten() {
        if let Some(i) = n["id"].as_str() {
            out.push(i.to_string());
        }
        tree_ids(&n["children"], out);
    }
}

/// The field a 400 of the table names: the unit asked for, outside the caller's subtree (or
/// the missing upgrade of the live socket).
fn refused_field(r: &Row) -> &'static str {
    match r.path {
        "/api/v1/admin/units" => "parent_id",
        "/api/v1/ws" => "upgrade",
        _ => "unit_id",
    }
}

/// Where cheap, that an answer with the expected status is the expected one: a 400 names the
/// field that makes it one; a success shows the caller what is theirs and nothing else.
fn check_content(w: &World, r: &Row, c: Caller, resp: &Resp) -> Option<String> {
    if resp.status == 400 {
        let field = refused_field(r);
        let fields = resp.detail_fields();
        return (!fields.iter().any(|f| f == field))
            .then(|| format!("does not name {field} but {fields:?}"));
    }
    if !resp.status.is_success() {
        return None;
    }
    let outside = c == Caller::SecOut;
    let a = Some(w.a.clone());
    let contains_a_unit = || units_of(&resp.body).contains(&a);
    let own = |wanted: &str, has: bool| -> Option<String> {
        match (outside, has) {
            (true, true) => Some(format!("lists {wanted} of unit A")),
            (false, false) => Some(format!("does not list {wanted}")),
            _ => None,
        }
    };
    match (r.method, r.path) {
        ("GET", "/api/v1/admin/broadcasts") => {
            if outside {
                let ids = ids_of(&resp.body);
                let listed = ids.contains(&w.sent) || ids.contains(&w.scheduled);
                own("a broadcast", listed || contains_a_unit())
            } else {
                own("A's sent broadcast", ids_of(&resp.body).contains(&w.sent))
            }
        }
        ("GET", "/api/v1/admin/posts") => {
            if outside {
                own("a post", contains_a_unit())
            } else {
                own("A's post", ids_of(&resp.body).contains(&w.post))
            }
        }
        ("GET", "/api/v1/admin/meetings") => {
            if outside {
                own("a meeting", contains_a_unit())
            } else {
                own("A's meeting", ids_of(&resp.body).contains(&w.meeting))
            }
        }
        ("GET", "/api/v1/admin/meeting-series") => {
            if outside {
                own("a series", contains_a_unit())
            } else {
                own("A's series", ids_of(&resp.body).contains(&w.series))
            }
        }
        ("GET", "/api/v1/admin/members") => {
            if outside {
                own("a member", contains_a_unit())
            } else {
                own("A's member", ids_of(&resp.body).contains(&id(&w.member)))
            }
        }
        ("GET", "/api/v1/admin/units") => {
            let mut ids = vec![];
            tree_ids(&resp.body["items"], &mut ids);
            own("unit A", ids.contains(&w.a))
        }
        ("GET", "/api/v1/admin/meetings/summary") if outside => {
            let total: u64 = resp.body["kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| k["total"].as_u64().unwrap_or(0))
                .sum();
            (total > 0).then(|| format!("counts {total} meetings, none of them theirs"))
        }
        ("POST", "/api/v1/admin/members/import") => {
            let created = resp.body["created"].as_u64();
            let want = if outside { 0 } else { 1 };
            (created != Some(want)).then(|| format!("created {created:?} members, not {want}"))
        }
        ("GET", "/api/v1/meetings") => {
            let invited = matches!(c, Caller::Member | Caller::SecIn);
            let has = ids_of(&resp.body).contains(&w.meeting);
            (has != invited).then(|| format!("lists A's meeting: {has}; invited: {invited}"))
        }
        ("GET", "/api/v1/inbox") => {
            let has = ids_of(&resp.body).contains(&w.item);
            (has != (c == Caller::Member)).then(|| format!("lists the member's item: {has}"))
        }
        _ => None,
    }
}

fn short(body: &Value) -> String {
    let s = body.to_string();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}

/// Runs the cells of `rows`: every request is built (fresh objects made, sent broadcasts
/// delivered) before the first one is sent.
async fn run(w: &World, rows: &[&Row], problems: &mut Vec<String>) -> usize {
    let mut calls = vec![];
    for r in rows {
        for (i, c) in CALLERS.into_iter().enumerate() {
            calls.push((*r, c, r.expect[i], prepare(w, r, c).await));
        }
    }
    w.app.drain().await;
    for (r, c, expected, call) in &calls {
        let resp = send(w, r.method, call).await;
        let got = resp.status.as_u16();
        if got != *expected {
            problems.push(format!(
                "{} {} as {c:?}: expected {expected}, got {got} ({})",
                r.method,
                r.path,
                short(&resp.body)
            ));
        } else if let Some(p) = check_content(w, r, *c, &resp) {
            problems.push(format!(
                "{} {} as {c:?}: {expected} as expected, but it {p} ({})",
                r.method,
                r.path,
                short(&resp.body)
            ));
        }
    }
    calls.len()
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[tokio::test]
async fn every_operation_as_every_caller_matches_the_access_matrix() {
    let mut w = world().await;
    let mut problems = vec![];

    // The operations of the served document, and the table's.
    let doc = w
        .app
        .request(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, 200, "{:?}", doc.body);
    let mut served = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                served.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    let mut declared = BTreeSet::new();
    for r in MATRIX {
        let key = (r.method.to_string(), r.path.to_string());
        assert!(declared.insert(key), "{} {} has two rows", r.method, r.path);
    }
    for (m, p) in served.difference(&declared) {
        problems.push(format!("new route {m} {p} has no row in the access matrix"));
    }
    for (m, p) in declared.difference(&served) {
        problems.push(format!(
            "the access matrix has a row for {m} {p}, which the OpenAPI document lacks"
        ));
    }
    let tested: Vec<&Row> = MATRIX
        .iter()
        .filter(|r| served.contains(&(r.method.to_string(), r.path.to_string())))
        .collect();
    let (late, early): (Vec<&Row>, Vec<&Row>) =
        tested.into_iter().partition(|r| LATE.contains(&r.path));

    let mut cells = run(&w, &early, &mut problems).await;

    // The late meetings have begun (check-in is open) or ended (minutes, make-up); every
    // token has expired meanwhile.
    w.app.clock.set(t0() + Duration::minutes(PHASE_TWO_MINUTES));
    w.relogin().await;
    cells += run(&w, &late, &mut problems).await;

    assert!(
        problems.is_empty(),
        "{} of {cells} cells of {} operations differ from the access matrix:\n{}",
        problems.len(),
        served.len(),
        problems.join("\n")
    );
}
