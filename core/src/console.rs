//! What the web console's home page shows an admin or a secretary, from their own scope: this
//! month's broadcasts with read rates and failed pushes, the meetings coming up with the
//! answers so far, and the members who have not bound WeChat yet. Every part goes through the
//! services' own access checks with the acting member; nothing here writes.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use sea_orm::EntityTrait;

use crate::Core;
use crate::auth::Actor;
use crate::broadcasts::service as broadcasts;
use crate::broadcasts::{BroadcastView, Stats, Status};
use crate::entities::units;
use crate::error::CoreResult;
use crate::meetings::record::{self, Counts};
use crate::meetings::{MeetingStatus, MeetingView};
use crate::org::members::{self, MemberFilter, MemberView};
use crate::paging::PageRequest;

/// Broadcasts the home page lists at most.
pub const BROADCASTS: u64 = 20;
/// Upcoming meetings it lists at most.
pub const MEETINGS: usize = 10;
/// Unbound members it names at most (the roster page has them all).
pub const UNBOUND: u64 = 20;

pub struct BroadcastLine {
    pub broadcast: BroadcastView,
    pub stats: Stats,
}

pub struct MeetingLine {
    pub meeting: MeetingView,
    pub counts: Counts,
}

pub struct Home {
    /// The acting member's name.
    pub name: String,
    /// Their unit's name; `None` for an admin, who sees every unit.
    pub unit_name: Option<String>,
    /// Since the first of this month (in the organisation's zone), newest first.
    pub broadcasts: Vec<BroadcastLine>,
    /// Not yet begun and not canceled, soonest first.
    pub meetings: Vec<MeetingLine>,
    pub unbound: Vec<MemberView>,
    /// More unbound members than `unbound` names.
    pub unbound_more: bool,
}

/// The first instant of the month of `now` in the organisation's zone.
pub fn month_start(core: &Core, now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = core.settings.timezone;
    let local = now.with_timezone(&tz);
    tz.with_ymd_and_hms(local.year(), local.month(), 1, 0, 0, 0)
        .earliest()
        .map_or(now, |t| t.with_timezone(&Utc))
}

pub async fn home(core: &Core, actor: &Actor) -> CoreResult<Home> {
    let now = core.now();
    let since = month_start(core, now);
    let mut lines = Vec::new();
    let listed = broadcasts::list(core, actor, None, PageRequest::first(BROADCASTS)).await?;
    for b in listed.items {
        if b.created_at < since && b.sent_at.is_none_or(|t| t < since) {
            continue;
        }
        let stats = if b.status == Status::Scheduled {
            Stats::default()
        } else {
            crate::broadcasts::stats::stats(core, actor, b.id).await?
        };
        lines.push(BroadcastLine {
            broadcast: b,
            stats,
        });
    }

    let year = now.with_timezone(&core.settings.timezone).year();
    let mut upcoming = Vec::new();
    for y in [year, year + 1] {
        let page = record::list(core, actor, None, Some(y), PageRequest::first(200)).await?;
        upcoming.extend(
            page.items
                .into_iter()
                .filter(|m| m.row.starts_at > now && m.row.status != MeetingStatus::Canceled),
        );
    }
    upcoming.sort_by_key(|m| (m.row.starts_at, m.row.id));
    upcoming.truncate(MEETINGS);
    let mut meetings = Vec::new();
    for m in upcoming {
        let invitees = record::invitees(core, m.row.id).await?;
        meetings.push(MeetingLine {
            counts: record::counts(&invitees),
            meeting: m,
        });
    }

    let unbound = members::list(
        core,
        actor,
        &MemberFilter {
            unbound: true,
            ..Default::default()
        },
        PageRequest::first(UNBOUND),
    )
    .await?;
    let name = members::view(&core.db, actor.member_id).await?.name;
    let unit_name = match actor.unit_id {
        Some(id) if actor.role != crate::auth::Role::Admin => units::Entity::find_by_id(id)
            .one(&core.db)
            .await?
            .map(|u| u.name),
        _ => None,
    };
    Ok(Home {
        name,
        unit_name,
        broadcasts: lines,
        meetings,
        unbound_more: unbound.next_cursor.is_some(),
        unbound: unbound.items,
    })
}
