//! The consents a member reports and the templates an admin sets: bad input is a 400 naming
//! the field; only admins set templates.

use super::*;

#[tokio::test]
async fn bad_consents_are_400() {
    let b = wechat_branch(2).await;
    let t = b.token(0).await;
    for results in [json!({"bad id with spaces": "accept"}), json!("accept")] {
        let r = b
            .app()
            .post(
                "/api/v1/me/wechat/subscriptions",
                &t,
                json!({ "results": results }),
            )
            .await;
        assert_eq!(r.status, 400, "{results}: {:?}", r.body);
    }
}

async fn put_template(b: &Branch, token: &str, kind: &str, body: Value) -> Resp {
    b.app()
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/push/templates/{kind}"),
            Some(token),
            Some(body),
        )
        .await
}

#[tokio::test]
async fn bad_templates_are_400_naming_the_field() {
    let b = wechat_branch(2).await;
    let admin = b.org.admin().await;
    for (kind, body, field) in [
        (
            "lesson",
            json!({"template_id": "t1", "fields": {"colour1": "title"}}),
            "fields.colour1",
        ),
        (
            "lesson",
            json!({"template_id": "t1", "fields": {"time2": "title"}}),
            "fields.time2",
        ),
        (
            "lesson",
            json!({"template_id": "t1", "fields": {}}),
            "fields",
        ),
        (
            "lesson",
            json!({"template_id": "", "fields": {"thing1": "title"}}),
            "template_id",
        ),
        (
            "party",
            json!({"template_id": "t1", "fields": {"thing1": "title"}}),
            "kind",
        ),
    ] {
        let r = put_template(&b, &admin, kind, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{body}: {:?}",
            r.body
        );
    }
    let unknown = json!({"template_id": "t1", "fields": {"thing1": "headline"}});
    let r = put_template(&b, &admin, "lesson", unknown).await;
    assert_eq!(r.status, 400, "an unknown source: {:?}", r.body);
}

#[tokio::test]
async fn only_admins_set_templates() {
    let b = wechat_branch(2).await;
    let body = json!({"template_id": "t1", "fields": {"thing1": "title"}});
    let r = put_template(&b, &b.token(0).await, "lesson", body).await;
    assert_eq!(r.status, 403);
    let list = b
        .app()
        .get("/api/v1/admin/push/templates", &b.org.admin().await)
        .await;
    assert_eq!(list.body["items"][0]["template_id"], LESSON_TEMPLATE);
}

#[tokio::test]
async fn templates_are_kept_listed_and_removed_by_kind() {
    let b = wechat_branch(2).await;
    let admin = b.org.admin().await;
    let body = json!({"template_id": "tmpl-reminder", "page": "pages/inbox/item?id={item_id}",
                      "fields": {"thing1": "title", "time2": "time"}});
    let r = put_template(&b, &admin, "reminder", body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["kind"], "reminder");
    assert_eq!(
        r.body["fields"],
        json!({"thing1": "title", "time2": "time"})
    );
    let list = b.app().get("/api/v1/admin/push/templates", &admin).await;
    let kinds: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["lesson", "reminder"],
        "ordered by kind: {:?}",
        list.body
    );
    // A word that is no kind has no template, like a kind without one.
    for kind in ["party", "classroom"] {
        let r = delete_template(&b, &admin, kind).await;
        assert_eq!(r.status, 404, "{kind}: {:?}", r.body);
        assert_eq!(r.body["error"]["code"], "not_found");
    }
    assert_eq!(delete_template(&b, &admin, "reminder").await.status, 204);
    assert_eq!(delete_template(&b, &admin, "reminder").await.status, 404);
}

async fn delete_template(b: &Branch, token: &str, kind: &str) -> Resp {
    b.app()
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/push/templates/{kind}"),
            Some(token),
            None,
        )
        .await
}
