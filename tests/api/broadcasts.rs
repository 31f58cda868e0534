//! One-off broadcasts: who they reach, what members find in the inbox, what the admin sees of
//! who read, the fan-out's idempotence and takeover, scheduling, cancel and bad input.

use chrono::Duration;
use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

const LESSON: &str = "十二月党课：审计精神";

/// The branch: three members in 一科 (张三 tagged 青年), two in 二科 (赵六 tagged 青年).
async fn branch() -> Org {
    Org::branch(spawn_app().await)
        .tagged("张三", SECTION_1, &["青年"])
        .member("李四", SECTION_1)
        .member("王五", SECTION_1)
        .tagged("赵六", SECTION_2, &["青年"])
        .member("孙七", SECTION_2)
        .build()
        .await
}

/// A lesson broadcast to the whole branch, now (not yet fanned out).
async fn lesson_to_the_branch(org: &Org) -> Value {
    let admin = org.admin().await;
    let post = org.app.create_post(&admin, LESSON).await;
    org.app
        .broadcast(&admin, Broadcast::to_unit(&post, org.unit(BRANCH)))
        .await
}

/// The member's first inbox item; they open it and read it.
async fn read_first_item(org: &Org, name: &str) {
    let t = org.token(name).await;
    let item = id(&org.app.inbox(&t).await[0]);
    let r = org.app.read(&t, &item).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn a_broadcast_to_the_branch_goes_to_everyone_on_every_configured_channel() {
    let org = branch().await;
    let bc = lesson_to_the_branch(&org).await;
    assert_eq!(bc["status"], "sending");
    assert_eq!(bc["audience_size"], 5);
    assert_eq!(
        bc["channels"],
        json!(["inbox", "wechat"]),
        "every configured channel by default"
    );
    org.app.drain().await;
    let r = org.app.broadcast_record(&org.admin().await, &id(&bc)).await;
    assert_eq!(r["status"], "sent", "{r:?}");
    assert!(r["next_run_at"].is_null());
    assert_eq!(r["stats"]["recipients"], 5);
    assert_eq!(r["stats"]["delivered"], 5);
    assert_eq!(r["stats"]["unread"], 5);
}

#[tokio::test]
async fn a_member_finds_the_lesson_in_the_inbox_and_reading_it_clears_the_unread_count() {
    let org = branch().await;
    let app = &org.app;
    let bc = lesson_to_the_branch(&org).await;
    app.drain().await;
    for name in ["张三", "李四"] {
        let t = org.token(name).await;
        let inbox = app.get("/api/v1/inbox", &t).await;
        assert_eq!(inbox.status, 200);
        assert_eq!(inbox.body["unread_count"], 1);
        let item = &inbox.body["items"][0];
        assert_eq!(item["title"], LESSON);
        assert_eq!(item["kind"], "lesson");
        assert_eq!(item["broadcast_id"], bc["id"]);
        let item_id = id(item);
        let detail = app.get(&format!("/api/v1/inbox/{item_id}"), &t).await;
        assert_eq!(detail.body["body_md"], "# 学习内容\n\n正文");
        let r = app.read(&t, &item_id).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["unread_count"], 0);
    }
}

