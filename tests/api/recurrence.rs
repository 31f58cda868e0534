//! Recurring broadcasts through HTTP and the real worker, with the clock moved by hand.

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use crate::helpers::*;
use fingertip_core::entities::inbox_items;

/// Sunday 29 November 2026, 23:37 in Shanghai: the secretary schedules next month's classroom.
fn sunday_night() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 15, 37, 0).unwrap()
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

struct Setup {
    app: TestApp,
    post: String,
    root: String,
    sec1: String,
    /// Two members in 一科, one in 二科.
    members: Vec<Value>,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    app.clock.set(sunday_night());
    let admin = app.admin_token().await;
    let root = app.create_unit(&admin, "第一党支部", None).await;
    let sec1 = app.create_unit(&admin, "审计一科", Some(&root)).await;
    let sec2 = app.create_unit(&admin, "审计二科", Some(&root)).await;
    let mut members = vec![];
    for (name, unit) in [("张三", &sec1), ("李四", &sec1), ("赵六", &sec2)] {
        members.push(
            app.create_member(&admin, json!({"name": name, "unit_id": unit}))
                .await,
        );
    }
    let post = app.create_post(&admin, "指尖课堂 月刊").await;
    Setup {
        app,
        post,
        root,
        sec1,
        members,
    }
}

impl Setup {
    async fn admin(&self) -> String {
        self.app.admin_token().await
    }

    async fn create(&self, body: Value) -> Value {
        let r = self
            .app
            .post("/api/v1/admin/broadcasts", &self.admin().await, body)
            .await;
        assert_eq!(r.status, 201, "create broadcast: {:?}", r.body);
        r.body
    }

