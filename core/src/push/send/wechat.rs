//! The WeChat channel: one subscribe message per member, built from the post's template;
//! sent in units of up to 16 messages, each under its own rate-limit slot.
//!
//! A member's consent credits are counted down while the pass decides, so a member with one
//! credit and three due pushes gets one push and two `no_credit` skips, not two 43101s. The
//! credit is taken in the ledger before the request leaves (a send whose answer is lost, or
//! whose worker dies, may have reached the phone and used the consent), and given back when
//! WeChat's answer shows the message did not arrive; a 43101 sets it to 0.

use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::channel::{Call, Channel, Decision, Unit, chunked};
use super::context::{Context, Nudge, member_ids};
use super::outcome::Outcome;
use super::{Row, Sender};
use crate::entities::wechat_credits;
use crate::error::CoreResult;
use crate::ports::rate_limit::Limit;
use crate::push::quiet::Hold;
use crate::push::templates::{TemplateConfig, TemplateKind};
use crate::push::{consent, templates};
use fingertip_platform::WechatPush;

/// Rows per unit ("mark sending, send, record").
const CHUNK: usize = 16;

pub(super) struct Wechat<'a> {
    sender: &'a Sender,
    ctx: &'a Context,
    /// The mini-program's appid.
    app: String,
    /// (member, template) → credits not yet spent by this pass's decisions.
    credits: HashMap<(i64, String), i64>,
    /// Rows that go in a member's digest → whether the row heads it (takes its one credit).
    digest: HashMap<i64, bool>,
    /// Member → the digest this pass sends them (the template its credit was taken for).
    digest_of: HashMap<i64, String>,
}

impl<'a> Wechat<'a> {
    /// Loads the credits of the (member, template) pairs of these rows.
    pub(super) async fn load(
        sender: &'a Sender,
        ctx: &'a Context,
        app: String,
        rows: &[Row],
    ) -> CoreResult<Self> {
        let mut credits = HashMap::new();
        for chunk in member_ids(rows).chunks(500) {
            for c in wechat_credits::Entity::find()
                .filter(wechat_credits::Column::MemberId.is_in(chunk.to_vec()))
                .all(&sender.core.db)
                .await?
            {
                credits.insert((c.member_id, c.template_id), c.credits);
            }
        }
        Ok(Self {
            sender,
            ctx,
            app,
            credits,
            digest: HashMap::new(),
            digest_of: HashMap::new(),
        })
    }

    /// The template of a row as it goes: the digest's for a row of a digest, else its own.
    fn template_for(&self, r: &Row) -> Option<&TemplateConfig> {
        if self.digest.contains_key(&r.id) {
            self.digest_template(r)
        } else {
            self.ctx.template_of(r)
        }
    }

    /// A digest's template: the `digest` one when configured, else that of its first push.
    fn digest_template(&self, r: &Row) -> Option<&TemplateConfig> {
        self.ctx
            .templates
            .get(&TemplateKind::Digest)
            .or_else(|| self.ctx.template_of(r))
    }

    /// Takes one of the member's counted credits for `template`, or says why not.
    fn take_credit(&mut self, member_id: i64, template: &str) -> Result<(), String> {
        match self.credits.get_mut(&(member_id, template.to_string())) {
            Some(left) if *left > 0 => {
                *left -= 1;
                Ok(())
            }
            _ => Err(format!(
                "no_credit: the member has not allowed a message of template {template}"
            )),
        }
    }

    /// A row of the member's digest: the first takes the digest's one credit, the others ride
    /// along. What it sends is made when the digest is put together (`units`).
    fn digest_row(&mut self, r: &Row) -> Result<WechatPush, String> {
        let m = self.message_without_credit(r)?;
        if self.digest_of.contains_key(&r.member_id) {
            self.digest.insert(r.id, false);
            return Ok(m);
        }
        let t = self
            .digest_template(r)
            .map(|t| t.template_id.clone())
            .ok_or_else(|| {
                "no_template: no subscribe template is configured for the digest".to_string()
            })?;
        self.take_credit(r.member_id, &t)?;
        self.digest_of.insert(r.member_id, t);
        self.digest.insert(r.id, true);
        Ok(m)
    }

    /// The one message of a member's digest: the first push's facts, its title saying how
    /// many there are, opening the inbox.
    fn digest_message(&self, rows: &[(Row, WechatPush)]) -> Option<WechatPush> {
        let (head, single) = rows.first()?;
        let b = self.ctx.broadcasts.get(&head.broadcast_id)?;
        let t = self.digest_template(head)?;
        let mut facts = self.ctx.facts(&self.sender.core, b, Nudge::Send)?;
        facts.title = digest_title(&facts.title, rows.len());
        facts.at = self.sender.now();
        let item = if t.kind == TemplateKind::Digest {
            None
        } else {
            self.ctx
                .items
                .get(&(head.broadcast_id, head.occurrence, head.member_id))
                .copied()
        };
        Some(WechatPush {
            openid: single.openid.clone(),
            template_id: t.template_id.clone(),
            page: templates::page_for(t, item),
            data: templates::render(t, &facts),
        })
    }

    /// The row's message, or why it is skipped. Uses one of the member's counted credits.
    fn message(&mut self, r: &Row) -> Result<WechatPush, String> {
        let m = self.message_without_credit(r)?;
        self.take_credit(r.member_id, &m.template_id)?;
        Ok(m)
    }

