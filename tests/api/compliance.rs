//! The calendar kept on time: a unit's year against the cadence (met by which meetings, due
//! with days left, missed, upcoming), the warnings to its secretary once per rule and period,
//! and the cadence an admin sets. The clock runs through 2026 in Beijing time.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

const GROUP: &str = "第一党小组";

/// The branch (赵书记, 党员0) and its group (党员1, no secretary of its own), on 10 January.
async fn calendar_org() -> Org {
    Org::builder(spawn_app().await)
        .at(beijing(1, 10, 10, 0))
        .unit(BRANCH, None)
        .unit(GROUP, Some(BRANCH))
        .secretary("赵书记", BRANCH)
        .member("党员0", BRANCH)
        .member("党员1", GROUP)
        .lesson("一月党课")
        .build()
        .await
}

async fn meeting(org: &Org, kind: &str, title: &str, unit: &str, starts: DateTime<Utc>) -> String {
    let m = Meeting::new(
        kind,
        title,
        org.unit(unit),
        starts,
        starts + Duration::hours(1),
    )
    .place("三楼会议室");
    id(&org.app.meeting(&org.admin().await, m).await)
}

async fn report(org: &Org, unit: &str) -> Value {
    let r = org
        .app
        .get(
            &format!(
                "/api/v1/admin/compliance?unit_id={}&year=2026",
                org.unit(unit)
            ),
            &org.token("赵书记").await,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// The states of one rule's periods, in order.
fn states(report: &Value, kind: &str) -> Vec<String> {
    rule(report, kind)["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["state"].as_str().unwrap().to_string())
        .collect()
}

fn rule<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no rule for {kind}: {report}"))
}

fn kinds(report: &Value) -> Vec<String> {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"]["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Titles of the calendar warnings in the secretary's inbox.
async fn warnings(org: &Org) -> Vec<String> {
    let mut t: Vec<String> = org
        .inbox("赵书记")
        .await
        .into_iter()
        .filter_map(|i| i["title"].as_str().map(str::to_string))
        .filter(|t| t.starts_with("提醒："))
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn a_units_year_shows_each_period_met_due_missed_or_upcoming() {
    let org = calendar_org().await;
    let general = meeting(
        &org,
        "general_meeting",
        "第一季度党员大会",
        BRANCH,
        beijing(2, 1, 10, 0),
    )
    .await;
    meeting(
        &org,
        "themed_day",
        "一月主题党日",
        BRANCH,
        beijing(1, 20, 14, 0),
    )
    .await;
    org.app.clock.set(beijing(8, 15, 10, 0));

    let r = report(&org, BRANCH).await;
    assert_eq!(
        (r["unit"].as_str(), r["unit_is"].as_str()),
        (Some(BRANCH), Some("branch"))
    );
    assert_eq!(
        states(&r, "general_meeting"),
        vec!["met", "missed", "due", "upcoming"],
        "a missed second quarter"
    );
    let q = &rule(&r, "general_meeting")["periods"];
    assert_eq!(
        q[0]["held"][0]["id"],
        json!(general),
        "met by which meeting"
    );
    assert_eq!(
        (q[2]["label"].as_str(), q[2]["days_left"].as_i64()),
        (Some("第三季度"), Some(46))
    );
    let themed = states(&r, "themed_day");
    assert_eq!(themed[0], "met");
    assert!(themed[1..7].iter().all(|s| s == "missed"), "{themed:?}");
    assert_eq!(
        (themed[7].as_str(), themed[8].as_str()),
        ("due", "upcoming")
    );
    assert_eq!(
        rule(&r, "org_life")["periods"][0]["state"],
        "due",
        "the year's one"
    );
    assert!(
        !kinds(&r).contains(&"group_meeting".to_string()),
        "groups' rule: {:?}",
        kinds(&r)
    );
    assert!(r["missed"].as_u64().unwrap() >= 8);

    // The group has its monthly meeting rule and not the branch's.
    let g = report(&org, GROUP).await;
    assert_eq!(g["unit_is"], "group");
    assert_eq!(kinds(&g), vec!["group_meeting"]);

    // A meeting planned in the running month is listed, and once held the month is met.
    org.app.clock.set(beijing(8, 25, 10, 0));
    meeting(
        &org,
        "themed_day",
        "八月主题党日",
        BRANCH,
        beijing(8, 28, 14, 0),
    )
    .await;
    let r = report(&org, BRANCH).await;
    let aug = &rule(&r, "themed_day")["periods"][7];
    assert_eq!(
        (aug["state"].as_str(), aug["planned"][0]["title"].as_str()),
        (Some("due"), Some("八月主题党日"))
    );
    org.app.clock.set(beijing(8, 29, 10, 0));
    assert_eq!(states(&report(&org, BRANCH).await, "themed_day")[7], "met");

    // Checks of the query, and other people's units.
    let t = org.token("赵书记").await;
    for (q, status) in [
        (String::new(), 400),
        (format!("unit_id={}&year=1999", org.unit(BRANCH)), 400),
        ("unit_id=999999".to_string(), 404),
        ("unit_id=abc".to_string(), 400),
    ] {
        let r = org
            .app
            .get(&format!("/api/v1/admin/compliance?{q}"), &t)
            .await;
        assert_eq!(r.status, status, "{q}: {:?}", r.body);
    }
}

#[tokio::test]
async fn the_secretary_is_warned_once_per_rule_and_period_before_it_closes() {
    let org = calendar_org().await;
    meeting(
        &org,
        "committee_meeting",
        "一月支委会",
        BRANCH,
        beijing(1, 20, 9, 0),
    )
    .await;
    // Nine days before August ends: not yet (the monthly rules warn 7 days ahead).
    org.app.clock.set(beijing(8, 22, 10, 0));
    org.app.drain().await;
    assert!(warnings(&org).await.is_empty());

    org.app.clock.set(beijing(8, 25, 10, 0));
    org.app.drain().await;
    let first = warnings(&org).await;
    assert_eq!(
        first,
        vec![
            "提醒：第一党小组8月尚未召开党小组会",
            "提醒：第一党支部8月尚未召开主题党日",
            "提醒：第一党支部8月尚未召开支部委员会",
        ],
        "the group has no secretary: the branch's is told"
    );
    let item = org
        .inbox("赵书记")
        .await
        .into_iter()
        .find(|i| i["title"] == "提醒：第一党支部8月尚未召开主题党日")
        .unwrap();
    assert_eq!(item["summary"], "还剩 6 天");

    // Later passes, a day later, and a restarted worker: nothing again.
    org.app.clock.advance(Duration::hours(1));
    org.app.drain().await;
    org.app.clock.set(beijing(8, 26, 10, 0));
    fingertip_workers::FanoutWorker::new(org.app.core.clone(), "restarted")
        .run_once()
        .await
        .unwrap();
    org.app.drain().await;
    assert_eq!(warnings(&org).await, first);

    // September is another period.
    org.app.clock.set(beijing(9, 25, 10, 0));
    org.app.drain().await;
    let now = warnings(&org).await;
    assert!(
        now.contains(&"提醒：第一党支部9月尚未召开主题党日".to_string()),
        "{now:?}"
    );
    let audit = org
        .app
        .get(
            "/api/v1/admin/audit?action=compliance.warn",
            &org.admin().await,
        )
        .await;
    let entries = audit.body["items"].as_array().unwrap();
    assert!(
        entries.iter().all(|e| e["actor_role"] == "system"),
        "{entries:?}"
    );
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["summary"]["kind"] == "themed_day")
            .count(),
        2,
        "August's and September's"
    );
}

#[tokio::test]
async fn an_admin_sets_the_cadence_and_secretaries_read_it() {
    let org = calendar_org().await;
    let admin = org.admin().await;
    let sec = org.token("赵书记").await;
    let r = org.app.get("/api/v1/admin/compliance/rules", &sec).await;
    assert_eq!(r.status, 200);
    let defaults: Vec<(String, String)> = r.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["period"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(defaults.len(), 7, "{defaults:?}");
    assert!(defaults.contains(&("general_meeting".into(), "quarter".into())));
    assert!(defaults.contains(&("org_life".into(), "year".into())));

    let body = json!({"rules": [{"kind": "themed_day", "period": "quarter", "min_count": 2, "warn_days": 0}]});
    let put = |token: String, body: Value| {
        let app = &org.app;
        async move {
            app.request(
                reqwest::Method::PUT,
                "/api/v1/admin/compliance/rules",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    assert_eq!(put(sec.clone(), body.clone()).await.status, 403);
    for (bad, field) in [
        (
            json!({"rules": [{"kind": "themed_day", "period": "week", "min_count": 1}]}),
            "rules[0].period",
        ),
        (
            json!({"rules": [{"kind": "picnic", "period": "month", "min_count": 1}]}),
            "rules[0].kind",
        ),
        (
            json!({"rules": [{"kind": "themed_day", "period": "month", "min_count": 0}]}),
            "rules[0].min_count",
        ),
        (
            json!({"rules": [{"kind": "themed_day", "period": "month", "min_count": 1},
                             {"kind": "themed_day", "period": "year", "min_count": 1}]}),
            "rules[1].kind",
        ),
    ] {
        let r = put(admin.clone(), bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{bad}: {:?}",
            r.body
        );
    }
    let r = put(admin.clone(), body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = report(&org, BRANCH).await;
    assert_eq!(kinds(&r), vec!["themed_day"]);
    assert_eq!(
        rule(&r, "themed_day")["periods"].as_array().unwrap().len(),
        4
    );
    let audit = org
        .app
        .get("/api/v1/admin/audit?action=compliance.rules", &admin)
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
}
