//! Request handlers: WeChat routes and the `/mock/` control routes.
//!
//! Routing is a plain match on (method, path). To add a route, add an arm in [`handle`].

use std::collections::HashMap;
use std::convert::Infallible;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;

use super::oauth::{Authorize, WecomViewer};
use super::sends::{Reject, WecomAccepted};
use super::state::{LoginParams, MockWechat, TokenParams};

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
        // Sleep outside any lock, so concurrent requests overlap.
        let latency = mock.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if let Some(errcode) = mock.take_fault(&path) {
            return Ok(wx_error(&path, errcode));
        }
    }
    let method = req.method().clone();
    let resp = match (method, path.as_str()) {
        (Method::GET, "/sns/jscode2session") => jscode2session(&mock, &req),
        (Method::GET, "/cgi-bin/token") => classic_token(&mock, &req),
        (Method::POST, "/cgi-bin/stable_token") => stable_token(&mock, req).await,
        (Method::POST, "/cgi-bin/message/subscribe/send") => subscribe_send(&mock, req).await,
        (Method::GET, "/cgi-bin/gettoken") => wecom_token(&mock, &req),
        (Method::POST, "/cgi-bin/message/send") => wecom_send(&mock, req).await,
        (Method::GET, "/connect/oauth2/authorize") => wecom_authorize(&mock, &req),
        (Method::GET, "/cgi-bin/auth/getuserinfo") => wecom_userinfo(&mock, &req, false),
        (Method::GET, "/cgi-bin/user/getuserinfo") => wecom_userinfo(&mock, &req, true),
        (Method::POST, "/mock/codes") => mock_codes(&mock, req).await,
        (Method::POST, "/mock/faults") => mock_faults(&mock, req).await,
        (Method::POST, "/mock/advance") => mock_advance(&mock, req).await,
        (Method::GET, "/mock/calls") => json_response(StatusCode::OK, &json!(mock.all_calls())),
        (method, p) if p.starts_with("/mock/") => {
            super::control::handle(&mock, method, p, req).await
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({"errcode": -1, "errmsg": "mock: no such path"}),
        ),
    };
    Ok(resp)
}

/// `GET /cgi-bin/token`: success body has no errcode.
fn classic_token(mock: &MockWechat, req: &Request<Incoming>) -> MockResponse {
    let q = query(req);
    let get = |k: &str| q.get(k).map(String::as_str);
    let params = TokenParams {
        appid: get("appid"),
        secret: get("secret"),
        grant_type: get("grant_type"),
    };
    token_answer(req.uri().path(), mock.classic_token(&params), false)
}

#[derive(Deserialize)]
struct StableTokenBody {
    grant_type: Option<String>,
    appid: Option<String>,
    secret: Option<String>,
    #[serde(default)]
    force_refresh: bool,
}

/// `POST /cgi-bin/stable_token` with a JSON body: success body has no errcode.
async fn stable_token(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    const PATH: &str = "/cgi-bin/stable_token";
    let body = match wx_body(req).await {
        Ok(b) => b,
        Err(errcode) => return wx_error(PATH, errcode),
    };
    let Ok(body) = serde_json::from_value::<StableTokenBody>(body) else {
        return wx_error(PATH, 47001);
    };
    let params = TokenParams {
        appid: body.appid.as_deref(),
        secret: body.secret.as_deref(),
        grant_type: body.grant_type.as_deref(),
    };
    token_answer(PATH, mock.stable_token(&params, body.force_refresh), false)
}

/// `GET /cgi-bin/gettoken` (WeCom): success body carries `errcode: 0`.
fn wecom_token(mock: &MockWechat, req: &Request<Incoming>) -> MockResponse {
    let q = query(req);
    let get = |k: &str| q.get(k).map(String::as_str);
    let answer = mock.wecom_token(get("corpid"), get("corpsecret"));
    token_answer(req.uri().path(), answer, true)
}

