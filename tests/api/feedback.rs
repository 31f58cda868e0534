//! Feedback to the branch: a member writes under their name or anonymously, the unit's managers
//! answer in a thread, the named writer is told in the inbox, the anonymous one reads with their
//! key; nobody else sees a thread; a thread waiting too long reminds the secretary, once a wait.

use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

const GROUP: &str = "第一党小组";
const OTHER: &str = "第二党支部";

async fn branch() -> Org {
    Org::builder(spawn_app().await)
        .at(beijing(12, 1, 10, 0))
        .unit(BRANCH, None)
        .unit(GROUP, Some(BRANCH))
        .unit(OTHER, None)
        .secretary("赵书记", BRANCH)
        .member("党员0", BRANCH)
        .member("党员1", BRANCH)
        .member("党员2", BRANCH)
        .member("党员3", GROUP)
        .secretary("钱书记", OTHER)
        .build()
        .await
}

fn titles(items: &[Value], containing: &str) -> usize {
    items
        .iter()
        .filter(|i| i["title"].as_str().is_some_and(|t| t.contains(containing)))
        .count()
}

#[tokio::test]
async fn a_named_thread_is_answered_and_its_writer_told_and_nobody_else_sees_it() {
    let org = branch().await;
    let body =
        json!({"unit_id": org.unit(BRANCH), "topic": "学习安排", "body": "希望周五学习日改到下午"});
    let r = org
        .app
        .post("/api/v1/feedback", &org.token("党员3").await, body)
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        (r.body["state"].as_str(), r.body["writer"]["name"].as_str()),
        (Some("open"), Some("党员3"))
    );
    let f = id(&r.body);
    let r = org
        .app
        .post(
            "/api/v1/feedback",
            &org.token("党员3").await,
            json!({"unit_id": org.unit(OTHER), "topic": "x", "body": "y"}),
        )
        .await;
    assert_eq!(r.status, 400, "another branch: {:?}", r.body);
    assert_eq!(r.detail_fields(), vec!["unit_id".to_string()]);

    // Nobody else reads it: another member, another branch's secretary, a member on the
    // managers' route.
    let r = org
        .app
        .get(&format!("/api/v1/feedback/{f}"), &org.token("党员0").await)
        .await;
    assert_eq!(r.status, 404);
    let r = org
        .app
        .get(
            &format!("/api/v1/admin/feedback/{f}"),
            &org.token("钱书记").await,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = org
        .app
        .get("/api/v1/admin/feedback", &org.token("钱书记").await)
        .await;
    assert_eq!(r.body["items"], json!([]));
    let r = org
        .app
        .get("/api/v1/admin/feedback", &org.token("党员0").await)
        .await;
    assert_eq!(r.status, 403);
    let r = org
        .app
        .get("/api/v1/feedback", &org.token("党员0").await)
        .await;
    assert_eq!(r.body["items"], json!([]), "only one's own threads");

    // The branch's secretary answers; the writer is told in the inbox.
    let sec = org.token("赵书记").await;
    let r = org.app.get("/api/v1/admin/feedback?state=open", &sec).await;
    assert_eq!(r.body["items"][0]["topic"], "学习安排", "{:?}", r.body);
    let r = org
        .app
        .post(
            &format!("/api/v1/admin/feedback/{f}/messages"),
            &sec,
            json!({"body": "已调整到周五下午"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["state"], "answered");
    assert_eq!(r.body["messages"][1]["author"]["name"], "赵书记");
    org.app.drain().await;
    assert_eq!(
        titles(&org.inbox("党员3").await, "您的意见“学习安排”已有答复"),
        1
    );

    // A follow-up opens it again; once closed it takes nothing more.
    let r = org
        .app
        .post(
            &format!("/api/v1/feedback/{f}/messages"),
            &org.token("党员3").await,
            json!({"body": "谢谢，另外希望有线上回放"}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["state"].as_str()),
        (200, Some("open"))
    );
    let r = org
        .app
        .post(
            &format!("/api/v1/admin/feedback/{f}/close"),
            &sec,
            json!({}),
        )
        .await;
    assert_eq!(r.body["state"], "closed");
    let r = org
        .app
        .post(
            &format!("/api/v1/feedback/{f}/messages"),
            &org.token("党员3").await,
            json!({"body": "再补充"}),
        )
        .await;
    assert_eq!(r.status, 409);
    let audit = org
        .app
        .get("/api/v1/admin/audit?action=feedback", &org.admin().await)
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        vec![
            "feedback.close",
            "feedback.message",
            "feedback.reply",
            "feedback.create"
        ]
    );
    assert_eq!(audit.body["items"][3]["actor_id"], org.id("党员3"));
}

#[tokio::test]
async fn an_anonymous_thread_names_nobody_and_opens_only_with_its_key() {
    let org = branch().await;
    let mt = org.token("党员3").await;
    let write = |unit: &str| json!({"unit_id": unit, "topic": "会议太多", "body": "希望精简会议"});
    let r = org
        .app
        .post("/api/v1/anonymous-feedback", &mt, write(org.unit(GROUP)))
        .await;
    assert_eq!(
        r.status, 400,
        "a group of one would name its writer: {:?}",
        r.body
    );
    let r = org
        .app
        .post("/api/v1/anonymous-feedback", &mt, write(org.unit(BRANCH)))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let key = r.body["key"].as_str().unwrap().to_string();
    let t = &r.body["thread"];
    assert_eq!(
        (t["anonymous"].as_bool(), t["writer"].is_null()),
        (Some(true), true)
    );
    let day = beijing(12, 1, 0, 0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(t["created_at"], json!(day), "only the day is kept");
    assert!(t["messages"][0]["author"].is_null());
    let f = id(t);

    // The managers see it without a writer, and answer it.
    let sec = org.token("赵书记").await;
    let r = org
        .app
        .get(&format!("/api/v1/admin/feedback/{f}"), &sec)
        .await;
    assert_eq!(
        (r.body["anonymous"].as_bool(), r.body["writer"].is_null()),
        (Some(true), true)
    );
    let r = org
        .app
        .post(
            &format!("/api/v1/admin/feedback/{f}/messages"),
            &sec,
            json!({"body": "下月起合并两次例会"}),
        )
        .await;
    assert_eq!(r.status, 200);
    org.app.drain().await;
    assert_eq!(
        titles(&org.inbox("党员3").await, "已有答复"),
        0,
        "an inbox notice would name the writer"
    );
    let r = org.app.get("/api/v1/feedback", &mt).await;
    assert_eq!(r.body["items"], json!([]), "not among the named threads");

    // The key opens it; no other does.
    let r = org
        .app
        .post(
            "/api/v1/anonymous-feedback/thread",
            &mt,
            json!({"key": key}),
        )
        .await;
    assert_eq!(
        r.body["messages"][1]["body"], "下月起合并两次例会",
        "{:?}",
        r.body
    );
    // The same key but for its last digit.
    let last = if key.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &key[..key.len() - 1]);
    let r = org
        .app
        .post(
            "/api/v1/anonymous-feedback/thread",
            &mt,
            json!({"key": wrong}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = org
        .app
        .post(
            "/api/v1/anonymous-feedback/messages",
            &mt,
            json!({"key": key, "body": "谢谢"}),
        )
        .await;
    assert_eq!(r.body["state"], "open", "{:?}", r.body);
    let r = org
        .app
        .post("/api/v1/anonymous-feedback/close", &mt, json!({"key": key}))
        .await;
    assert_eq!(r.body["state"], "closed");

    // Nothing stored names the writer: the audit entries of the writer's steps have no actor,
    // and the key itself is stored nowhere.
    let audit = org
        .app
        .get(
            &format!("/api/v1/admin/audit?target_type=feedback&target_id={f}"),
            &org.admin().await,
        )
        .await;
    let entries = audit.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{entries:?}");
    for e in entries {
        if e["action"] == "feedback.reply" {
            assert_eq!(e["actor_id"], org.id("赵书记"));
        } else {
            assert!(e["actor_id"].is_null(), "{e}");
            assert_eq!(e["actor_role"], "anonymous", "{e}");
        }
    }
    let db = &org.app.core.db;
    use sea_orm::ConnectionTrait;
    for table in [
        "feedback",
        "feedback_messages",
        "audit_log",
        "posts",
        "inbox_items",
    ] {
        let sql = if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            format!("SELECT t::text AS v FROM {table} t")
        } else {
            format!("SELECT * FROM {table}")
        };
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap();
        let text = format!("{rows:?}");
        assert!(!text.contains(&key), "{table} holds the key");
    }
}

#[tokio::test]
async fn a_thread_waiting_three_days_reminds_the_secretary_once_a_wait() {
    let org = branch().await;
    let body = json!({"topic": "学习安排", "body": "希望周五学习日改到下午"});
    let r = org
        .app
        .post("/api/v1/feedback", &org.token("党员0").await, body)
        .await;
    let f = id(&r.body);
    let reminder = "提醒：第一党支部有 1 条意见未答复";
    org.app.clock.set(beijing(12, 4, 9, 0));
    org.app.drain().await;
    assert_eq!(
        titles(&org.inbox("赵书记").await, reminder),
        0,
        "not three days yet"
    );
    org.app.clock.set(beijing(12, 4, 10, 30));
    org.app.drain().await;
    assert_eq!(titles(&org.inbox("赵书记").await, reminder), 1);
    org.app.clock.set(beijing(12, 5, 10, 30));
    org.app.drain().await;
    assert_eq!(titles(&org.inbox("赵书记").await, reminder), 1, "once");

    // Answered, then asked again: a new wait, a new reminder.
    let r = org
        .app
        .post(
            &format!("/api/v1/admin/feedback/{f}/messages"),
            &org.token("赵书记").await,
            json!({"body": "正在研究"}),
        )
        .await;
    assert_eq!(r.status, 200);
    org.app
        .post(
            &format!("/api/v1/feedback/{f}/messages"),
            &org.token("党员0").await,
            json!({"body": "研究结果如何？"}),
        )
        .await;
    org.app.clock.set(beijing(12, 8, 11, 0));
    org.app.drain().await;
    assert_eq!(titles(&org.inbox("赵书记").await, reminder), 2);
}
