//! What a pass loads once for all its rows, in a few batched queries: the members, broadcasts,
//! posts, meetings and inbox items they refer to, and the subscribe templates. Decisions and
//! messages are then made from it without another query.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::Row;
use crate::Core;
use crate::broadcasts::Status;
use crate::broadcasts::ladder::Step;
use crate::entities::{
    broadcast_steps, broadcasts, inbox_items, meeting_broadcasts, meetings, member_push_prefs,
    members, posts,
};
use crate::error::CoreResult;
use crate::push::quiet::{self, Effective, Hold, Push};
use crate::push::templates::{self, Facts, TemplateConfig, TemplateKind};

/// Everything the rows of one pass refer to.
pub(crate) struct Context {
    pub(super) members: HashMap<i64, members::Model>,
    pub(super) broadcasts: HashMap<i64, broadcasts::Model>,
    pub(super) posts: HashMap<i64, posts::Model>,
    /// Post kind (or `reminder`) → its subscribe template.
    pub(super) templates: HashMap<TemplateKind, TemplateConfig>,
    /// (broadcast, occurrence, member) → inbox item id.
    pub(super) items: HashMap<(i64, i64, i64), i64>,
    /// The (broadcast, occurrence, member) of those items already read.
    read: HashSet<(i64, i64, i64)>,
    /// The (broadcast, occurrence, round) of reminder rounds that are a ladder's urgent step.
    urgent_rounds: HashSet<(i64, i64, i32)>,
    /// Those that are a ladder's reminder before the deadline.
    remind_rounds: HashSet<(i64, i64, i32)>,
    /// When the pass loaded this.
    now: DateTime<Utc>,
    /// Broadcast id → the meeting it was sent for (its time and place fill `time`/`location`).
    pub(super) meetings: HashMap<i64, meetings::Model>,
    /// The members' own push preferences (quiet hours, off-site); absent: the defaults.
    prefs: HashMap<i64, member_push_prefs::Model>,
}

