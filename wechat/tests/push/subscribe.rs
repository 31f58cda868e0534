//! Subscribe sends: what each platform answer means for the push sender.

use super::*;

#[tokio::test]
async fn subscribe_send_succeeds_with_a_msgid_above_2_pow_53() {
    let env = setup().await;
    let msg = lesson("学习贯彻党的二十届三中全会精神");
    let msgid = env.wechat.send_subscribe(&msg).await.unwrap();
    assert!(msgid > 1 << 53, "{msgid}");
    let sent = env.mock.sent();
    assert_eq!(sent.len(), 1);
    let s = &sent[0];
    assert_eq!(s.kind, SentKind::Subscribe);
    // The exact integer came through (an f64 parse would have rounded it).
    assert_eq!(s.msgid.parse::<u64>().unwrap(), msgid);
    assert_eq!(s.touser, vec![OPENID]);
    assert_eq!(s.template, TEMPLATE);
    assert_eq!(s.value("thing1"), Some("学习贯彻党的二十届三中全会精神"));
    assert_eq!(s.value("time2"), Some("2026年12月01日 09:00"));
    assert_eq!(s.page.as_deref(), Some("pages/lesson/index?id=7"));
    assert_eq!(env.mock.grants(OPENID, TEMPLATE), 99);
    assert_eq!(env.mock.sends_to(OPENID), 1);
}

#[tokio::test]
async fn no_grant_is_43101_no_consent() {
    let env = setup().await;
    env.mock.grant_subscription("o-once", TEMPLATE, 1);
    let mut msg = lesson("党课");
    msg.touser = "o-once".into();
    env.wechat.send_subscribe(&msg).await.unwrap();
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.errcode(), Some(43101));
    assert_eq!(err.disposition(), Disposition::NoConsent);
    assert_eq!(env.mock.sends_to("o-once"), 1);

    env.mock.add_openid("o-never");
    msg.touser = "o-never".into();
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::NoConsent);
}

#[tokio::test]
async fn bad_value_is_47003_permanent_and_fit_repairs_it() {
    let env = setup().await;
    let title = "学习贯彻习近平新时代中国特色社会主义思想主题教育专题党课";
    let err = env.wechat.send_subscribe(&lesson(title)).await.unwrap_err();
    assert_eq!(err.errcode(), Some(47003));
    assert_eq!(err.disposition(), Disposition::Permanent);
    assert!(
        err.to_string()
            .contains("argument invalid! data.thing1.value invalid"),
        "{err}"
    );
    assert_eq!(
        env.mock.grants(OPENID, TEMPLATE),
        100,
        "failed sends keep the grant"
    );

    let fitted = fit(KeywordType::of("thing1").unwrap(), title);
    env.wechat.send_subscribe(&lesson(&fitted)).await.unwrap();
    assert_eq!(env.mock.sent()[0].value("thing1"), Some(fitted.as_str()));
}

#[tokio::test]
async fn unknown_template_openid_and_page_are_permanent() {
    let env = setup().await;
    let mut msg = lesson("党课");
    msg.template_id = "tpl-unknown".into();
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.errcode(), Some(40037));
    assert_eq!(err.disposition(), Disposition::Permanent);

    let mut msg = lesson("党课");
    msg.touser = "o-stranger".into();
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.errcode(), Some(40003));
    assert_eq!(err.disposition(), Disposition::Permanent);

    env.mock.allow_pages(&["pages/index/index"]);
    let err = env
        .wechat
        .send_subscribe(&lesson("党课"))
        .await
        .unwrap_err();
    assert_eq!(err.errcode(), Some(41030));
    env.mock.allow_pages(&["pages/lesson/index"]);
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();

    let mut msg = lesson("党课");
    msg.touser = " ".into();
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert!(matches!(err, WechatError::InvalidRequest { .. }));
    assert_eq!(env.mock.calls(SEND), 4, "the empty touser was not sent");
}

#[tokio::test]
async fn injected_faults_map_to_dispositions() {
    let env = setup().await;
    let cases = [
        (-1, Disposition::Retry),
        (45011, Disposition::Retry),
        (45009, Disposition::RetryTomorrow),
        (48001, Disposition::Retry),
    ];
    for (errcode, disposition) in cases {
        env.mock.fail_next(SEND, errcode, 1);
        let err = env
            .wechat
            .send_subscribe(&lesson("党课"))
            .await
            .unwrap_err();
        assert_eq!(err.errcode(), Some(errcode));
        assert_eq!(err.disposition(), disposition, "{errcode}");
        assert_no_secrets(&err);
    }
    assert_eq!(env.mock.total_sends(), 0);
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    assert_eq!(env.mock.token_fetches(STABLE), 1);
}

#[tokio::test]
async fn success_without_msgid_is_a_decode_error() {
    let env = setup().await;
    env.mock.fail_next(SEND, 0, 1); // {"errcode":0,"errmsg":"ok rid: .."}
    let err = env
        .wechat
        .send_subscribe(&lesson("党课"))
        .await
        .unwrap_err();
    assert!(matches!(err, WechatError::Decode { .. }), "{err:?}");
    assert_eq!(err.disposition(), Disposition::InDoubt);
}

#[tokio::test]
async fn a_timeout_is_in_doubt_and_a_closed_port_is_retry() {
    let env = setup().await;
    env.wechat.access_token().await.unwrap();
    env.mock.set_latency(Duration::from_millis(400));
    let impatient = WechatClient::new(
        http_client(Duration::from_millis(100)),
        WechatConfig {
            api_base: env.server.base_url(),
            appid: APPID.into(),
            secret: SECRET.into(),
        },
    );
    let err = impatient.send_subscribe(&lesson("党课")).await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::InDoubt, "{err:?}");
    assert_no_secrets(&err);

    let base = env.server.base_url();
    env.server.shutdown().await;
    let gone = WechatClient::new(
        http_client(Duration::from_secs(1)),
        WechatConfig {
            api_base: base,
            appid: APPID.into(),
            secret: SECRET.into(),
        },
    );
    let err = gone.send_subscribe(&lesson("党课")).await.unwrap_err();
    assert!(matches!(err, WechatError::Transport { .. }), "{err:?}");
    assert_eq!(err.disposition(), Disposition::Retry);
}

#[tokio::test]
async fn latency_does_not_serialize_requests_and_peak_rate_is_measured() {
    let env = setup().await;
    env.wechat.access_token().await.unwrap();
    env.mock.reset_counters();
    env.mock.set_latency(Duration::from_millis(50));
    let started = Instant::now();
    let sends: Vec<_> = (0..64)
        .map(|_| {
            let c = env.wechat.clone();
            tokio::spawn(async move { c.send_subscribe(&lesson("党课")).await })
        })
        .collect();
    for s in sends {
        s.await.unwrap().unwrap();
    }
    let took = started.elapsed();
    // One after another would take 64 × 50 ms = 3.2 s.
    assert!(took < Duration::from_millis(1600), "{took:?}");
    let stats = env.mock.send_stats();
    assert_eq!(stats.total, 64);
    assert_eq!(stats.per_user[OPENID], 64);
    assert!(stats.peak_per_second >= 32, "{stats:?}");
    assert!(stats.peak_per_second <= 64);
    env.mock.reset_counters();
    assert_eq!(env.mock.peak_sends_per_second(), 0);
    assert!(env.mock.sent().is_empty());
}
