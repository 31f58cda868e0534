//! WeCom: one card for all, and the 30-a-minute budget kept on our side.

use super::*;

#[tokio::test]
async fn wecom_sends_one_card_and_marks_invalid_users_failed() {
    let b = wecom_branch(4).await;
    // WeCom knows users 0, 1 and 3 (case-insensitively); user2 left the company.
    b.app()
        .mock
        .add_wecom_users(WECOM_AGENTID, &["user0", "USER1", "user3"]);
    let id = b.broadcast(&["wecom"]).await;
    b.app().drain().await;
    let s = b.stats(&id).await;
    assert_eq!(s["wecom"]["sent"], 3, "{s}");
    assert_eq!(s["wecom"]["failed"], 1, "{s}");
    assert_eq!(
        b.app().mock.calls("/cgi-bin/message/send"),
        1,
        "one call for all"
    );
    let dead = b
        .deliveries(&id)
        .await
        .into_iter()
        .find(|d| d.status.as_str() == "dead")
        .unwrap();
    assert!(dead.last_error.unwrap().starts_with("invaliduser"));
    let card = &b.app().mock.sent()[0];
    assert!(card.value("title").unwrap().starts_with("学习贯彻"));
    assert_eq!(
        card.value("url"),
        Some(&*format!("https://fingertip.example/b/{id}"))
    );
}

#[tokio::test]
async fn the_wecom_budget_of_30_a_minute_is_kept_on_our_side() {
    let b = wecom_branch(2).await;
    b.app()
        .mock
        .add_wecom_users(WECOM_AGENTID, &["user0", "user1"]);
    let mut ids = vec![];
    for _ in 0..32 {
        ids.push(b.broadcast(&["wecom"]).await);
    }
    b.app().drain().await;
    assert_eq!(
        b.app().mock.sends_to("user0"),
        30,
        "WeCom would drop the rest silently"
    );
    let mut deferred = 0;
    for id in &ids {
        deferred += b.stats(id).await["wecom"]["pending"].as_u64().unwrap();
    }
    assert_eq!(deferred, 2 * 2, "two broadcasts wait, for both members");
    b.later(Duration::seconds(61)).await;
    assert_eq!(b.app().mock.sends_to("user0"), 32);
}
