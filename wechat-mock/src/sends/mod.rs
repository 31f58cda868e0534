//! The mock's message sends: subscribe messages (WECHAT.md §3) and WeCom app messages (§4.1),
//! with the counters and the log that tests and benchmarks read.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use fingertip_platform::keywords::{KeywordType, validate};

/// The log of accepted sends keeps at most this many (the oldest are dropped).
pub const SENT_LOG_CAP: usize = 100_000;
/// WeCom msgtypes the mock accepts (only `textcard` is checked in detail).
const WECOM_MSGTYPES: &[&str] = &[
    "text",
    "image",
    "voice",
    "video",
    "file",
    "textcard",
    "news",
    "mpnews",
    "markdown",
    "miniprogram_notice",
    "template_card",
];

/// Which API accepted a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SentKind {
    /// `/cgi-bin/message/subscribe/send`
    Subscribe,
    /// `/cgi-bin/message/send` (WeCom)
    Wecom,
}

/// One accepted send, as the mock received it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentMessage {
    pub kind: SentKind,
    /// Subscribe: the openid. WeCom: the valid recipients, lower-cased.
    pub touser: Vec<String>,
    /// Subscribe: the template_id. WeCom: the msgtype.
    pub template: String,
    /// Subscribe: the `data` object (`{"thing1":{"value":".."}}`). WeCom: the msgtype's object
    /// (e.g. `{"title","description","url","btntxt"}`).
    pub data: Value,
    /// Subscribe: the page, if any.
    pub page: Option<String>,
    /// WeCom: the agentid.
    pub agentid: Option<i64>,
    /// Subscribe: a decimal u64. WeCom: the string msgid.
    pub msgid: String,
}

impl SentMessage {
    /// Subscribe: `data[key].value`. WeCom: `data[key]` (e.g. `"title"`).
    pub fn value(&self, key: &str) -> Option<&str> {
        let v = self.data.get(key)?;
        match self.kind {
            SentKind::Subscribe => v.get("value")?.as_str(),
            SentKind::Wecom => v.as_str(),
        }
    }
}

/// Counters of accepted sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SendStats {
    /// Accepted send requests (a WeCom message to many users counts once).
    pub total: u64,
    /// Accepted sends per openid / WeCom userid (lower-cased).
    pub per_user: BTreeMap<String, u64>,
    /// The most accepted send requests within any one-second window (real time, both APIs).
    pub peak_per_second: u64,
}

/// An errcode to answer, with an errmsg when the default one is not enough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    pub errcode: i64,
    pub errmsg: Option<String>,
}

impl From<i64> for Reject {
    fn from(errcode: i64) -> Self {
        Reject {
            errcode,
            errmsg: None,
        }
    }
}

fn reject_with(errcode: i64, errmsg: String) -> Reject {
    Reject {
        errcode,
        errmsg: Some(errmsg),
    }
}

struct Template {
    keywords: Vec<String>,
}

struct Agent {
    corpid: String,
    secret: String,
}

/// A WeCom send the mock accepted.
pub(crate) struct WecomAccepted {
    pub msgid: String,
    pub invalid: Vec<String>,
}

#[derive(Default)]
pub(crate) struct Sends {
    templates: HashMap<String, Template>,
    openids: HashSet<String>,
    grants: HashMap<(String, String), u32>,
    pages: Option<HashSet<String>>,
    agents: HashMap<i64, Agent>,
    users: HashMap<i64, HashSet<String>>,
    total: u64,
    per_user: HashMap<String, u64>,
    window: VecDeque<Instant>,
    peak: u64,
    log: VecDeque<SentMessage>,
}

impl Sends {
    pub fn add_openid(&mut self, openid: &str) {
        self.openids.insert(openid.to_owned());
    }

    pub fn register_template(&mut self, template_id: &str, keywords: &[&str]) {
        self.templates.insert(
            template_id.to_owned(),
            Template {
                keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            },
        );
    }

    pub fn grant(&mut self, openid: &str, template_id: &str, n: u32) {
        self.add_openid(openid);
        let g = self
            .grants
            .entry((openid.to_owned(), template_id.to_owned()))
            .or_insert(0);
        *g = g.saturating_add(n);
    }

