//! A secretary's world is closed: they act on what belongs to their subtree, read and send the
//! organisation's posts without changing them, and never touch an admin. (The access matrix in
//! `access.rs` checks every route; this walks the cases users reported.)

use chrono::Duration;
use serde_json::json;

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

const PARENT: &str = "机关党委";
const CHILD: &str = "第一党支部";
const SIBLING: &str = "第二党支部";
/// The secretary of `CHILD`, and the one of its sibling.
const SEC: &str = "书记甲";
const OTHER_SEC: &str = "书记乙";
/// An admin whose unit is `CHILD`.
const DEPUTY: &str = "副书记";

/// 张三 is in the child unit, 李四 in its parent.
async fn org() -> Org {
    Org::builder(spawn_app().await)
        .unit(PARENT, None)
        .unit(CHILD, Some(PARENT))
        .unit(SIBLING, Some(PARENT))
        .secretary(SEC, CHILD)
        .secretary(OTHER_SEC, SIBLING)
        .member_with(DEPUTY, CHILD, |m| m.role("admin"))
        .member("张三", CHILD)
        .member("李四", PARENT)
        .signed_in([SEC, OTHER_SEC])
        .build()
        .await
}

#[tokio::test]
async fn an_admins_broadcast_does_not_exist_for_a_secretary() {
    let o = org().await;
    let app = &o.app;
    let admin = o.admin().await;
    let sec = o.token(SEC).await;
    let post = app.create_post(&admin, "全委通知").await;
    let at = app.clock_now() + Duration::days(1);
    let b = app
        .broadcast(&admin, Broadcast::to_unit(&post, o.unit(PARENT)).at(at))
        .await;
    assert!(b["unit_id"].is_null(), "an admin's belongs to everyone");
    let bid = id(&b);
    let path = format!("/api/v1/admin/broadcasts/{bid}");
    assert_eq!(app.get(&path, &sec).await.status, 404);
    let r = app
        .patch(&path, &sec, json!({"audience": {"all": true}}))
        .await;
    assert_eq!(r.status, 404);
    for action in ["cancel", "remind"] {
        let r = app.broadcast_action(&sec, &bid, action).await;
        assert_eq!(r.status, 404, "{action}");
    }
    let r = app.get(&format!("{path}/recipients"), &sec).await;
    assert_eq!(r.status, 404);
    let list = app.get("/api/v1/admin/broadcasts", &sec).await;
    assert_eq!(list.body["items"], json!([]));
    // Untouched: still to everyone under the parent, still scheduled.
    let r = app.get(&path, &admin).await;
    assert_eq!(r.body["status"], "scheduled");
    assert_eq!(r.body["audience"]["unit_ids"], json!([o.unit(PARENT)]));
}

#[tokio::test]
async fn a_secretary_reads_the_organisations_post_but_cannot_rewrite_it() {
    let o = org().await;
    let app = &o.app;
    let sec = o.token(SEC).await;
    let shared = app.create_post(&o.admin().await, "十二月课堂").await;
    let path = format!("/api/v1/admin/posts/{shared}");
    assert_eq!(app.get(&path, &sec).await.status, 200);
    let r = app.patch(&path, &sec, json!({"title": "改过的标题"})).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
}

#[tokio::test]
async fn a_secretarys_broadcast_reaches_their_subtree_only_and_belongs_to_their_unit() {
    let o = org().await;
    let app = &o.app;
    let sec = o.token(SEC).await;
    let shared = app.create_post(&o.admin().await, "十二月课堂").await;
    let b = app.broadcast(&sec, Broadcast::to_all(&shared)).await;
    assert_eq!(b["unit_id"].as_str().unwrap(), o.unit(CHILD));
    // The secretary, the deputy and 张三 are in the child unit.
    assert_eq!(b["audience_size"], 3);
    app.drain().await;
    let bid = id(&b);
    let r = app
        .get(&format!("/api/v1/admin/broadcasts/{bid}/recipients"), &sec)
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
    let t = o.token("张三").await;
    let item = id(&app.inbox(&t).await[0]);
    app.read(&t, &item).await;
    let stats = app.broadcast_record(&sec, &bid).await["stats"].clone();
    assert_eq!(stats["recipients"], 3);
    assert_eq!(stats["read"], 1);
}

#[tokio::test]
async fn a_secretarys_own_post_is_theirs_to_edit_and_no_post_for_a_sibling() {
    let o = org().await;
    let app = &o.app;
    let sec = o.token(SEC).await;
    let other_sec = o.token(OTHER_SEC).await;
    let own = app
        .post(
            "/api/v1/admin/posts",
            &sec,
            json!({"kind": "notice", "title": "支部通知", "body_md": "正文"}),
        )
        .await;
    assert_eq!(own.status, 201);
    assert_eq!(own.body["unit_id"].as_str().unwrap(), o.unit(CHILD));
    let own = id(&own.body);
    let path = format!("/api/v1/admin/posts/{own}");
    let r = app
        .patch(&path, &sec, json!({"title": "支部通知（更正）"}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get(&path, &other_sec).await.status, 404);
    let r = app.try_broadcast(&other_sec, Broadcast::to_all(&own)).await;
    assert_eq!(r.status, 400, "another unit's post is no post for them");
    assert_eq!(r.detail_fields(), vec!["post_id"]);
}

#[tokio::test]
async fn a_secretary_never_changes_an_admin_nor_makes_one() {
    let o = org().await;
    let app = &o.app;
    let sec = o.token(SEC).await;
    let deputy = format!("/api/v1/admin/members/{}", o.id(DEPUTY));
    // They can see the admin of their unit, but not change them.
    assert_eq!(app.get(&deputy, &sec).await.status, 200);
    for change in [
        json!({"role": "member"}),
        json!({"active": false}),
        json!({"name": "改名"}),
    ] {
        let r = app.patch(&deputy, &sec, change.clone()).await;
        assert_eq!(r.status, 403, "{change}: {:?}", r.body);
    }
    let new_admin = NewMember::new("新管理员").unit(o.unit(CHILD)).role("admin");
    let r = app
        .post(
            "/api/v1/admin/members",
            &sec,
            serde_json::to_value(new_admin).unwrap(),
        )
        .await;
    assert_eq!(r.status, 403);
    let member = format!("/api/v1/admin/members/{}", o.id("张三"));
    let r = app.patch(&member, &sec, json!({"role": "admin"})).await;
    assert_eq!(r.status, 403);
    // A secretary may make a secretary of their subtree.
    let r = app.patch(&member, &sec, json!({"role": "secretary"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn a_member_of_the_parent_unit_and_the_push_templates_are_not_a_secretarys() {
    let o = org().await;
    let app = &o.app;
    let sec = o.token(SEC).await;
    let r = app
        .get(&format!("/api/v1/admin/members/{}", o.id("李四")), &sec)
        .await;
    assert_eq!(
        r.status, 404,
        "a member of the parent unit does not exist for them"
    );
    let r = app.get("/api/v1/admin/push/templates", &sec).await;
    assert_eq!(r.status, 403, "push templates are the admins'");
}
