//! The WeCom channel: one `textcard` per (broadcast, occurrence, round) to up to 1,000 members
//! at once, under one rate-limit slot per call. Users WeCom reports in `invaliduser` become
//! `dead`, the others `sent`.
//!
//! WeCom drops a member's messages beyond 30 a minute and 1,000 an hour without telling, so
//! the budget is kept here: a member over it is deferred to when it frees, counting the sends
//! already made or in flight (`sent`, `sending`, `unknown`) and those this pass plans.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::channel::{Call, Channel, Decision, Unit, chunked};
use super::context::{Context, Nudge, member_ids};
use super::outcome::Outcome;
use super::{Row, Sender};
use crate::entities::push_deliveries;
use crate::error::CoreResult;
use crate::ports::rate_limit::Limit;
use crate::push::quiet::Hold;
use crate::push::{DeliveryStatus, templates};
use fingertip_platform::WecomPush;

/// Titles a digest card lists; the rest are counted.
const DIGEST_LINES: usize = 8;

/// WeCom takes at most 1,000 user ids per call.
const CALL_MAX: usize = 1000;

const OVER_BUDGET: &str =
    "deferred: the member's WeCom budget (30 a minute, 1,000 an hour) is used up";

pub(super) struct Wecom<'a> {
    sender: &'a Sender,
    ctx: &'a Context,
    /// `corpid:agentid`.
    app: String,
    now: DateTime<Utc>,
    /// Member → WeCom sends within the last hour, with those this pass plans added as it
    /// decides.
    recent: HashMap<i64, Vec<DateTime<Utc>>>,
    /// Rows that go in their member's digest (one card per member, one budget slot).
    digest: HashSet<i64>,
    /// Members whose digest this pass sends.
    digest_members: HashSet<i64>,
}

/// A text card and the WeCom user id of each row it may go to.
pub(super) struct Card {
    title: String,
    description: String,
    url: String,
    users: HashMap<i64, String>,
}

impl<'a> Wecom<'a> {
    /// Loads each member's WeCom sends within the last hour: accepted ones, and those being
    /// sent or of unknown outcome (they may have arrived, so they count against the budget
    /// too).
    pub(super) async fn load(
        sender: &'a Sender,
        ctx: &'a Context,
        app: String,
        rows: &[Row],
    ) -> CoreResult<Self> {
        let now = sender.now();
        let mut recent: HashMap<i64, Vec<DateTime<Utc>>> = HashMap::new();
        for chunk in member_ids(rows).chunks(500) {
            let sent: Vec<(i64, DateTime<Utc>)> = push_deliveries::Entity::find()
                .select_only()
                .column(push_deliveries::Column::MemberId)
                .column(push_deliveries::Column::UpdatedAt)
                .filter(push_deliveries::Column::MemberId.is_in(chunk.to_vec()))
                .filter(push_deliveries::Column::Channel.eq("wecom"))
                .filter(push_deliveries::Column::Status.is_in([
                    DeliveryStatus::Sent.as_str(),
                    DeliveryStatus::Sending.as_str(),
                    DeliveryStatus::Unknown.as_str(),
                ]))
                .filter(push_deliveries::Column::UpdatedAt.gt(now - Duration::hours(1)))
                .into_tuple()
                .all(&sender.core.db)
                .await?;
            for (m, at) in sent {
                recent.entry(m).or_default().push(at);
            }
        }
        Ok(Self {
            sender,
            ctx,
            app,
            now,
            recent,
            digest: HashSet::new(),
            digest_members: HashSet::new(),
        })
    }

