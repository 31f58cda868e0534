//! The world every cell runs in: unit A with its secretary, a member, and the objects the
//! cells act on, made by the admin before any cell runs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use super::matrix::*;
use crate::helpers::*;

pub(super) const LESSON_TEMPLATE: &str = "tmpl-lesson-001";

/// Monday 7 December 2026, 09:00 in Shanghai: the first phase.
pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 1, 0, 0).unwrap()
}

/// The late meetings start an hour after `t0`; check-in ones last two hours, the ones to
/// close half an hour. The second phase is in the middle: check-in is open, the others ended.
pub(super) const LATE_START_MINUTES: i64 = 60;
pub(super) const PHASE_TWO_MINUTES: i64 = 120;

pub(super) fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

pub(super) fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

pub(super) struct World {
    pub(super) app: TestApp,
    pub(super) a: String,
    pub(super) member: Value,
    pub(super) sec_in: Value,
    pub(super) sec_out: Value,
    pub(super) tokens: HashMap<Caller, String>,
    /// Unit A's post, scheduled and sent broadcasts, meeting and series.
    pub(super) post: String,
    pub(super) scheduled: String,
    pub(super) sent: String,
    pub(super) meeting: String,
    pub(super) series: String,
    /// The member's inbox item (of `sent`).
    pub(super) item: String,
    /// A deputy secretary of unit A, made when a disclosure first needs one to submit it:
    /// their token (binding a WeChat account is rate-limited, so once).
    pub(super) deputy: tokio::sync::OnceCell<String>,
    /// Objects that cells which change nothing (a read, or a refusal) share, by name: fresh
    /// ones for every cell would push unit A's first post and broadcast off the first page of
    /// the lists whose content is checked.
    pub(super) shared: tokio::sync::Mutex<HashMap<&'static str, String>>,
    /// The meeting of each late cell, by (path, caller).
    pub(super) late: HashMap<(&'static str, Caller), String>,
    pub(super) n: AtomicUsize,
}

impl World {
    pub(super) fn token(&self, c: Caller) -> Option<String> {
        self.tokens.get(&c).cloned()
    }

    pub(super) fn uniq(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.n.fetch_add(1, Ordering::Relaxed))
    }

    pub(super) async fn admin(&self) -> String {
        self.app.admin_token().await
    }

    /// Creates something as the admin; returns the body.
    pub(super) async fn created(&self, path: &str, body: Value) -> Value {
        let r = self.app.post(path, &self.admin().await, body).await;
        assert_eq!(r.status, 201, "set-up: POST {path}: {:?}", r.body);
        r.body
    }

    /// Unit A's study plan of 2026, with one planned lesson, written the first time; the plan.
    pub(super) async fn plan(&self) -> Value {
        let admin = self.admin().await;
        let path = format!("/api/v1/admin/study/plans?unit_id={}&year=2026", self.a);
        let there = self.app.get(&path, &admin).await;
        if there.status == 200 {
            return there.body;
        }
        let body = json!({"unit_id": self.a, "year": 2026, "title": "年度学习计划",
                          "items": [{"month": 3, "title": "三月党课"}]});
        let r = self
            .app
            .request(
                reqwest::Method::PUT,
                "/api/v1/admin/study/plans",
                Some(&self.admin().await),
                Some(body),
            )
            .await;
        assert_eq!(r.status, 200, "set-up: PUT plan: {:?}", r.body);
        r.body
    }

    /// A survey of unit A, asked of its members, closing in a week.
    pub(super) fn survey_body(&self) -> Value {
        json!({
            "unit_id": self.a, "title": self.uniq("支部工作测评 "),
            "questions": [{"kind": "rating", "text": "对支部工作的评价"}],
            "audience": {"unit_ids": [self.a]},
            "closes_at": self.app.clock_now() + chrono::Duration::days(7),
        })
    }

    /// A fresh draft survey of unit A (`publish`: published, `close`: closed too); its id.
    pub(super) async fn new_survey(&self, publish: bool, close: bool) -> String {
        let s = id(&self
            .created("/api/v1/admin/surveys", self.survey_body())
            .await);
        for (step, yes) in [("publish", publish), ("close", close)] {
            if yes {
                let path = format!("/api/v1/admin/surveys/{s}/{step}");
                let r = self.app.post(&path, &self.admin().await, json!({})).await;
                assert_eq!(r.status, 200, "set-up: POST {path}: {:?}", r.body);
            }
        }
        s
    }

