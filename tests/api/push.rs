//! Pushes through the real worker against the WeChat/WeCom mock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Duration;
use fingertip_core::entities::push_deliveries;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;

const LESSON_TEMPLATE: &str = "tmpl-lesson-001";
const SEND_PATH: &str = "/cgi-bin/message/subscribe/send";

struct Branch {
    app: TestApp,
    unit: String,
    post: String,
    members: Vec<Value>,
    /// Access tokens of the members who bound WeChat (all but the last one).
    tokens: Vec<String>,
}

/// `n` members in one unit; all but the last bind WeChat; a lesson template is configured.
async fn branch(app: TestApp, n: usize) -> Branch {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    let mut members = vec![];
    for i in 0..n {
        members.push(
            app.create_member(
                &admin,
                json!({"name": format!("党员{i}"), "unit_id": unit, "wecom_userid": format!("User{i}")}),
            )
            .await,
        );
    }
    let mut tokens = vec![];
    for m in &members[..n - 1] {
        tokens.push(app.member_token(m).await);
    }
    app.mock
        .register_template(LESSON_TEMPLATE, &["thing1", "time2", "phrase3", "thing4"]);
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/admin/push/templates/lesson",
            Some(&admin),
            Some(json!({
                "template_id": LESSON_TEMPLATE,
                "page": "pages/inbox/item?id={item_id}",
                "fields": {"thing1": "title", "time2": "time", "phrase3": "kind", "thing4": "sender"}
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let post = lesson(
        &app,
        &admin,
        "学习贯彻党的二十届四中全会精神专题党课暨审计业务能力提升培训",
    )
    .await;
    Branch {
        app,
        unit,
        post,
        members,
        tokens,
    }
}

async fn lesson(app: &TestApp, admin: &str, title: &str) -> String {
    let r = app
        .post(
            "/api/v1/admin/posts",
            admin,
            json!({"kind": "lesson", "title": title, "summary": "本月党课", "body_md": "正文"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

impl Branch {
    fn openid(&self, i: usize) -> String {
        format!("o-{}", self.members[i]["id"].as_str().unwrap())
    }

    /// Member `i` taps "allow" for the lesson template `times` times: our ledger and the
    /// platform both learn it.
    async fn subscribe(&self, i: usize, times: u32) -> Value {
        let mut last = Value::Null;
        for _ in 0..times {
            let r = self
                .app
                .post(
                    "/api/v1/me/wechat/subscriptions",
                    &self.tokens[i],
                    json!({"results": {LESSON_TEMPLATE: "accept", "tmpl-other": "reject"}}),
                )
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            self.app
                .mock
                .grant_subscription(&self.openid(i), LESSON_TEMPLATE, 1);
            last = r.body;
        }
        last
    }

    async fn broadcast(&self, channels: Value) -> String {
        let admin = self.app.admin_token().await;
        let r = self
            .app
            .post(
                "/api/v1/admin/broadcasts",
                &admin,
                json!({"post_id": self.post, "audience": {"unit_ids": [self.unit]}, "channels": channels}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    async fn stats(&self, id: &str) -> Value {
        let admin = self.app.admin_token().await;
        let r = self
            .app
            .get(&format!("/api/v1/admin/broadcasts/{id}"), &admin)
            .await;
        assert_eq!(r.status, 200);
        r.body["stats"]["push"].clone()
    }

    async fn deliveries(&self, id: &str) -> Vec<push_deliveries::Model> {
        push_deliveries::Entity::find()
            .filter(push_deliveries::Column::BroadcastId.eq(id.parse::<i64>().unwrap()))
            .all(&self.app.core.db)
            .await
            .unwrap()
    }

    async fn credits(&self, i: usize) -> i64 {
        let r = self
            .app
            .get("/api/v1/me/wechat/subscriptions", &self.tokens[i])
            .await;
        assert_eq!(r.status, 200, "credits of member {i}: {:?}", r.body);
        r.body["credits"][LESSON_TEMPLATE].as_i64().unwrap_or(0)
    }
}

#[tokio::test]
async fn members_with_credit_get_one_push_the_others_are_skipped_and_counted() {
    let b = branch(spawn_app().await, 4).await;
    // Member 0 allowed twice, member 1 once, member 2 never; member 3 never bound WeChat.
    let r = b.subscribe(0, 2).await;
    assert_eq!(r["credits"][LESSON_TEMPLATE], 2);
    assert_eq!(
        r["credits"]["tmpl-other"],
        Value::Null,
        "a reject adds nothing"
    );
    b.subscribe(1, 1).await;
    let id = b.broadcast(json!(["wechat"])).await;
    b.app.drain().await;

    let s = b.stats(&id).await;
    assert_eq!(s["wechat"]["sent"], 2, "{s}");
    assert_eq!(s["wechat"]["skipped"], 2, "{s}");
    assert_eq!(s["wechat"]["pending"], 0);
    assert_eq!(b.app.mock.sends_to(&b.openid(0)), 1);
    assert_eq!(b.app.mock.sends_to(&b.openid(1)), 1);
    assert_eq!(b.app.mock.sends_to(&b.openid(2)), 0);
    assert_eq!(b.credits(0).await, 1, "one credit used");
    assert_eq!(b.credits(1).await, 0);
    // Admins see who can still be reached by push.
    let admin = b.app.admin_token().await;
    let m0 = b.members[0]["id"].as_str().unwrap();
    let r = b
        .app
        .get(&format!("/api/v1/admin/members/{m0}"), &admin)
        .await;
    assert_eq!(r.body["wechat_credits"][LESSON_TEMPLATE], 1, "{:?}", r.body);
    let list = b
        .app
        .get(&format!("/api/v1/admin/members?unit_id={}", b.unit), &admin)
        .await;
    let credits: Vec<i64> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["wechat_credits"][LESSON_TEMPLATE].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(credits.iter().sum::<i64>(), 1, "{credits:?}");

    // The message: fitted values, the page with the member's own inbox item.
    let sent = b.app.mock.sent();
    let m = sent.iter().find(|m| m.touser == vec![b.openid(0)]).unwrap();
    let title = m.value("thing1").unwrap();
    assert!(title.chars().count() <= 20, "{title}");
    assert!(title.starts_with("学习贯彻党的二十届四中全会"), "{title}");
    assert_eq!(m.value("phrase3"), Some("党课"));
    assert_eq!(m.value("thing4"), Some("党支部"));
    assert!(m.value("time2").unwrap().contains('年'));
    let inbox = b.app.get("/api/v1/inbox", &b.tokens[0]).await;
    let item = inbox.body["items"][0]["id"].as_str().unwrap();
    assert_eq!(
        m.page.as_deref(),
        Some(&*format!("pages/inbox/item?id={item}"))
    );

    // The secretary sees why each one did not get a push.
    let admin = b.app.admin_token().await;
    let r = b
        .app
        .get(&format!("/api/v1/admin/broadcasts/{id}/recipients"), &admin)
        .await;
    let reasons: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x["push"][0]["last_error"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert!(
        reasons.iter().any(|r| r.starts_with("no_credit")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("not_bound")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn a_43101_zeroes_the_credit_and_counts_the_push_as_skipped() {
    let b = branch(spawn_app().await, 2).await;
    // Our ledger says 1, but the user withdrew the permission on the phone.
    let r = b
        .app
        .post(
            "/api/v1/me/wechat/subscriptions",
            &b.tokens[0],
            json!({"results": {LESSON_TEMPLATE: "acceptWithAlert"}}),
        )
        .await;
    assert_eq!(r.body["credits"][LESSON_TEMPLATE], 1);
    let id = b.broadcast(json!(["wechat"])).await;
    b.app.drain().await;
    assert_eq!(b.credits(0).await, 0);
    let d = b.deliveries(&id).await;
    let mine = d
        .iter()
        .find(|d| d.last_error_code == Some(43101))
        .expect("a 43101");
    assert_eq!(mine.status, "skipped");
    assert_eq!(b.stats(&id).await["wechat"]["skipped"], 2);
    // Not retried later either.
    b.app.clock.advance(Duration::hours(2));
    b.app.drain().await;
    assert_eq!(b.app.mock.calls(SEND_PATH), 1);
}

#[tokio::test]
async fn one_credit_pays_for_one_push_even_when_two_are_due_at_once() {
    let b = branch(spawn_app().await, 2).await;
    b.subscribe(0, 1).await;
    let first = b.broadcast(json!(["wechat"])).await;
    let second = b.broadcast(json!(["wechat"])).await;
    b.app.drain().await;
    assert_eq!(b.app.mock.sends_to(&b.openid(0)), 1);
    assert_eq!(
        b.app.mock.calls(SEND_PATH),
        1,
        "no second send ending in 43101"
    );
    let me = b.members[0]["id"].as_str().unwrap().to_string();
    let mut statuses = vec![];
    for id in [&first, &second] {
        for d in b.deliveries(id).await {
            if d.member_id.to_string() == me {
                statuses.push((d.status, d.last_error.unwrap_or_default()));
            }
        }
    }
    statuses.sort();
    assert_eq!(statuses[0].0, "sent");
    assert_eq!(statuses[1].0, "skipped");
    assert!(statuses[1].1.starts_with("no_credit"), "{statuses:?}");
}

#[tokio::test]
async fn an_invalidated_token_is_refreshed_once_and_every_push_arrives_once() {
    let b = branch(spawn_app().await, 9).await;
    for i in 0..8 {
        b.subscribe(i, 2).await;
    }
    b.broadcast(json!(["wechat"])).await;
    b.app.drain().await;
    let fetches = b.app.mock.token_fetches("/cgi-bin/stable_token");
    assert_eq!(fetches, 1);
    // WeChat invalidates the token between two broadcasts (40001 on the next calls).
    b.app.mock.invalidate_tokens();
    let id = b.broadcast(json!(["wechat"])).await;
    b.app.drain().await;
    assert_eq!(
        b.app.mock.token_fetches("/cgi-bin/stable_token"),
        fetches + 1,
        "exactly one refresh"
    );
    assert_eq!(b.stats(&id).await["wechat"]["sent"], 8);
    for i in 0..8 {
        assert_eq!(b.app.mock.sends_to(&b.openid(i)), 2, "member {i}");
    }
}

#[tokio::test]
async fn busy_answers_are_retried_with_backoff_and_delivered_once() {
    let b = branch(spawn_app().await, 5).await;
    for i in 0..4 {
        b.subscribe(i, 1).await;
    }
    b.app.mock.fail_next(SEND_PATH, -1, 3);
    let id = b.broadcast(json!(["wechat"])).await;
    b.app.drain().await;
    let s = b.stats(&id).await;
    assert_eq!(s["wechat"]["pending"], 3, "three wait for a retry: {s}");
    assert_eq!(s["wechat"]["sent"], 1);
    let retry = b
        .deliveries(&id)
        .await
        .into_iter()
        .find(|d| d.status == "pending")
        .unwrap();
    assert_eq!(retry.last_error_code, Some(-1));
    assert!(retry.next_attempt_at > b.app.clock_now());
    // Nothing happens before the backoff is over; then all go out, each once.
    b.app.drain().await;
    assert_eq!(b.stats(&id).await["wechat"]["pending"], 3);
    b.app.clock.advance(Duration::minutes(1));
    b.app.drain().await;
    let s = b.stats(&id).await;
    assert_eq!(s["wechat"]["sent"], 4, "{s}");
    for i in 0..4 {
        assert_eq!(b.app.mock.sends_to(&b.openid(i)), 1);
        // A busy answer gave the credit back; the send that arrived used it, once.
        assert_eq!(b.credits(i).await, 0, "member {i}");
    }
    let attempts: Vec<i32> = b.deliveries(&id).await.iter().map(|d| d.attempts).collect();
    assert_eq!(
        attempts.iter().filter(|a| **a == 2).count(),
        3,
        "{attempts:?}"
    );
}

#[tokio::test]
async fn a_permanent_error_is_dead_lettered_and_not_retried() {
    let b = branch(spawn_app().await, 3).await;
    b.subscribe(0, 1).await;
    b.subscribe(1, 1).await;
    b.app.mock.fail_next(SEND_PATH, 40003, 1);
    let id = b.broadcast(json!(["wechat"])).await;
    b.app.drain().await;
    // The refused message did not arrive, so its member keeps the consent for the next one.
    let mut credits = vec![b.credits(0).await, b.credits(1).await];
    credits.sort();
    assert_eq!(credits, vec![0, 1]);
    b.app.clock.advance(Duration::days(2));
    b.app.drain().await;
    let s = b.stats(&id).await;
    assert_eq!(s["wechat"]["failed"], 1, "{s}");
    assert_eq!(s["wechat"]["sent"], 1, "{s}");
    assert_eq!(b.app.mock.calls(SEND_PATH), 2, "no retry of the dead one");
    let dead = b
        .deliveries(&id)
        .await
        .into_iter()
        .find(|d| d.status == "dead")
        .unwrap();
    assert_eq!(dead.last_error_code, Some(40003));
    assert_eq!(dead.attempts, 1);

    // It is listed among the failed recipients, with its error.
    let admin = b.app.admin_token().await;
    let r = b
        .app
        .get(
            &format!("/api/v1/admin/broadcasts/{id}/recipients?state=failed"),
            &admin,
        )
        .await;
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", r.body);
    assert_eq!(items[0]["push"][0]["status"], "dead");
    assert_eq!(items[0]["push"][0]["last_error_code"], 40003);
}

#[tokio::test]
async fn retries_run_out_into_a_dead_letter() {
    let b = branch(
        spawn_with(SpawnOptions {
            wechat: true,
            env: vec![("FINGERTIP_PUSH_MAX_ATTEMPTS", "3".into())],
            ..Default::default()
        })
        .await,
        2,
    )
    .await;
    b.subscribe(0, 1).await;
    b.app.mock.fail_next(SEND_PATH, -1, 10);
    let id = b.broadcast(json!(["wechat"])).await;
    for _ in 0..5 {
        b.app.drain().await;
        b.app.clock.advance(Duration::hours(1));
    }
    let d = b.deliveries(&id).await;
    let mine = d.iter().find(|d| d.attempts > 0).unwrap();
    assert_eq!(mine.status, "dead");
    assert_eq!(mine.attempts, 3);
    assert!(
        mine.last_error
            .as_deref()
            .unwrap()
            .contains("retries exhausted")
    );
    assert_eq!(b.app.mock.calls(SEND_PATH), 3);
}

#[tokio::test]
async fn a_worker_killed_after_the_platform_accepted_never_sends_again() {
    let b = branch(spawn_app().await, 4).await;
    for i in 0..3 {
        b.subscribe(i, 1).await;
    }
    let id = b.broadcast(json!(["wechat"])).await;
    // Fan out only, then a push worker that "dies" right after WeChat accepted the chunk.
    while b.app.worker.run_once().await.unwrap() > 0 {}
    let dies = Arc::new(AtomicBool::new(true));
    let d2 = dies.clone();
    let doomed = b
        .app
        .second_push_worker()
        .crash_after_send(Arc::new(move || d2.swap(false, Ordering::SeqCst)));
    doomed.run_once().await.unwrap();
    assert_eq!(b.app.mock.total_sends(), 3, "WeChat has them");
    assert_eq!(
        b.stats(&id).await["wechat"]["pending"],
        3,
        "still in flight"
    );

    // Another worker comes along: before the lease runs out it leaves them alone, after it
    // marks them unknown, and never sends them a second time.
    b.app.drain().await;
    assert_eq!(b.app.mock.total_sends(), 3);
    b.app.clock.advance(Duration::minutes(5));
    b.app.drain().await;
    let s = b.stats(&id).await;
    assert_eq!(s["wechat"]["unknown"], 3, "{s}");
    assert_eq!(b.app.mock.total_sends(), 3, "no second send");
    // WeChat may have delivered them and used the consents: they count as used, so the
    // mini-program asks again instead of WeChat refusing the next notice with 43101.
    for i in 0..3 {
        assert_eq!(b.credits(i).await, 0, "member {i}");
    }
}

#[tokio::test]
async fn wecom_sends_one_card_and_marks_invalid_users_failed() {
    let b = branch(
        spawn_with(SpawnOptions {
            wechat: true,
            wecom: true,
            ..Default::default()
        })
        .await,
        4,
    )
    .await;
    // WeCom knows users 0, 1 and 3 (case-insensitively); user2 left the company.
    b.app
        .mock
        .add_wecom_users(WECOM_AGENTID, &["user0", "USER1", "user3"]);
    let id = b.broadcast(json!(["wecom"])).await;
    b.app.drain().await;
    let s = b.stats(&id).await;
    assert_eq!(s["wecom"]["sent"], 3, "{s}");
    assert_eq!(s["wecom"]["failed"], 1, "{s}");
    assert_eq!(
        b.app.mock.calls("/cgi-bin/message/send"),
        1,
        "one call for all"
    );
    let dead = b
        .deliveries(&id)
        .await
        .into_iter()
        .find(|d| d.status == "dead")
        .unwrap();
    assert!(dead.last_error.unwrap().starts_with("invaliduser"));
    let card = &b.app.mock.sent()[0];
    assert!(card.value("title").unwrap().starts_with("学习贯彻"));
    assert_eq!(
        card.value("url"),
        Some(&*format!("https://fingertip.example/b/{id}"))
    );
}

#[tokio::test]
async fn the_wecom_budget_of_30_a_minute_is_kept_on_our_side() {
    let b = branch(
        spawn_with(SpawnOptions {
            wechat: true,
            wecom: true,
            ..Default::default()
        })
        .await,
        2,
    )
    .await;
    b.app
        .mock
        .add_wecom_users(WECOM_AGENTID, &["user0", "user1"]);
    let mut ids = vec![];
    for _ in 0..32 {
        ids.push(b.broadcast(json!(["wecom"])).await);
    }
    b.app.drain().await;
    assert_eq!(
        b.app.mock.sends_to("user0"),
        30,
        "WeCom would drop the rest silently"
    );
    let mut deferred = 0;
    for id in &ids {
        deferred += b.stats(id).await["wecom"]["pending"].as_u64().unwrap();
    }
    assert_eq!(deferred, 2 * 2, "two broadcasts wait, for both members");
    b.app.clock.advance(Duration::seconds(61));
    b.app.drain().await;
    assert_eq!(b.app.mock.sends_to("user0"), 32);
}

#[tokio::test]
async fn remind_pushes_again_to_those_who_have_not_read() {
    let b = branch(spawn_app().await, 4).await;
    for i in 0..3 {
        b.subscribe(i, 2).await;
    }
    let id = b.broadcast(json!(["wechat"])).await;
    b.app.drain().await;
    // Member 0 reads.
    let inbox = b.app.get("/api/v1/inbox", &b.tokens[0]).await;
    let item = inbox.body["items"][0]["id"].as_str().unwrap().to_string();
    b.app
        .post(
            &format!("/api/v1/inbox/{item}/read"),
            &b.tokens[0],
            json!({}),
        )
        .await;
    let admin = b.app.admin_token().await;
    let r = b
        .app
        .post(
            &format!("/api/v1/admin/broadcasts/{id}/remind"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["round"], 1);
    assert_eq!(r.body["reminded"], 3, "members 1, 2 and 3 have not read");
    b.app.drain().await;
    assert_eq!(
        b.app.mock.sends_to(&b.openid(0)),
        1,
        "the reader is left alone"
    );
    assert_eq!(b.app.mock.sends_to(&b.openid(1)), 2);
    assert_eq!(b.app.mock.sends_to(&b.openid(2)), 2);
    let reminder = b
        .app
        .mock
        .sent()
        .into_iter()
        .filter(|m| m.touser == vec![b.openid(1)])
        .nth(1)
        .unwrap();
    assert!(reminder.value("thing1").unwrap().starts_with("提醒"));

    // An inbox-only broadcast has nothing to remind on.
    let inbox_only = b.broadcast(json!(["inbox"])).await;
    b.app.drain().await;
    let r = b
        .app
        .post(
            &format!("/api/v1/admin/broadcasts/{inbox_only}/remind"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn bad_consents_and_templates_are_400_and_only_admins_set_templates() {
    let b = branch(spawn_app().await, 2).await;
    let r = b
        .app
        .post(
            "/api/v1/me/wechat/subscriptions",
            &b.tokens[0],
            json!({"results": {"bad id with spaces": "accept"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = b
        .app
        .post(
            "/api/v1/me/wechat/subscriptions",
            &b.tokens[0],
            json!({"results": "accept"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let admin = b.app.admin_token().await;
    for (kind, body, field) in [
        (
            "lesson",
            json!({"template_id": "t1", "fields": {"colour1": "title"}}),
            "fields.colour1",
        ),
        (
            "lesson",
            json!({"template_id": "t1", "fields": {"time2": "title"}}),
            "fields.time2",
        ),
        (
            "lesson",
            json!({"template_id": "t1", "fields": {}}),
            "fields",
        ),
        (
            "lesson",
            json!({"template_id": "", "fields": {"thing1": "title"}}),
            "template_id",
        ),
        (
            "party",
            json!({"template_id": "t1", "fields": {"thing1": "title"}}),
            "kind",
        ),
    ] {
        let r = b
            .app
            .request(
                reqwest::Method::PUT,
                &format!("/api/v1/admin/push/templates/{kind}"),
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{body}: {:?}",
            r.body
        );
    }
    let r = b
        .app
        .request(
            reqwest::Method::PUT,
            "/api/v1/admin/push/templates/lesson",
            Some(&admin),
            Some(json!({"template_id": "t1", "fields": {"thing1": "headline"}})),
        )
        .await;
    assert_eq!(r.status, 400, "an unknown source: {:?}", r.body);
    let r = b
        .app
        .request(
            reqwest::Method::PUT,
            "/api/v1/admin/push/templates/lesson",
            Some(&b.tokens[0]),
            Some(json!({"template_id": "t1", "fields": {"thing1": "title"}})),
        )
        .await;
    assert_eq!(r.status, 403);
    let list = b.app.get("/api/v1/admin/push/templates", &admin).await;
    assert_eq!(list.body["items"][0]["template_id"], LESSON_TEMPLATE);
}