    fn user(&self, r: &Row) -> Result<String, String> {
        self.ctx
            .members
            .get(&r.member_id)
            .and_then(|m| m.wecom_userid.clone())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| "no_wecom_userid: the member has no WeCom user id".to_string())
    }

    /// A member's digest: one card listing the titles of what arrived, opening the first.
    fn digest_card(&self, rows: &[(Row, String)]) -> Card {
        let core = &self.sender.core;
        let titles: Vec<String> = rows
            .iter()
            .filter_map(|(r, _)| {
                let b = self.ctx.broadcasts.get(&r.broadcast_id)?;
                self.ctx.posts.get(&b.post_id).map(|p| p.title.clone())
            })
            .collect();
        let first = rows.first().map_or(0, |(r, _)| r.broadcast_id);
        let url = core
            .settings
            .push
            .link
            .as_deref()
            .unwrap_or("https://fingertip.invalid/broadcasts/{broadcast_id}")
            .replace("{broadcast_id}", &first.to_string());
        let mut description = format!("<div class=\"gray\">今日汇总 · {} 条</div>", rows.len());
        for t in titles.iter().take(DIGEST_LINES) {
            description.push_str(&format!("<div class=\"normal\">{}</div>", html_escape(t)));
        }
        if titles.len() > DIGEST_LINES {
            description.push_str(&format!(
                "<div class=\"gray\">另有 {} 条，请在收件箱查看</div>",
                titles.len() - DIGEST_LINES
            ));
        }
        Card {
            title: super::wechat::digest_title(
                &format!("今日汇总：{}", titles.first().map_or("", String::as_str)),
                rows.len(),
            ),
            description,
            url,
            users: rows.iter().map(|(r, u)| (r.id, u.clone())).collect(),
        }
    }

    /// The card of a broadcast for these rows.
    fn card(&self, broadcast_id: i64, nudge: Nudge, users: HashMap<i64, String>) -> Card {
        let core = &self.sender.core;
        let b = self.ctx.broadcasts.get(&broadcast_id);
        let facts = b.and_then(|b| self.ctx.facts(core, b, nudge));
        let url = core
            .settings
            .push
            .link
            .as_deref()
            .unwrap_or("https://fingertip.invalid/broadcasts/{broadcast_id}")
            .replace("{broadcast_id}", &broadcast_id.to_string());
        let (title, description) = match facts {
            None => ("通知".into(), String::new()),
            Some(f) => {
                let title = match nudge {
                    Nudge::Send => f.title.clone(),
                    Nudge::Reminder => format!("提醒：{}", f.title),
                    Nudge::Urgent => format!("紧急：{}", f.title),
                };
                let when = f.at.with_timezone(&f.tz).format("%Y年%m月%d日 %H:%M");
                let mut desc = format!(
                    "<div class=\"gray\">{} · {}</div>",
                    templates::kind_label(&f.kind),
                    when
                );
                if let Some(s) = f.summary.as_deref().filter(|s| !s.is_empty()) {
                    desc.push_str(&format!("<div class=\"normal\">{}</div>", html_escape(s)));
                }
                if let Some(d) = f.deadline {
                    desc.push_str(&format!(
                        "<div class=\"highlight\">请于{}前阅读</div>",
                        d.with_timezone(&f.tz).format("%m月%d日 %H:%M")
                    ));
                }
                (title, desc)
            }
        };
        Card {
            title,
            description,
            url,
            users,
        }
    }
}

