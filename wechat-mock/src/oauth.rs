//! WeCom web OAuth (WECHAT.md §11): the authorize page on `open.weixin.qq.com`, which
//! redirects at once with a code for whoever the test says is holding the phone, and
//! `getuserinfo` on `qyapi.weixin.qq.com`, which turns the code into that person's identity.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use url::Url;
use uuid::Uuid;

/// A WeCom OAuth code is valid this long (WECHAT.md §11: "about 5 minutes").
pub const OAUTH_CODE_TTL: Duration = Duration::from_secs(300);
/// Longest `state` WeCom accepts.
const MAX_STATE: usize = 128;

/// Who the mock's authorize page says is opening the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WecomViewer {
    /// A member of the company: `getuserinfo` answers this `userid`.
    Member(String),
    /// Someone outside the company (a WeChat user): `getuserinfo` answers this `openid`.
    Outsider(String),
}

struct Code {
    viewer: WecomViewer,
    corpid: String,
    issued_at: Instant,
    used: bool,
}

/// The authorize request's query parameters (absent ones are `None`).
pub(crate) struct Authorize<'a> {
    pub appid: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub response_type: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub state: Option<&'a str>,
    pub agentid: Option<&'a str>,
}

#[derive(Default)]
pub(crate) struct Oauth {
    viewer: Option<WecomViewer>,
    codes: HashMap<String, Code>,
}

impl Oauth {
    pub fn set_viewer(&mut self, viewer: Option<WecomViewer>) {
        self.viewer = viewer;
    }

    /// The authorize step: the URL to redirect to (`redirect_uri` with `code` and `state`), or
    /// why WeCom's page would show an error instead. `agent_corp` tells the corpid of an agent.
    pub fn authorize(
        &mut self,
        q: &Authorize<'_>,
        agent_corp: impl Fn(i64) -> Option<String>,
        now: Instant,
    ) -> Result<String, String> {
        let appid = q
            .appid
            .filter(|a| !a.is_empty())
            .ok_or("appid is missing")?;
        if q.response_type != Some("code") {
            return Err("response_type must be code".into());
        }
        if !matches!(q.scope, Some("snsapi_base" | "snsapi_privateinfo")) {
            return Err("scope must be snsapi_base or snsapi_privateinfo".into());
        }
        let agentid: i64 = q
            .agentid
            .and_then(|a| a.parse().ok())
            .ok_or("agentid is missing or not a number")?;
        if agent_corp(agentid).as_deref() != Some(appid) {
            return Err(format!("no app {agentid} in company {appid}"));
        }
        let state = q.state.unwrap_or("");
        if state.len() > MAX_STATE || !state.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("state must be at most 128 letters and digits".into());
        }
        let mut target = q
            .redirect_uri
            .and_then(|u| Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or("redirect_uri must be an http(s) URL")?;
        let viewer = self
            .viewer
            .clone()
            .ok_or("mock: nobody is signed in to WeCom (POST /mock/wecom/viewer)")?;
        self.codes
            .retain(|_, c| now.saturating_duration_since(c.issued_at) < 2 * OAUTH_CODE_TTL);
        let code = Uuid::new_v4().simple().to_string();
        self.codes.insert(
            code.clone(),
            Code {
                viewer,
                corpid: appid.to_owned(),
                issued_at: now,
                used: false,
            },
        );
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", state);
        Ok(target.into())
    }

    /// `getuserinfo` for an app of `corpid`: the code's viewer, used up; an errcode otherwise
    /// (41008 missing, 40029 unknown, used, expired or another company's).
    pub fn identify(
        &mut self,
        code: Option<&str>,
        corpid: &str,
        now: Instant,
    ) -> Result<WecomViewer, i64> {
        let code = code.filter(|c| !c.is_empty()).ok_or(41008_i64)?;
        let entry = self.codes.get_mut(code).ok_or(40029_i64)?;
        if entry.used
            || entry.corpid != corpid
            || now.saturating_duration_since(entry.issued_at) > OAUTH_CODE_TTL
        {
            return Err(40029);
        }
        entry.used = true;
        Ok(entry.viewer.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorize<'a>(state: &'a str, redirect: &'a str) -> Authorize<'a> {
        Authorize {
            appid: Some("ww1"),
            redirect_uri: Some(redirect),
            response_type: Some("code"),
            scope: Some("snsapi_base"),
            state: Some(state),
            agentid: Some("1000002"),
        }
    }

    fn corp(id: i64) -> Option<String> {
        (id == 1_000_002).then(|| "ww1".to_owned())
    }

    #[test]
    fn a_code_names_the_viewer_once_and_expires() {
        let mut o = Oauth::default();
        let now = Instant::now();
        let q = authorize("abc123", "https://example.org/m/auth?next=%2Fm%2Fb%2F1");
        assert!(o.authorize(&q, corp, now).unwrap_err().contains("nobody"));
        o.set_viewer(Some(WecomViewer::Member("ZhangSan".into())));
        let to = Url::parse(&o.authorize(&q, corp, now).unwrap()).unwrap();
        let pairs: HashMap<_, _> = to.query_pairs().into_owned().collect();
        assert_eq!(pairs["next"], "/m/b/1");
        assert_eq!(pairs["state"], "abc123");
        let code = pairs["code"].clone();
        assert_eq!(o.identify(Some(&code), "ww2", now), Err(40029));
        assert_eq!(
            o.identify(Some(&code), "ww1", now),
            Ok(WecomViewer::Member("ZhangSan".into()))
        );
        assert_eq!(o.identify(Some(&code), "ww1", now), Err(40029), "used");
        assert_eq!(o.identify(None, "ww1", now), Err(41008));

        let to = Url::parse(&o.authorize(&q, corp, now).unwrap()).unwrap();
        let code = to.query_pairs().find(|(k, _)| k == "code").unwrap().1;
        let later = now + OAUTH_CODE_TTL + Duration::from_secs(1);
        assert_eq!(o.identify(Some(&code), "ww1", later), Err(40029), "expired");
    }

    #[test]
    fn bad_requests_get_an_error_page() {
        let mut o = Oauth::default();
        o.set_viewer(Some(WecomViewer::Outsider("o-1".into())));
        let now = Instant::now();
        assert!(
            o.authorize(&authorize("a-b", "https://x/"), corp, now)
                .is_err()
        );
        assert!(
            o.authorize(&authorize("ab", "ftp://x/"), corp, now)
                .is_err()
        );
        let mut q = authorize("ab", "https://x/");
        q.agentid = Some("7");
        assert!(o.authorize(&q, corp, now).is_err());
        let mut q = authorize("ab", "https://x/");
        q.scope = Some("snsapi_userinfo");
        assert!(o.authorize(&q, corp, now).is_err());
    }
}
