//! Quiet hours and the off-site digest: the inbox at once, pushes held through the night and
//! released at 07:30, an off-site member's pushes gathered into one digest a day, urgent ones
//! through at once. The clock is set to the hours each test needs (Beijing time).

use chrono::{DateTime, TimeZone, Utc};
use fingertip_wechat_mock::SentKind;

use super::*;

/// 2026-12-01 at `h:m` in Beijing, plus `days`.
fn beijing(days: i64, h: u32, m: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 12, 1, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
        + Duration::days(days)
}

/// 党员0 and 党员1 in the branch, bound, with five lesson consents each; quiet hours as the
/// default configuration has them; the clock at `at`.
async fn quiet_org(at: DateTime<Utc>, wecom: bool) -> Org {
    let app = spawn_with(SpawnOptions {
        wechat: true,
        wecom,
        env: vec![("FINGERTIP_QUIET_HOURS", "22:00-07:30".into())],
        ..Default::default()
    })
    .await;
    let org = Org::builder(app)
        .at(at)
        .unit(BRANCH, None)
        .member_with("党员0", BRANCH, |m| m.wecom("User0"))
        .member_with("党员1", BRANCH, |m| m.wecom("User1"))
        .post(NewPost::lesson("七月党课").body("正文").untimed())
        .everyone_signed_in()
        .build()
        .await;
    lesson_template(&org).await;
    for name in ["党员0", "党员1"] {
        subscribe(&org, name, 5).await;
    }
    org
}

async fn send(org: &Org, urgent: bool, channels: &[&str]) -> String {
    let mut body =
        serde_json::to_value(Broadcast::to_unit(org.post(), org.unit(BRANCH)).channels(channels))
            .unwrap();
    body["urgent"] = json!(urgent);
    let r = org
        .app
        .post("/api/v1/admin/broadcasts", &org.admin().await, body)
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    org.app.drain().await;
    id(&r.body)
}

fn wechat_to(org: &Org, name: &str) -> Vec<String> {
    let to = format!("o-{}", org.id(name));
    org.app
        .mock
        .sent()
        .into_iter()
        .filter(|m| m.kind == SentKind::Subscribe && m.touser == vec![to.clone()])
        .map(|m| m.value("thing1").unwrap_or_default().to_string())
        .collect()
}

