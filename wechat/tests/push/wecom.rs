//! WeCom app messages: partly invalid recipients, byte limits, one token per agent.

use super::*;

#[tokio::test]
async fn wecom_send_reports_partly_invalid_users() {
    let env = setup().await;
    let result = env
        .wecom
        .send_textcard(&card(&["ZhangSan", "Ghost", "lisi", "NoBody"]))
        .await
        .unwrap();
    assert!(!result.msgid.is_empty());
    assert_eq!(result.invalid_users, vec!["ghost", "nobody"]);
    let sent = env.mock.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, SentKind::Wecom);
    assert_eq!(sent[0].template, "textcard");
    assert_eq!(sent[0].agentid, Some(AGENT));
    assert_eq!(sent[0].touser, vec!["zhangsan", "lisi"]);
    assert_eq!(sent[0].msgid, result.msgid);
    assert_eq!(sent[0].value("title"), Some("支部党课"));
    assert_eq!(env.mock.sends_to("zhangsan"), 1);
    assert_eq!(env.mock.sends_to("wangwu"), 0);
    assert_eq!(env.mock.token_fetches(GETTOKEN), 1);
}

#[tokio::test]
async fn wecom_all_invalid_is_81013_permanent() {
    let env = setup().await;
    let err = env
        .wecom
        .send_textcard(&card(&["ghost", "nobody"]))
        .await
        .unwrap_err();
    assert_eq!(err.errcode(), Some(81013));
    assert_eq!(err.disposition(), Disposition::Permanent);
    assert!(err.to_string().contains("more info at"), "{err}");
    assert_no_secrets(&err);
    assert_eq!(env.mock.total_sends(), 0);
}

#[tokio::test]
async fn wecom_long_texts_are_cut_to_the_byte_limits() {
    let env = setup().await;
    let mut c = card(&["lisi"]);
    c.title = "学习".repeat(100);
    c.description = "内容".repeat(400);
    c.btntxt = Some("立即去学习".into());
    env.wecom.send_textcard(&c).await.unwrap();
    let sent = &env.mock.sent()[0];
    let title = sent.value("title").unwrap();
    assert!(title.len() <= 128 && title.ends_with('…'), "{title}");
    assert!(sent.value("description").unwrap().len() <= 512);
    assert_eq!(sent.value("btntxt"), Some("立即去学"));

    let too_many: Vec<String> = (0..1001).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = too_many.iter().map(String::as_str).collect();
    let err = env.wecom.send_textcard(&card(&refs)).await.unwrap_err();
    assert!(matches!(err, WechatError::InvalidRequest { .. }));
    assert_eq!(err.disposition(), Disposition::Permanent);
    assert_eq!(env.mock.calls(WECOM_SEND), 1);
}

#[tokio::test]
async fn wecom_token_is_per_agent() {
    let env = setup().await;
    let other = wecom_client(&env.server, &env.clock, OTHER_AGENT, OTHER_SECRET);
    assert_ne!(env.wecom.token_key(), other.token_key());
    assert_eq!(
        env.wecom.token_key(),
        format!("wecom:token:{CORPID}:{AGENT}")
    );
    let mine = env.wecom.access_token().await.unwrap();
    let theirs = other.access_token().await.unwrap();
    assert_ne!(mine, theirs);
    assert_eq!(env.mock.token_fetches(GETTOKEN), 2);
    env.wecom.send_textcard(&card(&["lisi"])).await.unwrap();
    other.send_textcard(&card(&["zhaoliu"])).await.unwrap();
    assert_eq!(env.mock.token_fetches(GETTOKEN), 2);

    // A token only works for its own agent (301002), and a mini-program token not at all.
    let http = http_client(Duration::from_secs(5));
    let base = env.server.base_url();
    let body = json!({"touser": "lisi", "msgtype": "textcard", "agentid": AGENT,
        "textcard": {"title": "t", "description": "d", "url": "https://x"}});
    let send = |token: String| {
        let http = http.clone();
        let url = format!("{base}{WECOM_SEND}?access_token={token}");
        let body = body.clone();
        async move {
            let v: Value = http
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["errcode"].as_i64().unwrap()
        }
    };
    assert_eq!(send(theirs).await, 301002);
    assert_eq!(send(env.wechat.access_token().await.unwrap()).await, 40014);
    assert_eq!(send(mine).await, 0);
}

