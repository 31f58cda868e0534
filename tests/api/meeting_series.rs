//! Recurring meetings (the Friday study day) through HTTP and the real workers, with the clock
//! moved by hand: each occurrence becomes one meeting, with its own notice, its notice lead
//! before the start; never twice, whatever the workers do.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::*;
use fingertip_core::auth::{Actor, Role};
use fingertip_core::entities::{meeting_series, members};
use fingertip_core::meetings::{self, MeetingInput};

const STUDY_DAY: &str = "FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30";

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

/// Friday 4 December 2026, 08:30 in Shanghai: the first study day.
fn first_friday() -> DateTime<Utc> {
    utc(2026, 12, 4, 0, 30)
}

struct Branch {
    app: TestApp,
    unit: String,
    /// Three members of 审计一科 (invited) and one of 审计二科 (not).
    members: Vec<Value>,
}

async fn branch(now: DateTime<Utc>) -> Branch {
    let app = spawn_app().await;
    app.clock.set(now);
    let admin = app.admin_token().await;
    let root = app.create_unit(&admin, "第一党支部", None).await;
    let unit = app.create_unit(&admin, "审计一科", Some(&root)).await;
    let other = app.create_unit(&admin, "审计二科", Some(&root)).await;
    let mut members = vec![];
    for (name, u) in [
        ("张三", &unit),
        ("李四", &unit),
        ("王五", &unit),
        ("赵六", &other),
    ] {
        members.push(
            app.create_member(&admin, json!({"name": name, "unit_id": u}))
                .await,
        );
    }
    Branch { app, unit, members }
}

impl Branch {
    async fn admin(&self) -> String {
        self.app.admin_token().await
    }

