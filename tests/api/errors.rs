//! Bad input always gets a 4xx in the error envelope.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let r = app.request(Method::GET, "/api/v1/nope", None, None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
}

#[tokio::test]
async fn malformed_json_and_wrong_types_are_400_in_the_envelope() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app
        .post_raw(
            "/api/v1/admin/posts",
            &t,
            "application/json",
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.code(), "validation_failed");
    let r = app
        .post(
            "/api/v1/admin/posts",
            &t,
            json!({"kind": "lesson", "title": 5, "body_md": "x"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_failed");
    let r = app
        .post_raw("/api/v1/admin/posts", &t, "text/plain", b"{}".to_vec())
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_failed");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let big = "字".repeat(300 * 1024);
    let r = app
        .post(
            "/api/v1/admin/posts",
            &t,
            json!({"kind": "lesson", "title": "t", "body_md": big}),
        )
        .await;
    assert_eq!(r.status, 413, "{:?}", r.body);
    assert_eq!(r.code(), "payload_too_large");
    let csv = format!("name,unit\n{}", "张三,支部\n".repeat(1_300_000));
    let r = app
        .post_raw(
            "/api/v1/admin/members/import",
            &t,
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.code(), "payload_too_large");
}

#[tokio::test]
async fn bad_query_values_and_cursors_are_400_and_limit_is_clamped() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app.get("/api/v1/admin/members?limit=abc", &t).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_failed");
    let r = app.get("/api/v1/admin/members?cursor=garbage!!", &t).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["cursor"]);
    let r = app.get("/api/v1/inbox?cursor=AAAA", &t).await;
    assert_eq!(r.status, 400);
    let r = app.get("/api/v1/admin/members?limit=100000", &t).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_path_id_that_is_not_an_id_is_404() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app.get("/api/v1/admin/members/not-an-id", &t).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
    let r = app.get("/api/v1/admin/broadcasts/999999", &t).await;
    assert_eq!(r.status, 404);
}