    /// The row's message, or why it is skipped, before any credit is counted.
    fn message_without_credit(&self, r: &Row) -> Result<WechatPush, String> {
        let ctx = self.ctx;
        let b = ctx.broadcast_live(r)?;
        let m = ctx
            .members
            .get(&r.member_id)
            .ok_or_else(|| "the member no longer exists".to_string())?;
        let openid = m
            .wechat_openid
            .clone()
            .ok_or_else(|| "not_bound: the member has not bound WeChat".to_string())?;
        let post_kind = ctx
            .posts
            .get(&b.post_id)
            .map(|p| p.kind.as_str())
            .unwrap_or_default();
        let t = ctx.template_of(r).ok_or_else(|| {
            format!("no_template: no subscribe template is configured for {post_kind}")
        })?;
        let facts = ctx
            .facts(&self.sender.core, b, ctx.nudge_of(r))
            .ok_or_else(|| "the post no longer exists".to_string())?;
        let item = ctx
            .items
            .get(&(r.broadcast_id, r.occurrence, r.member_id))
            .copied();
        Ok(WechatPush {
            openid,
            template_id: t.template_id.clone(),
            page: templates::page_for(t, item),
            data: templates::render(t, &facts),
        })
    }

    fn chunk(&self) -> usize {
        CHUNK.min(self.sender.cfg.concurrency).max(1)
    }
}

#[async_trait::async_trait]
impl Channel for Wechat<'_> {
    type Item = WechatPush;
    type Message = WechatPush;
    /// Rows whose credit was taken.
    type Taken = HashSet<i64>;

    fn rate_key(&self) -> String {
        format!("wechat:{}", self.app)
    }

    fn rate(&self) -> Limit {
        self.sender.cfg.wechat_rate
    }

    /// `concurrency` messages in flight: that many units of `CHUNK`.
    fn parallel(&self) -> usize {
        (self.sender.cfg.concurrency / self.chunk()).max(1)
    }

    fn decide(&mut self, row: &Row) -> Decision<WechatPush> {
        let made = match self.ctx.hold(&self.sender.core, row) {
            Hold::Until { at, why } => return Decision::Defer { at, why },
            Hold::Digest => self.digest_row(row),
            Hold::Send => self.message(row),
        };
        match made {
            Ok(m) => Decision::Send(m),
            Err(reason) => Decision::Skip(reason),
        }
    }

    /// Each push its own call; a member's digest one call for all its rows.
    fn units(&self, rows: Vec<(Row, WechatPush)>) -> Vec<Unit<WechatPush>> {
        let mut calls = Vec::with_capacity(rows.len());
        let mut digests: BTreeMap<i64, Vec<(Row, WechatPush)>> = BTreeMap::new();
        for (row, message) in rows {
            if self.digest.contains_key(&row.id) {
                digests
                    .entry(row.member_id)
                    .or_default()
                    .push((row, message));
            } else {
                calls.push(Call {
                    rows: vec![row],
                    message,
                });
            }
        }
        for (_, mut group) in digests {
            // The head (the row that took the credit) first.
            group.sort_by_key(|(r, _)| !self.digest.get(&r.id).copied().unwrap_or(false));
            if let Some(message) = self.digest_message(&group) {
                calls.push(Call {
                    rows: group.into_iter().map(|(r, _)| r).collect(),
                    message,
                });
            }
        }
        chunked(calls, self.chunk())
            .into_iter()
            .map(|calls| Unit { calls })
            .collect()
    }

    /// Takes each member's credit in the ledger (one for a whole digest).
    async fn before_send(&self, rows: &[&Row]) -> CoreResult<HashSet<i64>> {
        let mut took = HashSet::new();
        for row in rows {
            if self.digest.get(&row.id) == Some(&false) {
                continue;
            }
            if let Some(t) = self.template_for(row)
                && consent::use_one(&self.sender.core.db, row.member_id, &t.template_id).await?
            {
                took.insert(row.id);
            }
        }
        Ok(took)
    }

    async fn send(&self, message: &WechatPush, rows: Vec<Row>) -> Vec<(Row, Outcome)> {
        let o = match self.sender.platform.send_wechat(message).await {
            Ok(msgid) => Outcome::Sent { msgid },
            Err(f) => Outcome::of_failure(&f),
        };
        rows.into_iter().map(|r| (r, o.clone())).collect()
    }

    /// Credits first, then the rows (recorded after this): a credit taken without its row
    /// recorded only makes the count lower than real, never a second send.
    async fn after_send(&self, outcomes: &[(Row, Outcome)], took: HashSet<i64>) -> CoreResult<()> {
        let db = &self.sender.core.db;
        for (row, o) in outcomes {
            let Some(tid) = self.template_for(row).map(|t| t.template_id.as_str()) else {
                continue;
            };
            match o {
                // Arrived, or may have: the credit stays used.
                Outcome::Sent { .. } | Outcome::InDoubt { .. } | Outcome::Skip { .. } => {}
                Outcome::NoConsent { .. } => consent::zero(db, row.member_id, tid).await?,
                // WeChat answered with an error, or nothing left: the consent was not used.
                Outcome::Retry { .. } | Outcome::Dead { .. } | Outcome::NotSent { .. }
                    if took.contains(&row.id) =>
                {
                    consent::give_back(db, row.member_id, tid).await?;
                }
                Outcome::Retry { .. } | Outcome::Dead { .. } | Outcome::NotSent { .. } => {}
            }
        }
        Ok(())
    }
}

/// A digest's title: the first push's, and how many there are in all.
pub(super) fn digest_title(first: &str, n: usize) -> String {
    if n <= 1 {
        first.to_string()
    } else {
        format!("{first}等{n}条")
    }
}