    /// A fresh thread the member of unit A wrote to it; its id.
    pub(super) async fn member_feedback(&self) -> String {
        let token = self.token(Caller::Member).unwrap_or_default();
        let body = json!({"topic": self.uniq("意见 "), "body": "希望学习日改到下午"});
        let r = self.app.post("/api/v1/feedback", &token, body).await;
        assert_eq!(r.status, 201, "set-up: feedback: {:?}", r.body);
        id(&r.body)
    }

    /// Unit A with at least five members, so that it takes anonymous feedback.
    pub(super) async fn five_in_a(&self) {
        let admin = self.admin().await;
        let path = format!("/api/v1/admin/members?unit_id={}&limit=100", self.a);
        let r = self.app.get(&path, &admin).await;
        let n = r.body["items"].as_array().map_or(0, Vec::len);
        for _ in n..5 {
            self.new_member().await;
        }
    }

    /// A fresh anonymous thread the member of unit A wrote to it; its key.
    pub(super) async fn anonymous_feedback(&self) -> String {
        self.five_in_a().await;
        let token = self.token(Caller::Member).unwrap_or_default();
        let body = json!({"topic": self.uniq("匿名意见 "), "body": "会议太多"});
        let r = self
            .app
            .post("/api/v1/anonymous-feedback", &token, body)
            .await;
        assert_eq!(r.status, 201, "set-up: anonymous feedback: {:?}", r.body);
        r.body["key"].as_str().unwrap_or_default().to_string()
    }

    /// A fresh disclosure of unit A published to `scope`, taken to `status`: submitted by a
    /// deputy secretary of A, reviewed by A's secretary, approved and published by the admin;
    /// its id.
    pub(super) async fn new_disclosure(&self, status: &str, scope: &str) -> String {
        let admin = self.admin().await;
        let post = self
            .created(
                "/api/v1/admin/posts",
                json!({"kind": "disclosure", "title": self.uniq("党费收缴情况公示 "),
                       "body_md": "第四季度党费已足额收缴。", "unit_id": self.a}),
            )
            .await;
        let body = json!({"post_id": id(&post), "category": "dues", "scope": scope});
        let d = id(&self.created("/api/v1/admin/disclosures", body).await);
        let order = ["draft", "submitted", "reviewed", "approved", "published"];
        let target = order.iter().position(|s| *s == status).unwrap_or(0);
        if target == 0 {
            return d;
        }
        let deputy = self
            .deputy
            .get_or_init(|| async {
                let m = self
                    .app
                    .create_member(
                        &admin,
                        json!({"name": "副书记", "unit_id": self.a, "role": "secretary"}),
                    )
                    .await;
                self.app.member_token(&m).await
            })
            .await
            .clone();
        let sec = self.token(Caller::SecIn).unwrap_or_default();
        let steps = [
            ("submit", deputy, json!({})),
            ("review", sec, json!({"secrecy_checked": true})),
            ("approve", admin.clone(), json!({})),
            ("publish", admin, json!({})),
        ];
        for (step, token, body) in steps.into_iter().take(target) {
            let path = format!("/api/v1/admin/disclosures/{d}/{step}");
            let r = self.app.post(&path, &token, body).await;
            assert_eq!(r.status, 200, "set-up: POST {path}: {:?}", r.body);
        }
        d
    }

    /// The object shared under `key`, made by `make` the first time.
    pub(super) async fn shared<F: std::future::Future<Output = String>>(
        &self,
        key: &'static str,
        make: F,
    ) -> String {
        let mut m = self.shared.lock().await;
        if let Some(v) = m.get(key) {
            return v.clone();
        }
        let v = make.await;
        m.insert(key, v.clone());
        v
    }

    pub(super) async fn new_member(&self) -> Value {
        let body = json!({"name": self.uniq("党员"), "unit_id": self.a});
        self.created("/api/v1/admin/members", body).await
    }

