use chrono::{Duration, SecondsFormat};
use serde_json::{Value, json};

use crate::helpers::*;

/// A branch with two sections: three members in 一科 (one tagged 青年), two in 二科.
struct Branch {
    admin: String,
    root: String,
    sec1: String,
    members: Vec<Value>,
}

async fn branch(app: &TestApp) -> Branch {
    let admin = app.admin_token().await;
    let root = app.create_unit(&admin, "第一党支部", None).await;
    let sec1 = app.create_unit(&admin, "审计一科", Some(&root)).await;
    let sec2 = app.create_unit(&admin, "审计二科", Some(&root)).await;
    let mut members = vec![];
    for (name, unit, tags) in [
        ("张三", &sec1, vec!["青年"]),
        ("李四", &sec1, vec![]),
        ("王五", &sec1, vec![]),
        ("赵六", &sec2, vec!["青年"]),
        ("孙七", &sec2, vec![]),
    ] {
        members.push(
            app.create_member(&admin, json!({"name": name, "unit_id": unit, "tags": tags}))
                .await,
        );
    }
    Branch {
        admin,
        root,
        sec1,
        members,
    }
}

async fn broadcast(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/api/v1/admin/broadcasts", token, body).await;
    assert_eq!(r.status, 201, "create broadcast: {:?}", r.body);
    r.body
}

