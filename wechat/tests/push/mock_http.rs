//! The mock driven over HTTP, as curl users and the demo drive it.

use super::*;

#[tokio::test]
async fn http_control_routes_drive_the_push_side() {
    let env = setup().await;
    let base = env.server.base_url();
    let http = http_client(Duration::from_secs(5));
    let post = |path: &str, body: Value| {
        let req = http.post(format!("{base}{path}")).json(&body);
        async move {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let get = |path: &str| {
        let req = http.get(format!("{base}{path}"));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    post(
        "/mock/templates",
        json!({"template_id": "tpl-2", "keywords": ["phrase3"]}),
    )
    .await;
    let granted = post(
        "/mock/grants",
        json!({"openid": "o-curl", "template_id": "tpl-2", "count": 2}),
    )
    .await;
    assert_eq!(granted, json!({"ok": true, "grants": 2}));
    let msg = SubscribeMessage {
        touser: "o-curl".into(),
        template_id: "tpl-2".into(),
        data: BTreeMap::from([("phrase3".to_owned(), "已发布".to_owned())]),
        ..Default::default()
    };
    env.wechat.send_subscribe(&msg).await.unwrap();

    post(
        "/mock/wecom/agents",
        json!({"corpid": "ww-curl", "agentid": 42, "secret": "s42"}),
    )
    .await;
    post(
        "/mock/wecom/users",
        json!({"agentid": 42, "userids": ["Curl"]}),
    )
    .await;
    let curl_wecom = WecomClient::new(
        http_client(Duration::from_secs(5)),
        WecomConfig {
            api_base: base.clone(),
            corpid: "ww-curl".into(),
            secret: "s42".into(),
            agentid: 42,
            oauth_base: base.clone(),
        },
    );
    curl_wecom.send_textcard(&card(&["curl"])).await.unwrap();

    post("/mock/tokens/expire", json!({})).await;
    env.wechat.send_subscribe(&msg).await.unwrap(); // 42001, refresh, retry
    post("/mock/tokens/invalidate", json!({})).await;
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.errcode(), Some(43101), "grants used up");
    post("/mock/faults", json!({"path": SEND, "errcode": 45009})).await;
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::RetryTomorrow);
    post("/mock/latency", json!({"ms": 1})).await;

    let stats = get("/mock/stats").await;
    assert_eq!(stats["sends"]["total"], 3);
    assert_eq!(stats["sends"]["per_user"]["o-curl"], 2);
    assert_eq!(stats["sends"]["per_user"]["curl"], 1);
    assert!(stats["sends"]["peak_per_second"].as_u64().unwrap() >= 1);
    assert_eq!(stats["token_fetches"][STABLE], 3);
    assert_eq!(stats["token_fetches"][GETTOKEN], 1);
    assert_eq!(stats["calls"][SEND], 6);
    let sent = get("/mock/sent").await;
    assert_eq!(sent.as_array().unwrap().len(), 3);
    assert_eq!(sent[0]["kind"], "subscribe");
    assert_eq!(sent[0]["data"]["phrase3"]["value"], "已发布");
    assert_eq!(sent[1]["kind"], "wecom");
    // msgid in the log is the decimal string of the u64.
    assert!(sent[0]["msgid"].as_str().unwrap().parse::<u64>().unwrap() > 1 << 53);

    post("/mock/reset", json!({})).await;
    assert_eq!(get("/mock/stats").await["sends"]["total"], 0);
    let resp = http
        .post(format!("{base}/mock/grants"))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn mock_token_endpoints_follow_the_platform_rules() {
    let env = setup().await;
    let base = env.server.base_url();
    let http = http_client(Duration::from_secs(5));
    let classic = || {
        let url = format!(
            "{base}/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET}"
        );
        let http = http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let stable = |body: Value| {
        let req = http.post(format!("{base}{STABLE}")).json(&body);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let send_with = |token: &str| {
        let url = format!("{base}{SEND}?access_token={token}");
        let req = http.post(url).json(&json!({
            "touser": OPENID, "template_id": TEMPLATE,
            "data": {"thing1": {"value": "党课"}, "time2": {"value": "09:00"}}
        }));
        async move {
            let v: Value = req.send().await.unwrap().json().await.unwrap();
            v
        }
    };

    // Classic: no errcode on success, a new token each call, the previous one valid 300 s.
    let a = classic().await;
    assert!(a.get("errcode").is_none(), "{a}");
    assert_eq!(a["expires_in"], 7200);
    let b = classic().await;
    assert_ne!(a["access_token"], b["access_token"]);
    let a_token = a["access_token"].as_str().unwrap().to_owned();
    assert_eq!(send_with(&a_token).await["errcode"], 0);
    env.mock.advance(Duration::from_secs(300));
    let v = send_with(&a_token).await;
    assert_eq!(v["errcode"], 42001);
    assert!(v["errmsg"].as_str().unwrap().contains(" rid: "));

    // Stable: idempotent in normal mode; bad requests.
    let creds = json!({"grant_type": "client_credential", "appid": APPID, "secret": SECRET});
    let s1 = stable(creds.clone()).await;
    let s2 = stable(creds.clone()).await;
    assert_eq!(s1["access_token"], s2["access_token"]);
    let mut forced = creds.clone();
    forced["force_refresh"] = json!(true);
    let s3 = stable(forced).await;
    assert_ne!(s1["access_token"], s3["access_token"]);
    assert_eq!(
        send_with(s1["access_token"].as_str().unwrap()).await["errcode"],
        40001
    );
    assert_eq!(stable(json!({"appid": APPID})).await["errcode"], 40002);
    let mut wrong = creds.clone();
    wrong["secret"] = json!("nope");
    assert_eq!(stable(wrong).await["errcode"], 40125);
    let resp = http.post(format!("{base}{STABLE}")).send().await.unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["errcode"], 44002);

    // Missing token, and a garbage body with a valid token.
    assert_eq!(send_with("").await["errcode"], 41001);
    let t = s3["access_token"].as_str().unwrap();
    let resp = http
        .post(format!("{base}{SEND}?access_token={t}"))
        .body("{garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["errcode"], 47001);

    // WeCom gettoken carries errcode 0 on success; bad credentials.
    let wt: Value = http
        .get(format!(
            "{base}{GETTOKEN}?corpid={CORPID}&corpsecret={AGENT_SECRET}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wt["errcode"], 0);
    assert!(wt["access_token"].is_string());
    let bad: Value = http
        .get(format!("{base}{GETTOKEN}?corpid={CORPID}&corpsecret=nope"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bad["errcode"], 40001);
    assert!(bad["errmsg"].as_str().unwrap().contains("hint: ["));
}
