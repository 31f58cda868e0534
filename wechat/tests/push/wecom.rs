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