#[tokio::test]
async fn a_lesson_reaches_every_member_who_reads_it_and_the_admin_sees_who_read() {
    let app = spawn_app().await;
    let b = branch(&app).await;
    let post = app.create_post(&b.admin, "十二月党课：审计精神").await;
    let bc = broadcast(
        &app,
        &b.admin,
        json!({"post_id": post, "audience": {"unit_ids": [b.root]}}),
    )
    .await;
    assert_eq!(bc["status"], "sending");
    assert_eq!(bc["audience_size"], 5);
    assert_eq!(
        bc["channels"],
        json!(["inbox", "wechat"]),
        "every configured channel by default"
    );
    let id = bc["id"].as_str().unwrap();

    app.drain().await;

    let r = app
        .get(&format!("/api/v1/admin/broadcasts/{id}"), &b.admin)
        .await;
    assert_eq!(r.body["status"], "sent", "{:?}", r.body);
    assert!(r.body["next_run_at"].is_null());
    assert_eq!(r.body["stats"]["recipients"], 5);
    assert_eq!(r.body["stats"]["delivered"], 5);
    assert_eq!(r.body["stats"]["unread"], 5);

    // Two members read it.
    for m in &b.members[..2] {
        let t = app.member_token(m).await;
        let inbox = app.get("/api/v1/inbox", &t).await;
        assert_eq!(inbox.status, 200);
        assert_eq!(inbox.body["unread_count"], 1);
        let item = &inbox.body["items"][0];
        assert_eq!(item["title"], "十二月党课：审计精神");
        assert_eq!(item["kind"], "lesson");
        assert_eq!(item["broadcast_id"], bc["id"]);
        let item_id = item["id"].as_str().unwrap();
        let detail = app.get(&format!("/api/v1/inbox/{item_id}"), &t).await;
        assert_eq!(detail.body["body_md"], "# 学习内容\n\n正文");
        let r = app
            .post(&format!("/api/v1/inbox/{item_id}/read"), &t, json!({}))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["unread_count"], 0);
    }

    let r = app
        .get(&format!("/api/v1/admin/broadcasts/{id}"), &b.admin)
        .await;
    assert_eq!(
        (
            r.body["stats"]["read"].as_u64(),
            r.body["stats"]["unread"].as_u64()
        ),
        (Some(2), Some(3))
    );
    let read = app
        .get(
            &format!("/api/v1/admin/broadcasts/{id}/recipients?state=read"),
            &b.admin,
        )
        .await;
    let names: Vec<&str> = read.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["张三", "李四"]);
    let unread = app
        .get(
            &format!("/api/v1/admin/broadcasts/{id}/recipients?state=unread&limit=2"),
            &b.admin,
        )
        .await;
    assert_eq!(unread.body["items"].as_array().unwrap().len(), 2);
    let next = unread.body["next_cursor"].as_str().expect("a second page");
    let page2 = app
        .get(
            &format!("/api/v1/admin/broadcasts/{id}/recipients?state=unread&limit=2&cursor={next}"),
            &b.admin,
        )
        .await;
    assert_eq!(page2.body["items"][0]["name"], "孙七");
    assert!(page2.body["next_cursor"].is_null());
    let failed = app
        .get(
            &format!("/api/v1/admin/broadcasts/{id}/recipients?state=failed"),
            &b.admin,
        )
        .await;
    assert_eq!(failed.status, 200);
    let bad = app
        .get(
            &format!("/api/v1/admin/broadcasts/{id}/recipients?state=bored"),
            &b.admin,
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn audiences_combine_units_roles_tags_and_people() {
    let app = spawn_app().await;
    let b = branch(&app).await;
    let post = app.create_post(&b.admin, "通知").await;
    // Tagged 青年 within 一科: only 张三. Plus 孙七 by id.
    let bc = broadcast(
        &app,
        &b.admin,
        json!({"post_id": post, "audience": {"unit_ids": [b.sec1], "tags": ["青年"], "member_ids": [b.members[4]["id"]]}}),
    )
    .await;
    assert_eq!(bc["audience_size"], 2);
    let all = broadcast(
        &app,
        &b.admin,
        json!({"post_id": post, "audience": {"all": true}}),
    )
    .await;
    assert_eq!(
        all["audience_size"], 5,
        "everyone on the roster; the bootstrap admin (no unit) is not a recipient"
    );
    let roles = broadcast(
        &app,
        &b.admin,
        json!({"post_id": post, "audience": {"roles": ["admin"]}}),
    )
    .await;
    assert_eq!(roles["audience_size"], 1);
    app.drain().await;
    let t = app.member_token(&b.members[1]).await;
    let inbox = app.get("/api/v1/inbox", &t).await;
    assert_eq!(
        inbox.body["items"].as_array().unwrap().len(),
        1,
        "李四 only got the broadcast to all"
    );
}

#[tokio::test]
async fn running_the_fan_out_again_changes_nothing() {
    let app = spawn_app().await;
    let b = branch(&app).await;
    let post = app.create_post(&b.admin, "公告").await;
    let bc = broadcast(
        &app,
        &b.admin,
        json!({"post_id": post, "audience": {"all": true}}),
    )
    .await;
    app.drain().await;
    let id: i64 = bc["id"].as_str().unwrap().parse().unwrap();
    let cfg = fingertip_core::broadcasts::fanout::FanoutConfig {
        batch: 2,
        ..Default::default()
    };
    let again = fingertip_core::broadcasts::fanout::refanout(&app.core, id, &cfg)
        .await
        .unwrap();
    assert_eq!(again, 0, "no new rows");
    let r = app
        .get(&format!("/api/v1/admin/broadcasts/{id}"), &b.admin)
        .await;
    assert_eq!(r.body["stats"]["recipients"], 5);
    let t = app.member_token(&b.members[0]).await;
    assert_eq!(
        app.get("/api/v1/inbox", &t).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_worker_that_dies_mid_fan_out_is_taken_over_with_nobody_missed_or_doubled() {
    use fingertip_core::broadcasts::fanout::{self, FanoutConfig, Outcome};
    let app = spawn_app().await;
    let b = branch(&app).await;
    let post = app.create_post(&b.admin, "学习日").await;
    let bc = broadcast(
        &app,
        &b.admin,
        json!({"post_id": post, "audience": {"all": true}}),
    )
    .await;
    let id: i64 = bc["id"].as_str().unwrap().parse().unwrap();
    let cfg = FanoutConfig {
        batch: 2,
        lease: Duration::seconds(60),
    };

    // Worker A claims, writes one batch of two, then "dies" (asked to stop, without releasing:
    // we simulate a crash by stealing the claim's future after the first batch).
    let a = fanout::claim(&app.core, id, "worker-a", &cfg)
        .await
        .unwrap()
        .expect("claimed");
    let batches = std::sync::atomic::AtomicUsize::new(0);
    let stop_after_one = || batches.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 1;
    let out = fanout::run(&app.core, a, "worker-a", &cfg, &stop_after_one)
        .await
        .unwrap();
    assert_eq!(out, Outcome::Stopped { inserted: 2 });
    // A crash leaves the lease in place: put it back as a dead worker would have left it.
    fanout::claim(&app.core, id, "worker-a", &cfg)
        .await
        .unwrap()
        .expect("re-held by a");

    // Worker B cannot take it while the lease lives...
    assert_eq!(
        fanout::process(&app.core, id, "worker-b", &cfg, &|| false)
            .await
            .unwrap(),
        Outcome::NotClaimed
    );
    // ...and takes over once it has expired, resuming after A's cursor.
    app.clock.advance(Duration::seconds(61));
    let out = fanout::process(&app.core, id, "worker-b", &cfg, &|| false)
        .await
        .unwrap();
    assert_eq!(out, Outcome::Sent { inserted: 3 });
    let r = app
        .get(&format!("/api/v1/admin/broadcasts/{id}"), &b.admin)
        .await;
    assert_eq!(r.body["status"], "sent");
    assert_eq!(r.body["stats"]["recipients"], 5);
}

#[tokio::test]
async fn a_scheduled_broadcast_waits_for_its_time() {
    let app = spawn_app().await;
    let b = branch(&app).await;
    let post = app.create_post(&b.admin, "下月课堂").await;
    let at = app.clock_now() + Duration::hours(2);
    let bc = broadcast(
        &app,
        &b.admin,
        json!({"post_id": post, "audience": {"all": true}, "send_at": at.to_rfc3339_opts(SecondsFormat::Secs, false)}),
    )
    .await;
    assert_eq!(bc["status"], "scheduled");
    assert!(bc["next_run_at"].is_string());
    app.drain().await;
    let t = app.member_token(&b.members[0]).await;
    assert_eq!(
        app.get("/api/v1/inbox/unread-count", &t).await.body["unread_count"],
        0
    );
    app.clock.advance(Duration::hours(2));
    app.drain().await;
    // Two hours on, the old access token has expired: log in again as the phone would.
    let t = app.member_token(&b.members[0]).await;
    assert_eq!(
        app.get("/api/v1/inbox/unread-count", &t).await.body["unread_count"],
        1
    );
}

#[tokio::test]
async fn cancel_works_until_sent_then_is_409() {
    let app = spawn_app().await;
    let b = branch(&app).await;
    let post = app.create_post(&b.admin, "取消的通知").await;
    let at = (app.clock_now() + Duration::days(1)).to_rfc3339();
    let later = broadcast(
        &app,
        &b.admin,
        json!({"post_id": post, "audience": {"all": true}, "send_at": at}),
    )
    .await;
    let id = later["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/broadcasts/{id}/cancel"),
            &b.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "canceled");
    app.clock.advance(Duration::days(2));
    app.drain().await;
    let admin = app.admin_token().await;
    let b = Branch { admin, ..b };
    let r = app
        .get(&format!("/api/v1/admin/broadcasts/{id}"), &b.admin)
        .await;
    assert_eq!(
        r.body["stats"]["recipients"], 0,
        "a canceled broadcast is never sent"
    );
    let r = app
        .post(
            &format!("/api/v1/admin/broadcasts/{id}/cancel"),
            &b.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409);

    let now = broadcast(
        &app,
        &b.admin,
        json!({"post_id": post, "audience": {"all": true}}),
    )
    .await;
    app.drain().await;
    let r = app
        .post(
            &format!(
                "/api/v1/admin/broadcasts/{}/cancel",
                now["id"].as_str().unwrap()
            ),
            &b.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "conflict");

    let sent = app
        .get("/api/v1/admin/broadcasts?status=sent", &b.admin)
        .await;
    assert_eq!(sent.body["items"].as_array().unwrap().len(), 1);
    let canceled = app
        .get("/api/v1/admin/broadcasts?status=canceled", &b.admin)
        .await;
    assert_eq!(canceled.body["items"][0]["id"], later["id"]);
}

#[tokio::test]
async fn bad_broadcasts_are_400_with_the_field_named() {
    let app = spawn_app().await;
    let b = branch(&app).await;
    let post = app.create_post(&b.admin, "x").await;
    let past = (app.clock_now() - Duration::hours(1)).to_rfc3339();
    let cases = [
        (
            json!({"post_id": "999999", "audience": {"all": true}}),
            "post_id",
        ),
        (json!({"post_id": post, "audience": {}}), "audience"),
        (
            json!({"post_id": post, "audience": {"all": true, "tags": ["x"]}}),
            "audience",
        ),
        (
            json!({"post_id": post, "audience": {"unit_ids": ["424242"]}}),
            "audience.unit_ids",
        ),
        (
            json!({"post_id": post, "audience": {"roles": ["pope"]}}),
            "audience.roles",
        ),
        (
            json!({"post_id": post, "audience": {"tags": ["无人"]}}),
            "audience",
        ),
        (
            json!({"post_id": post, "audience": {"all": true}, "channels": ["pigeon"]}),
            "channels",
        ),
        (
            json!({"post_id": post, "audience": {"all": true}, "channels": ["wecom"]}),
            "channels",
        ),
        (
            json!({"post_id": post, "audience": {"all": true}, "timezone": "Mars/Base"}),
            "timezone",
        ),
        (
            json!({"post_id": post, "audience": {"all": true}, "send_at": past}),
            "send_at",
        ),
        (
            json!({"post_id": post, "audience": {"all": true}, "recurrence": "FREQ=WEEKLY;COUNT=0"}),
            "recurrence",
        ),
    ];
    for (body, field) in cases {
        let r = app
            .post("/api/v1/admin/broadcasts", &b.admin, body.clone())
            .await;
        assert_eq!(r.status, 400, "{body} -> {:?}", r.body);
        assert_eq!(r.code(), "validation_failed");
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{body}: wanted {field}, got {:?}",
            r.body
        );
    }
    let r = app
        .post(
            "/api/v1/admin/broadcasts",
            &b.admin,
            json!({"post_id": post, "audience": {"all": true}, "send_at": "tomorrow"}),
        )
        .await;
    assert_eq!(r.status, 400, "an unparsable time");
    let r = app
        .get("/api/v1/admin/broadcasts?status=nope", &b.admin)
        .await;
    assert_eq!(r.status, 400);
}