#[tokio::test]
async fn wecom_bad_token_is_refreshed_once() {
    let env = setup().await;
    env.wecom.send_textcard(&card(&["lisi"])).await.unwrap();
    env.mock.invalidate_tokens(); // WeCom answers 40014
    env.wecom.send_textcard(&card(&["lisi"])).await.unwrap();
    assert_eq!(env.mock.token_fetches(GETTOKEN), 2);
    assert_eq!(env.mock.calls(WECOM_SEND), 3);

    let wrong = wecom_client(&env.server, &env.clock, AGENT, "wrong-agent-secret");
    let err = wrong.send_textcard(&card(&["lisi"])).await.unwrap_err();
    assert_eq!(err.errcode(), Some(40001));
    assert_eq!(err.disposition(), Disposition::Retry);
    assert!(!format!("{err} {err:?}").contains("wrong-agent-secret"));
}

#[tokio::test]
async fn wecom_faults_map_to_dispositions() {
    let env = setup().await;
    for (errcode, disposition) in [
        (-1, Disposition::Retry),
        (45033, Disposition::Retry),
        (45009, Disposition::RetryTomorrow),
        (60020, Disposition::Permanent),
    ] {
        env.mock.fail_next(WECOM_SEND, errcode, 1);
        let err = env.wecom.send_textcard(&card(&["lisi"])).await.unwrap_err();
        assert_eq!(err.disposition(), disposition, "{errcode}");
    }
}

/// WeCom's web sign-in, end to end over HTTP: the authorize URL the client builds, the mock's
/// redirect back with a code, and `getuserinfo` naming the member once.
#[tokio::test]
async fn wecom_web_sign_in_names_the_member_behind_a_code_once() {
    let env = setup().await;
    let url = env
        .wecom
        .authorize_url(
            "https://fingertip.example/m/auth?next=%2Fm%2Fbroadcasts%2F7",
            "s7",
        )
        .unwrap();
    assert!(url.ends_with("#wechat_redirect"), "{url}");
    assert!(url.contains("scope=snsapi_base"), "{url}");
    assert!(env.wecom.authorize_url("https://x/", "no-dash").is_err());

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let follow = |url: String| {
        let browser = browser.clone();
        async move {
            let resp = browser.get(url).send().await.unwrap();
            let status = resp.status().as_u16();
            let location = resp
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            (status, location)
        }
    };
    // Nobody signed in to WeCom: its page says so.
    assert_eq!(follow(url.clone()).await, (400, None));

    env.mock
        .set_wecom_viewer(Some(WecomViewer::Member("ZhangSan".into())));
    let (status, location) = follow(url.clone()).await;
    assert_eq!(status, 302);
    let back = reqwest::Url::parse(&location.unwrap()).unwrap();
    assert_eq!(back.path(), "/m/auth");
    let q: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(q["next"], "/m/broadcasts/7");
    assert_eq!(q["state"], "s7");
    assert_eq!(
        env.wecom.user_identity(&q["code"]).await.unwrap(),
        WecomIdentity::Member {
            userid: "ZhangSan".into()
        }
    );
    let used = env.wecom.user_identity(&q["code"]).await.unwrap_err();
    assert_eq!(used.errcode(), Some(40029));
    assert_eq!(used.class(), fingertip_platform::ErrorClass::InvalidInput);

    // Someone outside the company: WeCom names no user id.
    env.mock
        .set_wecom_viewer(Some(WecomViewer::Outsider("o-guest".into())));
    let (_, location) = follow(url).await;
    let back = reqwest::Url::parse(&location.unwrap()).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        env.wecom.user_identity(&code).await.unwrap(),
        WecomIdentity::Outsider
    );
}

/// A code checked with an expired token: the client refreshes the token and asks again, and
/// the code still works (the failed call did not use it).
#[tokio::test]
async fn wecom_sign_in_survives_an_expired_token() {
    let env = setup().await;
    env.mock
        .set_wecom_viewer(Some(WecomViewer::Member("lisi".into())));
    env.wecom.access_token().await.unwrap();
    env.mock.expire_tokens();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = env
        .wecom
        .authorize_url("http://127.0.0.1:9/back", "a1")
        .unwrap();
    let resp = browser.get(url).send().await.unwrap();
    let back = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        env.wecom.user_identity(&code).await.unwrap(),
        WecomIdentity::Member {
            userid: "lisi".into()
        }
    );
    assert_eq!(env.mock.token_fetches(GETTOKEN), 2);
}
