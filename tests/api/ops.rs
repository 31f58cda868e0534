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