#[async_trait::async_trait]
impl Channel for Wecom<'_> {
    /// The member's WeCom user id.
    type Item = String;
    type Message = Card;
    type Taken = ();

    fn rate_key(&self) -> String {
        format!("wecom:{}", self.app)
    }

    fn rate(&self) -> Limit {
        self.sender.cfg.wecom_rate
    }

    /// One call at a time: a call carries up to 1,000 members, and the app's rate is low.
    fn parallel(&self) -> usize {
        1
    }

    fn decide(&mut self, r: &Row) -> Decision<String> {
        let userid = match self.user(r) {
            Ok(u) => u,
            Err(reason) => return Decision::Skip(reason),
        };
        if let Err(reason) = self.ctx.broadcast_live(r) {
            return Decision::Skip(reason);
        }
        let in_digest = match self.ctx.hold(&self.sender.core, r) {
            Hold::Until { at, why } => return Decision::Defer { at, why },
            Hold::Digest => true,
            Hold::Send => false,
        };
        if in_digest && self.digest_members.contains(&r.member_id) {
            // The member's digest already has its budget slot.
            self.digest.insert(r.id);
            return Decision::Send(userid);
        }
        let cfg = &self.sender.cfg;
        // Sends already made, plus those this pass has planned for the member.
        let history = self.recent.entry(r.member_id).or_default();
        if let Some(at) =
            budget_frees_at(history, self.now, cfg.wecom_per_minute, cfg.wecom_per_hour)
        {
            return Decision::Defer {
                at,
                why: OVER_BUDGET,
            };
        }
        history.push(self.now);
        if in_digest {
            self.digest_members.insert(r.member_id);
            self.digest.insert(r.id);
        }
        Decision::Send(userid)
    }

    /// One unit per call: the rows of one (broadcast, occurrence, round), 1,000 at a time;
    /// a member's digest one card of its own.
    fn units(&self, rows: Vec<(Row, String)>) -> Vec<Unit<Card>> {
        let mut groups: BTreeMap<(i64, i64, i32), Vec<(Row, String)>> = BTreeMap::new();
        let mut digests: BTreeMap<i64, Vec<(Row, String)>> = BTreeMap::new();
        for (r, userid) in rows {
            if self.digest.contains(&r.id) {
                digests.entry(r.member_id).or_default().push((r, userid));
                continue;
            }
            groups
                .entry((r.broadcast_id, r.occurrence, r.round))
                .or_default()
                .push((r, userid));
        }
        let mut units = vec![];
        for (_, rows) in digests {
            units.push(Unit {
                calls: vec![Call {
                    message: self.digest_card(&rows),
                    rows: rows.into_iter().map(|(r, _)| r).collect(),
                }],
            });
        }
        for ((bid, occurrence, round), members) in groups {
            let nudge = self.ctx.nudge_of_round(bid, occurrence, round);
            for call in chunked(members, CALL_MAX) {
                let users = call.iter().map(|(r, u)| (r.id, u.clone())).collect();
                units.push(Unit {
                    calls: vec![Call {
                        message: self.card(bid, nudge, users),
                        rows: call.into_iter().map(|(r, _)| r).collect(),
                    }],
                });
            }
        }
        units
    }

    async fn before_send(&self, _rows: &[&Row]) -> CoreResult<()> {
        Ok(())
    }

    async fn send(&self, card: &Card, rows: Vec<Row>) -> Vec<(Row, Outcome)> {
        let push = WecomPush {
            // A digest's rows share one user: each id once.
            userids: {
                let mut seen = HashSet::new();
                rows.iter()
                    .filter_map(|r| card.users.get(&r.id).cloned())
                    .filter(|u| seen.insert(u.clone()))
                    .collect()
            },
            title: card.title.clone(),
            description: card.description.clone(),
            url: card.url.clone(),
        };
        match self.sender.platform.send_wecom(&push).await {
            Ok(accepted) => {
                let invalid: HashSet<String> = accepted
                    .invalid_users
                    .iter()
                    .map(|u| u.to_lowercase())
                    .collect();
                rows.into_iter()
                    .map(|r| {
                        let u = card
                            .users
                            .get(&r.id)
                            .map(|u| u.to_lowercase())
                            .unwrap_or_default();
                        let o = if invalid.contains(&u) {
                            Outcome::dead(
                                "invaliduser: WeCom does not know this user or the app cannot reach them",
                            )
                        } else {
                            Outcome::Sent {
                                msgid: accepted.msgid.clone(),
                            }
                        };
                        (r, o)
                    })
                    .collect()
            }
            Err(f) => {
                let o = Outcome::of_failure(&f);
                rows.into_iter().map(|r| (r, o.clone())).collect()
            }
        }
    }

    async fn after_send(&self, _outcomes: &[(Row, Outcome)], _taken: ()) -> CoreResult<()> {
        Ok(())
    }
}

/// When a member may get the next WeCom message, or `None` when they may now. `sent` are the
/// member's WeCom sends within the last hour.
pub fn budget_frees_at(
    sent: &[DateTime<Utc>],
    now: DateTime<Utc>,
    per_minute: usize,
    per_hour: usize,
) -> Option<DateTime<Utc>> {
    let mut in_hour: Vec<DateTime<Utc>> = sent
        .iter()
        .copied()
        .filter(|t| *t > now - Duration::hours(1))
        .collect();
    in_hour.sort();
    let in_minute: Vec<DateTime<Utc>> = in_hour
        .iter()
        .copied()
        .filter(|t| *t > now - Duration::minutes(1))
        .collect();
    let mut at = None;
    if in_hour.len() >= per_hour {
        at = Some(in_hour[in_hour.len() - per_hour] + Duration::hours(1));
    }
    if in_minute.len() >= per_minute {
        let m = in_minute[in_minute.len() - per_minute] + Duration::minutes(1);
        at = Some(at.map_or(m, |a: DateTime<Utc>| Ord::max(a, m)));
    }
    at.map(|a| Ord::max(a, now + Duration::seconds(1)))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, s).unwrap()
    }

    #[test]
    fn wecom_budget_per_minute_and_hour() {
        let now = t(10, 0, 0);
        assert_eq!(budget_frees_at(&[], now, 30, 1000), None);
        // 30 in the last minute: the oldest of them leaves the window first.
        let minute: Vec<_> = (0..30).map(|i| t(9, 59, 1 + i)).collect();
        assert_eq!(budget_frees_at(&minute, now, 30, 1000), Some(t(10, 0, 1)));
        assert_eq!(budget_frees_at(&minute[..29], now, 30, 1000), None);
        // 1,000 in the last hour, spread out: wait for the oldest to be an hour old.
        let hour: Vec<_> = (0..1000)
            .map(|i| t(9, 0, 0) + Duration::seconds(1 + i * 3))
            .collect();
        assert_eq!(budget_frees_at(&hour, now, 30, 1000), Some(t(10, 0, 1)));
    }
}
