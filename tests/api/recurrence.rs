//! Recurring broadcasts through HTTP and the real worker, with the clock moved by hand.

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;
use fingertip_core::entities::inbox_items;

/// Sunday 29 November 2026, 23:37 in Shanghai: the secretary schedules next month's classroom.
fn sunday_night() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 15, 37, 0).unwrap()
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

const MONTHLY: &str = "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0";

/// The branch: 张三 and 李四 in 一科, 赵六 in 二科; the classroom post.
async fn setup() -> Org {
    Org::branch(spawn_app().await)
        .at(sunday_night())
        .member("张三", SECTION_1)
        .member("李四", SECTION_1)
        .member("赵六", SECTION_2)
        .lesson("指尖课堂 月刊")
        .build()
        .await
}

/// The classroom to the whole branch.
fn classroom(org: &Org) -> Broadcast {
    Broadcast::to_unit(org.post(), org.unit(BRANCH))
}

async fn create(org: &Org, body: Broadcast) -> Value {
    org.app.broadcast(&org.admin().await, body).await
}

async fn get(org: &Org, id: &str) -> Value {
    org.app.broadcast_record(&org.admin().await, id).await
}

async fn patch(org: &Org, id: &str, body: Value) -> Resp {
    let path = format!("/api/v1/admin/broadcasts/{id}");
    org.app.patch(&path, &org.admin().await, body).await
}

/// The classroom to the whole branch at every occurrence of `rrule`; its id.
async fn rule(org: &Org, rrule: &str) -> String {
    id(&create(org, classroom(org).every(rrule)).await)
}

/// Moves the clock to `t` and lets the workers do what is due.
async fn at(org: &Org, t: DateTime<Utc>) {
    org.app.clock.set(t);
    org.app.drain().await;
}

/// Inbox rows of a broadcast as (occurrence, member), straight from the database.
async fn rows(org: &Org, id: &str) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = inbox_items::Entity::find()
        .select_only()
        .column(inbox_items::Column::Occurrence)
        .column(inbox_items::Column::MemberId)
        .filter(inbox_items::Column::BroadcastId.eq(id.parse::<i64>().unwrap()))
        .into_tuple()
        .all(&org.app.core.db)
        .await
        .unwrap();
    v.sort();
    v
}

async fn unread(org: &Org, name: &str) -> i64 {
    org.app.unread_count(&org.token(name).await).await
}

