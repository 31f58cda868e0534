//! Meetings through HTTP with the clock moved by hand: notice, answers, a change of time,
//! reminders (also after a worker "restart"), check-in with rotating codes, manual attendance,
//! quorum, minutes, make-up study, the CSV export, lists and the yearly summary.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

/// Monday 7 December 2026, 09:00 in Shanghai: the secretary sends the notice.
fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 1, 0, 0).unwrap()
}

/// Thursday 10 December 2026, 14:00 in Shanghai.
fn thursday_afternoon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 10, 6, 0, 0).unwrap()
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

struct Branch {
    app: TestApp,
    admin: std::sync::Mutex<String>,
    unit: String,
    other_unit: String,
    lesson: String,
    people: Vec<(String, Value)>,
    tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl Branch {
    fn member(&self, name: &str) -> &Value {
        &self.people.iter().find(|p| p.0 == name).unwrap().1
    }
    fn id(&self, name: &str) -> String {
        self.member(name)["id"].as_str().unwrap().to_string()
    }
    fn token(&self, name: &str) -> String {
        self.tokens.lock().unwrap()[name].clone()
    }

    fn admin(&self) -> String {
        self.admin.lock().unwrap().clone()
    }

    /// Fresh tokens for everyone after the clock jumped past their expiry.
    async fn relogin(&self) {
        let admin = self.app.admin_token().await;
        *self.admin.lock().unwrap() = admin;
        for (name, m) in &self.people {
            let t = self.app.member_token(m).await;
            self.tokens.lock().unwrap().insert(name.clone(), t);
        }
    }

    async fn inbox(&self, name: &str) -> Vec<Value> {
        let r = self
            .app
            .get("/api/v1/inbox?limit=100", &self.token(name))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["items"].as_array().unwrap().clone()
    }

    async fn meeting_items(&self, name: &str) -> Vec<Value> {
        self.inbox(name)
            .await
            .into_iter()
            .filter(|i| i["kind"] == "meeting")
            .collect()
    }

    async fn create_meeting(&self, body: Value) -> Value {
        let r = self
            .app
            .post("/api/v1/admin/meetings", &self.admin(), body)
            .await;
        assert_eq!(r.status, 201, "create meeting: {:?}", r.body);
        r.body
    }

    async fn record(&self, id: &str) -> Value {
        let r = self
            .app
            .get(&format!("/api/v1/admin/meetings/{id}"), &self.admin())
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    }

    async fn code(&self, id: &str) -> String {
        let r = self
            .app
            .get(
                &format!("/api/v1/admin/meetings/{id}/checkin-code"),
                &self.admin(),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["code"].as_str().unwrap().to_string()
    }

    async fn check_in(&self, id: &str, name: &str, code: &str) -> Resp {
        self.app
            .post(
                &format!("/api/v1/meetings/{id}/check-in"),
                &self.token(name),
                json!({"code": code}),
            )
            .await
    }

    async fn answer(&self, id: &str, name: &str, body: Value) -> Resp {
        self.app
            .post(
                &format!("/api/v1/meetings/{id}/answer"),
                &self.token(name),
                body,
            )
            .await
    }
}

const SEC1: [(&str, &[&str]); 6] = [
    ("张三", &["支委"]),
    ("李四", &["支委"]),
    ("王五", &["预备党员"]),
    ("钱七", &[]),
    ("孙八", &[]),
    ("周九", &[]),
];

async fn branch() -> Branch {
    let app = spawn_app().await;
    app.clock.set(monday_morning());
    let admin = app.admin_token().await;
    let root = app.create_unit(&admin, "第一党支部", None).await;
    let unit = app.create_unit(&admin, "审计一科", Some(&root)).await;
    let other_unit = app.create_unit(&admin, "审计二科", Some(&root)).await;
    let mut people = vec![];
    for (name, tags) in SEC1 {
        let m = app
            .create_member(&admin, json!({"name": name, "unit_id": unit, "tags": tags}))
            .await;
        people.push((name.to_string(), m));
    }
    let m = app
        .create_member(&admin, json!({"name": "赵六", "unit_id": other_unit}))
        .await;
    people.push(("赵六".into(), m));
    let lesson = app.create_post(&admin, "学习党章").await;
    let b = Branch {
        app,
        admin: std::sync::Mutex::new(admin),
        unit,
        other_unit,
        lesson,
        people,
        tokens: Default::default(),
    };
    b.relogin().await;
    b
}

fn general_meeting(b: &Branch, starts: DateTime<Utc>) -> Value {
    json!({
        "kind": "general_meeting",
        "title": "第四季度党员大会",
        "unit_id": b.unit,
        "starts_at": rfc(starts),
        "ends_at": rfc(starts + Duration::hours(2)),
        "place": "三楼会议室",
        "agenda": "1. 学习党章\n2. 发展党员",
        "audience": {"unit_ids": [b.unit]},
        "post_id": b.lesson,
    })
}

fn broadcast_ids(record: &Value, purpose: &str, status: &str) -> Vec<String> {
    record["broadcasts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["purpose"] == purpose && b["status"] == status)
        .map(|b| b["broadcast_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_general_meeting_from_notice_to_record() {
    let b = branch().await;
    let app = &b.app;
    let starts = thursday_afternoon();
    let m = b.create_meeting(general_meeting(&b, starts)).await;
    let id = m["id"].as_str().unwrap().to_string();
    assert_eq!(m["status"], "scheduled");
    assert_eq!(m["reminder_offsets"], json!([1440, 60]));
    app.drain().await;

    // The notice: every invitee has one `meeting` item; 赵六 (another section) none.
    for (name, _) in SEC1 {
        let items = b.meeting_items(name).await;
        assert_eq!(items.len(), 1, "{name}: {items:?}");
        assert!(
            items[0]["title"]
                .as_str()
                .unwrap()
                .contains("第四季度党员大会")
        );
    }
    assert!(b.meeting_items("赵六").await.is_empty());
    let mine = app.get("/api/v1/meetings", &b.token("张三")).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["items"][0]["answer"], "none");
    assert!(
        app.get("/api/v1/meetings", &b.token("赵六")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Answers.
    let r = b.answer(&id, "张三", json!({"answer": "attending"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["answer"], "attending");
    let r = b.answer(&id, "李四", json!({"answer": "leave"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_failed");
    assert_eq!(r.detail_fields(), vec!["reason"]);
    let r = b
        .answer(&id, "李四", json!({"answer": "leave", "reason": "  "}))
        .await;
    assert_eq!(r.detail_fields(), vec!["reason"]);
    let r = b
        .answer(
            &id,
            "李四",
            json!({"answer": "leave", "reason": "在外地审计现场"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = b.answer(&id, "张三", json!({"answer": "maybe"})).await;
    assert_eq!(r.detail_fields(), vec!["answer"]);
    let r = b.answer(&id, "赵六", json!({"answer": "attending"})).await;
    assert_eq!(r.status, 404, "a non-invitee: {:?}", r.body);

    let rec = b.record(&id).await;
    assert_eq!(
        rec["counts"],
        json!({"invited": 6, "attending": 1, "leave": 1, "no_answer": 4, "present": 0, "late": 0, "absent": 5}),
        "leave is excused, not counted as absent"
    );
    let li = rec["invitees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "李四")
        .unwrap();
    assert_eq!(li["answer"], "leave");
    assert_eq!(li["reason"], "在外地审计现场");
    let first_reminders = broadcast_ids(&rec, "reminder", "scheduled");
    assert_eq!(first_reminders.len(), 2, "{:?}", rec["broadcasts"]);
    assert_eq!(broadcast_ids(&rec, "nudge", "scheduled").len(), 2);

    // The time moves one hour later: invitees hear again, urgently; the reminders move.
    let starts = starts + Duration::hours(1);
    let r = app
        .patch(
            &format!("/api/v1/admin/meetings/{id}"),
            &b.admin(),
            json!({"starts_at": rfc(starts), "ends_at": rfc(starts + Duration::hours(2))}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.drain().await;
    for (name, _) in SEC1 {
        assert_eq!(b.meeting_items(name).await.len(), 2, "{name}");
    }
    assert!(b.meeting_items("赵六").await.is_empty());
    let rec = b.record(&id).await;
    let change = broadcast_ids(&rec, "change", "sent");
    assert_eq!(change.len(), 1, "{:?}", rec["broadcasts"]);
    let bc = app
        .get(
            &format!("/api/v1/admin/broadcasts/{}", change[0]),
            &b.admin(),
        )
        .await;
    assert_eq!(bc.body["urgent"], true);
    assert_eq!(bc.body["stats"]["recipients"], 6);
    assert_eq!(broadcast_ids(&rec, "reminder", "canceled"), first_reminders);
    let moved = broadcast_ids(&rec, "reminder", "scheduled");
    assert_eq!(moved.len(), 2);
    let bc = app
        .get(
            &format!("/api/v1/admin/broadcasts/{}", moved[0]),
            &b.admin(),
        )
        .await;
    assert_eq!(
        bc.body["next_run_at"].as_str().unwrap(),
        (starts - Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );

    // The day before: a reminder to 张三 (attending), a nudge to those who have not answered,
    // nothing to 李四 (leave). Once each, however often the workers run.
    app.clock
        .set(starts - Duration::days(1) + Duration::minutes(1));
    b.relogin().await;
    app.drain().await;
    app.drain().await;
    assert_eq!(b.count("张三").await, 3);
    assert!(
        b.meeting_items("张三").await[0]["title"]
            .as_str()
            .unwrap()
            .starts_with("会议提醒")
    );
    assert_eq!(b.count("李四").await, 2);
    for name in ["王五", "钱七", "孙八", "周九"] {
        assert_eq!(b.count(name).await, 3, "{name}");
        assert!(
            b.meeting_items(name).await[0]["title"]
                .as_str()
                .unwrap()
                .starts_with("请回复")
        );
    }
    assert_eq!(b.count("赵六").await, 0);

    // An hour before, with a freshly started worker (as after a restart): the second round.
    app.clock.set(starts - Duration::minutes(59));
    b.relogin().await;
    let fresh = app.fanout_worker(1);
    while fresh.run_once().await.unwrap() > 0 {}
    app.drain().await;
    assert_eq!(b.count("张三").await, 4);
    assert_eq!(b.count("李四").await, 2);
    assert_eq!(b.count("周九").await, 4);
    while fresh.run_once().await.unwrap() > 0 {}
    app.drain().await;
    assert_eq!(b.count("张三").await, 4, "once each");

    // Check-in. 40 minutes before the start it is not open yet.
    app.clock.set(starts - Duration::minutes(40));
    b.relogin().await;
    let code = b.code(&id).await;
    let r = b.check_in(&id, "张三", &code).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(r.code(), "conflict");

    // Another meeting at the same time, whose code must not work here.
    let other = b
        .create_meeting(json!({
            "kind": "group_meeting", "title": "二科党小组会", "unit_id": b.other_unit,
            "starts_at": rfc(starts), "ends_at": rfc(starts + Duration::hours(1)),
            "online_link": "https://meeting.example/abc",
            "audience": {"unit_ids": [b.other_unit]},
        }))
        .await;
    let other_id = other["id"].as_str().unwrap().to_string();

    app.clock.set(starts - Duration::minutes(5));

    b.relogin().await;
    let code = b.code(&id).await;
    assert_eq!(code.len(), 6);
    let foreign = b.code(&other_id).await;
    assert_ne!(foreign, code);
    let r = b.check_in(&id, "张三", &foreign).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.detail_fields(), vec!["code"]);
    let r = b.check_in(&id, "张三", &code).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["attendance"], "present");
    // Thirty seconds on, the previous code still works; a minute on, it has expired.
    app.clock.advance(Duration::seconds(30));
    let r = b.check_in(&id, "王五", &code).await;
    assert_eq!(r.status, 200, "previous code: {:?}", r.body);
    assert_eq!(r.body["attendance"], "present");
    app.clock.advance(Duration::seconds(30));
    let r = b.check_in(&id, "周九", &code).await;
    assert_eq!(r.status, 400, "expired code: {:?}", r.body);
    assert_eq!(r.code(), "validation_failed");
    let r = b.check_in(&id, "赵六", &b.code(&id).await).await;
    assert_eq!(r.status, 404, "not invited");

    // Quorum not held yet: 1 of 5 voting members (王五 is probationary).
    let rec = b.record(&id).await;
    assert_eq!(
        rec["quorum"],
        json!({"rule": "general_meeting", "eligible": 5, "present": 1, "required": 3, "held": false})
    );

    // A quarter of an hour after the start: late by code, late by hand; answers are closed.
    app.clock.set(starts + Duration::minutes(15));
    b.relogin().await;
    let r = b.check_in(&id, "孙八", &b.code(&id).await).await;
    assert_eq!(r.body["attendance"], "late");
    let r = app
        .post(
            &format!("/api/v1/admin/meetings/{id}/attendance"),
            &b.admin(),
            json!({"member_id": b.id("钱七"), "status": "late"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["check_in_method"], "manual");
    let r = app
        .post(
            &format!("/api/v1/admin/meetings/{id}/attendance"),
            &b.admin(),
            json!({"member_id": b.id("赵六"), "status": "present"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["member_id"]);
    let r = app
        .post(
            &format!("/api/v1/admin/meetings/{id}/attendance"),
            &b.admin(),
            json!({"member_id": b.id("周九"), "status": "asleep"}),
        )
        .await;
    assert_eq!(r.detail_fields(), vec!["status"]);
    let r = b.answer(&id, "周九", json!({"answer": "attending"})).await;
    assert_eq!(r.status, 409, "answer after the start: {:?}", r.body);

    let rec = b.record(&id).await;
    assert_eq!(
        rec["quorum"],
        json!({"rule": "general_meeting", "eligible": 5, "present": 3, "required": 3, "held": true})
    );
    assert_eq!(rec["counts"]["present"], 2);
    assert_eq!(rec["counts"]["late"], 2);
    assert_eq!(rec["counts"]["absent"], 1, "李四 is on leave, not absent");

    // Minutes and make-up only once it has ended.
    let minutes = json!({"minutes_md": "# 会议记录\n\n应到6人，实到4人。"});
    let r = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/meetings/{id}/minutes"),
            Some(&b.admin()),
            Some(minutes.clone()),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    let r = app
        .post(
            &format!("/api/v1/admin/meetings/{id}/make-up"),
            &b.admin(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);

    app.clock
        .set(starts + Duration::hours(2) + Duration::minutes(1));

    b.relogin().await;
    let r = b.check_in(&id, "周九", &b.code_or_empty(&id).await).await;
    assert_eq!(r.status, 409, "after the end: {:?}", r.body);
    let r = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/meetings/{id}/minutes"),
            Some(&b.admin()),
            Some(minutes),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["minutes_md"].as_str().unwrap().contains("实到4人"));

    // Make-up study: the lesson to 李四 (leave) and 周九 (absent), nobody else.
    let r = app
        .post(
            &format!("/api/v1/admin/meetings/{id}/make-up"),
            &b.admin(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["recipients"], 2);
    app.drain().await;
    for (name, _) in SEC1 {
        let lesson: Vec<Value> = b
            .inbox(name)
            .await
            .into_iter()
            .filter(|i| i["post_id"] == b.lesson.as_str())
            .collect();
        let expected = usize::from(name == "李四" || name == "周九");
        assert_eq!(lesson.len(), expected, "{name}");
        if expected == 1 {
            let rb = DateTime::parse_from_rfc3339(lesson[0]["read_by"].as_str().unwrap()).unwrap();
            assert_eq!(rb.with_timezone(&Utc), app.clock_now() + Duration::days(7));
        }
    }

    // The CSV export, opened back.
    let resp = app
        .http
        .get(format!(
            "{}/api/v1/admin/meetings/{id}/attendance.csv",
            app.base
        ))
        .bearer_auth(b.admin())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{FEFF}".as_bytes()), "BOM");
    let mut rdr = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        vec![
            "姓名",
            "单位",
            "回复",
            "请假原因",
            "签到",
            "签到时间",
            "方式"
        ]
    );
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 6);
    let row = |n: &str| rows.iter().find(|r| r[0] == n).unwrap().clone();
    assert_eq!(row("张三")[1], "审计一科");
    assert_eq!(row("张三")[2], "参加");
    assert_eq!(row("张三")[4], "已签到");
    assert_eq!(row("张三")[6], "签到码");
    assert_eq!(row("李四")[2], "请假");
    assert_eq!(row("李四")[3], "在外地审计现场");
    assert_eq!(row("李四")[4], "请假", "on leave, not absent");
    assert_eq!(row("钱七")[4], "迟到");
    assert_eq!(row("钱七")[6], "手工登记");
    assert_eq!(row("周九")[2], "未回复");

    // Lists: it is now in 张三's past; the year's summary counts it in Q4 / December.
    let up = app
        .get("/api/v1/meetings?when=upcoming", &b.token("张三"))
        .await;
    assert!(
        up.body["items"].as_array().unwrap().is_empty(),
        "{:?}",
        up.body
    );
    let past = app
        .get("/api/v1/meetings?when=past", &b.token("张三"))
        .await;
    assert_eq!(past.body["items"][0]["id"], id.as_str());
    assert_eq!(past.body["items"][0]["attendance"], "present");
    let r = app
        .get("/api/v1/meetings?when=soon", &b.token("张三"))
        .await;
    assert_eq!(r.detail_fields(), vec!["when"]);
    let list = app
        .get(
            &format!("/api/v1/admin/meetings?unit_id={}&year=2026", b.unit),
            &b.admin(),
        )
        .await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let s = app
        .get("/api/v1/admin/meetings/summary?year=2026", &b.admin())
        .await;
    assert_eq!(s.status, 200, "{:?}", s.body);
    let general = s.body["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "general_meeting")
        .unwrap()
        .clone();
    assert_eq!(general["total"], 1);
    assert_eq!(general["held"], 1);
    assert_eq!(general["quarters"], json!([0, 0, 0, 1]));
    assert_eq!(general["months"][11], 1);
    let group = s.body["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "group_meeting")
        .unwrap()
        .clone();
    assert_eq!(group["total"], 1);
}

impl Branch {
    async fn count(&self, name: &str) -> usize {
        self.meeting_items(name).await.len()
    }

    /// The current code, or an empty string once the organiser can no longer get one.
    async fn code_or_empty(&self, id: &str) -> String {
        let r = self
            .app
            .get(
                &format!("/api/v1/admin/meetings/{id}/checkin-code"),
                &self.admin(),
            )
            .await;
        r.body["code"].as_str().unwrap_or("000000").to_string()
    }
}

#[tokio::test]
async fn canceling_stops_reminders_and_tells_invitees_urgently() {
    let b = branch().await;
    let app = &b.app;
    let starts = thursday_afternoon();
    let m = b.create_meeting(general_meeting(&b, starts)).await;
    let id = m["id"].as_str().unwrap().to_string();
    app.drain().await;
    let r = app
        .post(
            &format!("/api/v1/admin/meetings/{id}/cancel"),
            &b.admin(),
            json!({"reason": "上级检查改期"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "canceled");
    app.drain().await;
    assert_eq!(b.count("张三").await, 2);
    let rec = b.record(&id).await;
    assert!(broadcast_ids(&rec, "reminder", "scheduled").is_empty());
    assert_eq!(broadcast_ids(&rec, "reminder", "canceled").len(), 2);
    let cancel = broadcast_ids(&rec, "cancel", "sent");
    let bc = app
        .get(
            &format!("/api/v1/admin/broadcasts/{}", cancel[0]),
            &b.admin(),
        )
        .await;
    assert_eq!(bc.body["urgent"], true);
    // No reminder ever arrives; answers and a second cancel are conflicts.
    app.clock.set(starts - Duration::minutes(30));
    b.relogin().await;
    app.drain().await;
    assert_eq!(b.count("张三").await, 2);
    let r = b.answer(&id, "张三", json!({"answer": "attending"})).await;
    assert_eq!(r.status, 409);
    let r = app
        .post(
            &format!("/api/v1/admin/meetings/{id}/cancel"),
            &b.admin(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn quorum_rules_per_kind_and_bad_input() {
    let b = branch().await;
    let app = &b.app;
    let starts = thursday_afternoon();
    let base = |kind: &str| {
        json!({
            "kind": kind, "title": "支委会", "unit_id": b.unit,
            "starts_at": rfc(starts), "ends_at": rfc(starts + Duration::hours(1)),
            "place": "书记办公室", "audience": {"unit_ids": [b.unit]}, "reminder_offsets": [],
        })
    };
    let committee = b.create_meeting(base("committee_meeting")).await;
    let cid = committee["id"].as_str().unwrap().to_string();
    let lesson = b.create_meeting(base("party_lesson")).await;
    let lid = lesson["id"].as_str().unwrap().to_string();
    app.clock.set(starts);
    b.relogin().await;
    let code = b.code(&cid).await;
    assert_eq!(b.check_in(&cid, "张三", &code).await.status, 200);
    // Committee members are 张三 and 李四: one of two is not more than half.
    let q = b.record(&cid).await["quorum"].clone();
    assert_eq!(
        q,
        json!({"rule": "committee_meeting", "eligible": 2, "present": 1, "required": 2, "held": false})
    );
    assert_eq!(b.check_in(&cid, "李四", &code).await.status, 200);
    assert_eq!(b.record(&cid).await["quorum"]["held"], true);
    assert_eq!(b.record(&lid).await["quorum"], json!({"rule": "none"}));
    // Make-up without a linked lesson is a conflict, even after the end.
    app.clock.set(starts + Duration::hours(2));
    b.relogin().await;
    let r = app
        .post(
            &format!("/api/v1/admin/meetings/{lid}/make-up"),
            &b.admin(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);

    // Bad input: each a 400 naming the field.
    let admin = b.admin();
    let now = app.clock_now();
    for (patch, field) in [
        (json!({"kind": "party"}), "kind"),
        (json!({"title": " "}), "title"),
        (json!({"place": null}), "place"),
        (
            json!({"ends_at": rfc(now + Duration::hours(20))}),
            "ends_at",
        ),
        (
            json!({"starts_at": rfc(now - Duration::hours(1))}),
            "starts_at",
        ),
        (json!({"reminder_offsets": [0]}), "reminder_offsets"),
        (json!({"online_link": "ftp://x"}), "online_link"),
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"audience": {"tags": ["没有这个标签"]}}), "audience"),
    ] {
        let mut body = base("general_meeting");
        body["starts_at"] = json!(rfc(now + Duration::days(1)));
        body["ends_at"] = json!(rfc(now + Duration::days(1) + Duration::hours(1)));
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post("/api/v1/admin/meetings", &admin, body).await;
        assert_eq!(r.status, 400, "{field}: {:?}", r.body);
        assert_eq!(r.code(), "validation_failed");
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{field}: {:?}",
            r.body
        );
    }
    // Members cannot manage meetings; an id that names nothing is a 404.
    let r = app
        .post("/api/v1/admin/meetings", &b.token("张三"), base("other"))
        .await;
    assert_eq!(r.status, 403);
    let r = app.get("/api/v1/admin/meetings/abc", &admin).await;
    assert_eq!(r.status, 404);
    let r = app.get("/api/v1/admin/meetings/999999", &admin).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn guessing_codes_cheating_the_sheet_and_side_doors_are_refused() {
    let b = branch().await;
    let app = &b.app;
    let starts = thursday_afternoon();
    let m = b
        .create_meeting(json!({
            "kind": "general_meeting", "title": "党员大会", "unit_id": b.unit,
            "starts_at": rfc(starts), "ends_at": rfc(starts + Duration::hours(1)),
            "place": "三楼会议室", "audience": {"unit_ids": [b.unit]},
        }))
        .await;
    let id = m["id"].as_str().unwrap().to_string();
    // A reason that a spreadsheet would run as a formula.
    let r = b
        .answer(
            &id,
            "李四",
            json!({"answer": "leave", "reason": "=HYPERLINK(\"http://x\",\"点此\")"}),
        )
        .await;
    assert_eq!(r.status, 200);
    // Its reminders belong to the meeting: the broadcasts API refuses to edit them.
    app.drain().await;
    let rec = b.record(&id).await;
    let reminder = rec["broadcasts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["purpose"] == "reminder")
        .expect("a reminder")["broadcast_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .patch(
            &format!("/api/v1/admin/broadcasts/{reminder}"),
            &b.admin(),
            json!({"audience": {"all": true}}),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);

    // Guessing the code: ten wrong tries, then 429 even with the right one.
    app.clock.set(starts);
    b.relogin().await;
    let right = b.code(&id).await;
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..10 {
        assert_eq!(b.check_in(&id, "张三", wrong).await.status, 400);
    }
    let r = b.check_in(&id, "张三", &right).await;
    assert_eq!(r.status, 429, "{:?}", r.body);
    assert_eq!(r.code(), "rate_limited");

    // The sheet neutralises the formula.
    app.clock.set(starts + Duration::hours(2));
    b.relogin().await;
    let csv = app
        .http
        .get(format!(
            "{}/api/v1/admin/meetings/{id}/attendance.csv",
            app.base
        ))
        .bearer_auth(b.admin())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("'=HYPERLINK"), "{csv}");

    // A garbled optional body is a 400, not silently the default.
    let r = app
        .post_raw(
            &format!("/api/v1/admin/meetings/{id}/make-up"),
            &b.admin(),
            "application/json",
            b"{\"read_by\": \"next friday\"}".to_vec(),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
}
