//! The access matrix of the web pages (`fingertip_api::pages::ROUTES`), which are not in the
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
            other => panic!("no request for {other}"),
        };
        for (who, reader) in readers.iter_mut().enumerate() {
            let got = reader.open(&url).await.status;
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
