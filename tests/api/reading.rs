//! The reading page behind a WeCom card (`/m/broadcasts/{id}`): a browser without a session is
//! sent through WeCom's web sign-in (the platform mock's authorize page and `getuserinfo`),
//! comes back signed in as the roster member with that WeCom user id, and sees the item,
//! marked read. A stranger, an unknown user id, another member's broadcast and a sign-in this
//! browser did not start each get a page that says so.

use std::collections::HashMap;

use chrono::Duration;
use fingertip_wechat_mock::WecomViewer;
use reqwest::Url;
use serde_json::json;

use crate::helpers::*;
use crate::requests::*;

/// A browser: follows nothing by itself, keeps cookies by name (enough for one site).
pub(crate) struct Browser {
    http: reqwest::Client,
    pub(crate) cookies: HashMap<String, String>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
    csp: Option<String>,
}

impl Page {
    pub(crate) fn csp(&self) -> Option<&str> {
        self.csp.as_deref()
    }
}

impl Browser {
    pub(crate) fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    /// POSTs `body` as JSON with this browser's cookies, as a page's script does; the status.
    pub(crate) async fn post_json(&self, url: &str, body: serde_json::Value) -> u16 {
        let jar: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        self.http
            .post(url)
            .header("cookie", jar.join("; "))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub(crate) async fn open(&mut self, url: &str) -> Page {
        let jar: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut req = self.http.get(url);
        if !jar.is_empty() {
            req = req.header("cookie", jar.join("; "));
        }
        let resp = req.send().await.unwrap();
        for c in resp.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let gone = attrs.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            if gone {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let location = header("location");
        let csp = header("content-security-policy");
        let status = resp.status().as_u16();
        Page {
            status,
            location,
            csp,
            body: resp.text().await.unwrap(),
        }
    }

    /// Opens `url` and follows redirects (to the platform mock and back) to the end.
    pub(crate) async fn visit(&mut self, url: &str) -> (Page, Vec<String>) {
        let mut url = url.to_string();
        let mut hops = vec![];
        for _ in 0..5 {
            let page = self.open(&url).await;
            match page.location.clone() {
                Some(to) if page.status == 302 => {
                    url = Url::parse(&url).unwrap().join(&to).unwrap().to_string();
                    hops.push(url.clone());
                }
                _ => return (page, hops),
            }
        }
        panic!("too many redirects: {hops:?}");
    }
}

struct Reading {
    app: TestApp,
    admin: String,
    member: serde_json::Value,
    broadcast: String,
}

/// A branch with 张三 (WeCom user id `ZhangSan`) and a lesson broadcast to him, fanned out.
async fn reading() -> Reading {
    let app = spawn_with(SpawnOptions {
        wechat: true,
        wecom: true,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "第一支部", None).await;
    let member = app
        .create_member(
            &admin,
            json!({"name": "张三", "unit_id": unit, "wecom_userid": "ZhangSan"}),
        )
        .await;
    let post = app
        .create_post_with(
            &admin,
            NewPost::lesson("十二月党课")
                .body("## 学习要点\n\n**第一条**\n\n<script>alert(1)</script>"),
        )
        .await;
    let b = app
        .broadcast(
            &admin,
            Broadcast::new(&post, Audience::members([id(&member)])).channels(&["inbox"]),
        )
        .await;
    app.drain().await;
    Reading {
        app,
        admin,
        member,
        broadcast: id(&b),
    }
}

impl Reading {
    fn page_url(&self) -> String {
        format!("{}/m/broadcasts/{}", self.app.base, self.broadcast)
    }

    async fn unread(&self) -> u64 {
        let t = self.app.member_token(&self.member).await;
        self.app.get("/api/v1/inbox/unread-count", &t).await.body["unread_count"]
            .as_u64()
            .unwrap()
    }
}

#[tokio::test]
async fn a_wecom_card_signs_the_member_in_through_wecom_and_shows_the_item_read() {
    let r = reading().await;
    assert_eq!(r.unread().await, 1);
    // WeCom user ids are case-insensitive: the roster says ZhangSan, WeCom says zhangsan.
    r.app
        .mock
        .set_wecom_viewer(Some(WecomViewer::Member("zhangsan".into())));
    let mut browser = Browser::new();

    let first = browser.open(&r.page_url()).await;
    assert_eq!(first.status, 302);
    let to_wecom = Url::parse(first.location.as_deref().unwrap()).unwrap();
    assert_eq!(to_wecom.path(), "/connect/oauth2/authorize");
    assert_eq!(to_wecom.fragment(), Some("wechat_redirect"));
    let q: HashMap<_, _> = to_wecom.query_pairs().into_owned().collect();
    assert_eq!(q["appid"], WECOM_CORPID);
    assert_eq!(q["agentid"], WECOM_AGENTID.to_string());
    assert_eq!(q["scope"], "snsapi_base");
    assert_eq!(
        q["redirect_uri"],
        format!(
            "{}/m/auth?next=%2Fm%2Fbroadcasts%2F{}",
            r.app.base, r.broadcast
        )
    );
    assert_eq!(q["state"].len(), 32);
    assert_eq!(browser.cookies.get("ft_state"), Some(&q["state"]));

    let (page, hops) = browser.visit(first.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(hops[0].contains("/m/auth?"), "{hops:?}");
    assert_eq!(hops.last().unwrap(), &r.page_url());
    assert!(page.body.contains("十二月党课"), "{}", page.body);
    assert!(
        page.body.contains("<strong>第一条</strong>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>"), "raw HTML stays text");
    assert!(page.body.contains("已读"));
    let csp = page.csp.unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        !browser.cookies.contains_key("ft_state"),
        "the state is used up"
    );
    assert!(browser.cookies.contains_key("ft_read"));
    assert_eq!(r.unread().await, 0, "opening the page read the item");

    // Opened again with the session: no trip to WeCom.
    let calls = r.app.mock.calls("/cgi-bin/auth/getuserinfo");
    let again = browser.open(&r.page_url()).await;
    assert_eq!(again.status, 200);
    assert_eq!(r.app.mock.calls("/cgi-bin/auth/getuserinfo"), calls);

    // When the session has expired the browser signs in again, silently.
    r.app.clock.advance(Duration::minutes(16));
    let (page, hops) = browser.visit(&r.page_url()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(hops.len(), 3, "WeCom, back, the page: {hops:?}");
    assert_eq!(r.app.mock.calls("/cgi-bin/auth/getuserinfo"), calls + 1);
}

#[tokio::test]
async fn strangers_unknown_ids_and_other_members_items_get_a_page_that_says_so() {
    let r = reading().await;

    r.app
        .mock
        .set_wecom_viewer(Some(WecomViewer::Outsider("o-guest".into())));
    let (page, _) = Browser::new().visit(&r.page_url()).await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("not_in_company"), "{}", page.body);

    r.app
        .mock
        .set_wecom_viewer(Some(WecomViewer::Member("LiSi".into())));
    let (page, _) = Browser::new().visit(&r.page_url()).await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("not_on_roster"), "{}", page.body);
    assert!(
        page.body.contains("LiSi"),
        "the member is told which id to register"
    );

    // 王五 is on the roster but the broadcast was not for him.
    let unit = r.member["unit_id"]
        .as_str()
        .map_or_else(|| r.member["unit_id"].to_string(), ToString::to_string);
    r.app
        .create_member(
            &r.admin,
            json!({"name": "王五", "unit_id": unit, "wecom_userid": "wangwu"}),
        )
        .await;
    r.app
        .mock
        .set_wecom_viewer(Some(WecomViewer::Member("wangwu".into())));
    let (page, _) = Browser::new().visit(&r.page_url()).await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("not_found"), "{}", page.body);
    assert!(page.body.contains("<html"), "a page, not JSON");
    assert_eq!(r.unread().await, 1, "张三's item is untouched");

    // A broadcast id that is not a number: a page too.
    let page = Browser::new()
        .open(&format!("{}/m/broadcasts/abc", r.app.base))
        .await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("<html"));

