//! The WeChat channel: one subscribe message per member, built from the post's template;
//! sent in units of up to 16 messages, each under its own rate-limit slot.
//!
//! A member's consent credits are counted down while the pass decides, so a member with one
//! credit and three due pushes gets one push and two `no_credit` skips, not two 43101s. The
//! credit is taken in the ledger before the request leaves (a send whose answer is lost, or
//! whose worker dies, may have reached the phone and used the consent), and given back when
//! WeChat's answer shows the message did not arrive; a 43101 sets it to 0.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::channel::{Call, Channel, Decision, Unit, chunked};
use super::context::{Context, member_ids};
use super::outcome::Outcome;
use super::{Row, Sender};
use crate::entities::wechat_credits;
use crate::error::CoreResult;
use crate::ports::rate_limit::Limit;
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
        })
    }

    /// The row's message, or why it is skipped. Uses one of the member's counted credits.
    fn message(&mut self, r: &Row) -> Result<WechatPush, String> {
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
        match self.credits.get_mut(&(r.member_id, t.template_id.clone())) {
            Some(left) if *left > 0 => *left -= 1,
            _ => {
                return Err(format!(
                    "no_credit: the member has not allowed a message of template {}",
                    t.template_id
                ));
            }
        }
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
        match self.message(row) {
            Ok(m) => Decision::Send(m),
            Err(reason) => Decision::Skip(reason),
        }
    }

    fn units(&self, rows: Vec<(Row, WechatPush)>) -> Vec<Unit<WechatPush>> {
        chunked(rows, self.chunk())
            .into_iter()
            .map(|chunk| Unit {
                calls: chunk
                    .into_iter()
                    .map(|(row, message)| Call {
                        rows: vec![row],
                        message,
                    })
                    .collect(),
            })
            .collect()
    }

    /// Takes each member's credit in the ledger.
    async fn before_send(&self, rows: &[&Row]) -> CoreResult<HashSet<i64>> {
        let mut took = HashSet::new();
        for row in rows {
            if let Some(t) = self.ctx.template_of(row)
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
            let Some(tid) = self.ctx.template_of(row).map(|t| t.template_id.as_str()) else {
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
