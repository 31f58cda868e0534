use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn login(app: &TestApp, code: &str) -> Resp {
    app.request(
        Method::POST,
        "/api/v1/auth/wechat/login",
        None,
        Some(json!({"code": code})),
    )
    .await
}

async fn bind(app: &TestApp, bind_token: &str, invite: &Value) -> Resp {
    app.request(
        Method::POST,
        "/api/v1/auth/wechat/bind",
        None,
        Some(json!({"bind_token": bind_token, "invite_code": invite})),
    )
    .await
}

#[tokio::test]
async fn unbound_account_binds_once_with_the_invite_code_then_logs_straight_in() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "审计一科", None).await;
    let m = app
        .create_member(
            &admin,
            json!({"name": "王五", "unit_id": unit, "tags": ["青年"]}),
        )
        .await;
    let invite = m["invite_code"].clone();
    assert!(invite.as_str().is_some_and(|c| c.len() == 8));

    let r = login(&app, &app.mock.issue_code("o-wangwu")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["bind_required"], true);
    let bind_token = r.body["bind_token"].as_str().unwrap().to_string();
    assert!(r.body.get("access_token").is_none());

    // A wrong invite code is a 400 naming the field.
    let r = bind(&app, &bind_token, &json!("ZZZZZZZZ")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["invite_code"]);

    // Lower case and spaces are forgiven.
    let typed = invite.as_str().unwrap().to_lowercase();
    let r = bind(&app, &bind_token, &json!(format!(" {typed} "))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["member"]["name"], "王五");
    assert_eq!(r.body["member"]["tags"], json!(["青年"]));

    // The invite code works once.
    let other = app.mock.issue_code("o-someone-else");
    let bt2 = login(&app, &other).await.body["bind_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = bind(&app, &bt2, &invite).await;
    assert_eq!(r.status, 400);

    // Next time the same WeChat account gets tokens straight away.
    let r = login(&app, &app.mock.issue_code("o-wangwu")).await;
    assert_eq!(r.status, 200);
    assert!(r.body["access_token"].is_string());
    // Admins no longer see the invite code.
    let id = m["id"].as_str().unwrap();
    let r = app
        .get(&format!("/api/v1/admin/members/{id}"), &admin)
        .await;
    assert!(r.body["invite_code"].is_null());
    assert_eq!(r.body["wechat_bound"], true);
}

#[tokio::test]
async fn a_wechat_account_cannot_be_bound_to_two_members() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let a = app
        .create_member(&admin, json!({"name": "甲", "unit_id": unit}))
        .await;
    let b = app
        .create_member(&admin, json!({"name": "乙", "unit_id": unit}))
        .await;
    let bt = login(&app, &app.mock.issue_code("o-x")).await.body["bind_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(bind(&app, &bt, &a["invite_code"]).await.status, 200);
    // The same openid with a bind token minted before the first bind tries another invite.
    let r = bind(&app, &bt, &b["invite_code"]).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(r.code(), "conflict");
}

#[tokio::test]
async fn invalid_used_and_expired_codes_are_400() {
    let app = spawn_app().await;
    let r = login(&app, "never-issued").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["code"]);
    let code = app.mock.issue_code("o-1");
    assert_eq!(login(&app, &code).await.status, 200);
    assert_eq!(login(&app, &code).await.status, 400, "a code works once");
    let code = app.mock.issue_code("o-2");
    app.mock.advance(Duration::from_secs(301));
    assert_eq!(
        login(&app, &code).await.status,
        400,
        "codes expire after 5 minutes"
    );
    let r = login(&app, "").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn platform_trouble_is_503_or_429_never_500() {
    let app = spawn_app().await;
    app.mock.fail_next("/sns/jscode2session", -1, 1);
    let r = login(&app, &app.mock.issue_code("o-1")).await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert_eq!(r.code(), "upstream_unavailable");
    app.mock.fail_next("/sns/jscode2session", 45011, 1);
    let r = login(&app, &app.mock.issue_code("o-1")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.code(), "rate_limited");
    assert!(r.headers.get("retry-after").is_some());
    app.mock.fail_next("/sns/jscode2session", 40125, 1);
    let r = login(&app, &app.mock.issue_code("o-1")).await;
    assert_eq!(r.status, 502);
    assert_eq!(r.code(), "upstream_unavailable");
}

#[tokio::test]
async fn without_wechat_credentials_login_is_503_and_the_rest_works() {
    let app = spawn_with(SpawnOptions {
        wechat: false,
        ..Default::default()
    })
    .await;
    let r = login(&app, "any").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.code(), "upstream_unavailable");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not configured")
    );
    assert_eq!(app.admin_login().await["member"]["role"], "admin");
}