    // A deactivated member is refused.
    let m = id(&r.member);
    let off = r
        .app
        .patch(
            &format!("/api/v1/admin/members/{m}"),
            &r.admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(off.status, 200, "{:?}", off.body);
    r.app
        .mock
        .set_wecom_viewer(Some(WecomViewer::Member("ZhangSan".into())));
    let (page, _) = Browser::new().visit(&r.page_url()).await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("forbidden"), "{}", page.body);
}

#[tokio::test]
async fn a_sign_in_this_browser_did_not_start_is_refused() {
    let r = reading().await;
    r.app
        .mock
        .set_wecom_viewer(Some(WecomViewer::Member("ZhangSan".into())));
    // Someone else's browser starts a sign-in and sends its link (code and state) to 张三's.
    let mut attacker = Browser::new();
    let first = attacker.open(&r.page_url()).await;
    let back = attacker.open(first.location.as_deref().unwrap()).await;
    let auth_url = back.location.unwrap();
    let mut victim = Browser::new();
    let page = victim.open(&auth_url).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("validation_failed"), "{}", page.body);
    assert!(page.body.contains("重新打开"), "a way back in");
    assert!(!victim.cookies.contains_key("ft_read"));

    // Its own sign-in works once; the same return link again (the back button) does not.
    let done = attacker.open(&auth_url).await;
    assert_eq!(done.status, 302);
    assert!(attacker.cookies.contains_key("ft_read"));
    attacker.cookies.insert("ft_state".into(), "0".repeat(32));
    let replay = attacker.open(&auth_url).await;
    assert_eq!(replay.status, 400);

    // `next` is only ever a reading page.
    let elsewhere = Browser::new()
        .open(&format!(
            "{}/m/auth?next=https%3A%2F%2Fevil.example%2F&code=x&state=y",
            r.app.base
        ))
        .await;
    assert_eq!(elsewhere.status, 400);
    assert!(elsewhere.location.is_none());
}

