use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn posts_are_created_changed_and_listed_by_kind() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/admin/posts",
            &t,
            json!({"kind": "classroom", "title": "指尖课堂第12期", "body_md": "## 本期内容",
                   "media": [{"kind": "video", "url": "https://example.org/v.mp4", "title": "微党课"}], "study_minutes": 45}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["media"][0]["kind"], "video");
    app.create_post(&t, "一堂党课").await;

    let r = app
        .patch(
            &format!("/api/v1/admin/posts/{id}"),
            &t,
            json!({"title": "指尖课堂第12期（修订）", "summary": null}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["title"], "指尖课堂第12期（修订）");
    assert_eq!(r.body["study_minutes"], 45);

    let r = app.get("/api/v1/admin/posts?kind=classroom", &t).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = app.get("/api/v1/admin/posts", &t).await;
    assert_eq!(r.body["items"][0]["title"], "一堂党课", "newest first");
    let r = app.get("/api/v1/admin/posts?kind=poem", &t).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn post_validation_names_each_bad_field() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/admin/posts",
            &t,
            json!({"kind": "poem", "title": "", "body_md": "x", "media": [{"kind": "hologram", "url": "ftp://x"}], "study_minutes": -5}),
        )
        .await;
    assert_eq!(r.status, 400);
    let f = r.detail_fields();
    for want in [
        "kind",
        "title",
        "media[0].kind",
        "media[0].url",
        "study_minutes",
    ] {
        assert!(f.contains(&want.to_string()), "{want} missing from {f:?}");
    }
}
