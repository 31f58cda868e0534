//! When the database cannot answer: the API says 503 `unavailable` with `Retry-After` (never
//! 500, never a long hang), refuses at once while the database is known to be down, and lets
//! traffic back in by itself. The real outage (a PostgreSQL stopped mid fan-out and mid push
//! pass) is `scripts/db-outage-test.py`, run by `.ci/run`.

use std::time::{Duration, Instant};

use reqwest::Method;
use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};
use serde_json::json;

use crate::helpers::{Resp, SpawnOptions, TestApp, spawn_with};
use crate::requests::NewPost;

async fn spawn(env: Vec<(&'static str, String)>) -> TestApp {
    spawn_with(SpawnOptions {
        env,
        ..Default::default()
    })
    .await
}

fn assert_unavailable(r: &Resp) {
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert_eq!(r.code(), "unavailable", "{:?}", r.body);
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("2"),
        "Retry-After tells the phone when to try again"
    );
}

#[tokio::test]
async fn a_statement_that_waits_past_the_timeout_answers_503_and_the_next_one_succeeds() {
    let app = spawn(vec![(
        "FINGERTIP_DATABASE_STATEMENT_TIMEOUT_MS",
        "300".into(),
    )])
    .await;
    let admin = app.admin_token().await;

    // Another session holds the posts table: PostgreSQL's statement timeout (SQLite's busy
    // timeout, which the same setting bounds) ends the request's wait.
    let db = &app.core.db;
    let lock = fingertip_core::db::begin_write(db).await.unwrap();
    if db.get_database_backend() == DatabaseBackend::Postgres {
        lock.execute_unprepared("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let started = Instant::now();
    let r = app
        .post(
            "/api/v1/admin/posts",
            &admin,
            json!(NewPost::lesson("第一课")),
        )
        .await;
    let took = started.elapsed();
    assert_unavailable(&r);
    assert!(
        took < Duration::from_secs(5),
        "ended by the timeout, not by the lock: {took:?}"
    );
    lock.rollback().await.unwrap();

    // One slow statement is not an outage: the next request goes through.
    assert!(app.core.db_health.is_up());
    app.create_post(&admin, "第一课").await;
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_quickly_and_is_not_taken_for_an_outage() {
    let app = spawn(vec![(
        "FINGERTIP_DATABASE_ACQUIRE_TIMEOUT_MS",
        "200".into(),
    )])
    .await;
    let admin = app.admin_token().await;

    // Take every connection of the pool, as a burst of slow requests would.
    let mut held = Vec::new();
    loop {
        match app.core.db.begin().await {
            Ok(t) => held.push(t),
            Err(_) => break,
        }
        assert!(held.len() < 100, "the pool is bounded");
    }
    assert!(!held.is_empty());
    let started = Instant::now();
    let r = app.get("/api/v1/admin/posts", &admin).await;
    assert_unavailable(&r);
    assert!(started.elapsed() < Duration::from_secs(5));

    // The probe, on a connection of its own, finds the database answering: the health stays
    // up, and once the connections are back the same request succeeds.
    assert!(
        !app.core
            .db_health
            .confirm_down(Duration::from_millis(1500))
            .await,
        "a busy pool is not a dead database"
    );
    for t in held {
        t.rollback().await.unwrap();
    }
    let r = app.get("/api/v1/admin/posts", &admin).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn while_the_database_is_known_down_requests_are_refused_at_once_and_traffic_returns_by_itself()
 {
    let app = spawn(vec![]).await;
    let admin = app.admin_token().await;

    // What the probe concludes when the database stops answering (the real stop is in
    // scripts/db-outage-test.py).
    app.core.db_health.failed("test: the database stopped");
    let started = Instant::now();
    let r = app.get("/api/v1/admin/posts", &admin).await;
    assert_unavailable(&r);
    let r = app
        .request(Method::GET, "/api/v1/inbox", Some("not-even-a-token"), None)
        .await;
    assert_unavailable(&r);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused without waiting for a connection"
    );

    // Liveness and the document do not need the database; readiness says what is down.
    let r = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, 200);
    let r = app
        .request(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(r.status, 200);
    let r = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert_eq!(r.body["failed"]["database"], "not answering");
    assert!(r.headers.contains_key("retry-after"));

    // The probe (every half second while down; a failing request wakes it at once, as here)
    // finds the database answering: no restart.
    app.core.db_health.suspect();
    tokio::time::timeout(Duration::from_secs(5), app.core.db_health.wait_up())
        .await
        .expect("the probe lets traffic back in");
    let r = app.get("/api/v1/admin/posts", &admin).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}