    fn study_day(&self, extra: Value) -> Value {
        let mut body = json!({
            "kind": "study_day",
            "title": "周五学习日",
            "unit_id": self.unit,
            "starts_at": "2026-12-04T08:30:00+08:00",
            "duration_minutes": 180,
            "recurrence": STUDY_DAY,
            "timezone": "Asia/Shanghai",
            "place": "三楼会议室",
            "agenda": "集中学习",
            "audience": {"unit_ids": [self.unit]},
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    }

    async fn create(&self, body: Value) -> Value {
        let r = self
            .app
            .post("/api/v1/admin/meeting-series", &self.admin().await, body)
            .await;
        assert_eq!(r.status, 201, "create series: {:?}", r.body);
        r.body
    }

    async fn series(&self, id: &str) -> Value {
        let r = self
            .app
            .get(
                &format!("/api/v1/admin/meeting-series/{id}"),
                &self.admin().await,
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    }

    async fn meeting_starts(&self, id: &str) -> Vec<DateTime<Utc>> {
        self.series(id).await["meetings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| time(&m["starts_at"]))
            .collect()
    }

    /// How many meeting notices (not reminders) of the study day the member has.
    async fn notices(&self, member: usize) -> usize {
        let token = self.app.member_token(&self.members[member]).await;
        let r = self.app.get("/api/v1/inbox?limit=100", &token).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "meeting" && i["title"] == "会议通知：周五学习日")
            .count()
    }
}

#[tokio::test]
async fn a_friday_study_day_series_makes_one_meeting_each_week() {
    // Wednesday 2 December, 09:00 in Shanghai: Friday's study day is inside the 3-day lead.
    let b = branch(utc(2026, 12, 2, 1, 0)).await;
    let s = b.create(b.study_day(json!({}))).await;
    let id = s["id"].as_str().unwrap().to_string();
    assert_eq!(s["status"], "active");
    assert_eq!(s["notice_lead_minutes"], 4320);
    assert_eq!(s["recurrence"], STUDY_DAY);
    // Materialized at once: Friday 08:30 Shanghai is 00:30 UTC, for three hours.
    let ms = s["meetings"].as_array().unwrap();
    assert_eq!(ms.len(), 1, "{s:?}");
    assert_eq!(time(&ms[0]["starts_at"]), first_friday());
    assert_eq!(time(&ms[0]["ends_at"]), first_friday() + Duration::hours(3));
    assert_eq!(ms[0]["series_id"], s["id"]);
    assert_eq!(ms[0]["kind"], "study_day");
    assert_eq!(time(&s["next_at"]), first_friday() + Duration::weeks(1));
    let upcoming: Vec<_> = s["upcoming"].as_array().unwrap().iter().map(time).collect();
    assert_eq!(
        upcoming,
        (1..=5)
            .map(|w| first_friday() + Duration::weeks(w))
            .collect::<Vec<_>>()
    );
    b.app.drain().await;
    for i in 0..3 {
        assert_eq!(b.notices(i).await, 1, "member {i}");
    }
    assert_eq!(b.notices(3).await, 0, "another section is not invited");

    // Week by week: nothing until the lead opens, then exactly one meeting and one notice.
    for week in 1..=3 {
        let friday = first_friday() + Duration::weeks(week);
        let opens = friday - Duration::days(3);
        b.app.clock.set(opens - Duration::minutes(1));
        b.app.drain().await;
        assert_eq!(b.meeting_starts(&id).await.len(), week as usize);
        b.app.clock.set(opens);
        b.app.drain().await;
        b.app.drain().await;
        let starts = b.meeting_starts(&id).await;
        assert_eq!(starts.len(), week as usize + 1, "week {week}: {starts:?}");
        assert_eq!(*starts.last().unwrap(), friday);
        for i in 0..3 {
            assert_eq!(b.notices(i).await, week as usize + 1, "member {i}");
        }
        assert_eq!(b.notices(3).await, 0);
        let s = b.series(&id).await;
        assert_eq!(time(&s["next_at"]), friday + Duration::weeks(1));
    }
    // The invitee sees them among their own meetings.
    let token = b.app.member_token(&b.members[0]).await;
    let mine = b.app.get("/api/v1/meetings?limit=100", &token).await;
    assert_eq!(mine.status, 200);
    assert!(!mine.body["items"].as_array().unwrap().is_empty());

    // The list shows the series.
    let r = b
        .app
        .get("/api/v1/admin/meeting-series", &b.admin().await)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["id"], json!(id));
}

#[tokio::test]
async fn two_workers_sweeping_at_once_create_each_occurrence_once() {
    // Monday 30 November: the first Friday is not yet inside the lead.
    let b = branch(utc(2026, 11, 30, 1, 0)).await;
    let s = b.create(b.study_day(json!({}))).await;
    let id = s["id"].as_str().unwrap().to_string();
    assert!(s["meetings"].as_array().unwrap().is_empty());
    assert_eq!(time(&s["next_at"]), first_friday());
    let second = b.app.second_worker();
    let third = b.app.fanout_worker(2);
    for week in 0..3 {
        let friday = first_friday() + Duration::weeks(week);
        b.app.clock.set(friday - Duration::days(2));
        let (x, y, z) = tokio::join!(b.app.worker.run_once(), second.run_once(), third.run_once());
        // Write transactions take SQLite's write lock at BEGIN (`db::begin_write`), so
        // concurrent passes wait for each other instead of failing.
        for r in [x, y, z] {
            r.expect("a worker pass");
        }
        // Each worker finishes what it holds (a pass that failed may hold a lease).
        for _ in 0..20 {
            let mut n = 0;
            for w in [&b.app.worker, &second, &third] {
                n += w.run_once().await.unwrap();
            }
            if n == 0 {
                break;
            }
        }
        b.app.drain().await;
        let starts = b.meeting_starts(&id).await;
        assert_eq!(
            starts,
            (0..=week)
                .map(|w| first_friday() + Duration::weeks(w))
                .collect::<Vec<_>>()
        );
        for i in 0..3 {
            assert_eq!(b.notices(i).await, week as usize + 1, "member {i}");
        }
    }
}

#[tokio::test]
async fn a_crash_between_create_and_advance_does_not_double() {
    let b = branch(utc(2026, 11, 30, 1, 0)).await;
    let s = b.create(b.study_day(json!({}))).await;
    let id: i64 = s["id"].as_str().unwrap().parse().unwrap();
    b.app.clock.set(utc(2026, 12, 2, 1, 0));

    // A worker created Friday's meeting through the create path, then died before advancing.
    let row = meeting_series::Entity::find_by_id(id)
        .one(&b.app.core.db)
        .await
        .unwrap()
        .unwrap();
    let admin = members::Entity::find()
        .filter(members::Column::Username.eq(ADMIN_USER))
        .one(&b.app.core.db)
        .await
        .unwrap()
        .unwrap();
    let actor = Actor {
        member_id: admin.id,
        role: Role::Admin,
        unit_id: admin.unit_id,
        session_id: "crashed-worker".into(),
    };
    let input = MeetingInput {
        kind: row.kind.clone(),
        title: row.title.clone(),
        unit_id: row.unit_id,
        starts_at: first_friday(),
        ends_at: first_friday() + Duration::hours(3),
        place: row.place.clone(),
        agenda: Some(row.agenda.clone()),
        audience: serde_json::from_value(row.audience.clone()).unwrap(),
        timezone: Some(row.timezone.clone()),
        ..Default::default()
    };
    meetings::create_in_series(&b.app.core, &actor, input.clone(), Some(id))
        .await
        .unwrap();
    // Creating it again is refused by the unique key.
    let again = meetings::create_in_series(&b.app.core, &actor, input, Some(id))
        .await
        .unwrap_err();
    assert!(again.is_unique_violation(), "{again:?}");

    // The next worker finds the meeting there and only advances.
    b.app.drain().await;
    let ids = id.to_string();
    assert_eq!(b.meeting_starts(&ids).await, vec![first_friday()]);
    let s = b.series(&ids).await;
    assert_eq!(time(&s["next_at"]), first_friday() + Duration::weeks(1));
    for i in 0..3 {
        assert_eq!(b.notices(i).await, 1, "member {i}");
    }

    // The same after the advance is undone by hand (a crash after the insert, before the CAS,
    // which writes `next_at` and `materialize_at` together).
    meeting_series::Entity::update_many()
        .col_expr(meeting_series::Column::NextAt, Expr::value(first_friday()))
        .col_expr(
            meeting_series::Column::MaterializeAt,
            Expr::value(first_friday() - Duration::days(3)),
        )
        .filter(meeting_series::Column::Id.eq(id))
        .exec(&b.app.core.db)
        .await
        .unwrap();
    b.app.drain().await;
    assert_eq!(b.meeting_starts(&ids).await, vec![first_friday()]);
    let s = b.series(&ids).await;
    assert_eq!(time(&s["next_at"]), first_friday() + Duration::weeks(1));
}

#[tokio::test]
async fn count_ends_a_series_and_cancel_stops_one() {
    let b = branch(utc(2026, 12, 2, 1, 0)).await;
    let two = b
        .create(b.study_day(json!({"recurrence": format!("{STUDY_DAY};COUNT=2")})))
        .await;
    let two_id = two["id"].as_str().unwrap().to_string();
    assert_eq!(two["upcoming"].as_array().unwrap().len(), 1);
    let stopped = b
        .create(b.study_day(json!({"title": "周五读书会", "place": "图书室"})))
        .await;
    let stopped_id = stopped["id"].as_str().unwrap().to_string();
    let kept = stopped["meetings"][0]["id"].as_str().unwrap().to_string();

    // Cancel the second series: no further occurrences.
    let admin = b.admin().await;
    let url = format!("/api/v1/admin/meeting-series/{stopped_id}/cancel");
    let r = b.app.post(&url, &admin, json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "canceled");
    assert_eq!(r.body["next_at"], Value::Null);
    assert!(r.body["upcoming"].as_array().unwrap().is_empty());
    let r = b.app.post(&url, &admin, json!({})).await;
    assert_eq!(r.status, 409, "{:?}", r.body);

    // Its Friday meeting stays scheduled and is canceled on its own.
    let s = b.series(&stopped_id).await;
    assert_eq!(s["meetings"][0]["status"], "scheduled");
    let r = b
        .app
        .post(
            &format!("/api/v1/admin/meetings/{kept}/cancel"),
            &admin,
            json!({"reason": "改为线上"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "canceled");

    for week in 1..=3 {
        b.app
            .clock
            .set(first_friday() + Duration::weeks(week) - Duration::days(2));
        b.app.drain().await;
    }
    // COUNT=2: two Fridays, then the rule has ended.
    assert_eq!(
        b.meeting_starts(&two_id).await,
        vec![first_friday(), first_friday() + Duration::weeks(1)]
    );
    let s = b.series(&two_id).await;
    assert_eq!(s["status"], "active");
    assert_eq!(s["next_at"], Value::Null);
    assert!(s["upcoming"].as_array().unwrap().is_empty());
    // The canceled series made nothing more.
    assert_eq!(b.meeting_starts(&stopped_id).await, vec![first_friday()]);
    let r = b
        .app
        .get("/api/v1/admin/meeting-series/999999", &b.admin().await)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn bad_series_input_names_the_field() {
    let b = branch(utc(2026, 12, 2, 1, 0)).await;
    let admin = b.admin().await;
    let cases = [
        (json!({"recurrence": "FREQ=SOMETIMES"}), "recurrence"),
        (json!({"recurrence": "FREQ=MINUTELY"}), "recurrence"),
        (
            json!({"recurrence": "FREQ=HOURLY;BYMINUTE=0"}),
            "recurrence",
        ),
        (
            json!({"recurrence": "FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0"}),
            "recurrence",
        ),
        (
            json!({"recurrence": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}),
            "recurrence",
        ),
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (
            json!({"starts_at": "2026-11-27T08:30:00+08:00"}),
            "starts_at",
        ),
        (json!({"duration_minutes": 0}), "duration_minutes"),
        (json!({"notice_lead_minutes": 10}), "notice_lead_minutes"),
        (json!({"place": null}), "place"),
        (json!({"kind": "party"}), "kind"),
    ];
    for (extra, field) in cases {
        let r = b
            .app
            .post(
                "/api/v1/admin/meeting-series",
                &admin,
                b.study_day(extra.clone()),
            )
            .await;
        assert_eq!(r.status, 400, "{extra}: {:?}", r.body);
        assert_eq!(r.code(), "validation_failed");
        assert_eq!(r.detail_fields(), vec![field], "{extra}: {:?}", r.body);
    }
    // Daily is the limit, and it is fine.
    let r = b
        .app
        .post(
            "/api/v1/admin/meeting-series",
            &admin,
            b.study_day(json!({"recurrence": "FREQ=DAILY;BYHOUR=8;BYMINUTE=30"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // Members may not create series.
    let token = b.app.member_token(&b.members[0]).await;
    let r = b
        .app
        .post(
            "/api/v1/admin/meeting-series",
            &token,
            b.study_day(json!({})),
        )
        .await;
    assert_eq!(r.status, 403, "{:?}", r.body);
}

#[tokio::test]
async fn an_occurrence_that_cannot_be_created_is_skipped_and_the_series_goes_on() {
    let b = branch(utc(2026, 11, 30, 1, 0)).await;
    let li = b.members[1]["id"].as_str().unwrap().to_string();
    let s = b
        .create(b.study_day(json!({"audience": {"member_ids": [li]}})))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let member = format!("/api/v1/admin/members/{li}");

    // The only invitee leaves before the first Friday's notice time: nobody to invite.
    let r = b
        .app
        .patch(&member, &b.admin().await, json!({"active": false}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    b.app.clock.set(utc(2026, 12, 2, 1, 0));
    b.app.drain().await;
    b.app.drain().await;
    assert!(b.meeting_starts(&id).await.is_empty());
    let s = b.series(&id).await;
    assert_eq!(time(&s["next_at"]), first_friday() + Duration::weeks(1));

    // Back the next week: that Friday's meeting is created as usual.
    let r = b
        .app
        .patch(&member, &b.admin().await, json!({"active": true}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    b.app.clock.set(utc(2026, 12, 9, 1, 0));
    b.app.drain().await;
    assert_eq!(
        b.meeting_starts(&id).await,
        vec![first_friday() + Duration::weeks(1)]
    );
    assert_eq!(b.notices(1).await, 1);
}