fn token_answer(
    path: &str,
    answer: Result<(String, u64), i64>,
    with_errcode: bool,
) -> MockResponse {
    match answer {
        Ok((token, expires_in)) => {
            let mut body = json!({"access_token": token, "expires_in": expires_in});
            if with_errcode {
                body["errcode"] = json!(0);
                body["errmsg"] = json!("ok");
            }
            json_response(StatusCode::OK, &body)
        }
        Err(errcode) => wx_error(path, errcode),
    }
}

/// `POST /cgi-bin/message/subscribe/send?access_token=..`.
async fn subscribe_send(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let path = req.uri().path().to_owned();
    let token = query(&req).remove("access_token");
    let body = wx_body(req).await;
    match mock.subscribe_send(token.as_deref(), body) {
        // msgid is a JSON integer above 2^53.
        Ok(msgid) => json_response(
            StatusCode::OK,
            &json!({"errcode": 0, "errmsg": "ok", "msgid": msgid}),
        ),
        Err(reject) => reject_response(&path, reject),
    }
}

/// `POST /cgi-bin/message/send?access_token=..` (WeCom).
async fn wecom_send(mock: &MockWechat, req: Request<Incoming>) -> MockResponse {
    let path = req.uri().path().to_owned();
    let token = query(&req).remove("access_token");
    let body = wx_body(req).await;
    match mock.wecom_send(token.as_deref(), body) {
        Ok(WecomAccepted { msgid, invalid }) => json_response(
            StatusCode::OK,
            &json!({
                "errcode": 0,
                "errmsg": "ok",
                "invaliduser": invalid.join("|"),
                "invalidparty": "",
                "invalidtag": "",
                "unlicenseduser": "",
                "msgid": msgid,
            }),
        ),
        Err(reject) => reject_response(&path, reject),
    }
}

/// `GET /connect/oauth2/authorize` (WeCom's page on open.weixin.qq.com): a 302 straight back
/// to `redirect_uri` with a code, or a 400 text page saying what is wrong.
fn wecom_authorize(mock: &MockWechat, req: &Request<Incoming>) -> MockResponse {
    let q = query(req);
    let get = |k: &str| q.get(k).map(String::as_str);
    let answer = mock.wecom_authorize(&Authorize {
        appid: get("appid"),
        redirect_uri: get("redirect_uri"),
        response_type: get("response_type"),
        scope: get("scope"),
        state: get("state"),
        agentid: get("agentid"),
    });
    let mut resp = match answer {
        Ok(to) => {
            let mut resp = Response::new(Full::new(Bytes::new()));
            *resp.status_mut() = StatusCode::FOUND;
            if let Ok(v) = HeaderValue::from_str(&to) {
                resp.headers_mut().insert(LOCATION, v);
            }
            resp
        }
        Err(why) => {
            let mut resp = Response::new(Full::new(Bytes::from(format!("mock WeCom: {why}"))));
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            resp
        }
    };
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// `GET /cgi-bin/auth/getuserinfo?access_token&code` (`old`: the older
/// `/cgi-bin/user/getuserinfo`, whose keys are capitalised).
fn wecom_userinfo(mock: &MockWechat, req: &Request<Incoming>, old: bool) -> MockResponse {
    let q = query(req);
    let get = |k: &str| q.get(k).map(String::as_str);
    match mock.wecom_identify(get("access_token"), get("code")) {
        Ok(WecomViewer::Member(userid)) => {
            let key = if old { "UserId" } else { "userid" };
            let mut body = json!({"errcode": 0, "errmsg": "ok", key: userid});
            if !old {
                body["user_ticket"] = json!(Uuid::new_v4().simple().to_string());
                body["expires_in"] = json!(1800);
            }
            json_response(StatusCode::OK, &body)
        }
        Ok(WecomViewer::Outsider(openid)) => {
            let key = if old { "OpenId" } else { "openid" };
            json_response(
                StatusCode::OK,
                &json!({"errcode": 0, "errmsg": "ok", key: openid, "external_userid": ""}),
            )
        }
        Err(errcode) => wx_error(req.uri().path(), errcode),
    }
}

/// A WeChat route's JSON body: empty → 44002, unreadable or not JSON → 47001.
async fn wx_body(req: Request<Incoming>) -> Result<Value, i64> {
    let bytes = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return Err(47001),
    };
    if bytes.is_empty() {
        return Err(44002);
    }
    serde_json::from_slice(&bytes).map_err(|_| 47001)
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
        Err(errcode) => wx_error("/sns/jscode2session", errcode),
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
pub(crate) fn query(req: &Request<Incoming>) -> HashMap<String, String> {
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
pub(crate) async fn read_json<T: DeserializeOwned>(
    req: Request<Incoming>,
) -> Result<T, MockResponse> {
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

pub(crate) fn bad_request(detail: &str) -> MockResponse {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"errcode": 47001, "errmsg": format!("data format error: {detail}")}),
    )
}

