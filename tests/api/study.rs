//! The study-hour ledger (issue 13, part 1): reading time credited by heartbeats within what
//! the server can vouch for, meetings and offline study, a member's year and a unit's, the CSV,
//! the targets, and who may do what.

use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::Org;
use crate::helpers::*;
use crate::requests::*;

async fn beat(app: &TestApp, token: &str, item: &str, session: &str, visible: i64) -> Resp {
    app.post(
        &format!("/api/v1/inbox/{item}/study"),
        token,
        json!({"session": session, "visible_seconds": visible}),
    )
    .await
}

fn credited(r: &Resp) -> (i64, i64) {
    assert_eq!(r.status, 200, "{:?}", r.body);
    (
        r.body["credited_seconds"].as_i64().unwrap(),
        r.body["total_seconds"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn reading_time_is_credited_only_as_far_as_the_server_can_vouch() {
    let org = Org::builder(spawn_app().await)
        .unit("支部", None)
        .member("党员一", "支部")
        .member("党员二", "支部")
        .post(NewPost::lesson("两分钟的学习").study(2))
        .signed_in(["党员一", "党员二"])
        .build()
        .await;
    let app = &org.app;
    let admin = org.admin().await;
    app.broadcast(&admin, Broadcast::to_unit(org.post(), org.unit("支部")))
        .await;
    app.drain().await;
    let t1 = org.token("党员一").await;
    let item = app.inbox(&t1).await[0]["id"].as_str().unwrap().to_string();

    // The first heartbeat of a session only starts its clock.
    let phone = "phone-aaaaaaaa";
    assert_eq!(credited(&beat(app, &t1, &item, phone, 30).await), (0, 0));
    app.clock.advance(Duration::seconds(30));
    assert_eq!(credited(&beat(app, &t1, &item, phone, 30).await), (30, 30));
    // Claiming more than the wall time since the last heartbeat earns the wall time.
    app.clock.advance(Duration::seconds(30));
    assert_eq!(credited(&beat(app, &t1, &item, phone, 600).await), (30, 60));
    // A second device open at the same time: the minutes the phone already counted once.
    let laptop = "laptop-bbbbbbbb";
    assert_eq!(credited(&beat(app, &t1, &item, laptop, 0).await), (0, 60));
    app.clock.advance(Duration::seconds(20));
    assert_eq!(credited(&beat(app, &t1, &item, phone, 20).await), (20, 80));
    assert_eq!(credited(&beat(app, &t1, &item, laptop, 20).await), (0, 80));
    // Hidden (the app in the background): nothing.
    app.clock.advance(Duration::seconds(20));
    assert_eq!(credited(&beat(app, &t1, &item, phone, 0).await), (0, 80));
    // The post's two study minutes are the most the item earns.
    app.clock.advance(Duration::seconds(60));
    let r = beat(app, &t1, &item, laptop, 60).await;
    assert_eq!(credited(&r), (40, 120));
    assert_eq!(r.body["limit_seconds"], 120);
    app.clock.advance(Duration::seconds(60));
    assert_eq!(credited(&beat(app, &t1, &item, laptop, 60).await), (0, 120));

    // Closed: a session's later heartbeats count nothing.
    let t2 = org.token("党员二").await;
    let item2 = app.inbox(&t2).await[0]["id"].as_str().unwrap().to_string();
    let s = "phone-cccccccc";
    beat(app, &t2, &item2, s, 0).await;
    app.clock.advance(Duration::seconds(15));
    let r = app
        .post(
            &format!("/api/v1/inbox/{item2}/study"),
            &t2,
            json!({"session": s, "visible_seconds": 15, "closed": true}),
        )
        .await;
    assert_eq!(credited(&r), (15, 15));
    app.clock.advance(Duration::seconds(15));
    assert_eq!(credited(&beat(app, &t2, &item2, s, 15).await), (0, 15));

    // Another member's item does not exist for this one; a bad key is named.
    assert_eq!(
        beat(app, &t2, &item, "phone-dddddddd", 10).await.status,
        404
    );
    let bad = beat(app, &t1, &item, "short", 10).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.detail_fields(), vec!["session"]);
    let bad = beat(app, &t1, &item, phone, 7200).await;
    assert_eq!(bad.detail_fields(), vec!["visible_seconds"]);

    // The year shows it.
    let year = app.get("/api/v1/me/study", &t1).await;
    assert_eq!(year.status, 200, "{:?}", year.body);
    assert_eq!(year.body["total_seconds"], 120);
    assert_eq!(year.body["lines"][0]["kind"], "reading");
    assert_eq!(year.body["lines"][0]["title"], "两分钟的学习");
}

#[tokio::test]
async fn a_units_year_counts_meetings_and_offline_study_and_says_who_is_behind() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .unit("支部乙", None)
        .secretary("书记甲", "支部甲")
        .secretary("书记乙", "支部乙")
        .member("党员一", "支部甲")
        .tagged("处长", "支部甲", &["领导干部"])
        .member("乙员", "支部乙")
        .lesson("学习材料")
        .signed_in(["党员一", "处长", "书记甲", "书记乙"])
        .build()
        .await;
    let app = &org.app;
    let unit = org.unit("支部甲").to_string();
    let sec = org.token("书记甲").await;

    // A two-hour Party lesson: 党员一 is recorded present; 处长 is not.
    let starts = app.clock_now() + Duration::hours(1);
    let m = app
        .post(
            "/api/v1/admin/meetings",
            &sec,
            json!({"kind": "party_lesson", "title": "十二月党课", "starts_at": rfc(starts),
                   "ends_at": rfc(starts + Duration::hours(2)), "place": "会议室",
                   "audience": {"unit_ids": [unit]}}),
        )
        .await;
    assert_eq!(m.status, 201, "{:?}", m.body);
    let meeting = id(&m.body);
    app.clock.advance(Duration::hours(1));
    let sec = org.token("书记甲").await;
    let admin = org.admin().await;
    let r = app
        .post(
            &format!("/api/v1/admin/meetings/{meeting}/attendance"),
            &sec,
            json!({"member_id": org.id("党员一"), "status": "present"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // Offline: a 90-minute course for 处长, recorded by the secretary, audited.
    let today = app.clock_now().date_naive().to_string();
    let rec = app
        .post(
            "/api/v1/admin/study/records",
            &sec,
            json!({"member_id": org.id("处长"), "kind": "course", "title": "审计业务培训",
                   "minutes": 90, "date": today, "note": "区委党校"}),
        )
        .await;
    assert_eq!(rec.status, 201, "{:?}", rec.body);
    let record = id(&rec.body);
    let audit = app
        .get("/api/v1/admin/audit?action=study.record", &admin)
        .await;
    assert_eq!(audit.body["items"][0]["actor_id"], json!(org.id("书记甲")));
    // Not for another unit's member, nor of a kind that is not offline.
    let r = app
        .post(
            "/api/v1/admin/study/records",
            &sec,
            json!({"member_id": org.id("乙员"), "kind": "course", "title": "x", "minutes": 10, "date": today}),
        )
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = app
        .post(
            "/api/v1/admin/study/records",
            &sec,
            json!({"member_id": org.id("处长"), "kind": "reading", "title": "x", "minutes": 10, "date": today}),
        )
        .await;
    assert_eq!(r.detail_fields(), vec!["kind"]);

    // 党员一's own year: the lesson's two hours against 32; 处长's target is 56 (领导干部).
    let t1 = org.token("党员一").await;
    let mine = app.get("/api/v1/me/study", &t1).await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    assert_eq!(mine.body["target_minutes"], 32 * 60);
    assert_eq!(mine.body["total_minutes"], 120);
    assert_eq!(mine.body["remaining_minutes"], 32 * 60 - 120);
    assert_eq!(mine.body["lines"][0]["kind"], "meeting");
    let boss = app
        .get(
            &format!("/api/v1/admin/members/{}/study", org.id("处长")),
            &sec,
        )
        .await;
    assert_eq!(boss.body["target_minutes"], 56 * 60, "{:?}", boss.body);
    assert_eq!(boss.body["total_minutes"], 90);
    assert_eq!(boss.body["lines"][0]["note"], "区委党校");

    // The unit's year: everyone of 支部甲 (none of 支部乙), furthest behind first.
    let year = app
        .get(&format!("/api/v1/admin/study?unit_id={unit}"), &sec)
        .await;
    assert_eq!(year.status, 200, "{:?}", year.body);
    let names: Vec<&str> = year.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(!names.contains(&"乙员"));
    assert_eq!(
        names[0], "处长",
        "the highest target, the least done: {names:?}"
    );
    let csv = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/study.csv?unit_id={unit}"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.body.as_str().unwrap().to_string();
    assert!(
        text.starts_with("\u{feff}姓名,单位,年度,目标学时,已完成学时"),
        "{text}"
    );
    assert!(
        text.contains("党员一,支部甲,") && text.contains(",32.0,2.0,30.0,"),
        "{text}"
    );

    // Another unit's secretary sees none of it.
    let other = org.token("书记乙").await;
    let r = app
        .get(&format!("/api/v1/admin/study?unit_id={unit}"), &other)
        .await;
    assert_eq!(r.detail_fields(), vec!["unit_id"]);
    let r = app
        .get(
            &format!("/api/v1/admin/members/{}/study", org.id("党员一")),
            &other,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/admin/study/records/{record}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, 404);

    // The record removed by its unit's secretary: gone from the year, audited.
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/admin/study/records/{record}"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let boss = app
        .get(
            &format!("/api/v1/admin/members/{}/study", org.id("处长")),
            &sec,
        )
        .await;
    assert_eq!(boss.body["total_minutes"], 0);
    let audit = app
        .get("/api/v1/admin/audit?action=study.remove", &admin)
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);

    // Targets: an admin's to change; the year follows.
    let put = |token: String, body: Value| async move {
        app.request(
            Method::PUT,
            "/api/v1/admin/study/targets",
            Some(&token),
            Some(body),
        )
        .await
    };
    let r = put(sec.clone(), json!({"default_minutes": 600})).await;
    assert_eq!(r.status, 403);
    let r = put(
        admin.clone(),
        json!({"default_minutes": 40 * 60, "roles": {"secretary": 50 * 60}, "tags": {"领导干部": 60 * 60}}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["tags"]["领导干部"], 3600);
    let mine = app.get("/api/v1/me/study", &t1).await;
    assert_eq!(mine.body["target_minutes"], 40 * 60);
    let r = put(
        admin.clone(),
        json!({"default_minutes": 40 * 60, "roles": {"emperor": 1}}),
    )
    .await;
    assert_eq!(r.detail_fields(), vec!["roles"]);
}

#[tokio::test]
async fn required_reading_not_done_is_listed_with_its_deadline() {
    let org = Org::builder(spawn_app().await)
        .unit("支部", None)
        .member("党员一", "支部")
        .lesson("必读材料")
        .signed_in(["党员一"])
        .build()
        .await;
    let app = &org.app;
    let admin = org.admin().await;
    let read_by = app.clock_now() + Duration::days(7);
    let r = app
        .post(
            "/api/v1/admin/broadcasts",
            &admin,
            json!({"post_id": org.post(), "audience": {"unit_ids": [org.unit("支部")]},
                   "read_by": rfc(read_by)}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    app.drain().await;
    let t1 = org.token("党员一").await;
    let year = app.get("/api/v1/me/study", &t1).await;
    assert_eq!(
        year.body["required"][0]["title"], "必读材料",
        "{:?}",
        year.body
    );
    assert_eq!(year.body["required"][0]["overdue"], false);
    let item = year.body["required"][0]["item_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.read(&t1, &item).await;
    let year = app.get("/api/v1/me/study", &t1).await;
    assert_eq!(year.body["required"], json!([]));

    // Two required items: the sooner deadline first, whichever was sent first.
    let later = app.create_post(&admin, "年底必读").await;
    let soon = app.create_post(&admin, "急读材料").await;
    for (post, days) in [(&later, 20), (&soon, 2)] {
        let r = app
            .post(
                "/api/v1/admin/broadcasts",
                &admin,
                json!({"post_id": post, "audience": {"unit_ids": [org.unit("支部")]},
                       "read_by": rfc(app.clock_now() + Duration::days(days))}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    app.drain().await;
    let year = app.get("/api/v1/me/study", &t1).await;
    let titles: Vec<&str> = year.body["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["急读材料", "年底必读"]);
}

#[tokio::test]
async fn twenty_devices_reporting_at_once_count_the_same_half_minute_once() {
    let org = Org::builder(spawn_app().await)
        .unit("支部", None)
        .member("党员一", "支部")
        .lesson("一起读")
        .signed_in(["党员一"])
        .build()
        .await;
    let app = &org.app;
    let admin = org.admin().await;
    app.broadcast(&admin, Broadcast::to_unit(org.post(), org.unit("支部")))
        .await;
    app.drain().await;
    let t1 = org.token("党员一").await;
    let item = app.inbox(&t1).await[0]["id"].as_str().unwrap().to_string();
    let sessions: Vec<String> = (0..20).map(|i| format!("device-{i:04}")).collect();
    for s in &sessions {
        assert_eq!(credited(&beat(app, &t1, &item, s, 0).await).0, 0);
    }
    app.clock.advance(Duration::seconds(30));
    let beats = sessions.iter().map(|s| beat(app, &t1, &item, s, 30));
    let answers = futures_util::future::join_all(beats).await;
    let earned: i64 = answers.iter().map(|r| credited(r).0).sum();
    assert_eq!(
        earned, 30,
        "the half minute is counted once, whichever device counts it"
    );
    let year = app.get("/api/v1/me/study", &t1).await;
    assert_eq!(year.body["total_seconds"], 30);
}