#[tokio::test]
async fn a_monthly_rule_is_scheduled_for_the_first_at_nine_shanghai_time() {
    let org = setup().await;
    let bc = create(
        &org,
        classroom(&org).every(MONTHLY).in_zone("Asia/Shanghai"),
    )
    .await;
    assert_eq!(bc["status"], "scheduled");
    assert_eq!(bc["recurrence"], MONTHLY);
    // 09:00 in Shanghai is 01:00 UTC.
    assert_eq!(time(&bc["next_run_at"]), utc(2026, 12, 1, 1, 0));
    let detail = get(&org, &id(&bc)).await;
    let upcoming: Vec<_> = detail["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(time)
        .collect();
    assert_eq!(
        upcoming,
        vec![
            utc(2026, 12, 1, 1, 0),
            utc(2027, 1, 1, 1, 0),
            utc(2027, 2, 1, 1, 0),
            utc(2027, 3, 1, 1, 0),
            utc(2027, 4, 1, 1, 0)
        ]
    );
    let listed = org
        .app
        .get(
            "/api/v1/admin/broadcasts?status=scheduled",
            &org.admin().await,
        )
        .await;
    assert_eq!(
        time(&listed.body["items"][0]["next_run_at"]),
        utc(2026, 12, 1, 1, 0)
    );
}

#[tokio::test]
async fn the_monthly_classroom_goes_out_on_time_once_each_month() {
    let org = setup().await;
    let bc = create(
        &org,
        classroom(&org).every(MONTHLY).in_zone("Asia/Shanghai"),
    )
    .await;
    let id = &id(&bc);

    // A minute before: nothing.
    at(&org, utc(2026, 12, 1, 0, 59)).await;
    assert!(rows(&org, id).await.is_empty());

    // On time: everyone gets the December issue, and the broadcast waits for January.
    at(&org, utc(2026, 12, 1, 1, 0)).await;
    let dec = utc(2026, 12, 1, 1, 0).timestamp();
    assert_eq!(rows(&org, id).await.len(), 3);
    assert!(rows(&org, id).await.iter().all(|(o, _)| *o == dec));
    let b = get(&org, id).await;
    assert_eq!(b["status"], "scheduled", "{b}");
    assert_eq!(b["occurrences_sent"], 1);
    assert_eq!(time(&b["next_run_at"]), utc(2027, 1, 1, 1, 0));

    // Workers passing again in December change nothing.
    at(&org, utc(2026, 12, 15, 3, 0)).await;
    assert_eq!(rows(&org, id).await.len(), 3);

    at(&org, utc(2027, 1, 1, 1, 0)).await;
    assert_eq!(
        rows(&org, id).await.len(),
        6,
        "one row per member per occurrence"
    );
    assert_eq!(unread(&org, "张三").await, 2);
    assert_eq!(get(&org, id).await["occurrences_sent"], 2);
}

#[tokio::test]
async fn count_ends_the_rule_and_then_there_is_nothing_left_to_cancel() {
    let org = setup().await;
    let bc = create(
        &org,
        classroom(&org).every("FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30;COUNT=2"),
    )
    .await;
    let id = &id(&bc);
    // Fridays 4 and 11 December, 08:30 Shanghai (the server's default zone).
    assert_eq!(time(&bc["next_run_at"]), utc(2026, 12, 4, 0, 30));
    at(&org, utc(2026, 12, 4, 0, 30)).await;
    at(&org, utc(2026, 12, 11, 0, 30)).await;
    let b = get(&org, id).await;
    assert_eq!(b["status"], "sent");
    assert!(b["next_run_at"].is_null());
    assert_eq!(b["occurrences_sent"], 2);
    at(&org, utc(2026, 12, 18, 0, 30)).await;
    assert_eq!(rows(&org, id).await.len(), 6);
    let r = org
        .app
        .broadcast_action(&org.admin().await, id, "cancel")
        .await;
    assert_eq!(r.status, 409);
    let r = patch(&org, id, json!({"urgent": true})).await;
    assert_eq!(r.status, 409, "a finished rule cannot be edited");
}

#[tokio::test]
async fn until_ends_the_rule() {
    let org = setup().await;
    let id = &rule(
        &org,
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;UNTIL=20261201T235959Z",
    )
    .await;
    for day in [30, 1, 2] {
        let month = if day == 30 { 11 } else { 12 };
        at(&org, utc(2026, month, day, 1, 0)).await;
    }
    // 30 November and 1 December; 2 December is past UNTIL.
    assert_eq!(rows(&org, id).await.len(), 6);
    assert_eq!(get(&org, id).await["status"], "sent");
}

#[tokio::test]
async fn an_edit_between_occurrences_takes_effect_from_the_next_one() {
    let org = setup().await;
    let id = &rule(&org, MONTHLY).await;
    at(&org, utc(2026, 12, 1, 1, 0)).await;
    assert_eq!(rows(&org, id).await.len(), 3);

    // Move to the third Wednesday at 14:00, only 一科, with another post.
    let other = org
        .app
        .create_post(&org.admin().await, "第三个星期三讲座")
        .await;
    let r = patch(
        &org,
        id,
        json!({"recurrence": "FREQ=MONTHLY;BYDAY=3WE;BYHOUR=14;BYMINUTE=0",
               "audience": {"unit_ids": [org.unit(SECTION_1)]}, "post_id": other}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(time(&r.body["next_run_at"]), utc(2026, 12, 16, 6, 0));
    assert_eq!(r.body["audience_size"], 2);
    assert_eq!(r.body["post_id"], json!(other));

    // The new time sends to 一科 only; the old one (1 January) then passes without a send.
    at(&org, utc(2026, 12, 16, 5, 59)).await;
    assert_eq!(rows(&org, id).await.len(), 3);
    at(&org, utc(2026, 12, 16, 6, 0)).await;
    assert_eq!(rows(&org, id).await.len(), 5);
    at(&org, utc(2027, 1, 1, 1, 0)).await;
    assert_eq!(rows(&org, id).await.len(), 5);
    assert_eq!(
        time(&get(&org, id).await["next_run_at"]),
        utc(2027, 1, 20, 6, 0)
    );
    assert_eq!(
        unread(&org, "赵六").await,
        1,
        "二科 only got the first issue"
    );
    assert_eq!(unread(&org, "张三").await, 2);
}

#[tokio::test]
async fn a_rule_turned_into_a_one_off_sends_once_more_at_that_time_and_is_done() {
    let org = setup().await;
    let id = &rule(&org, MONTHLY).await;
    at(&org, utc(2026, 12, 1, 1, 0)).await;
    assert_eq!(rows(&org, id).await.len(), 3);
    let r = patch(
        &org,
        id,
        json!({"recurrence": null, "send_at": "2027-02-01T09:00:00+08:00"}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["recurrence"].is_null());
    assert_eq!(time(&r.body["next_run_at"]), utc(2027, 2, 1, 1, 0));
    at(&org, utc(2027, 1, 1, 1, 0)).await;
    assert_eq!(rows(&org, id).await.len(), 3, "the rule's January is gone");
    at(&org, utc(2027, 2, 1, 1, 0)).await;
    let b = get(&org, id).await;
    assert_eq!(b["status"], "sent");
    assert_eq!(b["occurrences_sent"], 2);
    assert_eq!(rows(&org, id).await.len(), 6);
}

#[tokio::test]
async fn a_one_off_can_be_moved_before_it_runs() {
    let org = setup().await;
    let bc = create(&org, classroom(&org).send_at("2026-12-01T09:00:00+08:00")).await;
    let id = &id(&bc);
    let r = patch(&org, id, json!({"send_at": "2026-12-02T09:00:00+08:00"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(time(&r.body["next_run_at"]), utc(2026, 12, 2, 1, 0));
    at(&org, utc(2026, 12, 1, 1, 0)).await;
    assert!(
        rows(&org, id).await.is_empty(),
        "the old time no longer applies"
    );
    at(&org, utc(2026, 12, 2, 1, 0)).await;
    assert_eq!(rows(&org, id).await.len(), 3);
}

#[tokio::test]
async fn a_broadcast_sent_now_cannot_be_edited_while_it_is_sending() {
    let org = setup().await;
    // "Send now" is `sending` until a worker has fanned it out: edits wait.
    let now = create(&org, classroom(&org)).await;
    let r = patch(&org, &id(&now), json!({"urgent": true})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "conflict");
}

#[tokio::test]
async fn cancel_stops_every_future_occurrence() {
    let org = setup().await;
    let id = &rule(&org, "FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30").await;
    at(&org, utc(2026, 12, 4, 0, 30)).await;
    let r = org
        .app
        .broadcast_action(&org.admin().await, id, "cancel")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "canceled");
    assert!(r.body["next_run_at"].is_null());
    at(&org, utc(2026, 12, 11, 0, 30)).await;
    at(&org, utc(2026, 12, 18, 0, 30)).await;
    assert_eq!(
        rows(&org, id).await.len(),
        3,
        "only the first Friday went out"
    );
}

#[tokio::test]
async fn missed_occurrences_while_workers_were_down_send_one_catch_up() {
    let org = setup().await;
    let id = &rule(&org, "FREQ=DAILY;BYHOUR=9;BYMINUTE=0").await;
    at(&org, utc(2026, 11, 30, 1, 0)).await;
    // The workers are down from the 30th until 3 December, 10:00 Shanghai.
    at(&org, utc(2026, 12, 3, 2, 0)).await;
    let rows = rows(&org, id).await;
    assert_eq!(
        rows.len(),
        6,
        "the 30th, then one catch-up for the 3rd: {rows:?}"
    );
    assert_eq!(
        time(&get(&org, id).await["next_run_at"]),
        utc(2026, 12, 4, 1, 0)
    );
}

#[tokio::test]
async fn two_workers_sweeping_at_once_start_each_occurrence_once() {
    let org = setup().await;
    let app = &org.app;
    let id = &rule(&org, "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;COUNT=3").await;
    let other = app.second_worker();
    for day in [30, 1, 2] {
        let month = if day == 30 { 11 } else { 12 };
        app.clock.set(utc(2026, month, day, 1, 0));
        let (a, b) = tokio::join!(app.worker.run_once(), other.run_once());
        a.unwrap();
        b.unwrap();
        app.drain().await;
    }
    let n = inbox_items::Entity::find()
        .filter(inbox_items::Column::BroadcastId.eq(id.parse::<i64>().unwrap()))
        .count(&app.core.db)
        .await
        .unwrap();
    assert_eq!(n, 9);
    assert_eq!(get(&org, id).await["status"], "sent");
}

#[tokio::test]
async fn rules_that_cannot_be_run_are_400_with_the_field_named() {
    let org = setup().await;
    let admin = org.admin().await;
    let cases = [
        (json!({"recurrence": "FREQ=FORTNIGHTLY"}), "recurrence"),
        (json!({"recurrence": "FREQ=MINUTELY"}), "recurrence"),
        (
            json!({"recurrence": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}),
            "recurrence",
        ),
        (
            json!({"recurrence": "FREQ=DAILY;UNTIL=20200101T000000Z"}),
            "recurrence",
        ),
        (
            json!({"recurrence": "DTSTART:20261201T010000Z\nRRULE:FREQ=DAILY"}),
            "recurrence",
        ),
        (
            json!({"recurrence": "FREQ=DAILY", "timezone": "Asia/Beijing"}),
            "timezone",
        ),
        (
            json!({"recurrence": "FREQ=DAILY", "send_at": "2026-11-01T09:00:00+08:00"}),
            "send_at",
        ),
        (
            json!({"recurrence": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30"}),
            "recurrence",
        ),
        (
            json!({"recurrence": "FREQ=DAILY", "send_at": "9999-12-31T23:59:00Z"}),
            "send_at",
        ),
        (
            json!({"recurrence": "FREQ=WEEKLY;BYDAY=FR", "read_by": "2026-12-31T09:00:00+08:00"}),
            "read_by",
        ),
    ];
    for (extra, field) in cases {
        let body = merged(classroom(&org), extra);
        let r = org
            .app
            .post("/api/v1/admin/broadcasts", &admin, body.clone())
            .await;
        assert_eq!(r.status, 400, "{body} -> {:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{body}: wanted {field}, got {:?}",
            r.body
        );
    }
}

#[tokio::test]
async fn an_edit_is_held_to_the_same_rules_and_unknown_fields_are_refused() {
    let org = setup().await;
    let id = &rule(&org, "FREQ=DAILY;BYHOUR=9").await;
    for (body, field) in [
        (
            json!({"recurrence": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31"}),
            "recurrence",
        ),
        (json!({"send_at": "2026-11-28T09:00:00+08:00"}), "send_at"),
        (json!({"timezone": "Nowhere/Special"}), "timezone"),
        (json!({"recurrence": null}), "send_at"),
    ] {
        let r = patch(&org, id, body.clone()).await;
        assert_eq!(r.status, 400, "{body} -> {:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{:?}",
            r.body
        );
    }
    let r = patch(&org, id, json!({"colour": "red"})).await;
    assert_eq!(r.status, 400, "unknown fields are refused: {:?}", r.body);
    let r = patch(&org, "999999", json!({"urgent": true})).await;
    assert_eq!(r.status, 404);
}