#[tokio::test]
async fn without_wecom_the_page_says_to_read_in_the_mini_program() {
    let app = spawn_app().await;
    let page = Browser::new()
        .open(&format!("{}/m/broadcasts/1", app.base))
        .await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("wecom_not_configured"), "{}", page.body);
}

#[tokio::test]
async fn the_reading_page_reports_reading_time_to_the_study_ledger() {
    let r = reading().await;
    r.app
        .mock
        .set_wecom_viewer(Some(WecomViewer::Member("zhangsan".into())));
    let mut browser = Browser::new();
    let (page, _) = browser.visit(&r.page_url()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // The lesson counts 30 study minutes: the page carries its reporting script, and its
    // policy lets that one script (ours) report to this site and nothing else.
    let at = page
        .body
        .find("data-report=\"")
        .expect("the reporting script")
        + 13;
    let report = page.body[at..at + page.body[at..].find('"').unwrap()].to_string();
    assert!(page.body.contains("/m/static/study.js"));
    let csp = page.csp().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let script = browser
        .open(&format!("{}/m/static/study.js", r.app.base))
        .await;
    assert_eq!(script.status, 200);

    let url = format!("{}{report}", r.app.base);
    let beat = |visible: i64, closed: bool| json!({"session": "reading-page-01", "visible_seconds": visible, "closed": closed});
    assert_eq!(browser.post_json(&url, beat(0, false)).await, 200);
    r.app.clock.advance(Duration::seconds(30));
    assert_eq!(browser.post_json(&url, beat(30, true)).await, 200);
    let t = r.app.member_token(&r.member).await;
    let year = r.app.get("/api/v1/me/study", &t).await;
    assert_eq!(year.body["total_seconds"], 30, "{:?}", year.body);
    // Without the reading session's cookie, nothing is credited.
    assert_eq!(Browser::new().post_json(&url, beat(30, false)).await, 401);
}
