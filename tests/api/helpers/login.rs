//! Logging in: the bootstrap admin by password (throttled like in production, so cached), and
//! members through the WeChat mock.

use reqwest::Method;
use serde_json::{Value, json};

use super::{ADMIN_PASSWORD, ADMIN_USER, Resp, TestApp};

impl TestApp {
    /// Logs in as the bootstrap admin; returns the token body.
    pub async fn admin_login(&self) -> Value {
        let r = self
            .request(
                Method::POST,
                "/api/v1/auth/admin/login",
                None,
                Some(json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD})),
            )
            .await;
        assert_eq!(r.status, 200, "admin login: {:?}", r.body);
        r.body
    }

    /// An access token of the bootstrap admin. Logged in once and reused while it has more
    /// than five minutes to live on the test clock: tests ask for it often, and password
    /// logins are throttled (10 a quarter hour per username) like in production.
    pub async fn admin_token(&self) -> String {
        let now = self.clock_now();
        let mut cached = self.admin_cache.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && now < *until
        {
            return token.clone();
        }
        let token = self.admin_login().await["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        *cached = Some((token.clone(), now + chrono::Duration::minutes(10)));
        token
    }

    /// `POST /auth/wechat/login` with a fresh `wx.login` code of `openid` from the mock.
    pub async fn wechat_login(&self, openid: &str) -> Resp {
        let code = self.mock.issue_code(openid);
        self.request(
            Method::POST,
            "/api/v1/auth/wechat/login",
            None,
            Some(json!({"code": code})),
        )
        .await
    }

    /// `POST /auth/wechat/bind`.
    pub async fn bind(&self, bind_token: &str, invite_code: &str) -> Resp {
        self.request(
            Method::POST,
            "/api/v1/auth/wechat/bind",
            None,
            Some(json!({"bind_token": bind_token, "invite_code": invite_code})),
        )
        .await
    }

    /// Logs a member in through the WeChat mock: login, bind with the invite code.
    /// Returns the member's access token.
    pub async fn member_token(&self, member: &Value) -> String {
        let openid = format!("o-{}", member["id"].as_str().unwrap());
        let r = self.wechat_login(&openid).await;
        assert_eq!(r.status, 200, "wechat login: {:?}", r.body);
        if let Some(t) = r.body["access_token"].as_str() {
            return t.to_string();
        }
        let bind = r.body["bind_token"]
            .as_str()
            .expect("bind token")
            .to_string();
        let r = self
            .request(
                Method::POST,
                "/api/v1/auth/wechat/bind",
                None,
                Some(json!({"bind_token": bind, "invite_code": member["invite_code"]})),
            )
            .await;
        assert_eq!(r.status, 200, "bind: {:?}", r.body);
        r.body["access_token"].as_str().unwrap().to_string()
    }
}
