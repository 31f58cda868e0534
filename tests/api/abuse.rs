//! Abuse limits: each shows the limit and the clear 429 (with `Retry-After`) past it, or the
//! 400 naming the field for input too large or too deep.

use chrono::{Duration, SecondsFormat};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn login(app: &TestApp, user: &str, password: &str) -> Resp {
    app.request(
        Method::POST,
        "/api/v1/auth/admin/login",
        None,
        Some(json!({"username": user, "password": password})),
    )
    .await
}

fn retry_after(r: &Resp) -> u64 {
    r.headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a 429 carries Retry-After: {:?}", r.headers))
}

#[tokio::test]
async fn password_guessing_is_cut_off_per_username_then_lets_go_after_the_window() {
    let app = spawn_app().await;
    for _ in 0..10 {
        assert_eq!(login(&app, ADMIN_USER, "guess").await.status, 401);
    }
    // The eleventh try in the quarter hour is refused before the password is looked at, even
    // when it is the right one.
    let r = login(&app, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 429, "{:?}", r.body);
    assert_eq!(r.code(), "rate_limited");
    let wait = retry_after(&r);
    assert!((1..=900).contains(&wait), "{wait}");
    // After the window the admin logs in.
    app.clock.advance(Duration::seconds(wait as i64));
    assert_eq!(login(&app, ADMIN_USER, ADMIN_PASSWORD).await.status, 200);
}

#[tokio::test]
async fn one_address_trying_many_usernames_is_cut_off_per_minute() {
    let app = spawn_app().await;
    for i in 0..20 {
        let r = login(&app, &format!("user{i}"), "guess").await;
        assert_eq!(r.status, 401, "try {i}: {:?}", r.body);
    }
    let r = login(&app, "someone-else", "guess").await;
    assert_eq!(r.status, 429);
    assert!(retry_after(&r) <= 60);
    app.clock.advance(Duration::seconds(61));
    assert_eq!(login(&app, ADMIN_USER, ADMIN_PASSWORD).await.status, 200);
}

#[tokio::test]
async fn invite_codes_cannot_be_guessed_on_one_account() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    let member = app
        .create_member(&admin, json!({"name": "张三", "unit_id": unit}))
        .await;
    let r = app.wechat_login("o-guesser").await;
    let bind_token = r.body["bind_token"].as_str().unwrap().to_string();
    for i in 0..10 {
        let r = app.bind(&bind_token, &format!("WRONG{i:03}")).await;
        assert_eq!(r.status, 400, "{:?}", r.body);
        assert_eq!(r.detail_fields(), vec!["invite_code"]);
    }
    // Even the right code is refused now: guessing 31^8 codes at 10 an hour is hopeless.
    let r = app
        .bind(&bind_token, member["invite_code"].as_str().unwrap())
        .await;
    assert_eq!(r.status, 429, "{:?}", r.body);
    assert!(retry_after(&r) <= 3600);
    app.clock.advance(Duration::seconds(retry_after(&r) as i64));
    // A fresh bind token (the old one expired meanwhile) for the same account works again.
    let r = app.wechat_login("o-guesser").await;
    let r = app
        .bind(
            r.body["bind_token"].as_str().unwrap(),
            member["invite_code"].as_str().unwrap(),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn concurrent_wrong_check_in_codes_get_exactly_ten_tries() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    let member = app
        .create_member(&admin, json!({"name": "张三", "unit_id": unit}))
        .await;
    let starts = app.clock_now() + Duration::hours(2);
    let rfc = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let m = app
        .post(
            "/api/v1/admin/meetings",
            &admin,
            json!({"kind": "party_lesson", "title": "党课", "unit_id": unit,
                   "starts_at": rfc(starts), "ends_at": rfc(starts + Duration::hours(1)),
                   "place": "三楼", "audience": {"unit_ids": [unit]}}),
        )
        .await;
    assert_eq!(m.status, 201, "{:?}", m.body);
    let id = m.body["id"].as_str().unwrap().to_string();
    app.clock.set(starts);
    let token = app.member_token(&member).await;
    let admin = app.admin_token().await;
    let right = app
        .get(&format!("/api/v1/admin/meetings/{id}/checkin-code"), &admin)
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    let path = format!("/api/v1/meetings/{id}/check-in");
    let tries = (0..200).map(|_| app.post(&path, &token, json!({"code": wrong})));
    let answers = futures_util::future::join_all(tries).await;
    let count = |s: u16| answers.iter().filter(|r| r.status == s).count();
    assert_eq!(count(400), 10, "exactly ten codes were looked at");
    assert_eq!(count(429), 190);
    let r = app.post(&path, &token, json!({"code": right})).await;
    assert_eq!(r.status, 429, "the tries are used up: {:?}", r.body);
}

