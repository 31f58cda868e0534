//! Mini-program subscribe messages (`/cgi-bin/message/subscribe/send`, WECHAT.md §3).

use std::collections::BTreeMap;

use serde::Serialize;

/// One subscribe message to one user.
///
/// `data` maps keyword names (`thing1`, `time2`, ...) to plain string values; they are sent as
/// `{"thing1":{"value":"..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscribeMessage {
    /// The recipient's openid.
    pub touser: String,
    pub template_id: String,
    /// Mini-program page opened on tap, may carry a query (`pages/lesson/index?id=7`).
    /// `None`: the card opens nothing.
    pub page: Option<String>,
    /// Keyword name → value. Values must fit the keyword's type (`fingertip_platform::keywords::fit`).
    pub data: BTreeMap<String, String>,
    /// `developer`, `trial` or `formal` (WeChat's default).
    pub miniprogram_state: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct SubscribeWire<'a> {
    touser: &'a str,
    template_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<&'a str>,
    data: BTreeMap<&'a str, KeywordValue<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    miniprogram_state: Option<&'a str>,
}

#[derive(Serialize)]
struct KeywordValue<'a> {
    value: &'a str,
}

impl<'a> From<&'a SubscribeMessage> for SubscribeWire<'a> {
    fn from(m: &'a SubscribeMessage) -> Self {
        SubscribeWire {
            touser: &m.touser,
            template_id: &m.template_id,
            page: m.page.as_deref(),
            data: m
                .data
                .iter()
                .map(|(k, v)| (k.as_str(), KeywordValue { value: v }))
                .collect(),
            miniprogram_state: m.miniprogram_state.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        let mut m = SubscribeMessage {
            touser: "o1".into(),
            template_id: "tpl".into(),
            ..Default::default()
        };
        m.data.insert("thing1".into(), "党课".into());
        m.data.insert("time2".into(), "2026年12月01日 09:00".into());
        let v = serde_json::to_value(SubscribeWire::from(&m)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "touser": "o1",
                "template_id": "tpl",
                "data": {"thing1": {"value": "党课"}, "time2": {"value": "2026年12月01日 09:00"}}
            })
        );
        m.page = Some("pages/index?id=1".into());
        m.miniprogram_state = Some("trial".into());
        let v = serde_json::to_value(SubscribeWire::from(&m)).unwrap();
        assert_eq!(v["page"], "pages/index?id=1");
        assert_eq!(v["miniprogram_state"], "trial");
    }
}
