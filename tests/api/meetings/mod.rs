//! Meetings through HTTP with the clock moved by hand: notice, answers, a change of time,
//! reminders (also after a worker "restart"), check-in with rotating codes, manual attendance,
//! quorum, minutes, make-up study, the CSV export, lists and the yearly summary.
//!
//! The branch: six members of 一科, who are invited (张三 and 李四 are on the committee, 王五
//! is a probationary member), and 赵六 of 二科, who is not.

mod answers;
mod check_in;
mod notices;
mod quorum;
mod record;
mod reminders;
mod rules;
mod story;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

/// Monday 7 December 2026, 09:00 in Shanghai: the secretary sends the notice.
fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 1, 0, 0).unwrap()
}

/// Thursday 10 December 2026, 14:00 in Shanghai: the general meeting, until 16:00.
fn thursday_afternoon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 10, 6, 0, 0).unwrap()
}

/// The members of 一科 and their tags.
const SEC1: [(&str, &[&str]); 6] = [
    ("张三", &["支委"]),
    ("李四", &["支委"]),
    ("王五", &["预备党员"]),
    ("钱七", &[]),
    ("孙八", &[]),
    ("周九", &[]),
];

const LEAVE_REASON: &str = "在外地审计现场";

/// The branch on Monday morning, everyone signed in; the lesson "学习党章".
async fn branch() -> Org {
    let mut org = Org::branch(spawn_app().await).at(monday_morning());
    for (name, tags) in SEC1 {
        org = org.tagged(name, SECTION_1, tags);
    }
    org.member("赵六", SECTION_2)
        .lesson("学习党章")
        .everyone_signed_in()
        .build()
        .await
}

/// The general meeting of 一科, two hours from `starts`, with the lesson as its make-up study.
fn general_meeting(org: &Org, starts: DateTime<Utc>) -> Meeting {
    Meeting::new(
        "general_meeting",
        "第四季度党员大会",
        org.unit(SECTION_1),
        starts,
        starts + Duration::hours(2),
    )
    .place("三楼会议室")
    .agenda("1. 学习党章\n2. 发展党员")
    .lesson(org.post())
}

/// A meeting of `kind` of 一科 from `starts`, for an hour, without reminders.
fn an_hour_from(org: &Org, kind: &str, starts: DateTime<Utc>) -> Meeting {
    Meeting::new(
        kind,
        "支委会",
        org.unit(SECTION_1),
        starts,
        starts + Duration::hours(1),
    )
    .place("书记办公室")
    .reminders(&[])
}

/// The general meeting on Thursday afternoon, its notice sent; its id.
async fn thursdays_meeting(org: &Org) -> String {
    let m = org
        .app
        .meeting(
            &org.admin().await,
            general_meeting(org, thursday_afternoon()),
        )
        .await;
    org.app.drain().await;
    id(&m)
}

/// 张三 attends; 李四 is on leave, with a reason; the others do not answer.
async fn answer_as_usual(org: &Org, id: &str) {
    let r = answer(org, id, "张三", json!({"answer": "attending"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let leave = json!({"answer": "leave", "reason": LEAVE_REASON});
    let r = answer(org, id, "李四", leave).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Moves the clock to `t`.
fn set(org: &Org, t: DateTime<Utc>) {
    org.app.clock.set(t);
}

async fn record(org: &Org, id: &str) -> Value {
    let path = format!("/api/v1/admin/meetings/{id}");
    let r = org.app.get(&path, &org.admin().await).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// The check-in code the organiser shows now.
async fn code(org: &Org, id: &str) -> String {
    let path = format!("/api/v1/admin/meetings/{id}/checkin-code");
    let r = org.app.get(&path, &org.admin().await).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["code"].as_str().unwrap().to_string()
}

async fn check_in(org: &Org, id: &str, name: &str, code: &str) -> Resp {
    let path = format!("/api/v1/meetings/{id}/check-in");
    let t = org.token(name).await;
    org.app.post(&path, &t, json!({ "code": code })).await
}

/// The member checks in with the code shown now.
async fn check_in_now(org: &Org, id: &str, name: &str) -> Resp {
    let c = code(org, id).await;
    check_in(org, id, name, &c).await
}

/// The organiser records the member's attendance by hand.
async fn attendance(org: &Org, id: &str, member_id: &str, status: &str) -> Resp {
    let path = format!("/api/v1/admin/meetings/{id}/attendance");
    let body = json!({"member_id": member_id, "status": status});
    org.app.post(&path, &org.admin().await, body).await
}

async fn answer(org: &Org, id: &str, name: &str, body: Value) -> Resp {
    let path = format!("/api/v1/meetings/{id}/answer");
    org.app.post(&path, &org.token(name).await, body).await
}

async fn put_minutes(org: &Org, id: &str, minutes: &str) -> Resp {
    org.app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/meetings/{id}/minutes"),
            Some(&org.admin().await),
            Some(json!({ "minutes_md": minutes })),
        )
        .await
}

async fn make_up(org: &Org, id: &str) -> Resp {
    let path = format!("/api/v1/admin/meetings/{id}/make-up");
    org.app.post(&path, &org.admin().await, json!({})).await
}

/// The member's `meeting` items in the inbox, newest first.
async fn meeting_items(org: &Org, name: &str) -> Vec<Value> {
    org.inbox(name)
        .await
        .into_iter()
        .filter(|i| i["kind"] == "meeting")
        .collect()
}

async fn count(org: &Org, name: &str) -> usize {
    meeting_items(org, name).await.len()
}

/// The title of the member's newest meeting item.
async fn newest_title(org: &Org, name: &str) -> String {
    meeting_items(org, name).await[0]["title"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The ids of the meeting's broadcasts of `purpose` in `status`.
fn broadcast_ids(record: &Value, purpose: &str, status: &str) -> Vec<String> {
    record["broadcasts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["purpose"] == purpose && b["status"] == status)
        .map(|b| b["broadcast_id"].as_str().unwrap().to_string())
        .collect()
}

/// Thursday's meeting held and over: 张三 attending, 李四 on leave; 张三 and 王五 checked in
/// with the code five minutes before the start; a quarter of an hour after it, 孙八 late by
/// code and 钱七 late by hand; 周九 never came. The clock is a minute past the end.
async fn held_meeting(org: &Org) -> String {
    let starts = thursday_afternoon();
    let id = thursdays_meeting(org).await;
    answer_as_usual(org, &id).await;
    set(org, starts - Duration::minutes(5));
    for name in ["张三", "王五"] {
        let r = check_in_now(org, &id, name).await;
        assert_eq!(r.body["attendance"], "present", "{name}: {:?}", r.body);
    }
    set(org, starts + Duration::minutes(15));
    let r = check_in_now(org, &id, "孙八").await;
    assert_eq!(r.body["attendance"], "late", "{:?}", r.body);
    let r = attendance(org, &id, &org.id("钱七"), "late").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    set(org, starts + Duration::hours(2) + Duration::minutes(1));
    id
}