#[tokio::test]
async fn units_nest_at_most_ten_deep() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut parent = app.create_unit(&admin, "区委", None).await;
    for depth in 2..=10 {
        parent = app
            .create_unit(&admin, &format!("第{depth}层"), Some(&parent))
            .await;
    }
    let r = app
        .post(
            "/api/v1/admin/units",
            &admin,
            json!({"name": "第11层", "parent_id": parent}),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.detail_fields(), vec!["parent_id"]);
    let tree = app.get("/api/v1/admin/units", &admin).await;
    assert_eq!(tree.status, 200);
}

#[tokio::test]
async fn a_roster_over_the_line_limit_imports_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_unit(&admin, "第一党支部", None).await;
    let mut csv = String::from("name,unit\n");
    for i in 0..100_050 {
        csv.push_str(&format!("成员{i},第一党支部\n"));
    }
    let r = app
        .post_raw(
            "/api/v1/admin/members/import",
            &admin,
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.detail_fields(), vec!["body"]);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100050")
    );
    let list = app.get("/api/v1/admin/members?limit=5", &admin).await;
    let names: Vec<&Value> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["unit_id"].is_string())
        .collect();
    assert!(names.is_empty(), "nothing was imported: {names:?}");
}

#[tokio::test]
async fn oversized_strings_and_lists_are_400_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一党支部", None).await;
    app.create_member(&admin, json!({"name": "张三", "unit_id": unit}))
        .await;
    let post = app.create_post(&admin, "课").await;
    let long = "长".repeat(100_000);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/api/v1/admin/broadcasts",
            json!({"post_id": post, "audience": {"tags": [long]}}),
            "audience.tags",
        ),
        (
            "/api/v1/admin/broadcasts",
            json!({"post_id": post, "audience": {"all": true}, "channels": ["inbox", "inbox", "inbox", "inbox"]}),
            "channels",
        ),
        (
            "/api/v1/admin/members",
            json!({"name": "李四", "unit_id": unit, "tags": ["t".repeat(33)]}),
            "tags",
        ),
        (
            "/api/v1/admin/units",
            json!({"name": "名".repeat(101)}),
            "name",
        ),
        (
            "/api/v1/admin/posts",
            json!({"kind": "lesson", "title": "题".repeat(201), "body_md": ""}),
            "title",
        ),
    ];
    for (path, body, field) in cases {
        let r = app.post(path, &admin, body).await;
        assert_eq!(r.status, 400, "{path} {field}: {:?}", r.status);
        assert!(
            r.detail_fields().iter().any(|f| f == field),
            "{path}: {:?}",
            r.detail_fields()
        );
        assert!(
            r.body.to_string().len() < 2_000,
            "the error does not echo the input back"
        );
    }
    for (query, field) in [
        (format!("tag={}", "t".repeat(33)), "tag"),
        (format!("q={}", "q".repeat(65)), "q"),
        (format!("cursor={}", "c".repeat(65)), "cursor"),
    ] {
        let r = app
            .get(&format!("/api/v1/admin/members?{query}"), &admin)
            .await;
        assert_eq!(r.status, 400, "{query}");
        assert_eq!(r.detail_fields(), vec![field]);
    }
    let r = app
        .request(
            Method::PUT,
            "/api/v1/admin/push/templates/lesson",
            Some(&admin),
            Some(json!({"template_id": "tpl", "fields": {format!("thing{}", "1".repeat(100)): "title"}})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["fields"]);
}
