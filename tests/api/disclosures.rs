//! Opening Party affairs with review (党务公开): a disclosure goes draft → submitted → reviewed
//! (secrecy check; sent back with a reason) → approved → published to its scope, each step
//! audited with its actor by the people allowed to take it; the archive per unit and year.

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

const COMMITTEE: &str = "机关党委";
const OTHER: &str = "第二党支部";

async fn org() -> Org {
    Org::builder(spawn_app().await)
        .at(beijing(12, 1, 10, 0))
        .unit(COMMITTEE, None)
        .unit(BRANCH, Some(COMMITTEE))
        .unit(OTHER, Some(COMMITTEE))
        .secretary("孙书记", COMMITTEE)
        .secretary("赵书记", BRANCH)
        .secretary("钱副书记", BRANCH)
        .member("党员0", BRANCH)
        .member("李党员", OTHER)
        .build()
        .await
}

async fn step(org: &Org, who: &str, d: &str, step: &str, body: Value) -> Resp {
    org.app
        .post(
            &format!("/api/v1/admin/disclosures/{d}/{step}"),
            &org.token(who).await,
            body,
        )
        .await
}

/// A disclosure post of the branch and its disclosure, as its secretary writes them.
async fn draft(org: &Org, title: &str, scope: &str) -> (String, String) {
    let sec = org.token("赵书记").await;
    let post = org
        .app
        .post(
            "/api/v1/admin/posts",
            &sec,
            json!({"kind": "disclosure", "title": title, "body_md": "本季度党费已足额收缴，明细如下。",
                   "unit_id": org.unit(BRANCH)}),
        )
        .await;
    assert_eq!(post.status, 201, "{:?}", post.body);
    let post = id(&post.body);
    let r = org
        .app
        .post(
            "/api/v1/admin/disclosures",
            &sec,
            json!({"post_id": post, "category": "dues", "scope": scope}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        (r.body["status"].as_str(), r.body["year"].as_i64()),
        (Some("draft"), Some(2026))
    );
    (post, id(&r.body))
}

#[tokio::test]
async fn a_disclosure_is_reviewed_sent_back_approved_above_and_published_to_its_unit() {
    let org = org().await;
    let (post, d) = draft(&org, "2026年第四季度党费收缴情况", "unit").await;
    let sec = org.token("赵书记").await;

    // It goes out only through its review.
    let r = org
        .app
        .post(
            "/api/v1/admin/broadcasts",
            &sec,
            json!({"post_id": post, "unit_id": org.unit(BRANCH), "audience": {"unit_ids": [org.unit(BRANCH)]}}),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    // Nor as a meeting's lesson, re-sent as make-up study.
    let meeting = json!({"kind": "group_meeting", "title": "支部会", "unit_id": org.unit(BRANCH),
        "starts_at": beijing(12, 8, 14, 0), "ends_at": beijing(12, 8, 16, 0), "place": "三楼会议室",
        "audience": {"unit_ids": [org.unit(BRANCH)]}, "post_id": post});
    let r = org.app.post("/api/v1/admin/meetings", &sec, meeting).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.detail_fields(), vec!["post_id".to_string()]);

    assert_eq!(
        step(&org, "赵书记", &d, "submit", json!({})).await.status,
        200
    );
    let patch = |title: &'static str| {
        let org = &org;
        let post = post.clone();
        async move {
            org.app
                .request(
                    Method::PATCH,
                    &format!("/api/v1/admin/posts/{post}"),
                    Some(&org.token("赵书记").await),
                    Some(json!({"title": title})),
                )
                .await
        }
    };
    assert_eq!(
        patch("改过的标题").await.status,
        409,
        "the text is fixed once submitted"
    );

    // Reviewed by someone else, who must confirm the secrecy check or send it back.
    let r = step(
        &org,
        "赵书记",
        &d,
        "review",
        json!({"secrecy_checked": true}),
    )
    .await;
    assert_eq!(r.status, 403, "not by who submitted it: {:?}", r.body);
    let r = step(
        &org,
        "钱副书记",
        &d,
        "review",
        json!({"secrecy_checked": false}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["secrecy_checked".to_string()]);
    let r = step(
        &org,
        "钱副书记",
        &d,
        "return",
        json!({"reason": "明细含个人身份证号，请删去"}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (r.body["status"].as_str(), r.body["return_reason"].as_str()),
        (Some("draft"), Some("明细含个人身份证号，请删去"))
    );
    assert_eq!(
        patch("2026年第四季度党费收缴情况（修订）").await.status,
        200,
        "a draft again"
    );
    assert_eq!(
        step(&org, "赵书记", &d, "submit", json!({})).await.status,
        200
    );
    let r = step(
        &org,
        "钱副书记",
        &d,
        "review",
        json!({"secrecy_checked": true, "note": "已核对"}),
    )
    .await;
    assert_eq!(r.body["status"], "reviewed", "{:?}", r.body);

    // Approved above the branch, by neither the submitter nor the reviewer.
    for who in ["赵书记", "钱副书记"] {
        let r = step(&org, who, &d, "approve", json!({})).await;
        assert_eq!(r.status, 403, "{who}: {:?}", r.body);
    }
    let r = step(&org, "孙书记", &d, "approve", json!({})).await;
    assert_eq!(r.body["status"], "approved", "{:?}", r.body);
    let r = step(&org, "赵书记", &d, "publish", json!({})).await;
    assert_eq!(r.body["status"], "published", "{:?}", r.body);
    assert_eq!(
        step(&org, "赵书记", &d, "publish", json!({})).await.status,
        409,
        "once"
    );
    org.app.drain().await;
    let titles = |items: Vec<Value>| -> Vec<String> {
        items
            .iter()
            .filter_map(|i| i["title"].as_str().map(str::to_string))
            .collect()
    };
    assert!(
        titles(org.inbox("党员0").await)
            .contains(&"2026年第四季度党费收缴情况（修订）".to_string())
    );
    assert!(
        titles(org.inbox("李党员").await).is_empty(),
        "another branch"
    );

    // The archive: the branch reads it, another branch and the public do not.
    let r = org
        .app
        .get("/api/v1/disclosures?year=2026", &org.token("党员0").await)
        .await;
    assert_eq!(
        r.body["items"][0]["title"], "2026年第四季度党费收缴情况（修订）",
        "{:?}",
        r.body
    );
    let r = org
        .app
        .get(
            &format!("/api/v1/disclosures/{d}"),
            &org.token("党员0").await,
        )
        .await;
    assert_eq!(r.body["body_md"], "本季度党费已足额收缴，明细如下。");
    let r = org
        .app
        .get("/api/v1/disclosures", &org.token("李党员").await)
        .await;
    assert_eq!(r.body["items"], json!([]));
    let r = org
        .app
        .get(
            &format!("/api/v1/disclosures/{d}"),
            &org.token("李党员").await,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = org
        .app
        .request(Method::GET, "/api/v1/public/disclosures", None, None)
        .await;
    assert_eq!(r.body["items"], json!([]));

    // Each step, with its actor.
    let audit = org
        .app
        .get(
            &format!("/api/v1/admin/audit?target_type=disclosure&target_id={d}"),
            &org.admin().await,
        )
        .await;
    let mut steps: Vec<(String, String)> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    steps.reverse();
    let by = |a: &str, who: &str| (a.to_string(), org.id(who));
    assert_eq!(
        steps,
        vec![
            by("disclosure.create", "赵书记"),
            by("disclosure.submit", "赵书记"),
            by("disclosure.return", "钱副书记"),
            by("disclosure.submit", "赵书记"),
            by("disclosure.review", "钱副书记"),
            by("disclosure.approve", "孙书记"),
            by("disclosure.publish", "赵书记"),
        ]
    );
}

#[tokio::test]
async fn a_public_disclosure_is_in_the_archive_by_year_without_signing_in() {
    let org = org().await;
    let (_, d) = draft(&org, "2026年度发展党员情况", "public").await;
    assert_eq!(
        step(&org, "赵书记", &d, "submit", json!({})).await.status,
        200
    );
    assert_eq!(
        step(
            &org,
            "钱副书记",
            &d,
            "review",
            json!({"secrecy_checked": true})
        )
        .await
        .status,
        200
    );
    let r = org
        .app
        .request(
            Method::GET,
            &format!("/api/v1/public/disclosures/{d}"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 404, "not yet published");
    let admin = org.admin().await;
    let r = org
        .app
        .post(
            &format!("/api/v1/admin/disclosures/{d}/approve"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "an admin approves: {:?}", r.body);
    assert_eq!(
        step(&org, "赵书记", &d, "publish", json!({})).await.status,
        200
    );
    let r = org
        .app
        .request(
            Method::GET,
            "/api/v1/public/disclosures?year=2026",
            None,
            None,
        )
        .await;
    assert_eq!(r.body["items"][0]["unit_name"], BRANCH, "{:?}", r.body);
    assert_eq!(r.body["items"][0]["category"], "dues");
    let r = org
        .app
        .request(
            Method::GET,
            "/api/v1/public/disclosures?year=2025",
            None,
            None,
        )
        .await;
    assert_eq!(r.body["items"], json!([]));
    let r = org
        .app
        .request(
            Method::GET,
            &format!("/api/v1/public/disclosures/{d}"),
            None,
            None,
        )
        .await;
    assert_eq!(r.body["title"], "2026年度发展党员情况");
    let r = org
        .app
        .get("/api/v1/disclosures", &org.token("李党员").await)
        .await;
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        1,
        "public: every member too"
    );
}