    async fn get(&self, id: &str) -> Value {
        let r = self
            .app
            .get(
                &format!("/api/v1/admin/broadcasts/{id}"),
                &self.admin().await,
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    }

    async fn patch(&self, id: &str, body: Value) -> Resp {
        self.app
            .patch(
                &format!("/api/v1/admin/broadcasts/{id}"),
                &self.admin().await,
                body,
            )
            .await
    }

    /// A recurring broadcast to the whole branch; returns its id.
    async fn rule(&self, rrule: &str) -> String {
        let bc = self
            .create(json!({"post_id": self.post, "audience": {"unit_ids": [self.root]}, "recurrence": rrule}))
            .await;
        bc["id"].as_str().unwrap().to_string()
    }

    /// Moves the clock to `at` and lets the workers do what is due.
    async fn at(&self, at: DateTime<Utc>) {
        self.app.clock.set(at);
        self.app.drain().await;
    }

    /// Inbox rows of a broadcast per occurrence key, straight from the database.
    async fn rows(&self, id: &str) -> Vec<(i64, i64)> {
        let mut v: Vec<(i64, i64)> = inbox_items::Entity::find()
            .select_only()
            .column(inbox_items::Column::Occurrence)
            .column(inbox_items::Column::MemberId)
            .filter(inbox_items::Column::BroadcastId.eq(id.parse::<i64>().unwrap()))
            .into_tuple()
            .all(&self.app.core.db)
            .await
            .unwrap();
        v.sort();
        v
    }

    async fn unread(&self, member: usize) -> i64 {
        let t = self.app.member_token(&self.members[member]).await;
        self.app.get("/api/v1/inbox/unread-count", &t).await.body["unread_count"]
            .as_i64()
            .unwrap()
    }
}

#[tokio::test]
async fn the_monthly_classroom_goes_out_on_the_first_at_nine_shanghai_time_once_each_month() {
    let s = setup().await;
    let bc = s
        .create(json!({
            "post_id": s.post, "audience": {"unit_ids": [s.root]},
            "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0",
            "timezone": "Asia/Shanghai"
        }))
        .await;
    assert_eq!(bc["status"], "scheduled");
    assert_eq!(
        bc["recurrence"],
        "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0"
    );
    // 09:00 in Shanghai is 01:00 UTC.
    assert_eq!(time(&bc["next_run_at"]), utc(2026, 12, 1, 1, 0));
    let id = bc["id"].as_str().unwrap();
    let detail = s.get(id).await;
    assert_eq!(
        detail["upcoming"]
            .as_array()
            .unwrap()
            .iter()
            .map(time)
            .collect::<Vec<_>>(),
        vec![
            utc(2026, 12, 1, 1, 0),
            utc(2027, 1, 1, 1, 0),
            utc(2027, 2, 1, 1, 0),
            utc(2027, 3, 1, 1, 0),
            utc(2027, 4, 1, 1, 0)
        ]
    );
    let listed = s
        .app
        .get(
            "/api/v1/admin/broadcasts?status=scheduled",
            &s.admin().await,
        )
        .await;
    assert_eq!(
        time(&listed.body["items"][0]["next_run_at"]),
        utc(2026, 12, 1, 1, 0)
    );

    // A minute before: nothing.
    s.at(utc(2026, 12, 1, 0, 59)).await;
    assert!(s.rows(id).await.is_empty());

    // On time: everyone gets the December issue, and the broadcast waits for January.
    s.at(utc(2026, 12, 1, 1, 0)).await;
    let dec = utc(2026, 12, 1, 1, 0).timestamp();
    assert_eq!(s.rows(id).await.len(), 3);
    assert!(s.rows(id).await.iter().all(|(o, _)| *o == dec));
    let b = s.get(id).await;
    assert_eq!(b["status"], "scheduled", "{b}");
    assert_eq!(b["occurrences_sent"], 1);
    assert_eq!(time(&b["next_run_at"]), utc(2027, 1, 1, 1, 0));

    // Workers passing again in December change nothing.
    s.at(utc(2026, 12, 15, 3, 0)).await;
    assert_eq!(s.rows(id).await.len(), 3);

    s.at(utc(2027, 1, 1, 1, 0)).await;
    let rows = s.rows(id).await;
    assert_eq!(rows.len(), 6, "one row per member per occurrence");
    assert_eq!(s.unread(0).await, 2);
    assert_eq!(s.get(id).await["occurrences_sent"], 2);
}

#[tokio::test]
async fn count_ends_the_rule_and_then_there_is_nothing_left_to_cancel() {
    let s = setup().await;
    let bc = s
        .create(json!({
            "post_id": s.post, "audience": {"unit_ids": [s.root]},
            "recurrence": "FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30;COUNT=2"
        }))
        .await;
    let id = bc["id"].as_str().unwrap();
    // Fridays 4 and 11 December, 08:30 Shanghai (the server's default zone).
    assert_eq!(time(&bc["next_run_at"]), utc(2026, 12, 4, 0, 30));
    s.at(utc(2026, 12, 4, 0, 30)).await;
    s.at(utc(2026, 12, 11, 0, 30)).await;
    let b = s.get(id).await;
    assert_eq!(b["status"], "sent");
    assert!(b["next_run_at"].is_null());
    assert_eq!(b["occurrences_sent"], 2);
    s.at(utc(2026, 12, 18, 0, 30)).await;
    assert_eq!(s.rows(id).await.len(), 6);
    let r = s
        .app
        .post(
            &format!("/api/v1/admin/broadcasts/{id}/cancel"),
            &s.admin().await,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409);
    let r = s.patch(id, json!({"urgent": true})).await;
    assert_eq!(r.status, 409, "a finished rule cannot be edited");
}

#[tokio::test]
async fn until_ends_the_rule() {
    let s = setup().await;
    let id = &s
        .rule("FREQ=DAILY;BYHOUR=9;BYMINUTE=0;UNTIL=20261201T235959Z")
        .await;
    for day in [30, 1, 2] {
        let month = if day == 30 { 11 } else { 12 };
        s.at(utc(2026, month, day, 1, 0)).await;
    }
    // 30 November and 1 December; 2 December is past UNTIL.
    assert_eq!(s.rows(id).await.len(), 6);
    assert_eq!(s.get(id).await["status"], "sent");
}

#[tokio::test]
async fn an_edit_between_occurrences_takes_effect_from_the_next_one() {
    let s = setup().await;
    let id = &s
        .rule("FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0")
        .await;
    s.at(utc(2026, 12, 1, 1, 0)).await;
    assert_eq!(s.rows(id).await.len(), 3);

    // Move to the third Wednesday at 14:00, only 一科, with another post.
    let admin = s.admin().await;
    let other = s.app.create_post(&admin, "第三个星期三讲座").await;
    let r = s
        .patch(
            id,
            json!({"recurrence": "FREQ=MONTHLY;BYDAY=3WE;BYHOUR=14;BYMINUTE=0",
                   "audience": {"unit_ids": [s.sec1]}, "post_id": other}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(time(&r.body["next_run_at"]), utc(2026, 12, 16, 6, 0));
    assert_eq!(r.body["audience_size"], 2);
    assert_eq!(r.body["post_id"], json!(other));

    // The new time sends to 一科 only; the old one (1 January) then passes without a send.
    s.at(utc(2026, 12, 16, 5, 59)).await;
    assert_eq!(s.rows(id).await.len(), 3);
    s.at(utc(2026, 12, 16, 6, 0)).await;
    assert_eq!(s.rows(id).await.len(), 5);
    s.at(utc(2027, 1, 1, 1, 0)).await;
    assert_eq!(s.rows(id).await.len(), 5);
    assert_eq!(
        time(&s.get(id).await["next_run_at"]),
        utc(2027, 1, 20, 6, 0)
    );
    assert_eq!(s.unread(2).await, 1, "二科 only got the first issue");
    assert_eq!(s.unread(0).await, 2);

    // Turning the rule into a one-off at a given time.
    let r = s
        .patch(
            id,
            json!({"recurrence": null, "send_at": "2027-02-01T09:00:00+08:00"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["recurrence"].is_null());
    assert_eq!(time(&r.body["next_run_at"]), utc(2027, 2, 1, 1, 0));
    s.at(utc(2027, 2, 1, 1, 0)).await;
    let b = s.get(id).await;
    assert_eq!(b["status"], "sent");
    assert_eq!(b["occurrences_sent"], 3);
    assert_eq!(s.rows(id).await.len(), 7);
}

#[tokio::test]
async fn a_one_off_can_be_moved_before_it_runs_but_not_while_it_sends() {
    let s = setup().await;
    let bc = s
        .create(
            json!({"post_id": s.post, "audience": {"unit_ids": [s.root]},
                        "send_at": "2026-12-01T09:00:00+08:00"}),
        )
        .await;
    let id = bc["id"].as_str().unwrap();
    let r = s
        .patch(id, json!({"send_at": "2026-12-02T09:00:00+08:00"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(time(&r.body["next_run_at"]), utc(2026, 12, 2, 1, 0));
    s.at(utc(2026, 12, 1, 1, 0)).await;
    assert!(
        s.rows(id).await.is_empty(),
        "the old time no longer applies"
    );
    s.at(utc(2026, 12, 2, 1, 0)).await;
    assert_eq!(s.rows(id).await.len(), 3);

    // "Send now" is `sending` until a worker has fanned it out: edits wait.
    let now = s
        .create(json!({"post_id": s.post, "audience": {"unit_ids": [s.root]}}))
        .await;
    let r = s
        .patch(now["id"].as_str().unwrap(), json!({"urgent": true}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "conflict");
}

#[tokio::test]
async fn cancel_stops_every_future_occurrence() {
    let s = setup().await;
    let id = &s.rule("FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30").await;
    s.at(utc(2026, 12, 4, 0, 30)).await;
    let r = s
        .app
        .post(
            &format!("/api/v1/admin/broadcasts/{id}/cancel"),
            &s.admin().await,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "canceled");
    assert!(r.body["next_run_at"].is_null());
    s.at(utc(2026, 12, 11, 0, 30)).await;
    s.at(utc(2026, 12, 18, 0, 30)).await;
    assert_eq!(s.rows(id).await.len(), 3, "only the first Friday went out");
}

#[tokio::test]
async fn missed_occurrences_while_workers_were_down_send_one_catch_up() {
    let s = setup().await;
    let id = &s.rule("FREQ=DAILY;BYHOUR=9;BYMINUTE=0").await;
    s.at(utc(2026, 11, 30, 1, 0)).await;
    // The workers are down from the 30th until 3 December, 10:00 Shanghai.
    s.at(utc(2026, 12, 3, 2, 0)).await;
    let rows = s.rows(id).await;
    assert_eq!(
        rows.len(),
        6,
        "the 30th, then one catch-up for the 3rd: {rows:?}"
    );
    assert_eq!(
        time(&s.get(id).await["next_run_at"]),
        utc(2026, 12, 4, 1, 0)
    );
}

#[tokio::test]
async fn two_workers_sweeping_at_once_start_each_occurrence_once() {
    let s = setup().await;
    let id = &s.rule("FREQ=DAILY;BYHOUR=9;BYMINUTE=0;COUNT=3").await;
    let other = s.app.second_worker();
    for day in [30, 1, 2] {
        let month = if day == 30 { 11 } else { 12 };
        s.app.clock.set(utc(2026, month, day, 1, 0));
        let (a, b) = tokio::join!(s.app.worker.run_once(), other.run_once());
        a.unwrap();
        b.unwrap();
        s.app.drain().await;
    }
    let n = inbox_items::Entity::find()
        .filter(inbox_items::Column::BroadcastId.eq(id.parse::<i64>().unwrap()))
        .count(&s.app.core.db)
        .await
        .unwrap();
    assert_eq!(n, 9);
    assert_eq!(s.get(id).await["status"], "sent");
}

#[tokio::test]
async fn rules_that_cannot_be_run_are_400_with_the_field_named() {
    let s = setup().await;
    let admin = s.admin().await;
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
        let mut body = json!({"post_id": s.post, "audience": {"unit_ids": [s.root]}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = s
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
    // The same checks apply to an edit.
    let bc = s
        .create(json!({"post_id": s.post, "audience": {"unit_ids": [s.root]}, "recurrence": "FREQ=DAILY;BYHOUR=9"}))
        .await;
    let id = bc["id"].as_str().unwrap();
    for (body, field) in [
        (
            json!({"recurrence": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31"}),
            "recurrence",
        ),
        (json!({"send_at": "2026-11-28T09:00:00+08:00"}), "send_at"),
        (json!({"timezone": "Nowhere/Special"}), "timezone"),
        (json!({"recurrence": null}), "send_at"),
    ] {
        let r = s.patch(id, body.clone()).await;
        assert_eq!(r.status, 400, "{body} -> {:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{:?}",
            r.body
        );
    }
    let r = s.patch(id, json!({"colour": "red"})).await;
    assert_eq!(r.status, 400, "unknown fields are refused: {:?}", r.body);
    let r = s.patch("999999", json!({"urgent": true})).await;
    assert_eq!(r.status, 404);
}