async fn prefs(org: &Org, name: &str, body: Value) -> Value {
    let r = org
        .app
        .request(
            reqwest::Method::PUT,
            "/api/v1/me/push-preferences",
            Some(&org.token(name).await),
            Some(body),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

async fn at(org: &Org, t: DateTime<Utc>) {
    org.app.clock.set(t);
    org.app.drain().await;
}

#[tokio::test]
async fn a_push_at_night_waits_for_07_30_and_an_urgent_one_does_not() {
    let org = quiet_org(beijing(0, 23, 0), false).await;
    // 党员1 wants no quiet hours.
    let p = prefs(&org, "党员1", json!({"quiet": false})).await;
    assert_eq!(
        (p["quiet"].as_bool(), p["quiet_own"].as_bool()),
        (Some(false), Some(true))
    );

    let night = send(&org, false, &["wechat"]).await;
    assert_eq!(org.inbox("党员0").await.len(), 1, "the inbox at once");
    assert!(wechat_to(&org, "党员0").is_empty(), "no push at 23:00");
    assert_eq!(
        wechat_to(&org, "党员1").len(),
        1,
        "no quiet hours for 党员1"
    );
    let held = org
        .app
        .get(
            &format!("/api/v1/admin/broadcasts/{night}/recipients"),
            &org.admin().await,
        )
        .await;
    let zero = held.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "党员0")
        .unwrap()
        .clone();
    assert_eq!(zero["push"][0]["status"], "pending", "{zero}");
    assert!(
        zero["push"][0]["last_error"]
            .as_str()
            .unwrap()
            .starts_with("quiet_hours"),
        "{zero}"
    );

    send(&org, true, &["wechat"]).await;
    assert_eq!(
        wechat_to(&org, "党员0").len(),
        1,
        "urgent goes through at once"
    );

    at(&org, beijing(1, 7, 29)).await;
    assert_eq!(wechat_to(&org, "党员0").len(), 1);
    at(&org, beijing(1, 7, 30)).await;
    assert_eq!(
        wechat_to(&org, "党员0"),
        vec!["七月党课", "七月党课"],
        "released at 07:30"
    );
}

#[tokio::test]
async fn an_off_site_member_gets_one_digest_of_three_at_their_hour() {
    let org = quiet_org(beijing(0, 9, 0), false).await;
    let p = prefs(
        &org,
        "党员0",
        json!({"off_site": true, "digest_at": "20:00"}),
    )
    .await;
    assert_eq!(
        p["next_digest_at"],
        json!(beijing(0, 20, 0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
    for h in [9, 12, 15] {
        at(&org, beijing(0, h, 0)).await;
        send(&org, false, &["wechat"]).await;
    }
    assert_eq!(org.inbox("党员0").await.len(), 3, "the inbox is never held");
    assert!(
        wechat_to(&org, "党员0").is_empty(),
        "gathered for the digest"
    );
    assert_eq!(
        wechat_to(&org, "党员1").len(),
        3,
        "in the office: each at once"
    );
    at(&org, beijing(0, 16, 0)).await;
    send(&org, true, &["wechat"]).await;
    assert_eq!(
        wechat_to(&org, "党员0").len(),
        1,
        "urgent goes through at once"
    );

    at(&org, beijing(0, 19, 59)).await;
    assert_eq!(wechat_to(&org, "党员0").len(), 1);
    at(&org, beijing(0, 20, 0)).await;
    assert_eq!(
        wechat_to(&org, "党员0"),
        vec!["七月党课", "七月党课等3条"],
        "one message for the three"
    );
    // One consent for the digest: five, less the urgent push and the digest.
    let t = org.token("党员0").await;
    let credits = org.app.get("/api/v1/me/wechat/subscriptions", &t).await;
    assert_eq!(
        credits.body["credits"][LESSON_TEMPLATE], 3,
        "{:?}",
        credits.body
    );
    // Each of the three is recorded sent, with the digest's one message id.
    let sent: Vec<push_deliveries::Model> = push_deliveries::Entity::find()
        .filter(push_deliveries::Column::MemberId.eq(org.id("党员0").parse::<i64>().unwrap()))
        .all(&org.app.core.db)
        .await
        .unwrap();
    assert_eq!(sent.len(), 4);
    assert!(sent.iter().all(|d| d.status.as_str() == "sent"), "{sent:?}");
    let ids: std::collections::HashSet<_> = sent.iter().map(|d| d.msgid.clone()).collect();
    assert_eq!(ids.len(), 2, "the urgent push and the digest: {sent:?}");

    // Back in the office: the next one goes at once.
    prefs(&org, "党员0", json!({"off_site": false})).await;
    at(&org, beijing(1, 9, 0)).await;
    send(&org, false, &["wechat"]).await;
    assert_eq!(wechat_to(&org, "党员0").len(), 3);
}

#[tokio::test]
async fn a_wecom_digest_is_one_card() {
    let org = quiet_org(beijing(0, 9, 0), true).await;
    org.app
        .mock
        .add_wecom_users(WECOM_AGENTID, &["user0", "user1"]);
    prefs(
        &org,
        "党员0",
        json!({"off_site": true, "digest_at": "18:30"}),
    )
    .await;
    for h in [9, 10, 11] {
        at(&org, beijing(0, h, 0)).await;
        send(&org, false, &["wecom"]).await;
    }
    let cards = |org: &Org, user: &str| -> Vec<String> {
        org.app
            .mock
            .sent()
            .into_iter()
            .filter(|m| m.kind == SentKind::Wecom && m.touser.contains(&user.to_lowercase()))
            .map(|m| m.data["title"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert!(cards(&org, "User0").is_empty());
    assert_eq!(cards(&org, "User1").len(), 3);
    at(&org, beijing(0, 18, 30)).await;
    assert_eq!(cards(&org, "User0"), vec!["今日汇总：七月党课等3条"]);
}

#[tokio::test]
async fn preferences_are_checked_and_audited() {
    let org = quiet_org(beijing(0, 9, 0), false).await;
    let t = org.token("党员0").await;
    let r = org.app.get("/api/v1/me/push-preferences", &t).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({
            "quiet": true, "quiet_from": "22:00", "quiet_until": "07:30", "quiet_own": false,
            "off_site": false, "digest_at": "20:00", "next_digest_at": null,
            "timezone": "Asia/Shanghai"
        })
    );
    for (body, field) in [
        (json!({"digest_at": "25:00"}), "digest_at"),
        (json!({"quiet_from": "23:00"}), "quiet_until"),
        (
            json!({"quiet_from": "23:00", "quiet_until": "23:00"}),
            "quiet_until",
        ),
        (
            json!({"quiet_from": "eleven", "quiet_until": "06:00"}),
            "quiet_from",
        ),
    ] {
        let r = org
            .app
            .request(
                reqwest::Method::PUT,
                "/api/v1/me/push-preferences",
                Some(&t),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{body}: {:?}",
            r.body
        );
    }
    let r = org
        .app
        .request(
            reqwest::Method::PUT,
            "/api/v1/me/push-preferences",
            Some(&t),
            Some(json!({"night": true})),
        )
        .await;
    assert_eq!(r.status, 400, "unknown field");
    let p = prefs(
        &org,
        "党员0",
        json!({"quiet_from": "21:30", "quiet_until": "06:00"}),
    )
    .await;
    assert_eq!(
        (p["quiet_from"].as_str(), p["quiet_own"].as_bool()),
        (Some("21:30"), Some(true))
    );
    let audit = org
        .app
        .get(
            "/api/v1/admin/audit?action=member.push_preferences",
            &org.admin().await,
        )
        .await;
    let items = audit.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", audit.body);
    assert_eq!(items[0]["actor_id"], json!(org.id("党员0")));
    assert_eq!(items[0]["summary"]["quiet_from"], "21:30");
}

#[tokio::test]
async fn a_ladder_reminder_held_past_the_deadline_is_dropped() {
    let org = quiet_org(beijing(0, 23, 0), false).await;
    let mut body = serde_json::to_value(
        Broadcast::to_unit(org.post(), org.unit(BRANCH))
            .channels(&["wechat"])
            .read_by(beijing(1, 7, 0))
            .ladder(json!({"remind_before_minutes": 60, "summary": false})),
    )
    .unwrap();
    body["urgent"] = json!(false);
    let r = org
        .app
        .post("/api/v1/admin/broadcasts", &org.admin().await, body)
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    org.app.drain().await;
    // The reminder's time (06:00) is in the night: held; the deadline's urgent push is not.
    at(&org, beijing(1, 6, 0)).await;
    assert!(wechat_to(&org, "党员0").is_empty());
    at(&org, beijing(1, 7, 0)).await;
    assert_eq!(wechat_to(&org, "党员0"), vec!["紧急：七月党课"]);
    // At 07:30 the send goes; the reminder, late, does not.
    at(&org, beijing(1, 7, 30)).await;
    assert_eq!(wechat_to(&org, "党员0"), vec!["紧急：七月党课", "七月党课"]);
    let late = push_deliveries::Entity::find()
        .filter(push_deliveries::Column::MemberId.eq(org.id("党员0").parse::<i64>().unwrap()))
        .filter(push_deliveries::Column::Round.eq(1))
        .one(&org.app.core.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(late.status.as_str(), "skipped");
    assert!(late.last_error.unwrap().starts_with("late"));
}