/// Paths served by qyapi.weixin.qq.com (WeCom), whose errmsg suffix differs.
fn is_qyapi(path: &str) -> bool {
    matches!(
        path,
        "/cgi-bin/gettoken"
            | "/cgi-bin/message/send"
            | "/cgi-bin/message/recall"
            | "/cgi-bin/auth/getuserinfo"
            | "/cgi-bin/user/getuserinfo"
    )
}

/// A WeChat-style error: HTTP 200, errcode, errmsg with a random trace suffix
/// (api: ` rid: ..`; qyapi: `, hint: [..], from ip: .., more info at ..`).
pub(crate) fn wx_error(path: &str, errcode: i64) -> MockResponse {
    reject_response(path, Reject::from(errcode))
}

fn reject_response(path: &str, reject: Reject) -> MockResponse {
    let code = reject.errcode;
    let text = reject.errmsg.unwrap_or_else(|| errmsg(code).to_owned());
    let errmsg = if is_qyapi(path) {
        format!(
            "{text}, hint: [{}], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e={code}",
            rid()
        )
    } else {
        format!("{text} rid: {}", rid())
    };
    json_response(StatusCode::OK, &json!({"errcode": code, "errmsg": errmsg}))
}

fn errmsg(errcode: i64) -> &'static str {
    match errcode {
        -1 => "system error",
        0 => "ok",
        40001 => "invalid credential, access_token is invalid or not latest",
        40002 => "invalid grant_type",
        40003 => "invalid openid",
        40008 => "invalid message type",
        40013 => "invalid appid",
        40014 => "invalid access_token",
        40029 => "invalid code",
        40037 => "invalid template_id",
        40056 => "invalid agentid",
        40125 => "invalid appsecret",
        40163 => "code been used",
        40226 => "code blocked",
        41001 => "access_token missing",
        41002 => "appid missing",
        41004 => "appsecret missing",
        41008 => "missing code",
        41030 => "invalid page",
        42001 => "access_token expired",
        43101 => "user refuse to accept the msg",
        44002 => "empty post data",
        44004 => "empty content",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit mustslower retry next minute",
        45033 => "api concurrent out of limit",
        47001 => "data format error",
        47003 => "argument invalid!",
        48001 => "api unauthorized",
        48002 => "api forbidden",
        60020 => "not allow to access from your ip",
        81013 => "user & party & tag all invalid",
        301002 => "access_token and agentid mismatch",
        _ => "mock injected error",
    }
}

/// `xxxxxxxx-xxxxxxxx-xxxxxxxx`, random per call.
fn rid() -> String {
    let n = Uuid::new_v4().as_u128();
    format!(
        "{:08x}-{:08x}-{:08x}",
        n >> 96,
        (n >> 64) & 0xffff_ffff,
        (n >> 32) & 0xffff_ffff
    )
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> MockResponse {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; encoding=utf-8"),
    );
    resp
}
