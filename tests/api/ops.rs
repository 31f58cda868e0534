use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let r = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, 200);
    let r = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["database"], "ok");
}

#[tokio::test]
async fn openapi_document_lists_the_routes_and_docs_page_is_served() {
    let app = spawn_app().await;
    let r = app
        .request(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(r.status, 200);
    let paths = r.body["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/auth/admin/login",
        "/api/v1/auth/wechat/login",
        "/api/v1/admin/broadcasts",
        "/api/v1/admin/broadcasts/{id}/recipients",
        "/api/v1/admin/members/import",
        "/api/v1/inbox",
        "/api/v1/inbox/{id}/read",
    ] {
        assert!(paths.contains_key(p), "missing {p} in the OpenAPI document");
    }
    let page = app
        .http
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.unwrap().contains("swagger"),
        "the docs page is Swagger UI"
    );
}

/// The value of the first sample of `name` whose labels contain every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_show_requests_by_route_the_fan_out_and_the_queue() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    for name in ["张三", "李四"] {
        app.create_member(&admin, serde_json::json!({"name": name, "unit_id": unit}))
            .await;
    }
    let post = app.create_post(&admin, "课").await;
    let r = app
        .post(
            "/api/v1/admin/broadcasts",
            &admin,
            serde_json::json!({"post_id": post, "audience": {"all": true}}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    // Due and not yet fanned out: the queue shows it.
    let text = app
        .request(Method::GET, "/metrics", None, None)
        .await
        .body
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        sample(&text, "fingertip_queue_broadcasts", &["state=\"sending\""]).unwrap() >= 1.0,
        "{text}"
    );
    app.drain().await;
    app.get(&format!("/api/v1/admin/broadcasts/{id}"), &admin)
        .await;
    let r = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.body.as_str().unwrap();
    // Requests by route template, not by raw path.
    assert!(
        sample(
            text,
            "fingertip_http_requests_total",
            &["route=\"/api/v1/admin/broadcasts/{id}\"", "status=\"200\""]
        )
        .unwrap()
            >= 1.0,
        "{text}"
    );
    assert!(!text.contains(&format!("/api/v1/admin/broadcasts/{id}\"")));
    assert!(text.contains("fingertip_http_request_duration_seconds_bucket"));
    assert!(sample(text, "fingertip_fanout_rows_total", &[]).unwrap() >= 2.0);
    assert!(
        sample(
            text,
            "fingertip_worker_passes_total",
            &["worker=\"fanout\""]
        )
        .unwrap()
            >= 1.0
    );
    assert_eq!(
        sample(text, "fingertip_queue_broadcasts", &["state=\"sending\""]),
        Some(0.0),
        "this app's queue is empty now"
    );
    assert!(sample(text, "fingertip_db_pool_connections", &["state=\"idle\""]).is_some());
    assert!(sample(text, "fingertip_ws_connections", &[]).is_some());
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_keeps_the_clients() {
    let app = spawn_app().await;
    let r = app.request(Method::GET, "/healthz", None, None).await;
    let made = r.headers["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(made.len(), 16);
    let r = app
        .http
        .get(format!("{}/api/v1/me", app.base))
        .header("x-request-id", "phone-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-request-id"], "phone-7f3a");
}
