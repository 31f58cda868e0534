//! `/mock/...` control routes for the push side (templates, grants, WeCom users, tokens,
//! latency, counters), so the mock can be driven with curl. Each mirrors a `MockWechat` method.

use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::oauth::WecomViewer;
use super::routes::{MockResponse, bad_request, json_response, read_json};
use super::state::MockWechat;

/// Routes under `/mock/` not handled in `routes.rs`.
pub(crate) async fn handle(
    mock: &MockWechat,
    method: Method,
    path: &str,
    req: Request<Incoming>,
) -> MockResponse {
    match (method, path) {
        (Method::POST, "/mock/templates") => templates(mock, req).await,
        (Method::POST, "/mock/grants") => grants(mock, req).await,
        (Method::POST, "/mock/openids") => openids(mock, req).await,
        (Method::POST, "/mock/pages") => pages(mock, req).await,
        (Method::POST, "/mock/wecom/agents") => wecom_agents(mock, req).await,
        (Method::POST, "/mock/wecom/users") => wecom_users(mock, req).await,
        (Method::POST, "/mock/wecom/viewer") => wecom_viewer(mock, req).await,
        (Method::POST, "/mock/tokens/expire") => {
            mock.expire_tokens();
            ok()
        }
        (Method::POST, "/mock/tokens/invalidate") => {
            mock.invalidate_tokens();
            ok()
        }
        (Method::POST, "/mock/latency") => latency(mock, req).await,
        (Method::GET, "/mock/stats") => json_response(
            StatusCode::OK,
            &json!({
                "calls": mock.all_calls(),
                "token_fetches": mock.all_token_fetches(),
                "sends": mock.send_stats(),
            }),
        ),
        (Method::GET, "/mock/sent") => json_response(StatusCode::OK, &json!(mock.sent())),
        (Method::POST, "/mock/reset") => {
            mock.reset_counters();
            ok()
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({"errcode": -1, "errmsg": "mock: no such path"}),
        ),
    }
}

fn ok() -> MockResponse {
    json_response(StatusCode::OK, &json!({"ok": true}))
}

macro_rules! body {
    ($req:expr, $ty:ty) => {
        match read_json::<$ty>($req).await {
            Ok(b) => b,
            Err(resp) => return resp,
        }
    };
}

#[derive(Deserialize)]
struct TemplateRequest {
    template_id: String,
    #[serde(default)]
    keywords: Vec<String>,
}

/// `POST /mock/templates {"template_id","keywords":["thing1","time2"]}`.
async fn templates(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let b = body!(req, TemplateRequest);
    if b.template_id.is_empty() {
        return bad_request("template_id must not be empty");
    }
    let keywords: Vec<&str> = b.keywords.iter().map(String::as_str).collect();
    mock.register_template(&b.template_id, &keywords);
    ok()
}

#[derive(Deserialize)]
struct GrantRequest {
    openid: String,
    template_id: String,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

/// `POST /mock/grants {"openid","template_id","count"?:1}` → `{"ok":true,"grants":n}`.
async fn grants(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let b = body!(req, GrantRequest);
    if b.openid.is_empty() || b.template_id.is_empty() {
        return bad_request("openid and template_id must not be empty");
    }
    mock.grant_subscription(&b.openid, &b.template_id, b.count);
    json_response(
        StatusCode::OK,
        &json!({"ok": true, "grants": mock.grants(&b.openid, &b.template_id)}),
    )
}

#[derive(Deserialize)]
struct OpenidsRequest {
    openids: Vec<String>,
}

/// `POST /mock/openids {"openids":[..]}`.
async fn openids(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let b = body!(req, OpenidsRequest);
    for o in b.openids.iter().filter(|o| !o.is_empty()) {
        mock.add_openid(o);
    }
    ok()
}

#[derive(Deserialize)]
struct PagesRequest {
    pages: Vec<String>,
}

/// `POST /mock/pages {"pages":["pages/lesson/index"]}`.
async fn pages(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let b = body!(req, PagesRequest);
    let pages: Vec<&str> = b.pages.iter().map(String::as_str).collect();
    mock.allow_pages(&pages);
    ok()
}

#[derive(Deserialize)]
struct AgentRequest {
    corpid: String,
    agentid: i64,
    secret: String,
}

/// `POST /mock/wecom/agents {"corpid","agentid","secret"}`.
async fn wecom_agents(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let b = body!(req, AgentRequest);
    if b.corpid.is_empty() || b.secret.is_empty() {
        return bad_request("corpid and secret must not be empty");
    }
    mock.add_wecom_agent(&b.corpid, b.agentid, &b.secret);
    ok()
}

#[derive(Deserialize)]
struct UsersRequest {
    agentid: i64,
    userids: Vec<String>,
}

/// `POST /mock/wecom/users {"agentid","userids":[..]}`.
async fn wecom_users(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let b = body!(req, UsersRequest);
    let users: Vec<&str> = b
        .userids
        .iter()
        .map(String::as_str)
        .filter(|u| !u.is_empty())
        .collect();
    mock.add_wecom_users(b.agentid, &users);
    ok()
}

#[derive(Deserialize)]
struct ViewerRequest {
    userid: Option<String>,
    openid: Option<String>,
}

/// `POST /mock/wecom/viewer {"userid"} | {"openid"} | {}`: who opens WeCom links from now on.
async fn wecom_viewer(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let b = body!(req, ViewerRequest);
    let nonempty = |v: Option<String>| v.filter(|v| !v.is_empty());
    let viewer = match (nonempty(b.userid), nonempty(b.openid)) {
        (Some(u), None) => Some(WecomViewer::Member(u)),
        (None, Some(o)) => Some(WecomViewer::Outsider(o)),
        (None, None) => None,
        (Some(_), Some(_)) => return bad_request("give userid or openid, not both"),
    };
    mock.set_wecom_viewer(viewer);
    ok()
}

#[derive(Deserialize)]
struct LatencyRequest {
    ms: u64,
}

/// `POST /mock/latency {"ms":50}`.
async fn latency(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let b = body!(req, LatencyRequest);
    mock.set_latency(Duration::from_millis(b.ms));
    ok()
}
