//! A unit's annual study plan: themes and lessons by month, each linked to its post once
//! written and shown done, due or late; published to the members as a post.

use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

const OTHER: &str = "第二党支部";

async fn put_plan(org: &Org, who: &str, body: Value) -> Resp {
    org.app
        .request(
            reqwest::Method::PUT,
            "/api/v1/admin/study/plans",
            Some(&org.token(who).await),
            Some(body),
        )
        .await
}

async fn get_plan(org: &Org, who: &str) -> Resp {
    org.app
        .get(
            &format!(
                "/api/v1/admin/study/plans?unit_id={}&year=2026",
                org.unit(BRANCH)
            ),
            &org.token(who).await,
        )
        .await
}

/// A lesson written and sent to the branch by its secretary; the post's id.
async fn lesson(org: &Org, title: &str, send: bool) -> String {
    let t = org.token("赵书记").await;
    let post = org
        .app
        .create_post_with(&t, NewPost::lesson(title).body("正文").untimed())
        .await;
    if send {
        org.app
            .broadcast(
                &t,
                Broadcast::to_unit(&post, org.unit(BRANCH)).channels(&["inbox"]),
            )
            .await;
        org.app.drain().await;
    }
    post
}

fn states(plan: &Value) -> Vec<String> {
    plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_plan_shows_each_lesson_done_due_or_late_and_reaches_the_members() {
    let org = Org::builder(spawn_app().await)
        .at(beijing(1, 10, 10, 0))
        .unit(BRANCH, None)
        .unit(OTHER, None)
        .secretary("赵书记", BRANCH)
        .secretary("钱书记", OTHER)
        .member("党员0", BRANCH)
        .lesson("组织的党课")
        .signed_in(["党员0"])
        .build()
        .await;
    let january = lesson(&org, "一月党课", true).await;
    let plan = json!({
        "unit_id": org.unit(BRANCH), "year": 2026, "title": "2026年度学习计划",
        "themes": ["学习贯彻党的二十届四中全会精神", "审计业务能力提升"],
        "items": [
            {"month": 1, "title": "一月党课", "post_id": january},
            {"month": 2, "title": "二月党课"},
            {"month": 8, "title": "八月党课", "theme": "审计业务能力提升"},
        ],
    });
    let r = put_plan(&org, "赵书记", plan.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(states(&r.body), vec!["done", "due", "due"], "in January");

    org.app.clock.set(beijing(8, 15, 10, 0));
    let r = get_plan(&org, "赵书记").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(states(&r.body), vec!["done", "late", "due"], "in August");
    assert!(r.body["items"][0]["sent_at"].is_string());
    let august_item = r.body["items"][2]["id"].as_str().unwrap().to_string();

    // August's lesson written and linked: still due until it goes out, then done.
    let august = lesson(&org, "八月党课", false).await;
    let r = org
        .app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/admin/study/plan-items/{august_item}"),
            Some(&org.token("赵书记").await),
            Some(json!({"post_id": august})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(states(&r.body)[2], "due");
    let t = org.token("赵书记").await;
    org.app
        .broadcast(
            &t,
            Broadcast::to_unit(&august, org.unit(BRANCH)).channels(&["inbox"]),
        )
        .await;
    org.app.drain().await;
    assert_eq!(states(&get_plan(&org, "赵书记").await.body)[2], "done");

    // Saved again (a new title, a lesson added in June): lessons given with their id keep it
    // and their link; February's, left out, goes.
    let items = get_plan(&org, "赵书记").await.body["items"].clone();
    let mut again = plan.clone();
    again["title"] = json!("2026年度党员学习计划");
    again["items"] = json!([
        {"id": items[0]["id"], "month": 1, "title": "一月党课"},
        {"month": 6, "title": "六月党课"},
        {"id": august_item, "month": 8, "title": "八月党课", "theme": "审计业务能力提升"},
    ]);
    let r = put_plan(&org, "赵书记", again).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["items"][2]["id"], json!(august_item));
    assert_eq!(
        r.body["items"][2]["post_id"],
        json!(august),
        "the link is kept"
    );
    assert_eq!(states(&r.body), vec!["done", "late", "done"]);
    let plan_id = r.body["id"].as_str().unwrap().to_string();
    let mut bad = plan.clone();
    bad["items"] = json!([{"id": "999999", "month": 1, "title": "x"}]);
    let r = put_plan(&org, "赵书记", bad).await;
    assert_eq!(r.status, 400);
    assert!(
        r.detail_fields().contains(&"items[0].id".to_string()),
        "{:?}",
        r.body
    );

    // Published: the members have it in their inbox, month by month.
    let r = org
        .app
        .post(
            &format!("/api/v1/admin/study/plans/{plan_id}/publish"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let post_id = r.body["published_post_id"].as_str().unwrap().to_string();
    org.app.drain().await;
    let mt = org.token("党员0").await;
    let item = org
        .app
        .inbox(&mt)
        .await
        .into_iter()
        .find(|i| i["post_id"] == json!(post_id))
        .expect("the plan is in the member's inbox");
    assert_eq!(item["title"], "第一党支部：2026年度党员学习计划");
    let detail = org
        .app
        .get(&format!("/api/v1/inbox/{}", id(&item)), &mt)
        .await;
    let body = detail.body["body_md"].as_str().unwrap();
    assert!(body.contains("- 学习贯彻党的二十届四中全会精神"), "{body}");
    assert!(
        body.contains("**8月**\n\n- 八月党课（审计业务能力提升）"),
        "{body}"
    );
    assert!(!body.contains("二月党课"), "{body}");

    // Audited, each step by the secretary.
    let admin = org.admin().await;
    for action in ["study_plan.save", "study_plan.link", "study_plan.publish"] {
        let a = org
            .app
            .get(&format!("/api/v1/admin/audit?action={action}"), &admin)
            .await;
        let items = a.body["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{action}");
        assert!(
            items
                .iter()
                .all(|e| e["actor_id"] == json!(org.id("赵书记"))),
            "{action}"
        );
    }

    // A lesson another branch sent does not make this branch's lesson done.
    let shared = org
        .app
        .create_post_with(&admin, NewPost::lesson("共享党课").body("正文").untimed())
        .await;
    let other = org.token("钱书记").await;
    org.app
        .broadcast(
            &other,
            Broadcast::to_unit(&shared, org.unit(OTHER)).channels(&["inbox"]),
        )
        .await;
    org.app.drain().await;
    let june = r_items_id(&get_plan(&org, "赵书记").await.body, "六月党课");
    let r = org
        .app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/admin/study/plan-items/{june}"),
            Some(&t),
            Some(json!({"post_id": shared})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let june_state = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "六月党课")
        .unwrap()["state"]
        .clone();
    assert_eq!(june_state, "late", "sent to 第二党支部, not to this branch");

    // Another branch's secretary sees none of it; bad input is named.
    assert_eq!(get_plan(&org, "钱书记").await.status, 404);
    let r = org
        .app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/admin/study/plan-items/{august_item}"),
            Some(&org.token("钱书记").await),
            Some(json!({"post_id": null})),
        )
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    for (body, field) in [
        (
            json!({"unit_id": org.unit(BRANCH), "year": 2026, "title": "x", "items": [{"month": 13, "title": "x"}]}),
            "items[0].month",
        ),
        (
            json!({"unit_id": org.unit(BRANCH), "year": 2026, "title": " ", "items": []}),
            "title",
        ),
        (
            json!({"unit_id": org.unit(BRANCH), "year": 1999, "title": "x"}),
            "year",
        ),
        (
            json!({"unit_id": org.unit(BRANCH), "year": 2026, "title": "x", "items": [{"month": 1, "title": "x", "post_id": "abc"}]}),
            "items[0].post_id",
        ),
    ] {
        let r = put_plan(&org, "赵书记", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        assert!(
            r.detail_fields().contains(&field.to_string()),
            "{body}: {:?}",
            r.body
        );
    }
    let r = put_plan(
        &org,
        "钱书记",
        json!({"unit_id": org.unit(BRANCH), "year": 2026, "title": "x"}),
    )
    .await;
    assert_eq!(r.status, 404, "another branch's unit: {:?}", r.body);
}

fn r_items_id(plan: &Value, title: &str) -> String {
    plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == title)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}