    pub fn grants(&self, openid: &str, template_id: &str) -> u32 {
        self.grants
            .get(&(openid.to_owned(), template_id.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    pub fn allow_pages(&mut self, pages: &[&str]) {
        let set = self.pages.get_or_insert_with(HashSet::new);
        set.extend(pages.iter().map(|p| (*p).to_owned()));
    }

    pub fn add_agent(&mut self, corpid: &str, agentid: i64, secret: &str) {
        self.agents.insert(
            agentid,
            Agent {
                corpid: corpid.to_owned(),
                secret: secret.to_owned(),
            },
        );
    }

    pub fn add_users(&mut self, agentid: i64, userids: &[&str]) {
        self.users
            .entry(agentid)
            .or_default()
            .extend(userids.iter().map(|u| u.to_lowercase()));
    }

    /// The company an agent belongs to.
    pub fn corpid_of(&self, agentid: i64) -> Option<String> {
        self.agents.get(&agentid).map(|a| a.corpid.clone())
    }

    /// The agent a `gettoken` call is for: by corpid and the agent's secret.
    pub fn agent_for(&self, corpid: Option<&str>, secret: Option<&str>) -> Result<i64, i64> {
        let corpid = corpid.filter(|c| !c.is_empty()).ok_or(41002_i64)?;
        if !self.agents.values().any(|a| a.corpid == corpid) {
            return Err(40013);
        }
        let secret = secret.filter(|s| !s.is_empty()).ok_or(41004_i64)?;
        self.agents
            .iter()
            .find(|(_, a)| a.corpid == corpid && a.secret == secret)
            .map(|(&id, _)| id)
            .ok_or(40001)
    }

    /// Checks and accepts a subscribe send (token already checked). Order as WECHAT.md §3:
    /// template → openid → grant → data → page; only a success uses up a grant.
    pub fn subscribe(&mut self, body: &Value, now: Instant) -> Result<u64, Reject> {
        let template_id = str_field(body, "template_id").ok_or(40037)?;
        let template = self.templates.get(template_id).ok_or(40037)?;
        let touser = str_field(body, "touser").ok_or(40003)?;
        if !self.openids.contains(touser) {
            return Err(40003.into());
        }
        let key = (touser.to_owned(), template_id.to_owned());
        if self.grants.get(&key).copied().unwrap_or(0) == 0 {
            return Err(43101.into());
        }
        let empty = Map::new();
        let data = match body.get("data") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(m)) => m,
            Some(_) => return Err(47001.into()),
        };
        for k in &template.keywords {
            if !data.contains_key(k) {
                return Err(reject_with(
                    47003,
                    format!("argument invalid! data.{k}.value is empty"),
                ));
            }
        }
        for (k, v) in data {
            let Some(kind) = KeywordType::of(k) else {
                continue;
            };
            let invalid =
                || reject_with(47003, format!("argument invalid! data.{k}.value invalid"));
            let value = v.get("value").and_then(Value::as_str).ok_or_else(invalid)?;
            if value.trim().is_empty() {
                return Err(reject_with(
                    47003,
                    format!("argument invalid! data.{k}.value is empty"),
                ));
            }
            validate(kind, value).map_err(|_| invalid())?;
        }
        let page = match body.get("page") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.clone()),
            Some(_) => return Err(47001.into()),
        };
        if let (Some(page), Some(allowed)) = (&page, &self.pages) {
            let path = page.split('?').next().unwrap_or_default();
            if !allowed.contains(path) {
                return Err(41030.into());
            }
        }
        if let Some(state) = body.get("miniprogram_state")
            && !matches!(state.as_str(), Some("developer" | "trial" | "formal"))
        {
            return Err(reject_with(
                47003,
                "argument invalid! miniprogram_state invalid".into(),
            ));
        }
        if let Some(g) = self.grants.get_mut(&key) {
            *g -= 1;
        }
        let msgid = subscribe_msgid();
        self.accept(
            SentMessage {
                kind: SentKind::Subscribe,
                touser: vec![touser.to_owned()],
                template: template_id.to_owned(),
                data: Value::Object(data.clone()),
                page,
                agentid: None,
                msgid: msgid.to_string(),
            },
            now,
        );
        Ok(msgid)
    }

    /// Checks and accepts a WeCom app message sent with a token of `token_agent`.
    pub fn wecom(
        &mut self,
        body: &Value,
        token_agent: i64,
        now: Instant,
    ) -> Result<WecomAccepted, Reject> {
        let agentid = match body.get("agentid") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .filter(|id| self.agents.contains_key(id))
        .ok_or(40056)?;
        if agentid != token_agent {
            return Err(301002.into());
        }
        let msgtype = str_field(body, "msgtype")
            .filter(|t| WECOM_MSGTYPES.contains(t))
            .ok_or(40008)?;
        let Some(Value::Object(payload)) = body.get(msgtype) else {
            return Err(44004.into());
        };
        if msgtype == "textcard" {
            for field in ["title", "description", "url"] {
                if payload
                    .get(field)
                    .and_then(Value::as_str)
                    .is_none_or(|s| s.trim().is_empty())
                {
                    return Err(44004.into());
                }
            }
        }
        let known = self.users.get(&agentid);
        let mut valid: Vec<String> = Vec::new();
        let mut invalid: Vec<String> = Vec::new();
        for user in str_field(body, "touser").unwrap_or("").split('|') {
            let user = user.trim().to_lowercase();
            if user.is_empty() {
                continue;
            }
            if user == "@all" {
                if let Some(all) = known {
                    let mut all: Vec<String> = all.iter().cloned().collect();
                    all.sort();
                    valid.extend(all);
                }
            } else if known.is_some_and(|k| k.contains(&user)) {
                valid.push(user);
            } else {
                invalid.push(user);
            }
        }
        dedup(&mut valid);
        dedup(&mut invalid);
        if valid.is_empty() {
            return Err(81013.into());
        }
        let msgid = Uuid::new_v4().simple().to_string();
        self.accept(
            SentMessage {
                kind: SentKind::Wecom,
                touser: valid,
                template: msgtype.to_owned(),
                data: Value::Object(payload.clone()),
                page: None,
                agentid: Some(agentid),
                msgid: msgid.clone(),
            },
            now,
        );
        Ok(WecomAccepted { msgid, invalid })
    }

    fn accept(&mut self, sent: SentMessage, now: Instant) {
        self.total += 1;
        for user in &sent.touser {
            *self.per_user.entry(user.clone()).or_insert(0) += 1;
        }
        // Sliding one-second window ending at this send: the largest count over all sends is
        // the most sends within any one-second window.
        self.window.push_back(now);
        while let Some(&first) = self.window.front() {
            if now.saturating_duration_since(first) >= Duration::from_secs(1) {
                self.window.pop_front();
            } else {
                break;
            }
        }
        self.peak = self.peak.max(self.window.len() as u64);
        if self.log.len() >= SENT_LOG_CAP {
            self.log.pop_front();
        }
        self.log.push_back(sent);
    }

    pub fn stats(&self) -> SendStats {
        SendStats {
            total: self.total,
            per_user: self.per_user.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            peak_per_second: self.peak,
        }
    }

    pub fn sends_to(&self, user: &str) -> u64 {
        self.per_user.get(user).copied().unwrap_or(0)
    }

    pub fn sent(&self) -> Vec<SentMessage> {
        self.log.iter().cloned().collect()
    }

    /// Clears the counters and the log (templates, users and grants stay).
    pub fn reset_counters(&mut self) {
        self.total = 0;
        self.per_user.clear();
        self.window.clear();
        self.peak = 0;
        self.log.clear();
    }
}

fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = HashSet::new();
    v.retain(|u| seen.insert(u.clone()));
}

/// A random msgid in [2^60, 2^61): above 2^53, so an f64 parse would lose digits, and below
/// 2^63, so it is also a valid i64.
fn subscribe_msgid() -> u64 {
    let r = Uuid::new_v4().as_u64_pair().0;
    (1 << 60) | (r & ((1 << 60) - 1))
}

#[cfg(test)]
mod tests;