/// The distinct member ids of some rows.
pub(super) fn member_ids<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<i64> {
    rows.into_iter()
        .map(|r| r.member_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect()
}

impl Context {
    pub(super) async fn load(core: &Core, rows: &[&Row]) -> CoreResult<Self> {
        let member_ids = member_ids(rows.iter().copied());
        let broadcast_ids: Vec<i64> = rows
            .iter()
            .map(|r| r.broadcast_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut members_map = HashMap::new();
        for chunk in member_ids.chunks(500) {
            for m in members::Entity::find()
                .filter(members::Column::Id.is_in(chunk.to_vec()))
                .all(&core.db)
                .await?
            {
                members_map.insert(m.id, m);
            }
        }
        let broadcasts_map: HashMap<i64, broadcasts::Model> = broadcasts::Entity::find()
            .filter(broadcasts::Column::Id.is_in(broadcast_ids.clone()))
            .all(&core.db)
            .await?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        let post_ids: Vec<i64> = broadcasts_map.values().map(|b| b.post_id).collect();
        let posts_map: HashMap<i64, posts::Model> = posts::Entity::find()
            .filter(posts::Column::Id.is_in(post_ids))
            .all(&core.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let templates = templates::all(core)
            .await?
            .into_iter()
            .map(|t| (t.kind, t))
            .collect();
        let prefs = quiet::load(&core.db, &member_ids).await?;
        let mut items = HashMap::new();
        let mut read = HashSet::new();
        for chunk in member_ids.chunks(500) {
            let found: Vec<(i64, i64, i64, i64, bool)> = inbox_items::Entity::find()
                .select_only()
                .column(inbox_items::Column::BroadcastId)
                .column(inbox_items::Column::Occurrence)
                .column(inbox_items::Column::MemberId)
                .column(inbox_items::Column::Id)
                .expr(Expr::col(inbox_items::Column::ReadAt).is_not_null())
                .filter(inbox_items::Column::BroadcastId.is_in(broadcast_ids.clone()))
                .filter(inbox_items::Column::MemberId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&core.db)
                .await?;
            for (b, o, m, id, was_read) in found {
                items.insert((b, o, m), id);
                if was_read {
                    read.insert((b, o, m));
                }
            }
        }
        let mut urgent_rounds = HashSet::new();
        let mut remind_rounds = HashSet::new();
        for (b, o, r, step) in broadcast_steps::Entity::find()
            .select_only()
            .column(broadcast_steps::Column::BroadcastId)
            .column(broadcast_steps::Column::Occurrence)
            .column(broadcast_steps::Column::Round)
            .column(broadcast_steps::Column::Step)
            .filter(broadcast_steps::Column::BroadcastId.is_in(broadcast_ids.clone()))
            .filter(broadcast_steps::Column::Round.is_not_null())
            .into_tuple::<(i64, i64, Option<i32>, Step)>()
            .all(&core.db)
            .await?
        {
            let Some(r) = r else { continue };
            match step {
                Step::Urgent => urgent_rounds.insert((b, o, r)),
                Step::Remind => remind_rounds.insert((b, o, r)),
                Step::Summary => false,
            };
        }
        let links = meeting_broadcasts::Entity::find()
            .filter(meeting_broadcasts::Column::BroadcastId.is_in(broadcast_ids.clone()))
            .all(&core.db)
            .await?;
        let mut meetings_map = HashMap::new();
        if !links.is_empty() {
            let rows: HashMap<i64, meetings::Model> = meetings::Entity::find()
                .filter(meetings::Column::Id.is_in(links.iter().map(|l| l.meeting_id)))
                .all(&core.db)
                .await?
                .into_iter()
                .map(|m| (m.id, m))
                .collect();
            for l in links {
                if let Some(m) = rows.get(&l.meeting_id) {
                    meetings_map.insert(l.broadcast_id, m.clone());
                }
            }
        }
        Ok(Self {
            meetings: meetings_map,
            members: members_map,
            read,
            urgent_rounds,
            remind_rounds,
            now: core.now(),
            prefs,
            broadcasts: broadcasts_map,
            posts: posts_map,
            templates,
            items,
        })
    }

    /// The row's broadcast, unless it is gone or canceled (the reason, as a skip).
    pub(super) fn broadcast_live(&self, r: &Row) -> Result<&broadcasts::Model, String> {
        let b = self
            .broadcasts
            .get(&r.broadcast_id)
            .ok_or_else(|| "the broadcast no longer exists".to_string())?;
        if b.status == Status::Canceled {
            return Err("canceled: the broadcast was canceled before this push went out".into());
        }
        if r.round > 0
            && self
                .read
                .contains(&(r.broadcast_id, r.occurrence, r.member_id))
        {
            return Err("read: the member read it before this reminder went out".into());
        }
        // A ladder's reminder held (quiet hours, the digest) until after the deadline: the
        // urgent push at the deadline has said it better.
        if self
            .remind_rounds
            .contains(&(r.broadcast_id, r.occurrence, r.round))
            && b.read_by.is_some_and(|d| d <= self.now)
        {
            return Err("late: the deadline passed before this reminder could go out".into());
        }
        Ok(b)
    }

    /// The subscribe template of a row: its post kind's, or `reminder` for reminder rounds
    /// when one is configured.
    pub(super) fn template_of(&self, r: &Row) -> Option<&TemplateConfig> {
        let b = self.broadcasts.get(&r.broadcast_id)?;
        let p = self.posts.get(&b.post_id)?;
        let kind = if r.round > 0 {
            self.templates
                .get(&TemplateKind::Reminder)
                .map_or(p.kind.into(), |_| TemplateKind::Reminder)
        } else {
            p.kind.into()
        };
        self.templates.get(&kind)
    }

    /// Whether the row goes now, in the member's digest, or later (quiet hours, off-site).
    pub(super) fn hold(&self, core: &Core, r: &Row) -> Hold {
        let Some(b) = self.broadcasts.get(&r.broadcast_id) else {
            return Hold::Send;
        };
        let push = Push {
            urgent: b.urgent || self.nudge_of(r) == Nudge::Urgent,
            timely: self.meetings.contains_key(&b.id),
            // Held for the digest, or already on its way once (tried, or put back by the WeCom
            // budget or a rate-limiter outage after passing the hold): not held a day more.
            held_for_digest: r.attempts > 0
                || r.last_error
                    .as_deref()
                    .is_some_and(|e| !e.starts_with(quiet::QUIET_PREFIX)),
        };
        let prefs = Effective::of(self.prefs.get(&r.member_id), &core.settings.push);
        Hold::of(push, prefs, core.now(), core.settings.timezone)
    }

    /// What kind of message a row is: the send, a reminder, or a ladder's urgent push.
    pub(super) fn nudge_of(&self, r: &Row) -> Nudge {
        nudge(&self.urgent_rounds, r.broadcast_id, r.occurrence, r.round)
    }

    /// The same for a whole round (the WeCom channel sends one card per round).
    pub(super) fn nudge_of_round(&self, broadcast_id: i64, occurrence: i64, round: i32) -> Nudge {
        nudge(&self.urgent_rounds, broadcast_id, occurrence, round)
    }

    /// What a message about a broadcast says, whatever the channel.
    pub(super) fn facts(&self, core: &Core, b: &broadcasts::Model, nudge: Nudge) -> Option<Facts> {
        let p = self.posts.get(&b.post_id)?;
        let tz: Tz = b.timezone.parse().unwrap_or(core.settings.timezone);
        let meeting = self.meetings.get(&b.id);
        let at = if let Some(m) = meeting {
            m.starts_at
        } else if b.recurrence.is_some() {
            DateTime::from_timestamp(b.occurrence, 0).unwrap_or(b.send_at)
        } else {
            b.send_at
        };
        Some(Facts {
            title: p.title.clone(),
            summary: p.summary.clone().or_else(|| {
                Some(
                    p.body_md
                        .chars()
                        .filter(|c| !"#*>`_".contains(*c))
                        .take(40)
                        .collect(),
                )
            }),
            kind: p.kind,
            at,
            tz,
            location: meeting.map(crate::meetings::where_text),
            sender: core.settings.push.sender_name.clone(),
            deadline: b.read_by,
            reminder: nudge != Nudge::Send,
            urgent: nudge == Nudge::Urgent,
        })
    }
}

/// What a push row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Nudge {
    /// The broadcast's own send (round 0).
    Send,
    /// A reminder round: an admin's, or the ladder's reminder.
    Reminder,
    /// The ladder's urgent push at the deadline.
    Urgent,
}

fn nudge(
    urgent: &HashSet<(i64, i64, i32)>,
    broadcast_id: i64,
    occurrence: i64,
    round: i32,
) -> Nudge {
    if round == 0 {
        Nudge::Send
    } else if urgent.contains(&(broadcast_id, occurrence, round)) {
        Nudge::Urgent
    } else {
        Nudge::Reminder
    }
}
