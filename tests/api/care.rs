//! Visits and talks (八必访, 八必谈): recorded by the unit's managers with notes only they read,
//! the year's talks per member, the reminder before the year ends (once), and the occasions an
//! admin sets.

use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

const GROUP: &str = "第一党小组";
const OTHER: &str = "第二党支部";

async fn record(org: &Org, who: &str, body: Value) -> Resp {
    org.app
        .post("/api/v1/admin/care/records", &org.token(who).await, body)
        .await
}

fn names(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p.get("member")
                .unwrap_or(p)
                .get("name")
                .and_then(Value::as_str)
                .unwrap()
                .to_string()
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn managers_record_talks_and_visits_that_nobody_else_reads() {
    let org = Org::builder(spawn_app().await)
        .at(beijing(11, 20, 10, 0))
        .unit(BRANCH, None)
        .unit(GROUP, Some(BRANCH))
        .unit(OTHER, None)
        .secretary("赵书记", BRANCH)
        .member("党员0", BRANCH)
        .member("党员1", BRANCH)
        .member("党员2", GROUP)
        .secretary("钱书记", OTHER)
        .lesson("党课")
        .build()
        .await;
    let talk = json!({"member_id": org.id("党员0"), "kind": "talk", "category": "yearly",
                      "visitors": [org.id("赵书记")], "notes": "工作压力大，家中老人住院"});
    let r = record(&org, "赵书记", talk.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["category_label"], "年度谈心谈话");
    assert_eq!(r.body["visitors"][0]["name"], "赵书记");
    assert_eq!(r.body["date"], "2026-11-20", "today by default");
    let visit = json!({"member_id": org.id("党员2"), "kind": "visit", "category": "illness",
                       "date": "2026-11-18", "notes": "住院探望"});
    let r = record(&org, "赵书记", visit).await;
    assert_eq!(r.status, 201, "a member of the group below: {:?}", r.body);
    let visit_id = id(&r.body);

    // The branch's list, with its notes, to its managers only.
    let path = format!(
        "/api/v1/admin/care/records?unit_id={}&year=2026",
        org.unit(BRANCH)
    );
    let r = org.app.get(&path, &org.token("赵书记").await).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        r.body["items"][0]["notes"], "工作压力大，家中老人住院",
        "newest first"
    );
    let r = org.app.get(&path, &org.token("钱书记").await).await;
    assert_eq!(r.status, 404, "another branch: {:?}", r.body);
    let r = org
        .app
        .get("/api/v1/admin/care/records", &org.token("钱书记").await)
        .await;
    assert_eq!(
        r.body["items"],
        json!([]),
        "nothing in the other branch's scope"
    );
    let r = record(&org, "钱书记", talk.clone()).await;
    assert_eq!(
        r.status, 404,
        "not the other secretary's member: {:?}",
        r.body
    );
    let r = org
        .app
        .get("/api/v1/admin/care/records", &org.token("党员0").await)
        .await;
    assert_eq!(
        r.status, 403,
        "a member reads no record, not even their own"
    );
    let r = org
        .app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/care/records/{visit_id}"),
            Some(&org.token("钱书记").await),
            None,
        )
        .await;
    assert_eq!(r.status, 404);

    // The notes never reach the audit log.
    let audit = org
        .app
        .get("/api/v1/admin/audit?action=care.record", &org.admin().await)
        .await;
    let text = audit.body.to_string();
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2);
    assert!(!text.contains("压力") && !text.contains("住院"), "{text}");

    // Bad input is named.
    for (body, field) in [
        (
            json!({"member_id": org.id("党员1"), "kind": "talk", "category": "picnic"}),
            "category",
        ),
        (
            json!({"member_id": org.id("党员1"), "kind": "chat", "category": "yearly"}),
            "kind",
        ),
        (
            json!({"member_id": org.id("党员1"), "kind": "talk", "category": "yearly", "date": "2026-12-25"}),
            "date",
        ),
        (
            json!({"member_id": org.id("党员1"), "kind": "talk", "category": "yearly",
                   "visitors": [org.id("钱书记")]}),
            "visitors",
        ),
    ] {
        let r = record(&org, "赵书记", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{body}: {:?}",
            r.body
        );
    }

    // Who has had this year's talk.
    let talks = format!(
        "/api/v1/admin/care/talks?unit_id={}&year=2026",
        org.unit(BRANCH)
    );
    let r = org.app.get(&talks, &org.token("赵书记").await).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(names(&r.body["talked"]), vec!["党员0"]);
    assert_eq!(names(&r.body["not_yet"]), vec!["党员1", "党员2", "赵书记"]);

    // In the year's last 30 days the secretary is reminded, once, unit by unit (the group,
    // with no secretary of its own, through the branch's).
    org.app.clock.set(beijing(12, 1, 10, 0));
    org.app.drain().await;
    assert!(reminders(&org).await.is_empty(), "31 days ahead: not yet");
    org.app.clock.set(beijing(12, 2, 10, 0));
    org.app.drain().await;
    let first = reminders(&org).await;
    assert_eq!(
        first,
        vec![
            "提醒：第一党小组2026年谈心谈话尚未完成",
            "提醒：第一党支部2026年谈心谈话尚未完成",
        ]
    );
    org.app.clock.set(beijing(12, 3, 10, 0));
    org.app.drain().await;
    assert_eq!(reminders(&org).await, first, "once a year");
}

#[tokio::test]
async fn an_admin_sets_the_occasions() {
    let org = Org::branch(spawn_app().await).build().await;
    let admin = org.admin().await;
    let r = org.app.get("/api/v1/admin/care/categories", &admin).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["visits"].as_array().unwrap().len(), 8, "八必访");
    assert_eq!(r.body["talks"][0]["label"], "年度谈心谈话");
    let lists = json!({"visits": [{"code": "illness", "label": "生病住院"}],
                       "talks": [{"code": "yearly", "label": "年度谈话"}, {"code": "yearly", "label": "x"}]});
    let r = org
        .app
        .request(
            reqwest::Method::PUT,
            "/api/v1/admin/care/categories",
            Some(&admin),
            Some(lists),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.detail_fields().contains(&"talks[1].code".to_string()),
        "{:?}",
        r.body
    );
    let lists = json!({"visits": [{"code": "illness", "label": "生病住院"}],
                       "talks": [{"code": "yearly", "label": "年度谈话"}]});
    let r = org
        .app
        .request(
            reqwest::Method::PUT,
            "/api/v1/admin/care/categories",
            Some(&admin),
            Some(lists),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["talks"],
        json!([{"code": "yearly", "label": "年度谈话"}])
    );
}

/// The talk reminders in the secretary's inbox.
async fn reminders(org: &Org) -> Vec<String> {
    let mut t: Vec<String> = org
        .inbox("赵书记")
        .await
        .into_iter()
        .filter_map(|i| i["title"].as_str().map(str::to_string))
        .filter(|t| t.contains("谈心谈话"))
        .collect();
    t.sort();
    t
}
