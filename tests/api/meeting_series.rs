//! Recurring meetings (the Friday study day) through HTTP and the real workers, with the clock
//! moved by hand: each occurrence becomes one meeting, with its own notice, its notice lead
//! before the start; never twice, whatever the workers do.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;
use fingertip_core::auth::{Actor, Role};
use fingertip_core::entities::{meeting_series, members};
use fingertip_core::meetings::{self, MeetingInput};

const STUDY_DAY: &str = "FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30";
/// The three members of 一科, who are invited; 赵六 of 二科 is not.
const INVITED: [&str; 3] = ["张三", "李四", "王五"];

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Friday 4 December 2026, 08:30 in Shanghai: the first study day.
fn first_friday() -> DateTime<Utc> {
    utc(2026, 12, 4, 0, 30)
}

/// Wednesday 2 December, 09:00 in Shanghai: Friday's study day is inside the 3-day lead.
fn wednesday() -> DateTime<Utc> {
    utc(2026, 12, 2, 1, 0)
}

/// Monday 30 November: the first Friday is not yet inside the lead.
fn monday() -> DateTime<Utc> {
    utc(2026, 11, 30, 1, 0)
}

async fn branch(now: DateTime<Utc>) -> Org {
    Org::branch(spawn_app().await)
        .at(now)
        .member("张三", SECTION_1)
        .member("李四", SECTION_1)
        .member("王五", SECTION_1)
        .member("赵六", SECTION_2)
        .build()
        .await
}

/// The Friday study day of 一科, three hours from 08:30 Shanghai time.
fn study_day(org: &Org) -> Series {
    Series::new(
        "study_day",
        "周五学习日",
        org.unit(SECTION_1),
        "2026-12-04T08:30:00+08:00",
        STUDY_DAY,
    )
    .minutes(180)
    .place("三楼会议室")
    .agenda("集中学习")
}

async fn create(org: &Org, body: Series) -> Value {
    let r = org
        .app
        .post(
            "/api/v1/admin/meeting-series",
            &org.admin().await,
            serde_json::to_value(body).unwrap(),
        )
        .await;
    assert_eq!(r.status, 201, "create series: {:?}", r.body);
    r.body
}

