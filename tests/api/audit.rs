//! The audit log: every admin action is an entry written with the change, in one hash chain
//! that anyone with admin rights can verify and that names the first entry tampered with.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::requests::*;

fn actions(log: &Resp) -> Vec<String> {
    log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn verify(app: &TestApp, admin: &str) -> Value {
    let r = app.get("/api/v1/admin/audit/verify", admin).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// What an admin did, once the bootstrap admin was made: logged in twice, made a unit and a
/// member, tagged the member, wrote a post and scheduled it, then canceled that; plus a bad
/// request and a read, which are no entries.
struct Done {
    app: TestApp,
    admin: String,
    admin_id: Value,
    member: Value,
    /// The broadcast scheduled and canceled.
    bid: String,
}

async fn admin_actions() -> Done {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let admin_id = app.admin_login().await["member"]["id"].clone();
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    let member = app
        .create_member(&admin, NewMember::new("张三").unit(&unit))
        .await;
    let r = app
        .patch(
            &format!("/api/v1/admin/members/{}", id(&member)),
            &admin,
            json!({"tags": ["青年"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let post = app.create_post(&admin, "十二月课堂").await;
    let at = app.clock_now() + chrono::Duration::hours(3);
    let bid = id(&app.broadcast(&admin, Broadcast::to_all(&post).at(at)).await);
    let r = app.broadcast_action(&admin, &bid, "cancel").await;
    assert_eq!(r.status, 200);
    // A refused change and a bad request change nothing, so they are no entries; reads
    // neither.
    let r = app
        .post("/api/v1/admin/units", &admin, json!({"name": ""}))
        .await;
    assert_eq!(r.status, 400);
    app.get("/api/v1/admin/units", &admin).await;
    Done {
        app,
        admin,
        admin_id,
        member,
        bid,
    }
}

#[tokio::test]
async fn admin_actions_are_entries_with_who_what_and_which_object() {
    let d = admin_actions().await;
    let log = d.app.get("/api/v1/admin/audit", &d.admin).await;
    assert_eq!(log.status, 200, "{:?}", log.body);
    assert_eq!(
        actions(&log),
        vec![
            "broadcast.cancel",
            "broadcast.create",
            "post.create",
            "member.update",
            "member.create",
            "unit.create",
            "auth.login",
            "auth.login",
            "member.create",
        ],
        "newest first; the first is the bootstrap admin, made by the server at start-up"
    );
    let bootstrap = &log.body["items"][8];
    assert!(bootstrap["actor_id"].is_null());
    assert_eq!(bootstrap["actor_role"], "system");
    assert_eq!(bootstrap["summary"]["via"], "bootstrap");
    let items = log.body["items"].as_array().unwrap();
    let cancel = &items[0];
    assert_eq!(cancel["actor_id"], d.admin_id);
    assert_eq!(cancel["actor_role"], "admin");
    assert_eq!(cancel["target_type"], "broadcast");
    assert_eq!(cancel["target_id"].as_str().unwrap(), d.bid);
    assert_eq!(items[3]["summary"]["tags"], json!(["青年"]));
    assert_eq!(items[4]["summary"]["name"], "张三");
    // The chain: each entry's position, one after the other.
    let seqs: Vec<i64> = items.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=9).rev().collect::<Vec<_>>());
}

#[tokio::test]
async fn the_log_filters_by_action_family_object_and_actor() {
    let d = admin_actions().await;
    let (app, admin, bid) = (&d.app, &d.admin, &d.bid);
    let r = app.get("/api/v1/admin/audit?action=broadcast", admin).await;
    assert_eq!(actions(&r), vec!["broadcast.cancel", "broadcast.create"]);
    let r = app
        .get(
            &format!(
                "/api/v1/admin/audit?target_type=broadcast&target_id={bid}&action=broadcast.cancel"
            ),
            admin,
        )
        .await;
    assert_eq!(actions(&r), vec!["broadcast.cancel"]);
    let actor = d.admin_id.as_str().unwrap();
    let r = app
        .get(
            &format!("/api/v1/admin/audit?actor_id={actor}&limit=2"),
            admin,
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert!(r.body["next_cursor"].is_string());
}

#[tokio::test]
async fn the_chain_of_admin_actions_verifies_up_to_the_newest_entry() {
    let d = admin_actions().await;
    let log = d.app.get("/api/v1/admin/audit", &d.admin).await;
    let v = verify(&d.app, &d.admin).await;
    assert_eq!(v["ok"], true, "{v:?}");
    assert_eq!(v["entries"], 9);
    assert_eq!(v["last_hash"], log.body["items"][0]["hash"]);
}

#[tokio::test]
async fn only_admins_read_or_verify_the_log() {
    let d = admin_actions().await;
    let mt = d.app.member_token(&d.member).await;
    assert_eq!(d.app.get("/api/v1/admin/audit", &mt).await.status, 403);
    assert_eq!(
        d.app.get("/api/v1/admin/audit/verify", &mt).await.status,
        403
    );
}

#[tokio::test]
async fn logins_and_refusals_are_entries_and_anonymous_noise_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    let member = app
        .create_member(&admin, json!({"name": "张三", "unit_id": unit}))
        .await;
    let before = app.get("/api/v1/admin/audit", &admin).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    // Anonymous requests to admin routes, known or not, write nothing.
    for path in ["/api/v1/admin/units", "/api/v1/admin/no-such-thing"] {
        let r = app
            .request(
                reqwest::Method::POST,
                path,
                None,
                Some(json!({"name": "x"})),
            )
            .await;
        assert!(r.status == 401 || r.status == 404, "{path}: {}", r.status);
    }
    // A wrong password, and an unknown username, are failed logins.
    for (user, pw) in [(ADMIN_USER, "not-the-password"), ("ghost", "whatever")] {
        let r = app
            .request(
                reqwest::Method::POST,
                "/api/v1/auth/admin/login",
                None,
                Some(json!({"username": user, "password": pw})),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    // A member refused an admin action is on record.
    let mt = app.member_token(&member).await;
    let r = app
        .post("/api/v1/admin/units", &mt, json!({"name": "x"}))
        .await;
    assert_eq!(r.status, 403);

    let log = app.get("/api/v1/admin/audit", &admin).await;
    let items = log.body["items"].as_array().unwrap();
    let new: Vec<&Value> = items[..items.len() - before].iter().collect();
    let acts: Vec<&str> = new.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        acts,
        vec![
            "access.denied",
            "auth.bind",
            "auth.login_failed",
            "auth.login_failed"
        ]
    );
    assert_eq!(new[0]["actor_id"], member["id"]);
    assert_eq!(new[0]["summary"]["path"], "/api/v1/admin/units");
    assert_eq!(new[2]["summary"]["reason"], "unknown_username");
    assert_eq!(new[2]["summary"]["username"], "ghost");
    assert!(new[2]["actor_id"].is_null());
    assert_eq!(new[3]["summary"]["reason"], "wrong_password");
    assert_eq!(
        new[3]["target_type"], "member",
        "the account that was tried"
    );
    assert!(new[3]["summary"]["address"].is_string());
    assert!(
        !new[3]["summary"].to_string().contains("not-the-password"),
        "never the password"
    );
}

#[tokio::test]
async fn verify_names_the_first_entry_edited_in_the_database() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for name in ["一支部", "二支部", "三支部", "四支部"] {
        app.create_unit(&admin, name, None).await;
    }
    assert_eq!(verify(&app, &admin).await["ok"], true);

    // Someone with database access rewrites what entry 3 says.
    app.core
        .db
        .execute_unprepared(
            r#"UPDATE audit_log SET summary = '{"name":"假支部","parent_id":null}' WHERE seq = 3"#,
        )
        .await
        .unwrap();
    let v = verify(&app, &admin).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_mismatch"]["seq"], 3, "{v:?}");
    assert_eq!(v["last_seq"], 2, "everything before it still holds");
    // The command line says the same, and fails.
    let out = fingertip_core::audit::verify(&app.core.db).await.unwrap();
    assert_eq!(out.first_mismatch.unwrap().seq, 3);
}

#[tokio::test]
async fn verify_finds_entries_removed_from_the_end_or_the_middle() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for name in ["一支部", "二支部", "三支部"] {
        app.create_unit(&admin, name, None).await;
    }
    let total = verify(&app, &admin).await["entries"].as_i64().unwrap();
    app.core
        .db
        .execute_unprepared(&format!("DELETE FROM audit_log WHERE seq = {total}"))
        .await
        .unwrap();
    let v = verify(&app, &admin).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_mismatch"]["seq"], total, "{v:?}");
    app.core
        .db
        .execute_unprepared("DELETE FROM audit_log WHERE seq = 2")
        .await
        .unwrap();
    let v = verify(&app, &admin).await;
    assert_eq!(v["first_mismatch"]["seq"], 2, "{v:?}");
}

#[tokio::test]
async fn concurrent_writers_keep_the_chain_one_line() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    let writes = (0..24).map(|i| {
        let (app, admin, unit) = (&app, &admin, &unit);
        async move {
            if i % 2 == 0 {
                app.create_post(admin, &format!("课 {i}")).await;
            } else {
                app.create_member(admin, json!({"name": format!("成员{i}"), "unit_id": unit}))
                    .await;
            }
        }
    });
    futures_util::future::join_all(writes).await;
    let v = verify(&app, &admin).await;
    assert_eq!(v["ok"], true, "{v:?}");
    // The bootstrap admin, their login, the unit, and the 24 writes: no gap, no fork.
    assert_eq!(v["entries"], 27);
    assert_eq!(v["last_seq"], 27);
}
