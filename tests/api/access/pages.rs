//! The access matrices of the web pages (`fingertip_api::pages::ROUTES`) and of the console
//! (`fingertip_api::console::ROUTES`), which are not in the
//! OpenAPI document: a page knows its reader from a cookie that only WeCom's sign-in gives,
//! never from an API token. Callers: a browser with no session; the member the broadcast went
//! to, signed in through WeCom; another member of the same unit, signed in the same way.

use std::collections::BTreeSet;

use fingertip_wechat_mock::WecomViewer;
use serde_json::json;

use crate::helpers::*;
use crate::reading::Browser;
use crate::requests::*;

/// (method, path, [no session, the recipient, another member]).
const PAGE_MATRIX: &[(&str, &str, [u16; 3])] = &[
    // No session: off to WeCom's sign-in (302). Another member: not their item (404).
    ("GET", "/m/broadcasts/{id}", [302, 200, 404]),
    // A return from a sign-in this browser did not start is refused, whoever is signed in.
    ("GET", "/m/auth", [400, 400, 400]),
    // Reading time from the page's script: the recipient's own item only.
    ("POST", "/m/items/{id}/study", [401, 200, 404]),
    ("GET", "/m/static/study.js", [200, 200, 200]),
];

#[tokio::test]
async fn every_page_as_every_reader_matches_the_page_matrix() {
    let served: BTreeSet<_> = fingertip_api::pages::ROUTES.iter().copied().collect();
    let declared: BTreeSet<_> = PAGE_MATRIX.iter().map(|(m, p, _)| (*m, *p)).collect();
    assert_eq!(
        served, declared,
        "every page route has one row, every row a route"
    );

    let app = spawn_with(SpawnOptions {
        wechat: true,
        wecom: true,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let recipient = app
        .create_member(
            &admin,
            json!({"name": "甲", "unit_id": unit, "wecom_userid": "jia"}),
        )
        .await;
    app.create_member(
        &admin,
        json!({"name": "乙", "unit_id": unit, "wecom_userid": "yi"}),
    )
    .await;
    let post = app.create_post(&admin, "只给甲").await;
    let b = app
        .broadcast(
            &admin,
            Broadcast::new(&post, Audience::members([id(&recipient)])).channels(&["inbox"]),
        )
        .await;
    app.drain().await;
    let b = id(&b);
    let item = app.inbox(&app.member_token(&recipient).await).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut readers = vec![Browser::new()];
    for userid in ["jia", "yi"] {
        app.mock
            .set_wecom_viewer(Some(WecomViewer::Member(userid.into())));
        let mut browser = Browser::new();
        // Signing in: any page will do; what it shows is the matrix's business below.
        browser
            .visit(&format!("{}/m/broadcasts/{b}", app.base))
            .await;
        assert!(
            browser.cookies.contains_key("ft_read"),
            "{userid} signed in"
        );
        browser.cookies.remove("ft_state");
        readers.push(browser);
    }

    let mut problems = vec![];
    for (method, path, expect) in PAGE_MATRIX {
        let url = match *path {
            "/m/broadcasts/{id}" => format!("{}/m/broadcasts/{b}", app.base),
            "/m/auth" => format!(
                "{}/m/auth?next=%2Fm%2Fbroadcasts%2F{b}&code=c&state=s",
                app.base
            ),
            "/m/items/{id}/study" => format!("{}/m/items/{item}/study", app.base),
            "/m/static/study.js" => format!("{}/m/static/study.js", app.base),
            other => panic!("no request for {other}"),
        };
        for (who, reader) in readers.iter_mut().enumerate() {
            let got = if *method == "POST" {
                reader
                    .post_json(
                        &url,
                        json!({"session": "matrix-0001", "visible_seconds": 0}),
                    )
                    .await
            } else {
                reader.open(&url).await.status
            };
            if got != expect[who] {
                problems.push(format!(
                    "{method} {path} as reader {who}: expected {}, got {got}",
                    expect[who]
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// (method, path, [no session, the admin signed in to the console]). A plain member can never
/// hold a console session (`console::the_login_form_refuses_…`), and what a secretary sees is
/// their scope (`console::a_secretary_logs_in_…`).
const CONSOLE_MATRIX: &[(&str, &str, [u16; 2])] = &[
    ("GET", "/console", [303, 303]),
    ("GET", "/console/", [303, 200]),
    ("GET", "/console/login", [200, 303]),
    // Without the login form's CSRF value: a fresh form.
    ("POST", "/console/login", [400, 400]),
    // Without the session's CSRF value: nothing to log out of, or refused.
    ("POST", "/console/logout", [303, 403]),
    ("GET", "/console/static/console.css", [200, 200]),
    ("GET", "/console/static/console-login.js", [200, 200]),
    ("GET", "/console/roster", [303, 200]),
    ("GET", "/console/roster/invites", [303, 200]),
    ("GET", "/console/broadcasts/{id}", [303, 200]),
    // Asked by the page's script: an ended session is a 401 it stops on.
    ("GET", "/console/broadcasts/{id}/stats", [401, 200]),
    // Without the session's CSRF value.
    ("POST", "/console/broadcasts/{id}/remind", [303, 403]),
    ("GET", "/console/static/console-broadcast.js", [200, 200]),
    // Admins only: a secretary gets the 403 page (`console::the_audit_log_…`).
    ("GET", "/console/audit", [303, 200]),
    ("GET", "/console/meetings", [303, 200]),
    ("GET", "/console/meetings/{id}", [303, 200]),
    ("GET", "/console/meetings/{id}/checkin", [303, 200]),
    ("GET", "/console/meetings/{id}/attendance.csv", [303, 200]),
    // Without a link's token: no such link, whoever asks.
    ("GET", "/console/password", [404, 404]),
    ("POST", "/console/password", [404, 404]),
    // A ticket that is not this browser's: gone (JSON), whoever asks; finishing it: refused.
    ("GET", "/console/login/ticket", [200, 200]),
    ("POST", "/console/login/ticket", [400, 400]),
    ("POST", "/console/broadcasts/{id}/cancel", [303, 403]),
    ("GET", "/console/compose", [303, 200]),
    // Without the session's CSRF value.
    ("POST", "/console/compose", [303, 403]),
    // Asked by the composer's script: JSON, 401 without a session, 403 without the CSRF value.
    ("POST", "/console/compose/preview", [401, 403]),
    ("GET", "/console/static/console-compose.js", [200, 200]),
    ("GET", "/console/members/new", [303, 200]),
    // Without the session's CSRF value.
    ("POST", "/console/members/new", [303, 403]),
    ("GET", "/console/members/{id}", [303, 200]),
    ("POST", "/console/members/{id}", [303, 403]),
    ("POST", "/console/members/{id}/password-link", [303, 403]),
    ("GET", "/console/roster/import", [303, 200]),
    // Not a multipart form with the session's CSRF value.
    ("POST", "/console/roster/import", [303, 403]),
    ("GET", "/console/meetings/new", [303, 200]),
    // The meeting forms and actions without the session's CSRF value.
    ("POST", "/console/meetings/new", [303, 403]),
    ("GET", "/console/meetings/{id}/edit", [303, 200]),
    ("POST", "/console/meetings/{id}/edit", [303, 403]),
    ("POST", "/console/meetings/{id}/cancel", [303, 403]),
    ("POST", "/console/meetings/{id}/attendance", [303, 403]),
    ("POST", "/console/meetings/{id}/minutes", [303, 403]),
    ("POST", "/console/meetings/{id}/make-up", [303, 403]),
    ("POST", "/console/meeting-series/{id}/cancel", [303, 403]),
    ("POST", "/console/units", [303, 403]),
    ("GET", "/console/study", [303, 200]),
    ("GET", "/console/calendar", [303, 200]),
    ("GET", "/console/study.csv", [303, 200]),
    ("GET", "/console/members/{id}/study", [303, 200]),
    // Without the session's CSRF value.
    ("POST", "/console/members/{id}/study", [303, 403]),
    ("POST", "/console/study/records/{id}/delete", [303, 403]),
];

#[tokio::test]
async fn every_console_route_as_every_caller_matches_the_console_matrix() {
    let served: BTreeSet<_> = fingertip_api::console::ROUTES.iter().copied().collect();
    let declared: BTreeSet<_> = CONSOLE_MATRIX.iter().map(|(m, p, _)| (*m, *p)).collect();
    assert_eq!(
        served, declared,
        "every console route has one row, every row a route"
    );
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let unit = app.create_unit(&token, "支部", None).await;
    let member = id(&app
        .create_member(&token, json!({"name": "党员", "unit_id": unit}))
        .await);
    let post = app.create_post(&token, "一课").await;
    let b = id(&app
        .broadcast(&token, Broadcast::to_unit(&post, &unit))
        .await);
    let starts = app.clock_now() + chrono::Duration::minutes(20);
    let meeting = app
        .post(
            "/api/v1/admin/meetings",
            &token,
            json!({"kind": "party_lesson", "title": "党课", "starts_at": rfc(starts),
                   "ends_at": rfc(starts + chrono::Duration::hours(1)), "place": "会议室",
                   "unit_id": unit, "audience": {"unit_ids": [unit]}}),
        )
        .await;
    assert_eq!(meeting.status, 201, "{:?}", meeting.body);
    let meeting = id(&meeting.body);
    app.drain().await;
    let mut admin = Browser::new();
    crate::console::sign_in(&app, &mut admin, ADMIN_USER, ADMIN_PASSWORD).await;
    let mut readers = [Browser::new(), admin];
    let mut problems = vec![];
    for (method, path, expect) in CONSOLE_MATRIX {
        let url = match *path {
            "/console/login/ticket" if *method == "GET" => {
                format!("{}{path}?wait=0&ticket=nothing", app.base)
            }
            p if p.starts_with("/console/members/") => {
                format!("{}{}", app.base, p.replace("{id}", &member))
            }
            p if p.starts_with("/console/meetings/") => {
                format!("{}{}", app.base, p.replace("{id}", &meeting))
            }
            _ => format!("{}{}", app.base, path.replace("{id}", &b)),
        };
        for (who, reader) in readers.iter_mut().enumerate() {
            let got = if *method == "GET" {
                reader.open(&url).await.status
            } else {
                crate::console::post_form(reader, &url, &[]).await.0
            };
            if got != expect[who] {
                problems.push(format!(
                    "{method} {path} as caller {who}: expected {}, got {got}",
                    expect[who]
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