async fn series(org: &Org, id: &str) -> Value {
    let path = format!("/api/v1/admin/meeting-series/{id}");
    let r = org.app.get(&path, &org.admin().await).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

async fn meeting_starts(org: &Org, id: &str) -> Vec<DateTime<Utc>> {
    series(org, id).await["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| time(&m["starts_at"]))
        .collect()
}

/// How many meeting notices (not reminders) of the study day the member has.
async fn notices(org: &Org, name: &str) -> usize {
    org.inbox(name)
        .await
        .iter()
        .filter(|i| i["kind"] == "meeting" && i["title"] == "会议通知：周五学习日")
        .count()
}

#[tokio::test]
async fn a_study_day_inside_the_notice_lead_is_made_at_once_and_noticed_to_its_section() {
    let org = branch(wednesday()).await;
    let s = create(&org, study_day(&org)).await;
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
    org.app.drain().await;
    for name in INVITED {
        assert_eq!(notices(&org, name).await, 1, "{name}");
    }
    assert_eq!(
        notices(&org, "赵六").await,
        0,
        "another section is not invited"
    );
}

#[tokio::test]
async fn each_week_one_meeting_and_one_notice_once_the_lead_opens() {
    let org = branch(wednesday()).await;
    let id = id(&create(&org, study_day(&org)).await);
    org.app.drain().await;
    // Week by week: nothing until the lead opens, then exactly one meeting and one notice.
    for week in 1..=3 {
        let friday = first_friday() + Duration::weeks(week);
        let opens = friday - Duration::days(3);
        org.app.clock.set(opens - Duration::minutes(1));
        org.app.drain().await;
        assert_eq!(meeting_starts(&org, &id).await.len(), week as usize);
        org.app.clock.set(opens);
        org.app.drain().await;
        org.app.drain().await;
        let starts = meeting_starts(&org, &id).await;
        assert_eq!(starts.len(), week as usize + 1, "week {week}: {starts:?}");
        assert_eq!(*starts.last().unwrap(), friday);
        for name in INVITED {
            assert_eq!(notices(&org, name).await, week as usize + 1, "{name}");
        }
        assert_eq!(notices(&org, "赵六").await, 0);
        let s = series(&org, &id).await;
        assert_eq!(time(&s["next_at"]), friday + Duration::weeks(1));
    }
}

#[tokio::test]
async fn invitees_see_the_meetings_and_admins_the_series_in_their_lists() {
    let org = branch(wednesday()).await;
    let id = id(&create(&org, study_day(&org)).await);
    org.app.drain().await;
    let mine = org
        .app
        .get("/api/v1/meetings?limit=100", &org.token("张三").await)
        .await;
    assert_eq!(mine.status, 200);
    assert!(!mine.body["items"].as_array().unwrap().is_empty());
    let r = org
        .app
        .get("/api/v1/admin/meeting-series", &org.admin().await)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["id"], json!(id));
}

#[tokio::test]
async fn two_workers_sweeping_at_once_create_each_occurrence_once() {
    let org = branch(monday()).await;
    let app = &org.app;
    let s = create(&org, study_day(&org)).await;
    let id = id(&s);
    assert!(s["meetings"].as_array().unwrap().is_empty());
    assert_eq!(time(&s["next_at"]), first_friday());
    let second = app.second_worker();
    let third = app.fanout_worker(2);
    for week in 0..3 {
        let friday = first_friday() + Duration::weeks(week);
        app.clock.set(friday - Duration::days(2));
        let (x, y, z) = tokio::join!(app.worker.run_once(), second.run_once(), third.run_once());
        // Write transactions take SQLite's write lock at BEGIN (`db::begin_write`), so
        // concurrent passes wait for each other instead of failing.
        for r in [x, y, z] {
            r.expect("a worker pass");
        }
        // Each worker finishes what it holds (a pass that failed may hold a lease).
        for _ in 0..20 {
            let mut n = 0;
            for w in [&app.worker, &second, &third] {
                n += w.run_once().await.unwrap();
            }
            if n == 0 {
                break;
            }
        }
        app.drain().await;
        let starts = meeting_starts(&org, &id).await;
        assert_eq!(
            starts,
            (0..=week)
                .map(|w| first_friday() + Duration::weeks(w))
                .collect::<Vec<_>>()
        );
        for name in INVITED {
            assert_eq!(notices(&org, name).await, week as usize + 1, "{name}");
        }
    }
}

/// A series made on Monday; on Wednesday a worker creates Friday's meeting through the create
/// path and dies before advancing the series. Creating it again is refused by the unique key.
/// The series' id.
async fn crashed_between_create_and_advance(org: &Org) -> i64 {
    let app = &org.app;
    let id: i64 = id(&create(org, study_day(org)).await).parse().unwrap();
    app.clock.set(wednesday());
    let row = meeting_series::Entity::find_by_id(id)
        .one(&app.core.db)
        .await
        .unwrap()
        .unwrap();
    let admin = members::Entity::find()
        .filter(members::Column::Username.eq(ADMIN_USER))
        .one(&app.core.db)
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
        kind: row.kind.as_str().to_string(),
        title: row.title.clone(),
        unit_id: row.unit_id,
        starts_at: first_friday(),
        ends_at: first_friday() + Duration::hours(3),
        place: row.place.clone(),
        agenda: Some(row.agenda.clone()),
        audience: row.audience.clone(),
        timezone: Some(row.timezone.clone()),
        ..Default::default()
    };
    meetings::create_in_series(&app.core, &actor, input.clone(), Some(id))
        .await
        .unwrap();
    let again = meetings::create_in_series(&app.core, &actor, input, Some(id))
        .await
        .unwrap_err();
    assert!(again.is_unique_violation(), "{again:?}");
    id
}

#[tokio::test]
async fn after_a_crash_between_create_and_advance_the_next_worker_only_advances() {
    let org = branch(monday()).await;
    let id = crashed_between_create_and_advance(&org).await.to_string();
    org.app.drain().await;
    assert_eq!(meeting_starts(&org, &id).await, vec![first_friday()]);
    let s = series(&org, &id).await;
    assert_eq!(time(&s["next_at"]), first_friday() + Duration::weeks(1));
    for name in INVITED {
        assert_eq!(notices(&org, name).await, 1, "{name}");
    }
}

#[tokio::test]
async fn an_advance_undone_after_the_insert_does_not_double_the_meeting() {
    let org = branch(monday()).await;
    let id = crashed_between_create_and_advance(&org).await;
    org.app.drain().await;
    // The advance undone by hand (a crash after the insert, before the CAS, which writes
    // `next_at` and `materialize_at` together).
    meeting_series::Entity::update_many()
        .col_expr(meeting_series::Column::NextAt, Expr::value(first_friday()))
        .col_expr(
            meeting_series::Column::MaterializeAt,
            Expr::value(first_friday() - Duration::days(3)),
        )
        .filter(meeting_series::Column::Id.eq(id))
        .exec(&org.app.core.db)
        .await
        .unwrap();
    org.app.drain().await;
    let id = id.to_string();
    assert_eq!(meeting_starts(&org, &id).await, vec![first_friday()]);
    let s = series(&org, &id).await;
    assert_eq!(time(&s["next_at"]), first_friday() + Duration::weeks(1));
}

