//! When the platform says no, or says nothing: token refresh, retries with backoff, dead
//! letters, and a worker that dies after the platform accepted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

#[tokio::test]
async fn an_invalidated_token_is_refreshed_once_and_every_push_arrives_once() {
    let b = wechat_branch(9).await;
    for i in 0..8 {
        b.subscribe(i, 2).await;
    }
    b.broadcast(&["wechat"]).await;
    b.app().drain().await;
    let fetches = b.app().mock.token_fetches("/cgi-bin/stable_token");
    assert_eq!(fetches, 1);
    // WeChat invalidates the token between two broadcasts (40001 on the next calls).
    b.app().mock.invalidate_tokens();
    let id = b.broadcast(&["wechat"]).await;
    b.app().drain().await;
    assert_eq!(
        b.app().mock.token_fetches("/cgi-bin/stable_token"),
        fetches + 1,
        "exactly one refresh"
    );
    assert_eq!(b.stats(&id).await["wechat"]["sent"], 8);
    for i in 0..8 {
        assert_eq!(b.app().mock.sends_to(&b.openid(i)), 2, "member {i}");
    }
}

#[tokio::test]
async fn busy_answers_are_retried_with_backoff_and_delivered_once() {
    let b = wechat_branch(5).await;
    for i in 0..4 {
        b.subscribe(i, 1).await;
    }
    b.app().mock.fail_next(SEND_PATH, -1, 3);
    let id = b.broadcast(&["wechat"]).await;
    b.app().drain().await;
    let s = b.stats(&id).await;
    assert_eq!(s["wechat"]["pending"], 3, "three wait for a retry: {s}");
    assert_eq!(s["wechat"]["sent"], 1);
    let retry = b
        .deliveries(&id)
        .await
        .into_iter()
        .find(|d| d.status.as_str() == "pending")
        .unwrap();
    assert_eq!(retry.last_error_code, Some(-1));
    assert!(retry.next_attempt_at > b.app().clock_now());
    // Nothing happens before the backoff is over; then all go out, each once.
    b.app().drain().await;
    assert_eq!(b.stats(&id).await["wechat"]["pending"], 3);
    b.later(Duration::minutes(1)).await;
    let s = b.stats(&id).await;
    assert_eq!(s["wechat"]["sent"], 4, "{s}");
    for i in 0..4 {
        assert_eq!(b.app().mock.sends_to(&b.openid(i)), 1);
        // A busy answer gave the credit back; the send that arrived used it, once.
        assert_eq!(b.credits(i).await, 0, "member {i}");
    }
    let attempts: Vec<i32> = b.deliveries(&id).await.iter().map(|d| d.attempts).collect();
    assert_eq!(
        attempts.iter().filter(|a| **a == 2).count(),
        3,
        "{attempts:?}"
    );
}

/// Of three members, 党员0 and 党员1 allowed once; WeChat refuses the first send for good
/// (40003). The broadcast's id.
async fn one_refused_for_good(b: &Branch) -> String {
    b.subscribe(0, 1).await;
    b.subscribe(1, 1).await;
    b.app().mock.fail_next(SEND_PATH, 40003, 1);
    let id = b.broadcast(&["wechat"]).await;
    b.app().drain().await;
    id
}

#[tokio::test]
async fn a_permanent_error_is_dead_lettered_and_not_retried() {
    let b = wechat_branch(3).await;
    let id = one_refused_for_good(&b).await;
    // The refused message did not arrive, so its member keeps the consent for the next one.
    let mut credits = vec![b.credits(0).await, b.credits(1).await];
    credits.sort();
    assert_eq!(credits, vec![0, 1]);
    b.later(Duration::days(2)).await;
    let s = b.stats(&id).await;
    assert_eq!(s["wechat"]["failed"], 1, "{s}");
    assert_eq!(s["wechat"]["sent"], 1, "{s}");
    assert_eq!(b.app().mock.calls(SEND_PATH), 2, "no retry of the dead one");
    let dead = b
        .deliveries(&id)
        .await
        .into_iter()
        .find(|d| d.status.as_str() == "dead")
        .unwrap();
    assert_eq!(dead.last_error_code, Some(40003));
    assert_eq!(dead.attempts, 1);
}

#[tokio::test]
async fn a_dead_letter_is_listed_among_the_failed_recipients_with_its_error() {
    let b = wechat_branch(3).await;
    let id = one_refused_for_good(&b).await;
    let items = b.recipients(&id, "?state=failed").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["push"][0]["status"], "dead");
    assert_eq!(items[0]["push"][0]["last_error_code"], 40003);
}

#[tokio::test]
async fn retries_run_out_into_a_dead_letter() {
    let app = spawn_with(SpawnOptions {
        wechat: true,
        env: vec![("FINGERTIP_PUSH_MAX_ATTEMPTS", "3".into())],
        ..Default::default()
    })
    .await;
    let b = branch(app, 2).await;
    b.subscribe(0, 1).await;
    b.app().mock.fail_next(SEND_PATH, -1, 10);
    let id = b.broadcast(&["wechat"]).await;
    for _ in 0..5 {
        b.app().drain().await;
        b.app().clock.advance(Duration::hours(1));
    }
    let d = b.deliveries(&id).await;
    let mine = d.iter().find(|d| d.attempts > 0).unwrap();
    assert_eq!(mine.status.as_str(), "dead");
    assert_eq!(mine.attempts, 3);
    assert!(
        mine.last_error
            .as_deref()
            .unwrap()
            .contains("retries exhausted")
    );
    assert_eq!(b.app().mock.calls(SEND_PATH), 3);
}

#[tokio::test]
async fn a_worker_killed_after_the_platform_accepted_never_sends_again() {
    let b = wechat_branch(4).await;
    for i in 0..3 {
        b.subscribe(i, 1).await;
    }
    let id = b.broadcast(&["wechat"]).await;
    // Fan out only, then a push worker that "dies" right after WeChat accepted the chunk.
    while b.app().worker.run_once().await.unwrap() > 0 {}
    let dies = Arc::new(AtomicBool::new(true));
    let d2 = dies.clone();
    let doomed = b
        .app()
        .second_push_worker()
        .crash_after_send(Arc::new(move || d2.swap(false, Ordering::SeqCst)));
    doomed.run_once().await.unwrap();
    assert_eq!(b.app().mock.total_sends(), 3, "WeChat has them");
    assert_eq!(
        b.stats(&id).await["wechat"]["pending"],
        3,
        "still in flight"
    );

    // Another worker comes along: before the lease runs out it leaves them alone, after it
    // marks them unknown, and never sends them a second time.
    b.app().drain().await;
    assert_eq!(b.app().mock.total_sends(), 3);
    b.later(Duration::minutes(5)).await;
    let s = b.stats(&id).await;
    assert_eq!(s["wechat"]["unknown"], 3, "{s}");
    assert_eq!(b.app().mock.total_sends(), 3, "no second send");
    // WeChat may have delivered them and used the consents: they count as used, so the
    // mini-program asks again instead of WeChat refusing the next notice with 43101.
    for i in 0..3 {
        assert_eq!(b.credits(i).await, 0, "member {i}");
    }
}
