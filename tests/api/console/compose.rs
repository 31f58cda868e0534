//! The console's composer: a post in Markdown with its preview, the audience's size as it is
//! chosen, now / at a time / on a rule with the next five occurrences in words, and sending it,
//! all as the signed-in secretary within their own subtree.

use chrono::Duration;
use serde_json::{Value, json};

use super::{csrf_of, give_password, post_form, sign_in};
use crate::fixtures::Org;
use crate::helpers::*;
use crate::reading::Browser;

/// The JSON preview the composer's script asks for.
async fn preview(b: &Browser, app: &TestApp, fields: &[(&str, &str)]) -> (u16, Value) {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let jar: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let resp = reqwest::Client::new()
        .post(format!("{}/console/compose/preview", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", jar.join("; "))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn local(app: &TestApp, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&app.core.settings.timezone)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[tokio::test]
async fn a_secretary_composes_next_months_classroom_and_sees_whom_and_when() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .unit("第一小组", Some("支部甲"))
        .unit("支部乙", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .member("组员", "第一小组")
        .member("乙员", "支部乙")
        .lesson("别人的党课")
        .signed_in(["党员一", "组员"])
        .build()
        .await;
    let app = &org.app;
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut browser = Browser::new();
    sign_in(app, &mut browser, "shuji", "a-long-password").await;

    let page = browser.open(&format!("{}/console/compose", app.base)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.csp().unwrap().contains("script-src 'self'"));
    // The units to pick from are the secretary's subtree.
    assert!(page.body.contains("第一小组") && !page.body.contains("支部乙"));
    let csrf = csrf_of(&page.body);
    let unit_a = org.unit("支部甲").to_string();
    let group = org.unit("第一小组").to_string();

    // As the form is filled in: the body rendered (raw HTML as text), the audience's size
    // (the whole organisation, cut to the secretary's three), the rule in words with its next
    // five days.
    let monthly = [
        ("csrf", csrf.as_str()),
        ("kind", "classroom"),
        ("title", "指尖课堂·第一期"),
        ("body", "## 学习要点\n\n**第一条**<script>alert(1)</script>"),
        ("audience", "all"),
        ("when", "rule"),
        ("freq", "monthly"),
        ("monthday", "1"),
        ("time", "09:00"),
        ("wechat", "1"),
    ];
    let (status, p) = preview(&browser, app, &monthly).await;
    assert_eq!(status, 200, "{p}");
    let html = p["html"].as_str().unwrap();
    assert!(html.contains("<strong>第一条</strong>"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert_eq!(p["audience_size"], json!(3), "{p}");
    assert_eq!(p["schedule"], json!("每月1日 09:00"), "{p}");
    let days = p["occurrences"].as_array().unwrap();
    assert_eq!(days.len(), 5, "{p}");
    assert!(
        days.iter()
            .all(|d| d.as_str().unwrap().contains("1日 周")
                && d.as_str().unwrap().ends_with("09:00")),
        "{p}"
    );
    assert_eq!(p["problems"], json!([]));

    // Picking one group: its size; a time already past is refused in words while the size
    // still shows.
    let past = local(app, app.clock_now() - Duration::hours(2));
    let (_, p) = preview(
        &browser,
        app,
        &[
            ("csrf", &csrf),
            ("title", "x"),
            ("audience", "pick"),
            ("unit", &group),
            ("when", "at"),
            ("at", &past),
        ],
    )
    .await;
    assert_eq!(p["audience_size"], json!(1), "{p}");
    assert_eq!(p["schedule"], Value::Null, "{p}");
    assert_eq!(p["problems"][0]["label"], json!("发送时间"), "{p}");
    assert_eq!(p["problems"][0]["message"], json!("已经过去了"), "{p}");
    // Another unit's id is not the secretary's to send to.
    let (_, p) = preview(
        &browser,
        app,
        &[
            ("csrf", &csrf),
            ("audience", "pick"),
            ("unit", org.unit("支部乙")),
        ],
    )
    .await;
    assert_eq!(p["audience_size"], json!(0), "{p}");

    // The preview needs the session and the form's CSRF value.
    let (status, _) = preview(&browser, app, &[("csrf", "forged"), ("audience", "all")]).await;
    assert_eq!(status, 403);
    let (status, p) = preview(&Browser::new(), app, &[("csrf", &csrf)]).await;
    assert_eq!(
        (status, p["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );

    // Without the script: "预览" gives the page back with the same preview.
    let url = format!("{}/console/compose", app.base);
    let mut with_action = monthly.to_vec();
    with_action.push(("action", "preview"));
    let (status, _, body) = post_form(&mut browser, &url, &with_action).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("每月1日 09:00") && body.contains("<strong>第一条</strong>"));
    assert!(
        body.contains("指尖课堂·第一期"),
        "the form comes back filled in"
    );

    // A form with no title is sent back with the reason, and nothing is written.
    let mut untitled = monthly.to_vec();
    untitled.retain(|(k, _)| *k != "title");
    untitled.push(("action", "send"));
    let (status, _, body) = post_form(&mut browser, &url, &untitled).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("标题：不能为空"), "{body}");
    let admin = app.admin_token().await;
    let posts = app.get("/api/v1/admin/posts", &admin).await;
    assert_eq!(
        posts.body["items"].as_array().unwrap().len(),
        1,
        "only the fixture's"
    );

    // Sent: the post and the monthly broadcast, both the secretary's, both audited.
    let mut send = monthly.to_vec();
    send.push(("action", "send"));
    let (status, location, body) = post_form(&mut browser, &url, &send).await;
    assert_eq!(status, 303, "{body}");
    let location = location.unwrap();
    assert!(location.ends_with("?scheduled=1"), "{location}");
    let b = location
        .trim_start_matches("/console/broadcasts/")
        .trim_end_matches("?scheduled=1")
        .to_string();
    let view = app
        .get(&format!("/api/v1/admin/broadcasts/{b}"), &admin)
        .await;
    assert_eq!(view.status, 200, "{:?}", view.body);
    assert_eq!(
        view.body["recurrence"],
        json!("FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0")
    );
    assert_eq!(view.body["status"], json!("scheduled"));
    assert_eq!(
        view.body["unit_id"],
        json!(unit_a),
        "the secretary's own unit"
    );
    assert_eq!(view.body["title"], json!("指尖课堂·第一期"));
    for action in ["post.create", "broadcast.create"] {
        let a = app
            .get(&format!("/api/v1/admin/audit?action={action}"), &admin)
            .await;
        let items = a.body["items"].as_array().unwrap();
        assert!(
            items
                .iter()
                .any(|e| e["actor_id"] == json!(org.id("书记甲"))),
            "{action}: {:?}",
            a.body
        );
    }
    // Its page says when it goes and lists the next five; it can be canceled there.
    let page_url = format!("{}{location}", app.base);
    let page = browser.open(&page_url).await;
    assert!(page.body.contains("已安排发送") && page.body.contains("每月1日 09:00"));
    assert_eq!(page.body.matches("1日 周").count(), 5, "{}", page.body);
    let csrf_page = csrf_of(&page.body);
    let (status, location, _) = post_form(
        &mut browser,
        &format!("{}/console/broadcasts/{b}/cancel", app.base),
        &[("csrf", &csrf_page)],
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (
            303,
            Some(format!("/console/broadcasts/{b}?canceled=1").as_str())
        )
    );
    let view = app
        .get(&format!("/api/v1/admin/broadcasts/{b}"), &admin)
        .await;
    assert_eq!(view.body["status"], json!("canceled"));

    // Now, to the group only: 组员's phone has it after the fan-out; 党员一's does not.
    let (status, _, body) = post_form(
        &mut browser,
        &url,
        &[
            ("csrf", &csrf),
            ("kind", "notice"),
            ("title", "小组学习通知"),
            ("body", "周五下午学习。"),
            ("audience", "pick"),
            ("unit", &group),
            ("when", "now"),
            ("action", "send"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    app.drain().await;
    let inbox = app.inbox(&org.token("组员").await).await;
    assert_eq!(inbox[0]["title"], json!("小组学习通知"), "{inbox:?}");
    let inbox = app.inbox(&org.token("党员一").await).await;
    assert!(inbox.iter().all(|i| i["title"] != json!("小组学习通知")));

    // A post that is not the secretary's cannot be slipped in as the one to edit.
    let (status, _, _) = post_form(
        &mut browser,
        &url,
        &[
            ("csrf", &csrf),
            ("post_id", org.post()),
            ("kind", "notice"),
            ("title", "改别人的"),
            ("body", "x"),
            ("audience", "all"),
            ("when", "now"),
            ("action", "send"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    let theirs = app
        .get(&format!("/api/v1/admin/posts/{}", org.post()), &admin)
        .await;
    assert_eq!(theirs.body["title"], json!("别人的党课"));
}

#[tokio::test]
async fn a_deadline_set_in_the_composer_chases_the_unread_and_its_page_says_so() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .member("党员二", "支部甲")
        .lesson("别人的党课")
        .signed_in(["党员一", "党员二"])
        .build()
        .await;
    let app = &org.app;
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut browser = Browser::new();
    sign_in(app, &mut browser, "shuji", "a-long-password").await;
    let url = format!("{}/console/compose", app.base);
    let page = browser.open(&url).await;
    assert!(
        page.body.contains("截止前 1 天") && page.body.contains("到期时把各支部的未读名单发给书记"),
        "the ladder's choices, a day's reminder by default"
    );
    let csrf = csrf_of(&page.body);
    let deadline = app.clock_now() + Duration::days(2);
    let by = local(app, deadline);
    // A reminder 3 hours before and the urgent push; no summary (its box left unticked).
    let (status, location, body) = post_form(
        &mut browser,
        &url,
        &[
            ("csrf", csrf.as_str()),
            ("kind", "notice"),
            ("title", "读书班材料"),
            ("body", "请在期限前读完。"),
            ("audience", "all"),
            ("when", "now"),
            ("read_by", &by),
            ("remind_before", "180"),
            ("ladder_urgent", "1"),
            ("action", "send"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let location = location.unwrap();
    let b = location
        .trim_start_matches("/console/broadcasts/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let admin = app.admin_token().await;
    let view = app
        .get(&format!("/api/v1/admin/broadcasts/{b}"), &admin)
        .await;
    assert_eq!(
        view.body["ladder"],
        json!({"remind_before_minutes": 180, "urgent": true, "summary": false})
    );
    app.drain().await;
    let item = app.inbox(&org.token("党员一").await).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.read(&org.token("党员一").await, &item).await;

    let page_url = format!("{}/console/broadcasts/{b}", app.base);
    let page = browser.open(&page_url).await;
    assert!(page.body.contains("阅读期限"), "{}", page.body);
    assert_eq!(page.body.matches("待执行").count(), 2, "{}", page.body);
    assert!(!page.body.contains("未读名单发给书记"));

    app.clock.advance(Duration::days(2) - Duration::hours(3));
    app.drain().await;
    // The console's session has run out meanwhile: a new one.
    let mut browser = Browser::new();
    sign_in(app, &mut browser, "shuji", "a-long-password").await;
    let page = browser.open(&page_url).await;
    assert!(
        page.body.contains("已执行：未读 2 人"),
        "党员二 and the secretary had not read: {}",
        page.body
    );
    assert_eq!(page.body.matches("待执行").count(), 1);
}
