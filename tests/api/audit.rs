//! Every admin write request is in the audit log, refused ones included.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_writes_are_audited_with_who_what_and_how_it_ended() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    let member = app
        .create_member(&admin, json!({"name": "张三", "unit_id": unit}))
        .await;
    // A bad request and a member trying an admin route are on record too.
    let r = app
        .post("/api/v1/admin/units", &admin, json!({"name": ""}))
        .await;
    assert_eq!(r.status, 400);
    let mt = app.member_token(&member).await;
    let r = app
        .post("/api/v1/admin/units", &mt, json!({"name": "x"}))
        .await;
    assert_eq!(r.status, 403);
    // Reads are not audited.
    app.get("/api/v1/admin/units", &admin).await;

    let log = app.get("/api/v1/admin/audit", &admin).await;
    assert_eq!(log.status, 200, "{:?}", log.body);
    let items = log.body["items"].as_array().unwrap();
    let seen: Vec<(String, String, u64)> = items
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_string(),
                e["path"].as_str().unwrap().to_string(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("POST".into(), "/api/v1/admin/units".into(), 403),
            ("POST".into(), "/api/v1/admin/units".into(), 400),
            ("POST".into(), "/api/v1/admin/members".into(), 201),
            ("POST".into(), "/api/v1/admin/units".into(), 201),
        ],
        "newest first, no reads"
    );
    assert_eq!(
        items[0]["actor_id"], member["id"],
        "the member who was refused"
    );
    assert_eq!(items[0]["actor_role"], "member");
    assert_eq!(items[3]["actor_role"], "admin");
    let mine = app
        .get(
            &format!(
                "/api/v1/admin/audit?actor_id={}",
                member["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    // Only admins read it.
    let r = app.get("/api/v1/admin/audit", &mt).await;
    assert_eq!(r.status, 403);
}
