//! Request handlers: WeChat routes and the `/mock/` control routes.
//!
//! Routing is a plain match on (method, path). To add a route, add an arm in [`handle`].

use std::collections::HashMap;
use std::convert::Infallible;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use reqwest::Url;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use super::state::{LoginParams, MockWechat};

/// Largest request body the mock reads.
const MAX_BODY: usize = 64 * 1024;

pub(crate) type MockResponse = Response<Full<Bytes>>;

/// Entry point for every request.
pub(crate) async fn handle(
    mock: MockWechat,
    req: Request<Incoming>,
) -> Result<MockResponse, Infallible> {
    let path = req.uri().path().to_owned();
    let is_control = path.starts_with("/mock/");
    if !is_control {
        mock.record_call(&path);
        let latency = mock.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if let Some(errcode) = mock.take_fault(&path) {
            return Ok(wx_error(errcode));
        }
    }
    let method = req.method().clone();
    let resp = match (method, path.as_str()) {
        (Method::GET, "/sns/jscode2session") => jscode2session(&mock, &req),
        (Method::POST, "/mock/codes") => mock_codes(&mock, req).await,
        (Method::POST, "/mock/faults") => mock_faults(&mock, req).await,
        (Method::POST, "/mock/advance") => mock_advance(&mock, req).await,
        (Method::GET, "/mock/calls") => json_response(StatusCode::OK, &json!(mock.all_calls())),
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({"errcode": -1, "errmsg": "mock: no such path"}),
        ),
    };
    Ok(resp)
}

/// `GET /sns/jscode2session`: success body has no errcode, like the real one.
fn jscode2session(mock: &MockWechat, req: &Request<Incoming>) -> MockResponse {
    let q = query(req);
    let get = |k: &str| q.get(k).map(String::as_str);
    let params = LoginParams {
        appid: get("appid"),
        secret: get("secret"),
        js_code: get("js_code"),
        grant_type: get("grant_type"),
    };
    match mock.login(&params) {
        Ok(login) => {
            let mut body = json!({"openid": login.openid, "session_key": login.session_key});
            if let Some(unionid) = login.unionid {
                body["unionid"] = Value::String(unionid);
            }
            json_response(StatusCode::OK, &body)
        }
        Err(errcode) => wx_error(errcode),
    }
}

#[derive(Deserialize)]
struct CodeRequest {
    openid: String,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    unionid: Option<String>,
}

/// `POST /mock/codes {"openid":"..","blocked"?:bool,"unionid"?:".."}` → `{"code":".."}`.
async fn mock_codes(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let body: CodeRequest = match read_json(req).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    if body.openid.is_empty() {
        return bad_request("openid must not be empty");
    }
    if let Some(unionid) = body.unionid.as_deref().filter(|u| !u.is_empty()) {
        mock.set_unionid(&body.openid, unionid);
    }
    let code = if body.blocked {
        mock.issue_blocked_code(&body.openid)
    } else {
        mock.issue_code(&body.openid)
    };
    json_response(StatusCode::OK, &json!({"code": code}))
}

#[derive(Deserialize)]
struct FaultRequest {
    path: String,
    errcode: i64,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

/// `POST /mock/faults {"path":"/sns/jscode2session","errcode":-1,"count"?:3}` → `{"ok":true}`.
async fn mock_faults(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let body: FaultRequest = match read_json(req).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    if !body.path.starts_with('/') {
        return bad_request("path must start with /");
    }
    mock.fail_next(&body.path, body.errcode, body.count);
    json_response(StatusCode::OK, &json!({"ok": true}))
}

#[derive(Deserialize)]
struct AdvanceRequest {
    secs: u64,
}

/// `POST /mock/advance {"secs":301}` → `{"ok":true}`: moves the mock's clock forward.
async fn mock_advance(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let body: AdvanceRequest = match read_json(req).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    mock.advance(std::time::Duration::from_secs(body.secs));
    json_response(StatusCode::OK, &json!({"ok": true}))
}

/// Decoded query parameters; the first occurrence of a key wins.
fn query(req: &Request<Incoming>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Some(q) = req.uri().query() else {
        return out;
    };
    let Ok(mut url) = Url::parse("http://mock/") else {
        return out;
    };
    url.set_query(Some(q));
    for (k, v) in url.query_pairs() {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// Reads a JSON body of at most [`MAX_BODY`] bytes; a bad body becomes a 400 response.
async fn read_json<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T, MockResponse> {
    let bytes = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return Err(bad_request("body unreadable or larger than 64 KiB")),
    };
    if bytes.is_empty() {
        return Err(json_response(
            StatusCode::BAD_REQUEST,
            &json!({"errcode": 44002, "errmsg": "empty post data"}),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| bad_request(&e.to_string()))
}

fn bad_request(detail: &str) -> MockResponse {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"errcode": 47001, "errmsg": format!("data format error: {detail}")}),
    )
}

/// A WeChat-style error: HTTP 200, errcode, errmsg with a random `rid` suffix.
pub(crate) fn wx_error(errcode: i64) -> MockResponse {
    let errmsg = format!("{} rid: {}", errmsg(errcode), rid());
    json_response(
        StatusCode::OK,
        &json!({"errcode": errcode, "errmsg": errmsg}),
    )
}

fn errmsg(errcode: i64) -> &'static str {
    match errcode {
        -1 => "system error",
        0 => "ok",
        40001 => "invalid credential, access_token is invalid or not latest",
        40002 => "invalid grant_type",
        40013 => "invalid appid",
        40029 => "invalid code",
        40125 => "invalid appsecret",
        40163 => "code been used",
        40226 => "code blocked",
        41002 => "appid missing",
        41004 => "appsecret missing",
        41008 => "missing code",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit mustslower retry next minute",
        47001 => "data format error",
        48001 => "api unauthorized",
        _ => "mock injected error",
    }
}

/// `xxxxxxxx-xxxxxxxx-xxxxxxxx`, random per call.
fn rid() -> String {
    let n = Uuid::new_v4().as_u128();
    format!(
        "{:08x}-{:08x}-{:08x}",
        (n >> 96) as u32,
        (n >> 64) as u32,
        (n >> 32) as u32
    )
}

fn json_response(status: StatusCode, body: &Value) -> MockResponse {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; encoding=utf-8"),
    );
    resp
}