#[tokio::test]
async fn the_admin_sees_who_read_and_pages_through_who_has_not() {
    let org = branch().await;
    let app = &org.app;
    let bc = id(&lesson_to_the_branch(&org).await);
    app.drain().await;
    read_first_item(&org, "张三").await;
    read_first_item(&org, "李四").await;
    let admin = org.admin().await;
    let stats = &app.broadcast_record(&admin, &bc).await["stats"];
    assert_eq!(
        (stats["read"].as_u64(), stats["unread"].as_u64()),
        (Some(2), Some(3))
    );
    let recipients = format!("/api/v1/admin/broadcasts/{bc}/recipients");
    let read = app.get(&format!("{recipients}?state=read"), &admin).await;
    let names: Vec<&str> = read.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["张三", "李四"]);
    let unread = app
        .get(&format!("{recipients}?state=unread&limit=2"), &admin)
        .await;
    assert_eq!(unread.body["items"].as_array().unwrap().len(), 2);
    let next = unread.body["next_cursor"].as_str().expect("a second page");
    let page2 = app
        .get(
            &format!("{recipients}?state=unread&limit=2&cursor={next}"),
            &admin,
        )
        .await;
    assert_eq!(page2.body["items"][0]["name"], "孙七");
    assert!(page2.body["next_cursor"].is_null());
    let failed = app.get(&format!("{recipients}?state=failed"), &admin).await;
    assert_eq!(failed.status, 200);
    let bad = app.get(&format!("{recipients}?state=bored"), &admin).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn audiences_combine_units_roles_tags_and_people() {
    let org = branch().await;
    let app = &org.app;
    let admin = org.admin().await;
    let post = app.create_post(&admin, "通知").await;
    // Tagged 青年 within 一科: only 张三. Plus 孙七 by id.
    let narrowed = Audience::units([org.unit(SECTION_1)])
        .and_tags(["青年"])
        .and_members([org.id("孙七")]);
    let bc = app.broadcast(&admin, Broadcast::new(&post, narrowed)).await;
    assert_eq!(bc["audience_size"], 2);
    let all = app.broadcast(&admin, Broadcast::to_all(&post)).await;
    assert_eq!(
        all["audience_size"], 5,
        "everyone on the roster; the bootstrap admin (no unit) is not a recipient"
    );
    let roles = Broadcast::new(&post, Audience::roles(["admin"]));
    assert_eq!(app.broadcast(&admin, roles).await["audience_size"], 1);
    app.drain().await;
    assert_eq!(
        org.inbox("李四").await.len(),
        1,
        "李四 only got the broadcast to all"
    );
}

#[tokio::test]
async fn running_the_fan_out_again_changes_nothing() {
    let org = branch().await;
    let app = &org.app;
    let admin = org.admin().await;
    let id = due_now(&org, "公告").await;
    app.drain().await;
    let cfg = fingertip_core::broadcasts::fanout::FanoutConfig {
        batch: 2,
        ..Default::default()
    };
    let again = fingertip_core::broadcasts::fanout::refanout(&app.core, id, &cfg)
        .await
        .unwrap();
    assert_eq!(again, 0, "no new rows");
    let r = app.broadcast_record(&admin, &id.to_string()).await;
    assert_eq!(r["stats"]["recipients"], 5);
    assert_eq!(org.inbox("张三").await.len(), 1);
}

