//! A WeChat push spends one of the member's one-time consents ("credits"): who gets one, what
//! it says, and what the admin sees of it.

use super::*;

/// Of four members, 党员0 allowed twice and 党员1 once; 党员2 never allowed; 党员3 never
/// bound WeChat. The lesson went out on WeChat; its id.
async fn pushed_to_four(b: &Branch) -> String {
    let r = b.subscribe(0, 2).await;
    assert_eq!(r["credits"][LESSON_TEMPLATE], 2);
    assert_eq!(
        r["credits"]["tmpl-other"],
        Value::Null,
        "a reject adds nothing"
    );
    b.subscribe(1, 1).await;
    let id = b.broadcast(&["wechat"]).await;
    b.app().drain().await;
    id
}

#[tokio::test]
async fn members_with_credit_get_one_push_the_others_are_skipped_and_counted() {
    let b = wechat_branch(4).await;
    let id = pushed_to_four(&b).await;
    let s = b.stats(&id).await;
    assert_eq!(s["wechat"]["sent"], 2, "{s}");
    assert_eq!(s["wechat"]["skipped"], 2, "{s}");
    assert_eq!(s["wechat"]["pending"], 0);
    assert_eq!(b.app().mock.sends_to(&b.openid(0)), 1);
    assert_eq!(b.app().mock.sends_to(&b.openid(1)), 1);
    assert_eq!(b.app().mock.sends_to(&b.openid(2)), 0);
    assert_eq!(b.credits(0).await, 1, "one credit used");
    assert_eq!(b.credits(1).await, 0);
}

#[tokio::test]
async fn admins_see_who_can_still_be_reached_by_push() {
    let b = wechat_branch(4).await;
    pushed_to_four(&b).await;
    let admin = b.org.admin().await;
    let m0 = b.org.id(&name(0));
    let r = b
        .app()
        .get(&format!("/api/v1/admin/members/{m0}"), &admin)
        .await;
    assert_eq!(r.body["wechat_credits"][LESSON_TEMPLATE], 1, "{:?}", r.body);
    let path = format!("/api/v1/admin/members?unit_id={}", b.org.unit(BRANCH));
    let list = b.app().get(&path, &admin).await;
    let credits: Vec<i64> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["wechat_credits"][LESSON_TEMPLATE].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(credits.iter().sum::<i64>(), 1, "{credits:?}");
}

#[tokio::test]
async fn the_message_has_fitted_values_and_opens_the_members_own_inbox_item() {
    let b = wechat_branch(4).await;
    pushed_to_four(&b).await;
    let sent = b.app().mock.sent();
    let m = sent.iter().find(|m| m.touser == vec![b.openid(0)]).unwrap();
    let title = m.value("thing1").unwrap();
    assert!(title.chars().count() <= 20, "{title}");
    assert!(title.starts_with("学习贯彻党的二十届四中全会"), "{title}");
    assert_eq!(m.value("phrase3"), Some("党课"));
    assert_eq!(m.value("thing4"), Some("党支部"));
    assert!(m.value("time2").unwrap().contains('年'));
    let item = id(&b.app().inbox(&b.token(0).await).await[0]);
    assert_eq!(
        m.page.as_deref(),
        Some(&*format!("pages/inbox/item?id={item}"))
    );
}

#[tokio::test]
async fn the_secretary_sees_why_each_one_did_not_get_a_push() {
    let b = wechat_branch(4).await;
    let id = pushed_to_four(&b).await;
    let reasons: Vec<String> = b
        .recipients(&id, "")
        .await
        .iter()
        .map(|x| {
            x["push"][0]["last_error"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert!(
        reasons.iter().any(|r| r.starts_with("no_credit")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("not_bound")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn a_43101_zeroes_the_credit_and_counts_the_push_as_skipped() {
    let b = wechat_branch(2).await;
    // Our ledger says 1, but the user withdrew the permission on the phone.
    let r = b
        .app()
        .post(
            "/api/v1/me/wechat/subscriptions",
            &b.token(0).await,
            json!({"results": {LESSON_TEMPLATE: "acceptWithAlert"}}),
        )
        .await;
    assert_eq!(r.body["credits"][LESSON_TEMPLATE], 1);
    let id = b.broadcast(&["wechat"]).await;
    b.app().drain().await;
    assert_eq!(b.credits(0).await, 0);
    let d = b.deliveries(&id).await;
    let mine = d
        .iter()
        .find(|d| d.last_error_code == Some(43101))
        .expect("a 43101");
    assert_eq!(mine.status.as_str(), "skipped");
    assert_eq!(b.stats(&id).await["wechat"]["skipped"], 2);
    // Not retried later either.
    b.later(Duration::hours(2)).await;
    assert_eq!(b.app().mock.calls(SEND_PATH), 1);
}

#[tokio::test]
async fn one_credit_pays_for_one_push_even_when_two_are_due_at_once() {
    let b = wechat_branch(2).await;
    b.subscribe(0, 1).await;
    let first = b.broadcast(&["wechat"]).await;
    let second = b.broadcast(&["wechat"]).await;
    b.app().drain().await;
    assert_eq!(b.app().mock.sends_to(&b.openid(0)), 1);
    assert_eq!(
        b.app().mock.calls(SEND_PATH),
        1,
        "no second send ending in 43101"
    );
    let me = b.org.id(&name(0));
    let mut statuses = vec![];
    for id in [&first, &second] {
        for d in b.deliveries(id).await {
            if d.member_id.to_string() == me {
                statuses.push((d.status.as_str(), d.last_error.unwrap_or_default()));
            }
        }
    }
    statuses.sort();
    assert_eq!(statuses[0].0, "sent");
    assert_eq!(statuses[1].0, "skipped");
    assert!(statuses[1].1.starts_with("no_credit"), "{statuses:?}");
}
