//! The web console (`/console/`): password login with CSRF-protected forms, the session cookie,
//! the home page of the signed-in admin's or secretary's own scope, and logout.

use chrono::Duration;
use fingertip_core::entities::members;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::fixtures::Org;
use crate::helpers::*;
use crate::reading::Browser;
use crate::requests::*;

/// The value of `name="csrf"` in a page's form.
pub(super) fn csrf_of(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF value")
        + 19;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

pub(crate) async fn post_form(
    b: &mut Browser,
    url: &str,
    fields: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let jar: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", jar.join("; "))
        .body(body)
        .send()
        .await
        .unwrap();
    for c in resp.headers().get_all("set-cookie") {
        let c = c.to_str().unwrap();
        let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
        let (name, value) = pair.split_once('=').unwrap();
        if value.is_empty() || attrs.to_ascii_lowercase().contains("max-age=0") {
            b.cookies.remove(name);
        } else {
            b.cookies.insert(name.into(), value.into());
            if name == "ft_console" {
                let a = attrs.to_ascii_lowercase();
                assert!(
                    a.contains("httponly") && a.contains("samesite=strict"),
                    "{c}"
                );
                assert!(a.contains("path=/console"), "{c}");
            }
        }
    }
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    (status, location, resp.text().await.unwrap())
}

/// Signs `b` in with a password; returns the home page.
pub(crate) async fn sign_in(
    app: &TestApp,
    b: &mut Browser,
    username: &str,
    password: &str,
) -> String {
    let form = b.open(&format!("{}/console/login", app.base)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = csrf_of(&form.body);
    let (status, location, body) = post_form(
        b,
        &format!("{}/console/login", app.base),
        &[
            ("csrf", &csrf),
            ("username", username),
            ("password", password),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(location.as_deref(), Some("/console/"));
    let home = b.open(&format!("{}/console/", app.base)).await;
    assert_eq!(home.status, 200, "{}", home.body);
    home.body
}

/// Gives `member` a console password (what the one-time link of issue 12 will do).
pub(super) async fn give_password(app: &TestApp, member_id: &str, username: &str, password: &str) {
    let hash = app.core.passwords.hash(password.into()).await.unwrap();
    members::Entity::update_many()
        .col_expr(members::Column::Username, Expr::value(username))
        .col_expr(members::Column::PasswordHash, Expr::value(hash))
        .filter(members::Column::Id.eq(member_id.parse::<i64>().unwrap()))
        .exec(&app.core.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_secretary_logs_in_sees_their_own_units_month_and_logs_out() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .unit("支部乙", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .member("党员二", "支部甲")
        .member("乙员", "支部乙")
        .lesson("十二月党课")
        .signed_in(["党员一", "书记甲"])
        .build()
        .await;
    let app = &org.app;
    let admin = org.admin().await;
    let unit_a = org.unit("支部甲").to_string();
    // The secretary's own broadcast (one of the whole organisation's would not be theirs).
    let sec = org.token("书记甲").await;
    app.broadcast(&sec, Broadcast::to_unit(org.post(), &unit_a))
        .await;
    app.drain().await;
    // 党员一 reads it: one of the unit's three.
    let t1 = org.token("党员一").await;
    let item = app.inbox(&t1).await[0]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/inbox/{item}/read"), &t1, json!({}))
        .await;
    let starts = rfc(app.clock_now() + Duration::days(3));
    let ends = rfc(app.clock_now() + Duration::days(3) + Duration::hours(2));
    let meeting = app
        .post(
            "/api/v1/admin/meetings",
            &admin,
            json!({"kind": "general_meeting", "title": "第四季度党员大会", "starts_at": starts,
                   "ends_at": ends, "place": "三楼会议室", "unit_id": unit_a,
                   "audience": {"unit_ids": [unit_a]}}),
        )
        .await;
    assert_eq!(meeting.status, 201, "{:?}", meeting.body);
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;

    let mut b = Browser::new();
    let first = b.open(&format!("{}/console/", app.base)).await;
    assert_eq!(first.status, 303);
    assert_eq!(first.location.as_deref(), Some("/console/login"));
    let login = b.open(&format!("{}/console/login", app.base)).await;
    assert!(login.body.contains("登录"));

    let home = sign_in(app, &mut b, "shuji", "a-long-password").await;
    assert!(home.contains("支部甲"), "the secretary's unit: {home}");
    assert!(home.contains("十二月党课"), "{home}");
    assert!(home.contains("1（33%）"), "one of three read: {home}");
    assert!(
        home.contains("第四季度党员大会") && home.contains("三楼会议室"),
        "{home}"
    );
    assert!(home.contains("党员二"), "not bound yet: {home}");
    assert!(
        !home.contains("党员一<"),
        "bound (signed in through WeChat): {home}"
    );
    assert!(
        !home.contains("乙员"),
        "another unit's member is not shown: {home}"
    );
    assert!(!home.contains("<script"), "no script");

    // Logging out needs the session's own CSRF value.
    let (status, _, _) = post_form(
        &mut b,
        &format!("{}/console/logout", app.base),
        &[("csrf", "forged")],
    )
    .await;
    assert_eq!(status, 403);
    let session = b.cookies.get("ft_console").cloned().unwrap();
    let (status, location, _) = post_form(
        &mut b,
        &format!("{}/console/logout", app.base),
        &[("csrf", &csrf_of(&home))],
    )
    .await;
    assert_eq!((status, location.as_deref()), (303, Some("/console/login")));
    assert!(!b.cookies.contains_key("ft_console"));
    // The old cookie no longer opens anything: its session has ended.
    b.cookies.insert("ft_console".into(), session);
    let again = b.open(&format!("{}/console/", app.base)).await;
    assert_eq!(again.status, 303);
}

#[tokio::test]
async fn the_login_form_refuses_wrong_passwords_members_and_forms_from_elsewhere() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let form = b.open(&format!("{}/console/login", app.base)).await;
    let csp = form.csp().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    let csrf = csrf_of(&form.body);
    let url = format!("{}/console/login", app.base);

    // A form posted by another site carries no matching CSRF value.
    let (status, _, body) = post_form(
        &mut Browser::new(),
        &url,
        &[
            ("csrf", &csrf),
            ("username", ADMIN_USER),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("已过期"));

    let (status, _, body) = post_form(
        &mut b,
        &url,
        &[
            ("csrf", &csrf),
            ("username", ADMIN_USER),
            ("password", "wrong"),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("用户名或密码不正确"), "{body}");
    let admin = app.admin_token().await;
    let audit = app
        .get("/api/v1/admin/audit?action=auth.login_failed", &admin)
        .await;
    assert_eq!(audit.status, 200, "{:?}", audit.body);
    assert!(
        !audit.body["items"].as_array().unwrap().is_empty(),
        "{:?}",
        audit.body
    );

    // A plain member with a password is still not let in.
    let unit = app.create_unit(&admin, "支部", None).await;
    let m = app
        .create_member(&admin, json!({"name": "普通党员", "unit_id": unit}))
        .await;
    give_password(&app, &id(&m), "putong", "another-password").await;
    let csrf = csrf_of(&b.open(&url).await.body);
    let (status, _, body) = post_form(
        &mut b,
        &url,
        &[
            ("csrf", &csrf),
            ("username", "putong"),
            ("password", "another-password"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("仅供管理员和支部书记"), "{body}");

    // The admin gets in, and a signed-in admin asking for the form goes home.
    let home = sign_in(&app, &mut b, ADMIN_USER, ADMIN_PASSWORD).await;
    assert!(home.contains("全部单位"), "{home}");
    let form = b.open(&url).await;
    assert_eq!(form.status, 303);
    let css = b
        .open(&format!("{}/console/static/console.css", app.base))
        .await;
    assert_eq!(css.status, 200);
    assert!(css.body.contains("@media"));
}

/// The ticket of a login page's QR code.
fn ticket_of(page: &str) -> String {
    let at = page
        .find(r#"name="ticket" value=""#)
        .expect("a QR login form")
        + 21;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn a_secretary_logs_in_by_scanning_the_qr_code_with_the_mini_program() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .signed_in(["书记甲", "党员一"])
        .build()
        .await;
    let app = &org.app;
    let login = format!("{}/console/login", app.base);
    let mut b = Browser::new();
    let page = b.open(&login).await;
    assert!(page.body.contains("<svg"), "a QR code: {}", page.body);
    assert!(page.body.contains("console-login.js"));
    assert!(page.csp().unwrap().contains("script-src 'self'"));
    assert!(b.cookies.contains_key("ft_console_ticket"));
    let ticket = ticket_of(&page.body);
    assert_eq!(ticket.len(), 22);
    let state_url = format!("{}/console/login/ticket?wait=0&ticket={ticket}", app.base);
    assert!(b.open(&state_url).await.body.contains("pending"));

    // A plain member cannot log the console in; nor can anyone with a ticket that is not one.
    let member = org.token("党员一").await;
    let r = app
        .post(
            "/api/v1/auth/console/approve",
            &member,
            json!({"ticket": ticket}),
        )
        .await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    let sec = org.token("书记甲").await;
    let r = app
        .post(
            "/api/v1/auth/console/approve",
            &sec,
            json!({"ticket": "not-a-ticket"}),
        )
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);

    // 书记甲 scans and confirms on the phone; the waiting page learns it at once.
    let r = app
        .post(
            "/api/v1/auth/console/approve",
            &sec,
            json!({"ticket": ticket}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(b.open(&state_url).await.body.contains("approved"));
    let again = app
        .post(
            "/api/v1/auth/console/approve",
            &sec,
            json!({"ticket": ticket}),
        )
        .await;
    assert_eq!(again.status, 404, "a ticket is approved once");

    // Another browser that saw the code (a photo of the screen) cannot use it.
    let mut other = Browser::new();
    let finish = format!("{}/console/login/ticket", app.base);
    let (status, _, _) = post_form(&mut other, &finish, &[("ticket", &ticket)]).await;
    assert_eq!(status, 400);
    assert!(!other.cookies.contains_key("ft_console"));
    assert!(other.open(&state_url).await.body.contains("gone"));

    // The browser that asked gets 书记甲's console.
    let (status, location, _) = post_form(&mut b, &finish, &[("ticket", &ticket)]).await;
    assert_eq!((status, location.as_deref()), (303, Some("/console/")));
    let home = b.open(&format!("{}/console/", app.base)).await;
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains("书记甲") && home.body.contains("支部甲"),
        "{}",
        home.body
    );
    let (status, _, _) = post_form(&mut b, &finish, &[("ticket", &ticket)]).await;
    assert_eq!(status, 400, "a ticket works once");

    let admin = app.admin_token().await;
    let audit = app.get("/api/v1/admin/audit?action=auth", &admin).await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"auth.console_ticket_approved"),
        "{actions:?}"
    );
    let qr_login = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "auth.login" && e["summary"]["method"] == "console_qr");
    assert!(qr_login.is_some(), "{:?}", audit.body);
}

#[tokio::test]
async fn a_qr_code_expires_after_two_minutes() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .secretary("书记甲", "支部甲")
        .signed_in(["书记甲"])
        .build()
        .await;
    let app = &org.app;
    let mut b = Browser::new();
    let ticket = ticket_of(&b.open(&format!("{}/console/login", app.base)).await.body);
    app.clock.advance(Duration::seconds(121));
    let sec = org.token("书记甲").await;
    let r = app
        .post(
            "/api/v1/auth/console/approve",
            &sec,
            json!({"ticket": ticket}),
        )
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    let state = b
        .open(&format!(
            "{}/console/login/ticket?wait=0&ticket={ticket}",
            app.base
        ))
        .await;
    assert!(state.body.contains("gone"), "{}", state.body);
}

#[tokio::test]
async fn the_roster_shows_a_secretary_their_subtree_and_prints_their_invite_codes() {
    let org = Org::builder(spawn_app().await)
        .unit("机关党委", None)
        .unit("支部甲", Some("机关党委"))
        .unit("支部乙", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .member("党员二", "支部甲")
        .member("乙员", "支部乙")
        .signed_in(["党员一"])
        .build()
        .await;
    let app = &org.app;
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut b = Browser::new();
    sign_in(app, &mut b, "shuji", "a-long-password").await;

    let roster = b.open(&format!("{}/console/roster", app.base)).await;
    assert_eq!(roster.status, 200, "{}", roster.body);
    for name in ["支部甲", "党员一", "党员二", "书记甲"] {
        assert!(roster.body.contains(name), "{name}: {}", roster.body);
    }
    for name in ["支部乙", "乙员", "机关党委"] {
        assert!(!roster.body.contains(name), "outside the subtree: {name}");
    }
    let found = b
        .open(&format!("{}/console/roster?q=%E4%BA%8C", app.base)) // q=二
        .await;
    assert!(
        found.body.contains("党员二") && !found.body.contains("党员一"),
        "{}",
        found.body
    );
    let unbound = b
        .open(&format!("{}/console/roster?unbound=1", app.base))
        .await;
    assert!(unbound.body.contains("党员二"), "{}", unbound.body);
    assert!(!unbound.body.contains("党员一"), "bound through WeChat");

    // Another unit's id is not theirs to ask for.
    let other = org.unit("支部乙");
    let refused = b
        .open(&format!("{}/console/roster?unit_id={other}", app.base))
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("<html"));

    let sheet = b
        .open(&format!("{}/console/roster/invites", app.base))
        .await;
    assert_eq!(sheet.status, 200);
    let code = org.member("党员二")["invite_code"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sheet.body.contains(&code), "{}", sheet.body);
    assert!(sheet.body.contains("<svg"), "a QR code each");
    assert!(!sheet.body.contains("党员一"), "already bound");
    assert!(!sheet.body.contains("乙员"), "another unit's");
}

#[tokio::test]
async fn a_broadcasts_page_follows_the_reading_and_reminds_the_unread() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .unit("支部乙", None)
        .secretary("书记甲", "支部甲")
        .secretary("书记乙", "支部乙")
        .member("党员一", "支部甲")
        .member("党员二", "支部甲")
        .lesson("十二月党课")
        .signed_in(["书记甲", "党员一"])
        .build()
        .await;
    let app = &org.app;
    let sec = org.token("书记甲").await;
    let b = id(&app
        .broadcast(&sec, Broadcast::to_unit(org.post(), org.unit("支部甲")))
        .await);
    app.drain().await;
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut browser = Browser::new();
    let home = sign_in(app, &mut browser, "shuji", "a-long-password").await;
    assert!(
        home.contains(&format!("/console/broadcasts/{b}")),
        "linked from home"
    );

    let page_url = format!("{}/console/broadcasts/{b}", app.base);
    let page = browser.open(&page_url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("十二月党课") && page.body.contains("党员二"));
    assert!(page.csp().unwrap().contains("script-src 'self'"));
    let stats_url = format!("{page_url}/stats");
    let before: serde_json::Value =
        serde_json::from_str(&browser.open(&stats_url).await.body).unwrap();
    // 书记甲, 党员一 and 党员二.
    assert_eq!(
        (before["delivered"].as_u64(), before["read"].as_u64()),
        (Some(3), Some(0))
    );

    // 党员一 reads it on the phone; the page's counts follow.
    let t1 = org.token("党员一").await;
    let item = app.inbox(&t1).await[0]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/inbox/{item}/read"), &t1, json!({}))
        .await;
    let after: serde_json::Value =
        serde_json::from_str(&browser.open(&stats_url).await.body).unwrap();
    assert_eq!(
        (after["read"].as_u64(), after["read_pct"].as_u64()),
        (Some(1), Some(33))
    );
    // The read curve: on the page, and in the counts when the script asks for it, its last
    // point at a third of the way up (1 of 3).
    app.clock.advance(Duration::minutes(10));
    let page_now = browser.open(&page_url).await;
    assert!(
        page_now.body.contains(r#"<svg id="chart""#),
        "{}",
        page_now.body
    );
    let with_curve: serde_json::Value =
        serde_json::from_str(&browser.open(&format!("{stats_url}?curve=1")).await.body).unwrap();
    let points: Vec<&str> = with_curve["curve"].as_str().unwrap().split(' ').collect();
    assert_eq!(points.len(), 25, "{with_curve}");
    assert_eq!(points[24], "600.0,74.7", "{with_curve}");
    let unread = browser.open(&format!("{page_url}?state=unread")).await;
    assert!(
        unread.body.contains("党员二") && !unread.body.contains("党员一</td>"),
        "{}",
        unread.body
    );

    // The remind button (the session's CSRF value) reminds the two who have not read.
    let csrf = csrf_of(&page.body);
    let (status, location, _) = post_form(
        &mut browser,
        &format!("{page_url}/remind"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        location.as_deref(),
        Some(format!("/console/broadcasts/{b}?reminded=2").as_str())
    );
    let admin = app.admin_token().await;
    let audit = app
        .get("/api/v1/admin/audit?action=broadcast.remind", &admin)
        .await;
    assert!(
        !audit.body["items"].as_array().unwrap().is_empty(),
        "{:?}",
        audit.body
    );

    // Another unit's secretary does not see it.
    give_password(app, &org.id("书记乙"), "shuji2", "a-long-password").await;
    let mut other = Browser::new();
    sign_in(app, &mut other, "shuji2", "a-long-password").await;
    assert_eq!(other.open(&page_url).await.status, 404);
    assert_eq!(other.open(&stats_url).await.status, 404);
}

#[tokio::test]
async fn the_audit_log_is_the_admins_with_filters_and_the_chain_verified() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .build()
        .await;
    let app = &org.app;
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut sec = Browser::new();
    let home = sign_in(app, &mut sec, "shuji", "a-long-password").await;
    assert!(
        !home.contains("/console/audit"),
        "no audit tab for a secretary"
    );
    assert_eq!(
        sec.open(&format!("{}/console/audit", app.base))
            .await
            .status,
        403
    );

    let mut admin = Browser::new();
    let home = sign_in(app, &mut admin, ADMIN_USER, ADMIN_PASSWORD).await;
    assert!(home.contains("/console/audit"), "the admin's audit tab");
    let log = admin.open(&format!("{}/console/audit", app.base)).await;
    assert_eq!(log.status, 200);
    for action in ["member.create", "unit.create", "auth.login"] {
        assert!(log.body.contains(action), "{action}: {}", log.body);
    }
    let logins = admin
        .open(&format!("{}/console/audit?action=auth", app.base))
        .await;
    assert!(logins.body.contains("auth.login") && !logins.body.contains("member.create"));
    let checked = admin
        .open(&format!("{}/console/audit?verify=1", app.base))
        .await;
    assert!(checked.body.contains("链条完整"), "{}", checked.body);
}

#[tokio::test]
async fn a_secretary_runs_a_meeting_from_the_console_with_the_check_in_screen() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .member("党员二", "支部甲")
        .signed_in(["党员一", "党员二"])
        .build()
        .await;
    let app = &org.app;
    let admin = org.admin().await;
    let unit = org.unit("支部甲").to_string();
    let starts = app.clock_now() + Duration::minutes(20);
    let m = app
        .post(
            "/api/v1/admin/meetings",
            &admin,
            json!({"kind": "general_meeting", "title": "十二月党员大会", "starts_at": rfc(starts),
                   "ends_at": rfc(starts + Duration::hours(2)), "place": "三楼会议室",
                   "unit_id": unit, "audience": {"unit_ids": [unit]}}),
        )
        .await;
    assert_eq!(m.status, 201, "{:?}", m.body);
    let meeting = id(&m.body);
    let t2 = org.token("党员二").await;
    let leave = app
        .post(
            &format!("/api/v1/meetings/{meeting}/answer"),
            &t2,
            json!({"answer": "leave", "reason": "在外地审计"}),
        )
        .await;
    assert_eq!(leave.status, 200, "{:?}", leave.body);

    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut b = Browser::new();
    let home = sign_in(app, &mut b, "shuji", "a-long-password").await;
    assert!(
        home.contains(&format!("/console/meetings/{meeting}")),
        "linked from home"
    );
    let list = b.open(&format!("{}/console/meetings", app.base)).await;
    assert!(list.body.contains("十二月党员大会"), "{}", list.body);
    let page = b
        .open(&format!("{}/console/meetings/{meeting}", app.base))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("在外地审计"),
        "the leave reason: {}",
        page.body
    );

    // The projector's screen shows the current code; 党员一 checks in with it.
    let screen_url = format!("{}/console/meetings/{meeting}/checkin", app.base);
    let screen = b.open(&screen_url).await;
    assert_eq!(screen.status, 200, "{}", screen.body);
    assert!(screen.body.contains("<svg"), "a QR code of the code");
    let at = screen.body.find(r#"id="code">"#).unwrap() + 10;
    let code = &screen.body[at..at + 6];
    assert!(code.bytes().all(|c| c.is_ascii_digit()), "{code}");
    let t1 = org.token("党员一").await;
    let r = app
        .post(
            &format!("/api/v1/meetings/{meeting}/check-in"),
            &t1,
            json!({ "code": code }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let screen = b.open(&screen_url).await;
    assert!(
        screen.body.contains(r#"<b id="present">1</b>"#),
        "{}",
        screen.body
    );

    let csv = b
        .open(&format!(
            "{}/console/meetings/{meeting}/attendance.csv",
            app.base
        ))
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with('\u{feff}'), "UTF-8 with a BOM");
    assert!(csv.body.contains("党员一") && csv.body.contains("在外地审计"));

    // When the meeting is over the screen is closed.
    app.clock.advance(Duration::hours(3));
    let closed = b.open(&screen_url).await;
    assert_eq!(closed.status, 409);
    assert!(
        closed.body.contains("会议已结束"),
        "in the console's words: {}",
        closed.body
    );
}

#[tokio::test]
async fn a_secretary_sets_a_console_password_with_the_admins_one_time_link() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .build()
        .await;
    let app = &org.app;
    let admin = org.admin().await;
    let r = app
        .post(
            &format!("/api/v1/admin/members/{}/password-link", org.id("党员一")),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(
        r.status, 409,
        "a plain member gets no console password: {:?}",
        r.body
    );
    let r = app
        .post(
            &format!("/api/v1/admin/members/{}/password-link", org.id("书记甲")),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let url = r.body["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/console/password?token="), "{url}");
    let token = r.body["token"].as_str().unwrap().to_string();

    let mut b = Browser::new();
    let form = b.open(&format!("{}{url}", app.base)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("书记甲"));
    let post = format!("{}/console/password", app.base);
    let (status, _, body) = post_form(
        &mut b,
        &post,
        &[
            ("token", &token),
            ("username", "shuji"),
            ("password", "short"),
            ("password_again", "short"),
        ],
    )
    .await;
    assert_eq!(status, 400, "too short: {body}");
    let (status, location, _) = post_form(
        &mut b,
        &post,
        &[
            ("token", &token),
            ("username", "shuji"),
            ("password", "a-long-password"),
            ("password_again", "a-long-password"),
        ],
    )
    .await;
    assert_eq!((status, location.as_deref()), (303, Some("/console/login")));
    let home = sign_in(app, &mut Browser::new(), "shuji", "a-long-password").await;
    assert!(home.contains("支部甲"));

    // The link worked once.
    assert_eq!(b.open(&format!("{}{url}", app.base)).await.status, 404);
    let audit = app.get("/api/v1/admin/audit?action=member", &admin).await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"member.password_link") && actions.contains(&"member.password_set"),
        "{actions:?}"
    );
}

mod calendar;
mod compose;
mod meetings;
mod roster;
mod study;