#[tokio::test]
async fn a_fan_out_over_rows_written_before_doubles_nobody() {
    // The worker writes without the conflict clause (no row of a window is expected to exist)
    // and, on PostgreSQL, two windows at once. When a row exists (written here by hand, as a
    // repair could have), its window is refused, the window after it waits for it and rolls
    // back, and the refused one is written again keeping the row: nobody gets a second item,
    // nobody's count goes up twice, nobody after the refused window is missed.
    use fingertip_core::broadcasts::fanout::{self, FanoutConfig, Outcome};
    use fingertip_core::entities::inbox_items;
    use sea_orm::{ActiveModelTrait, Set};
    let org = branch().await;
    let app = &org.app;
    let admin = org.admin().await;
    let id = due_now(&org, "公告").await;
    let b = app.broadcast_record(&admin, &id.to_string()).await;
    inbox_items::ActiveModel {
        member_id: Set(org.id("张三").parse().unwrap()),
        broadcast_id: Set(id),
        occurrence: Set(0),
        post_id: Set(b["post_id"].as_str().unwrap().parse().unwrap()),
        created_at: Set(app.clock_now()),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(&app.core.db)
    .await
    .unwrap();
    let cfg = FanoutConfig {
        batch: 2,
        streams: 2,
        ..Default::default()
    };
    let out = fanout::process(&app.core, id, "worker", &cfg, &|| false)
        .await
        .unwrap();
    assert_eq!(
        out,
        Outcome::Sent { inserted: 4 },
        "the row written before is kept"
    );
    let r = app.broadcast_record(&admin, &id.to_string()).await;
    assert_eq!(r["status"], "sent");
    assert_eq!(r["stats"]["recipients"], 5);
    for name in ["张三", "李四", "孙七"] {
        assert_eq!(org.inbox(name).await.len(), 1, "{name} has one item");
        assert_eq!(app.unread_count(&org.token(name).await).await, 1);
    }
}

#[tokio::test]
async fn a_worker_that_dies_mid_fan_out_is_taken_over_with_nobody_missed_or_doubled() {
    use fingertip_core::broadcasts::fanout::{self, FanoutConfig, Outcome};
    let org = branch().await;
    let app = &org.app;
    let id = due_now(&org, "学习日").await;
    // One window at a time, so that the crash falls between two windows on both databases.
    let cfg = FanoutConfig {
        batch: 2,
        lease: Duration::seconds(60),
        streams: 1,
    };

    // Worker A claims, writes one window of two members, then "dies" (asked to stop, without releasing:
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
    // The first window is the roster's first two members: the bootstrap admin (no unit, not
    // a recipient) and one member.
    assert_eq!(out, Outcome::Stopped { inserted: 1 });
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
    assert_eq!(out, Outcome::Sent { inserted: 4 });
    let r = app
        .broadcast_record(&org.admin().await, &id.to_string())
        .await;
    assert_eq!(r["status"], "sent");
    assert_eq!(r["stats"]["recipients"], 5);
}

#[tokio::test]
async fn a_scheduled_broadcast_waits_for_its_time() {
    let org = branch().await;
    let app = &org.app;
    let admin = org.admin().await;
    let post = app.create_post(&admin, "下月课堂").await;
    let at = app.clock_now() + Duration::hours(2);
    let bc = app.broadcast(&admin, Broadcast::to_all(&post).at(at)).await;
    assert_eq!(bc["status"], "scheduled");
    assert!(bc["next_run_at"].is_string());
    app.drain().await;
    assert_eq!(app.unread_count(&org.token("张三").await).await, 0);
    app.clock.advance(Duration::hours(2));
    app.drain().await;
    // Two hours on, the old access token has expired: `token` logs in again as the phone would.
    assert_eq!(app.unread_count(&org.token("张三").await).await, 1);
}

/// A post titled `title` broadcast to everyone now, not yet fanned out; the broadcast's id.
async fn due_now(org: &Org, title: &str) -> i64 {
    let admin = org.admin().await;
    let post = org.app.create_post(&admin, title).await;
    let bc = org.app.broadcast(&admin, Broadcast::to_all(&post)).await;
    id(&bc).parse().unwrap()
}

/// A broadcast to everyone, scheduled for tomorrow; its id.
async fn scheduled_for_tomorrow(org: &Org, post: &str) -> String {
    let at = org.app.clock_now() + Duration::days(1);
    let bc = Broadcast::to_all(post).at(at);
    id(&org.app.broadcast(&org.admin().await, bc).await)
}

/// A broadcast to everyone, sent now; its id.
async fn sent_now(org: &Org, post: &str) -> String {
    let bc = org
        .app
        .broadcast(&org.admin().await, Broadcast::to_all(post))
        .await;
    org.app.drain().await;
    id(&bc)
}

#[tokio::test]
async fn a_canceled_broadcast_is_never_sent_and_cannot_be_canceled_again() {
    let org = branch().await;
    let app = &org.app;
    let post = app.create_post(&org.admin().await, "取消的通知").await;
    let id = scheduled_for_tomorrow(&org, &post).await;
    let r = app
        .broadcast_action(&org.admin().await, &id, "cancel")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "canceled");
    app.clock.advance(Duration::days(2));
    app.drain().await;
    let admin = org.admin().await;
    assert_eq!(
        app.broadcast_record(&admin, &id).await["stats"]["recipients"],
        0,
        "a canceled broadcast is never sent"
    );
    let r = app.broadcast_action(&admin, &id, "cancel").await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn a_sent_broadcast_cannot_be_canceled() {
    let org = branch().await;
    let post = org.app.create_post(&org.admin().await, "已发的通知").await;
    let id = sent_now(&org, &post).await;
    let r = org
        .app
        .broadcast_action(&org.admin().await, &id, "cancel")
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "conflict");
}

