use chrono::Duration;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;
use crate::requests::id;

#[tokio::test]
async fn admin_logs_in_and_sees_themselves() {
    let app = spawn_app().await;
    let body = app.admin_login().await;
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["member"]["role"], "admin");
    let r = app
        .get("/api/v1/me", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], ADMIN_USER);
    assert_eq!(r.body["role"], "admin");
}

#[tokio::test]
async fn wrong_password_and_missing_or_bad_tokens_are_401() {
    let app = spawn_app().await;
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/admin/login",
            None,
            Some(json!({"username": ADMIN_USER, "password": "nope-nope"})),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "unauthorized");
    let r = app.request(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "unauthorized");
    let r = app.get("/api/v1/me", "not.a.jwt").await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn access_tokens_expire_after_fifteen_minutes() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    app.clock.advance(Duration::minutes(14));
    assert_eq!(app.get("/api/v1/me", &t).await.status, 200);
    app.clock.advance(Duration::minutes(2));
    let r = app.get("/api/v1/me", &t).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let first = app.admin_login().await;
    let rt1 = first["refresh_token"].as_str().unwrap();
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": rt1})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let rt2 = r.body["refresh_token"].as_str().unwrap().to_string();
    let at2 = r.body["access_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    assert_eq!(app.get("/api/v1/me", &at2).await.status, 200);

    // Presenting the used token again: 401, and the whole session is gone.
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": rt1})),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": rt2})),
        )
        .await;
    assert_eq!(
        r.status, 401,
        "the newer token of the family is revoked too"
    );
    assert_eq!(
        app.get("/api/v1/me", &at2).await.status,
        401,
        "access tokens of the family stop working"
    );

    // Another session is unaffected.
    let other = app.admin_login().await;
    assert_eq!(
        app.get("/api/v1/me", other["access_token"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let app = spawn_app().await;
    let s = app.admin_login().await;
    let (at, rt) = (
        s["access_token"].as_str().unwrap(),
        s["refresh_token"].as_str().unwrap(),
    );
    let r = app
        .post("/api/v1/auth/logout", at, json!({"refresh_token": rt}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/api/v1/me", at).await.status, 401);
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": rt})),
        )
        .await;
    assert_eq!(r.status, 401);
    // Logout with only the bearer token works too.
    let s = app.admin_login().await;
    let at = s["access_token"].as_str().unwrap();
    let r = app
        .request(Method::POST, "/api/v1/auth/logout", Some(at), None)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(app.get("/api/v1/me", at).await.status, 401);
}

#[tokio::test]
async fn a_member_calling_an_admin_route_is_403() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    let m = app
        .create_member(&admin, json!({"name": "李四", "unit_id": unit}))
        .await;
    let t = app.member_token(&m).await;
    for path in [
        "/api/v1/admin/members",
        "/api/v1/admin/broadcasts",
        "/api/v1/admin/units",
    ] {
        let r = app.get(path, &t).await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(r.code(), "forbidden");
    }
    let r = app
        .post(
            "/api/v1/admin/posts",
            &t,
            json!({"kind": "lesson", "title": "x", "body_md": "x"}),
        )
        .await;
    assert_eq!(r.status, 403);
}

/// `GET /api/v1/me` on another API process of the same deployment.
async fn me_on(app: &TestApp, base: &str, token: &str) -> u16 {
    app.http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Polls `me_on` until it answers 401, for at most a second: well inside the two seconds a
/// process trusts what it last read of a session, so only the pub/sub can make it.
async fn refused_within_a_second(app: &TestApp, base: &str, token: &str) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while std::time::Instant::now() < until {
        if me_on(app, base, token).await == 401 {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

#[tokio::test]
async fn ending_access_reaches_every_api_process_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    let m = app
        .create_member(&admin, json!({"name": "孙七", "unit_id": unit}))
        .await;
    let t = app.member_token(&m).await;
    let s = app.admin_login().await;
    let (at, rt) = (
        s["access_token"].as_str().unwrap().to_string(),
        s["refresh_token"].as_str().unwrap().to_string(),
    );
    let peer = app.spawn_peer().await;
    // Both processes have just checked both sessions, and remember them.
    for token in [&t, &at] {
        assert_eq!(me_on(&app, &app.base, token).await, 200);
        assert_eq!(me_on(&app, &peer.base, token).await, 200);
    }

    // Deactivated through one process: refused there at once, and on the other through the
    // pub/sub.
    let r = app
        .patch(
            &format!("/api/v1/admin/members/{}", id(&m)),
            &admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(me_on(&app, &app.base, &t).await, 401);
    assert!(refused_within_a_second(&app, &peer.base, &t).await);

    // A logout through one process ends the session on the other too.
    let r = app
        .post("/api/v1/auth/logout", &at, json!({"refresh_token": rt}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(me_on(&app, &app.base, &at).await, 401);
    assert!(refused_within_a_second(&app, &peer.base, &at).await);
}
