use super::*;
use serde_json::json;

fn sends() -> Sends {
    let mut s = Sends::default();
    s.register_template("tpl", &["thing1", "time2"]);
    s.grant("o1", "tpl", 1);
    s
}

fn body(thing: &str) -> Value {
    json!({"touser": "o1", "template_id": "tpl",
           "data": {"thing1": {"value": thing}, "time2": {"value": "09:00"}}})
}

#[test]
fn subscribe_checks_in_order_and_uses_a_grant() {
    let mut s = sends();
    let now = Instant::now();
    let mut b = body("党课");
    b["template_id"] = json!("nope");
    assert_eq!(s.subscribe(&b, now), Err(40037.into()));
    let mut b = body("党课");
    b["touser"] = json!("stranger");
    assert_eq!(s.subscribe(&b, now), Err(40003.into()));
    let err = s.subscribe(&body(&"长".repeat(21)), now).unwrap_err();
    assert_eq!(err.errcode, 47003);
    assert_eq!(
        err.errmsg.as_deref(),
        Some("argument invalid! data.thing1.value invalid")
    );
    let err = s
        .subscribe(
            &json!({"touser": "o1", "template_id": "tpl", "data": {"thing1": {"value": "x"}}}),
            now,
        )
        .unwrap_err();
    assert_eq!(
        err.errmsg.as_deref(),
        Some("argument invalid! data.time2.value is empty")
    );
    assert_eq!(s.grants("o1", "tpl"), 1, "failed sends keep the grant");
    let msgid = s.subscribe(&body("党课"), now).unwrap();
    assert!(msgid > 1 << 53);
    assert_eq!(s.grants("o1", "tpl"), 0);
    assert_eq!(s.subscribe(&body("党课"), now), Err(43101.into()));
    assert_eq!(s.sent().len(), 1);
    assert_eq!(s.sent()[0].value("thing1"), Some("党课"));
}

#[test]
fn pages_are_checked_when_configured() {
    let mut s = sends();
    s.grant("o1", "tpl", 5);
    let now = Instant::now();
    let mut b = body("x");
    b["page"] = json!("pages/any?x=1");
    assert!(s.subscribe(&b, now).is_ok());
    s.allow_pages(&["pages/lesson/index"]);
    assert_eq!(s.subscribe(&b, now), Err(41030.into()));
    b["page"] = json!("pages/lesson/index?id=7");
    assert!(s.subscribe(&b, now).is_ok());
}

#[test]
fn peak_counts_a_sliding_second() {
    let mut s = sends();
    s.grant("o1", "tpl", 100);
    let t0 = Instant::now();
    for ms in [0, 100, 900, 1050, 1099, 1200, 2500] {
        s.subscribe(&body("x"), t0 + Duration::from_millis(ms))
            .unwrap();
    }
    // 100, 900, 1050, 1099 fall within one second.
    let stats = s.stats();
    assert_eq!(stats.peak_per_second, 4);
    assert_eq!(stats.total, 7);
    assert_eq!(stats.per_user["o1"], 7);
}

#[test]
fn wecom_partitions_recipients() {
    let mut s = Sends::default();
    s.add_agent("ww", 7, "sec");
    s.add_users(7, &["ZhangSan", "lisi"]);
    let now = Instant::now();
    let msg = |touser: &str, agentid: i64| {
        json!({"touser": touser, "msgtype": "textcard", "agentid": agentid,
               "textcard": {"title": "t", "description": "d", "url": "https://x"}})
    };
    let ok = s.wecom(&msg("zhangsan|Ghost|LISI", 7), 7, now).unwrap();
    assert_eq!(ok.invalid, vec!["ghost"]);
    assert_eq!(s.sent()[0].touser, vec!["zhangsan", "lisi"]);
    assert_eq!(s.wecom(&msg("ghost", 7), 7, now).err(), Some(81013.into()));
    assert_eq!(s.wecom(&msg("lisi", 8), 7, now).err(), Some(40056.into()));
    s.add_agent("ww", 8, "sec8");
    assert_eq!(s.wecom(&msg("lisi", 8), 7, now).err(), Some(301002.into()));
    let all = s.wecom(&msg("@all", 7), 7, now).unwrap();
    assert!(all.invalid.is_empty());
    assert_eq!(s.sends_to("lisi"), 2);
    assert_eq!(s.agent_for(Some("ww"), Some("sec8")), Ok(8));
    assert_eq!(s.agent_for(Some("ww"), Some("bad")), Err(40001));
    assert_eq!(s.agent_for(Some("other"), Some("sec")), Err(40013));
    assert_eq!(s.agent_for(None, Some("sec")), Err(41002));
    assert_eq!(s.agent_for(Some("ww"), None), Err(41004));
}