    pub(super) fn post_body(&self) -> Value {
        json!({
            "kind": "lesson", "title": self.uniq("学习党章 "), "summary": "本月学习",
            "body_md": "# 学习内容\n\n正文", "study_minutes": 30, "unit_id": self.a,
        })
    }

    pub(super) async fn new_post(&self) -> String {
        id(&self.created("/api/v1/admin/posts", self.post_body()).await)
    }

    /// A broadcast of unit A's post to unit A: sent at once, or a week ahead.
    pub(super) fn broadcast_body(&self, scheduled: bool) -> Value {
        let mut b = json!({
            "post_id": self.post, "unit_id": self.a, "audience": {"unit_ids": [self.a]},
        });
        if scheduled {
            b["send_at"] = json!(rfc(t0() + Duration::days(7)));
        }
        b
    }

    pub(super) async fn new_broadcast(&self, scheduled: bool) -> String {
        let body = self.broadcast_body(scheduled);
        id(&self.created("/api/v1/admin/broadcasts", body).await)
    }

    /// A meeting of unit A for all of A, with unit A's lesson linked, without reminders.
    pub(super) fn meeting_body(&self, starts: DateTime<Utc>, minutes: i64) -> Value {
        json!({
            "kind": "group_meeting", "title": self.uniq("党小组会 "), "unit_id": self.a,
            "starts_at": rfc(starts), "ends_at": rfc(starts + Duration::minutes(minutes)),
            "place": "三楼会议室", "audience": {"unit_ids": [self.a]}, "post_id": self.post,
            "reminder_offsets": [],
        })
    }

    pub(super) async fn new_meeting(&self, starts: DateTime<Utc>, minutes: i64) -> String {
        let body = self.meeting_body(starts, minutes);
        id(&self.created("/api/v1/admin/meetings", body).await)
    }

    /// Fridays at 08:30 from 8 January 2027: no occurrence is due within the notice lead.
    pub(super) fn series_body(&self) -> Value {
        json!({
            "kind": "study_day", "title": self.uniq("周五学习日 "), "unit_id": self.a,
            "starts_at": "2027-01-08T08:30:00+08:00", "duration_minutes": 180,
            "recurrence": "FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30",
            "timezone": "Asia/Shanghai", "place": "三楼会议室",
            "audience": {"unit_ids": [self.a]},
        })
    }

    pub(super) async fn new_series(&self) -> String {
        id(&self
            .created("/api/v1/admin/meeting-series", self.series_body())
            .await)
    }

    /// A fresh WeChat session of a bound member: the token response.
    pub(super) async fn wechat_session(&self, m: &Value) -> Value {
        let r = self.app.wechat_login(&format!("o-{}", id(m))).await;
        assert!(
            r.status == 200 && r.body["access_token"].is_string(),
            "set-up: wechat login: {:?}",
            r.body
        );
        r.body
    }

    pub(super) fn person(&self, c: Caller) -> Option<&Value> {
        match c {
            Caller::Member => Some(&self.member),
            Caller::SecIn => Some(&self.sec_in),
            Caller::SecOut => Some(&self.sec_out),
            Caller::None | Caller::Admin => None,
        }
    }

    /// A fresh session of the caller (a token response); none for `None`.
    pub(super) async fn session(&self, c: Caller) -> Option<Value> {
        match c {
            Caller::None => None,
            Caller::Admin => Some(self.app.admin_login().await),
            other => Some(self.wechat_session(self.person(other).unwrap()).await),
        }
    }

    pub(super) async fn relogin(&mut self) {
        let mut tokens = HashMap::new();
        for c in [Caller::Member, Caller::SecIn, Caller::SecOut] {
            let t = self.app.member_token(self.person(c).unwrap()).await;
            tokens.insert(c, t);
        }
        tokens.insert(Caller::Admin, self.app.admin_token().await);
        self.tokens = tokens;
    }
}

pub(super) async fn world() -> World {
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
        deputy: tokio::sync::OnceCell::new(),
        shared: tokio::sync::Mutex::new(HashMap::new()),
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

pub(super) fn template_body(template_id: &str) -> Value {
    json!({
        "template_id": template_id,
        "page": "pages/inbox/item?id={item_id}",
        "fields": {"thing1": "title", "time2": "time", "phrase3": "kind", "thing4": "sender"},
    })
}