/// Moves the clock to two days before each of the next three Fridays, draining each time.
async fn three_more_weeks(org: &Org) {
    for week in 1..=3 {
        let t = first_friday() + Duration::weeks(week) - Duration::days(2);
        org.app.clock.set(t);
        org.app.drain().await;
    }
}

#[tokio::test]
async fn count_ends_a_series() {
    let org = branch(wednesday()).await;
    let rule = format!("{STUDY_DAY};COUNT=2");
    let two = create(&org, study_day(&org).recurrence(&rule)).await;
    let id = id(&two);
    assert_eq!(two["upcoming"].as_array().unwrap().len(), 1);
    three_more_weeks(&org).await;
    // COUNT=2: two Fridays, then the rule has ended.
    assert_eq!(
        meeting_starts(&org, &id).await,
        vec![first_friday(), first_friday() + Duration::weeks(1)]
    );
    let s = series(&org, &id).await;
    assert_eq!(s["status"], "active");
    assert_eq!(s["next_at"], Value::Null);
    assert!(s["upcoming"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_canceled_series_makes_no_more_meetings_and_its_made_ones_are_canceled_on_their_own() {
    let org = branch(wednesday()).await;
    let app = &org.app;
    let stopped = create(&org, study_day(&org).title("周五读书会").place("图书室")).await;
    let stopped_id = id(&stopped);
    let kept = id(&stopped["meetings"][0]);

    let admin = org.admin().await;
    let url = format!("/api/v1/admin/meeting-series/{stopped_id}/cancel");
    let r = app.post(&url, &admin, json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "canceled");
    assert_eq!(r.body["next_at"], Value::Null);
    assert!(r.body["upcoming"].as_array().unwrap().is_empty());
    let r = app.post(&url, &admin, json!({})).await;
    assert_eq!(r.status, 409, "{:?}", r.body);

    // Its Friday meeting stays scheduled and is canceled on its own.
    let s = series(&org, &stopped_id).await;
    assert_eq!(s["meetings"][0]["status"], "scheduled");
    let r = app
        .post(
            &format!("/api/v1/admin/meetings/{kept}/cancel"),
            &admin,
            json!({"reason": "改为线上"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "canceled");

    three_more_weeks(&org).await;
    assert_eq!(
        meeting_starts(&org, &stopped_id).await,
        vec![first_friday()]
    );
}

#[tokio::test]
async fn bad_series_input_names_the_field() {
    let org = branch(wednesday()).await;
    let admin = org.admin().await;
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
        let body = merged(study_day(&org), extra.clone());
        let r = org
            .app
            .post("/api/v1/admin/meeting-series", &admin, body)
            .await;
        assert_eq!(r.status, 400, "{extra}: {:?}", r.body);
        assert_eq!(r.code(), "validation_failed");
        assert_eq!(r.detail_fields(), vec![field], "{extra}: {:?}", r.body);
    }
    // Daily is the limit, and it is fine.
    create(
        &org,
        study_day(&org).recurrence("FREQ=DAILY;BYHOUR=8;BYMINUTE=30"),
    )
    .await;
    let r = org
        .app
        .get("/api/v1/admin/meeting-series/999999", &admin)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn members_may_not_create_series() {
    let org = branch(wednesday()).await;
    let body = serde_json::to_value(study_day(&org)).unwrap();
    let r = org
        .app
        .post(
            "/api/v1/admin/meeting-series",
            &org.token("张三").await,
            body,
        )
        .await;
    assert_eq!(r.status, 403, "{:?}", r.body);
}

#[tokio::test]
async fn an_occurrence_that_cannot_be_created_is_skipped_and_the_series_goes_on() {
    let org = branch(monday()).await;
    let app = &org.app;
    let li = org.id("李四");
    let s = create(&org, study_day(&org).audience(Audience::members([&li]))).await;
    let id = id(&s);
    let member = format!("/api/v1/admin/members/{li}");

    // The only invitee leaves before the first Friday's notice time: nobody to invite.
    let r = app
        .patch(&member, &org.admin().await, json!({"active": false}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.clock.set(wednesday());
    app.drain().await;
    app.drain().await;
    assert!(meeting_starts(&org, &id).await.is_empty());
    let s = series(&org, &id).await;
    assert_eq!(time(&s["next_at"]), first_friday() + Duration::weeks(1));

    // Back the next week: that Friday's meeting is created as usual.
    let r = app
        .patch(&member, &org.admin().await, json!({"active": true}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.clock.set(utc(2026, 12, 9, 1, 0));
    app.drain().await;
    assert_eq!(
        meeting_starts(&org, &id).await,
        vec![first_friday() + Duration::weeks(1)]
    );
    assert_eq!(notices(&org, "李四").await, 1);
}