#[tokio::test]
async fn the_list_of_broadcasts_filters_by_status() {
    let org = branch().await;
    let app = &org.app;
    let admin = org.admin().await;
    let post = app.create_post(&admin, "通知").await;
    let later = scheduled_for_tomorrow(&org, &post).await;
    app.broadcast_action(&admin, &later, "cancel").await;
    sent_now(&org, &post).await;
    let sent = app
        .get("/api/v1/admin/broadcasts?status=sent", &admin)
        .await;
    assert_eq!(sent.body["items"].as_array().unwrap().len(), 1);
    let canceled = app
        .get("/api/v1/admin/broadcasts?status=canceled", &admin)
        .await;
    assert_eq!(canceled.body["items"][0]["id"], json!(later));
    let r = app
        .get("/api/v1/admin/broadcasts?status=nope", &admin)
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn bad_broadcasts_are_400_with_the_field_named() {
    let org = branch().await;
    let app = &org.app;
    let admin = org.admin().await;
    let post = app.create_post(&admin, "x").await;
    let past = (app.clock_now() - Duration::hours(1)).to_rfc3339();
    let to_all = |extra: Value| merged(Broadcast::to_all(&post), extra);
    let cases = [
        (
            json!({"post_id": "999999", "audience": {"all": true}}),
            "post_id",
        ),
        (json!({"post_id": post, "audience": {}}), "audience"),
        (
            to_all(json!({"audience": {"all": true, "tags": ["x"]}})),
            "audience",
        ),
        (
            to_all(json!({"audience": {"unit_ids": ["424242"]}})),
            "audience.unit_ids",
        ),
        (
            to_all(json!({"audience": {"member_ids": ["424242"]}})),
            "audience.member_ids",
        ),
        (
            to_all(json!({"audience": {"roles": ["pope"]}})),
            "audience.roles",
        ),
        (to_all(json!({"audience": {"tags": ["无人"]}})), "audience"),
        (to_all(json!({"channels": ["pigeon"]})), "channels"),
        (to_all(json!({"channels": ["wecom"]})), "channels"),
        (to_all(json!({"timezone": "Mars/Base"})), "timezone"),
        (to_all(json!({"send_at": past})), "send_at"),
        (
            to_all(json!({"recurrence": "FREQ=WEEKLY;COUNT=0"})),
            "recurrence",
        ),
    ];
    for (body, field) in cases {
        let r = app
            .post("/api/v1/admin/broadcasts", &admin, body.clone())
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
        .try_broadcast(&admin, Broadcast::to_all(&post).send_at("tomorrow"))
        .await;
    assert_eq!(r.status, 400, "an unparsable time");
}

#[tokio::test]
async fn a_broadcast_whose_row_cannot_be_read_does_not_hold_up_the_others() {
    use sea_orm::ConnectionTrait;
    let org = branch().await;
    let admin = org.admin().await;
    let in_an_hour = org.app.clock_now() + Duration::hours(1);
    let unit = org.unit(BRANCH);
    let mut ids = vec![];
    for title in ["先到期", "后到期"] {
        let post = org.app.create_post(&admin, title).await;
        let bc = org
            .app
            .broadcast(&admin, Broadcast::to_unit(&post, unit).at(in_an_hour))
            .await;
        assert_eq!(bc["status"], "scheduled", "{bc:?}");
        ids.push(id(&bc));
    }
    // Someone edits the first row by hand: its audience is no longer one the server can read.
    org.app
        .core
        .db
        .execute_unprepared(&format!(
            r#"UPDATE broadcasts SET audience = '"all"' WHERE id = {}"#,
            ids[0]
        ))
        .await
        .unwrap();
    org.app.clock.advance(Duration::hours(1));
    for _ in 0..3 {
        // Each pass reports the broken broadcast as a failure, and still does the rest.
        assert!(org.app.worker.run_once().await.is_err());
    }
    let admin = org.admin().await; // the earlier token expired with the hour
    let good = org.app.broadcast_record(&admin, &ids[1]).await;
    assert_eq!(good["status"], "sent", "{good:?}");
    assert_eq!(good["stats"]["delivered"], 5);
    let inbox = org.app.inbox(&org.token("张三").await).await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0]["title"], "后到期");
}
