//! `remind`: a second push to those who have not read.

use super::*;

#[tokio::test]
async fn remind_pushes_again_to_those_who_have_not_read() {
    let b = wechat_branch(4).await;
    for i in 0..3 {
        b.subscribe(i, 2).await;
    }
    let bc = b.broadcast(&["wechat"]).await;
    b.app().drain().await;
    // 党员0 reads.
    let t = b.token(0).await;
    let item = id(&b.app().inbox(&t).await[0]);
    b.app().read(&t, &item).await;
    let admin = b.org.admin().await;
    let r = b.app().broadcast_action(&admin, &bc, "remind").await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["round"], 1);
    assert_eq!(r.body["reminded"], 3, "members 1, 2 and 3 have not read");
    b.app().drain().await;
    assert_eq!(
        b.app().mock.sends_to(&b.openid(0)),
        1,
        "the reader is left alone"
    );
    assert_eq!(b.app().mock.sends_to(&b.openid(1)), 2);
    assert_eq!(b.app().mock.sends_to(&b.openid(2)), 2);
    let reminder = b
        .app()
        .mock
        .sent()
        .into_iter()
        .filter(|m| m.touser == vec![b.openid(1)])
        .nth(1)
        .unwrap();
    assert!(reminder.value("thing1").unwrap().starts_with("提醒"));
}

#[tokio::test]
async fn an_inbox_only_broadcast_has_nothing_to_remind_on() {
    let b = wechat_branch(2).await;
    let inbox_only = b.broadcast(&["inbox"]).await;
    b.app().drain().await;
    let r = b
        .app()
        .broadcast_action(&b.org.admin().await, &inbox_only, "remind")
        .await;
    assert_eq!(r.status, 409);
}
