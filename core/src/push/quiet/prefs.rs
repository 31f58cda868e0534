//! A member reads and changes their own push preferences.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use serde_json::json;

use super::{Effective, Minute, Span, minute_text, next_at, parse_minute};
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::member_push_prefs;
use crate::error::{CoreResult, Violations};

/// A member's preferences as they apply, with the organisation's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefsView {
    /// Whether quiet hours apply at all.
    pub quiet: bool,
    /// The quiet hours that apply (the member's own or the organisation's), `HH:MM`.
    pub quiet_from: Option<String>,
    pub quiet_until: Option<String>,
    /// The member chose their own quiet hours (or none), rather than the organisation's.
    pub quiet_own: bool,
    pub off_site: bool,
    /// When the daily digest goes, `HH:MM`.
    pub digest_at: String,
    /// The next digest, while off-site.
    pub next_digest_at: Option<DateTime<Utc>>,
    /// The zone those times are in.
    pub timezone: String,
}

/// A change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PrefsInput {
    /// `false`: no quiet hours; `true`: quiet hours again.
    pub quiet: Option<bool>,
    /// Own quiet hours, `HH:MM` both.
    pub quiet_from: Option<String>,
    pub quiet_until: Option<String>,
    pub off_site: Option<bool>,
    pub digest_at: Option<String>,
}

/// The signed-in member's preferences.
pub async fn get(core: &Core, actor: &Actor) -> CoreResult<PrefsView> {
    let row = member_push_prefs::Entity::find_by_id(actor.member_id)
        .one(&core.db)
        .await?;
    Ok(view(core, row.as_ref()))
}

/// Changes the signed-in member's preferences (audited `member.push_preferences`).
pub async fn set(core: &Core, actor: &Actor, input: PrefsInput) -> CoreResult<PrefsView> {
    let mut v = Violations::new();
    let time = |v: &mut Violations, field: &str, s: &Option<String>| -> Option<Minute> {
        let s = s.as_deref()?;
        let m = parse_minute(s);
        v.check(m.is_some(), field, "must be a time of day, HH:MM (24-hour)");
        m
    };
    let from = time(&mut v, "quiet_from", &input.quiet_from);
    let until = time(&mut v, "quiet_until", &input.quiet_until);
    let digest_at = time(&mut v, "digest_at", &input.digest_at);
    if input.quiet_from.is_some() != input.quiet_until.is_some() {
        v.add("quiet_until", "quiet_from and quiet_until go together");
    }
    if let (Some(f), Some(u)) = (from, until) {
        v.check(f != u, "quiet_until", "must differ from quiet_from");
    }
    v.finish()?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let old = member_push_prefs::Entity::find_by_id(actor.member_id)
        .one(&txn)
        .await?;
    let mut row = old.clone().unwrap_or(member_push_prefs::Model {
        member_id: actor.member_id,
        quiet_off: false,
        quiet_from: None,
        quiet_until: None,
        off_site: false,
        digest_at: None,
        updated_at: now,
    });
    if let Some(q) = input.quiet {
        row.quiet_off = !q;
    }
    if let (Some(f), Some(u)) = (from, until) {
        row.quiet_from = Some(i32::from(f));
        row.quiet_until = Some(i32::from(u));
        row.quiet_off = false;
    }
    if let Some(o) = input.off_site {
        row.off_site = o;
    }
    if let Some(d) = digest_at {
        row.digest_at = Some(i32::from(d));
    }
    row.updated_at = now;
    member_push_prefs::Entity::insert(member_push_prefs::ActiveModel {
        member_id: Set(row.member_id),
        quiet_off: Set(row.quiet_off),
        quiet_from: Set(row.quiet_from),
        quiet_until: Set(row.quiet_until),
        off_site: Set(row.off_site),
        digest_at: Set(row.digest_at),
        updated_at: Set(row.updated_at),
    })
    .on_conflict(
        OnConflict::column(member_push_prefs::Column::MemberId)
            .update_columns([
                member_push_prefs::Column::QuietOff,
                member_push_prefs::Column::QuietFrom,
                member_push_prefs::Column::QuietUntil,
                member_push_prefs::Column::OffSite,
                member_push_prefs::Column::DigestAt,
                member_push_prefs::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(&txn)
    .await?;
    let shown = view(core, Some(&row));
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("member.push_preferences")
            .target("member", actor.member_id)
            .summary(json!({
                "quiet": shown.quiet,
                "quiet_from": shown.quiet_from,
                "quiet_until": shown.quiet_until,
                "off_site": shown.off_site,
                "digest_at": shown.digest_at,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

fn view(core: &Core, row: Option<&member_push_prefs::Model>) -> PrefsView {
    let s = &core.settings.push;
    let e = Effective::of(row, s);
    let tz = core.settings.timezone;
    let own =
        row.is_some_and(|r| r.quiet_off || (r.quiet_from.is_some() && r.quiet_until.is_some()));
    PrefsView {
        quiet: e.quiet.is_some(),
        quiet_from: e.quiet.map(|q: Span| minute_text(q.from)),
        quiet_until: e.quiet.map(|q| minute_text(q.until)),
        quiet_own: own,
        off_site: e.off_site,
        digest_at: minute_text(e.digest_at),
        next_digest_at: e.off_site.then(|| next_at(e.digest_at, core.now(), tz)),
        timezone: tz.name().to_string(),
    }
}
