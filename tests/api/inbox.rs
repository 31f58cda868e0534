use serde_json::json;

use crate::helpers::*;
use crate::requests::*;

#[tokio::test]
async fn the_inbox_pages_newest_first_filters_unread_and_reads_idempotently() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let m = app
        .create_member(&admin, json!({"name": "周八", "unit_id": unit}))
        .await;
    for i in 0..5 {
        let post = app.create_post(&admin, &format!("第{i}课")).await;
        app.broadcast(&admin, Broadcast::new(&post, Audience::members([id(&m)])))
            .await;
        app.drain().await;
    }
    let t = app.member_token(&m).await;
    let p1 = app.get("/api/v1/inbox?limit=2", &t).await;
    assert_eq!(p1.body["unread_count"], 5);
    let titles: Vec<&str> = p1.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["第4课", "第3课"]);
    let c = p1.body["next_cursor"].as_str().unwrap();
    let p2 = app
        .get(&format!("/api/v1/inbox?limit=2&cursor={c}"), &t)
        .await;
    assert_eq!(p2.body["items"][0]["title"], "第2课");

    let id = p1.body["items"][0]["id"].as_str().unwrap();
    let first = app
        .post(&format!("/api/v1/inbox/{id}/read"), &t, json!({}))
        .await;
    let second = app
        .post(&format!("/api/v1/inbox/{id}/read"), &t, json!({}))
        .await;
    assert_eq!(second.status, 200);
    assert_eq!(
        first.body["read_at"], second.body["read_at"],
        "reading again keeps the first read time"
    );
    assert_eq!(second.body["unread_count"], 4);

    let unread = app.get("/api/v1/inbox?unread_only=true", &t).await;
    assert_eq!(unread.body["items"].as_array().unwrap().len(), 4);
    let r = app.post("/api/v1/inbox/read-all", &t, json!({})).await;
    assert_eq!(r.body["updated"], 4);
    assert_eq!(
        app.get("/api/v1/inbox/unread-count", &t).await.body["unread_count"],
        0
    );
}

#[tokio::test]
async fn a_member_never_sees_another_members_item() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let a = app
        .create_member(&admin, json!({"name": "甲", "unit_id": unit}))
        .await;
    let b = app
        .create_member(&admin, json!({"name": "乙", "unit_id": unit}))
        .await;
    let post = app.create_post(&admin, "私信").await;
    app.broadcast(&admin, Broadcast::new(&post, Audience::members([id(&a)])))
        .await;
    app.drain().await;
    let ta = app.member_token(&a).await;
    let tb = app.member_token(&b).await;
    let item = app.get("/api/v1/inbox", &ta).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.get(&format!("/api/v1/inbox/{item}"), &tb).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
    let r = app
        .post(&format!("/api/v1/inbox/{item}/read"), &tb, json!({}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        app.get("/api/v1/inbox", &tb).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.get("/api/v1/inbox/unread-count", &ta).await.body["unread_count"],
        1,
        "b's attempt read nothing"
    );
}
