//! A secretary's world is closed: they act on what belongs to their subtree, read and send the
//! organisation's posts without changing them, and never touch an admin. (The access matrix in
//! `access.rs` checks every route; this walks the cases users reported.)

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::*;

struct Org {
    app: TestApp,
    admin: String,
    parent: String,
    child: String,
    /// Secretary of `child`.
    sec: String,
    /// Secretary of a sibling of `child`.
    other_sec: String,
    /// An admin whose unit is `child`.
    deputy: Value,
    child_member: Value,
    parent_member: Value,
}

async fn org() -> Org {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let parent = app.create_unit(&admin, "机关党委", None).await;
    let child = app.create_unit(&admin, "第一党支部", Some(&parent)).await;
    let sibling = app.create_unit(&admin, "第二党支部", Some(&parent)).await;
    let sec = app
        .create_member(
            &admin,
            json!({"name": "书记甲", "unit_id": child, "role": "secretary"}),
        )
        .await;
    let other = app
        .create_member(
            &admin,
            json!({"name": "书记乙", "unit_id": sibling, "role": "secretary"}),
        )
        .await;
    let deputy = app
        .create_member(
            &admin,
            json!({"name": "副书记", "unit_id": child, "role": "admin"}),
        )
        .await;
    let child_member = app
        .create_member(&admin, json!({"name": "张三", "unit_id": child}))
        .await;
    let parent_member = app
        .create_member(&admin, json!({"name": "李四", "unit_id": parent}))
        .await;
    let sec = app.member_token(&sec).await;
    let other_sec = app.member_token(&other).await;
    Org {
        admin,
        parent,
        child,
        sec,
        other_sec,
        deputy,
        child_member,
        parent_member,
        app,
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_admins_broadcast_does_not_exist_for_a_secretary() {
    let o = org().await;
    let app = &o.app;
    let post = app.create_post(&o.admin, "全委通知").await;
    let at = app.clock_now() + Duration::days(1);
    let b = app
        .post(
            "/api/v1/admin/broadcasts",
            &o.admin,
            json!({"post_id": post, "audience": {"unit_ids": [o.parent]}, "send_at": at.to_rfc3339()}),
        )
        .await;
    assert_eq!(b.status, 201);
    assert!(
        b.body["unit_id"].is_null(),
        "an admin's belongs to everyone"
    );
    let bid = id(&b.body);
    let path = format!("/api/v1/admin/broadcasts/{bid}");
    assert_eq!(app.get(&path, &o.sec).await.status, 404);
    let r = app
        .patch(&path, &o.sec, json!({"audience": {"all": true}}))
        .await;
    assert_eq!(r.status, 404);
    for action in ["cancel", "remind"] {
        let r = app
            .post(&format!("{path}/{action}"), &o.sec, json!({}))
            .await;
        assert_eq!(r.status, 404, "{action}");
    }
    let r = app.get(&format!("{path}/recipients"), &o.sec).await;
    assert_eq!(r.status, 404);
    let list = app.get("/api/v1/admin/broadcasts", &o.sec).await;
    assert_eq!(list.body["items"], json!([]));
    // Untouched: still to everyone under the parent, still scheduled.
    let r = app.get(&path, &o.admin).await;
    assert_eq!(r.body["status"], "scheduled");
    assert_eq!(r.body["audience"]["unit_ids"], json!([o.parent]));
}

#[tokio::test]
async fn a_secretary_sends_the_organisations_posts_but_cannot_rewrite_them() {
    let o = org().await;
    let app = &o.app;
    let shared = app.create_post(&o.admin, "十二月课堂").await;
    let r = app
        .get(&format!("/api/v1/admin/posts/{shared}"), &o.sec)
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .patch(
            &format!("/api/v1/admin/posts/{shared}"),
            &o.sec,
            json!({"title": "改过的标题"}),
        )
        .await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    // Their own broadcast of it reaches their subtree only, and belongs to their unit.
    let b = app
        .post(
            "/api/v1/admin/broadcasts",
            &o.sec,
            json!({"post_id": shared, "audience": {"all": true}}),
        )
        .await;
    assert_eq!(b.status, 201, "{:?}", b.body);
    assert_eq!(b.body["unit_id"].as_str().unwrap(), o.child);
    // The secretary, the deputy and 张三 are in the child unit.
    assert_eq!(b.body["audience_size"], 3);
    app.drain().await;
    let bid = id(&b.body);
    let r = app
        .get(
            &format!("/api/v1/admin/broadcasts/{bid}/recipients"),
            &o.sec,
        )
        .await;
    let names: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"张三") && !names.contains(&"李四"),
        "{names:?}"
    );
    // Everyone who got it can read it: the read rate can reach 100%.
    for m in [&o.child_member] {
        let t = app.member_token(m).await;
        let inbox = app.get("/api/v1/inbox", &t).await;
        let item = id(&inbox.body["items"][0]);
        app.post(&format!("/api/v1/inbox/{item}/read"), &t, json!({}))
            .await;
    }
    let stats = app
        .get(&format!("/api/v1/admin/broadcasts/{bid}"), &o.sec)
        .await
        .body["stats"]
        .clone();
    assert_eq!(stats["recipients"], 3);
    assert_eq!(stats["read"], 1);
    // Their own post is theirs to edit; the sibling's secretary does not see it.
    let own = app
        .post(
            "/api/v1/admin/posts",
            &o.sec,
            json!({"kind": "notice", "title": "支部通知", "body_md": "正文"}),
        )
        .await;
    assert_eq!(own.status, 201);
    assert_eq!(own.body["unit_id"].as_str().unwrap(), o.child);
    let own = id(&own.body);
    let r = app
        .patch(
            &format!("/api/v1/admin/posts/{own}"),
            &o.sec,
            json!({"title": "支部通知（更正）"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .get(&format!("/api/v1/admin/posts/{own}"), &o.other_sec)
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .post(
            "/api/v1/admin/broadcasts",
            &o.other_sec,
            json!({"post_id": own, "audience": {"all": true}}),
        )
        .await;
    assert_eq!(r.status, 400, "another unit's post is no post for them");
    assert_eq!(r.detail_fields(), vec!["post_id"]);
}

#[tokio::test]
async fn a_secretary_never_changes_an_admin_nor_makes_one() {
    let o = org().await;
    let app = &o.app;
    let deputy = format!("/api/v1/admin/members/{}", id(&o.deputy));
    // They can see the admin of their unit, but not change them.
    assert_eq!(app.get(&deputy, &o.sec).await.status, 200);
    for change in [
        json!({"role": "member"}),
        json!({"active": false}),
        json!({"name": "改名"}),
    ] {
        let r = app.patch(&deputy, &o.sec, change.clone()).await;
        assert_eq!(r.status, 403, "{change}: {:?}", r.body);
    }
    let r = app
        .post(
            "/api/v1/admin/members",
            &o.sec,
            json!({"name": "新管理员", "unit_id": o.child, "role": "admin"}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .patch(
            &format!("/api/v1/admin/members/{}", id(&o.child_member)),
            &o.sec,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(r.status, 403);
    // A secretary may make a secretary of their subtree.
    let r = app
        .patch(
            &format!("/api/v1/admin/members/{}", id(&o.child_member)),
            &o.sec,
            json!({"role": "secretary"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // A member of the parent unit does not exist for them.
    let r = app
        .get(
            &format!("/api/v1/admin/members/{}", id(&o.parent_member)),
            &o.sec,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app.get("/api/v1/admin/push/templates", &o.sec).await;
    assert_eq!(r.status, 403, "push templates are the admins'");
}
