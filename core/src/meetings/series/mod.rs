//! Recurring meetings (the Friday study day): a series is a meeting template and an RRULE.
//!
//! The rule is evaluated by [`Rule`], the same evaluator as recurring broadcasts, in the
//! series' time zone from its anchor `starts_at`. The workers materialize each occurrence as an
//! ordinary meeting `notice_lead_minutes` before it starts ([`materialize_due`]), through the
//! same path as [`super::create`], so it gets its invitees, notice and reminders. `next_at` is
//! the start of the next occurrence not yet materialized.
//!
//! Exactly one meeting per occurrence: the meeting insert carries `series_id`, and the unique
//! key (series_id, starts_at) turns a second insert (another worker, or a retry after a crash
//! between the insert and the advance) into a conflict that counts as done. A worker works on a
//! series only under an expiring lease in its row, so it may finish an occurrence another left
//! half-made (meeting inserted, notice or reminders missing) without racing the one still
//! sending it. Advancing `next_at` is a compare-and-set on its old value (and the lease).

mod materialize;

pub use materialize::materialize_due;

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use crate::Core;
use crate::audience::Audience;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::broadcasts::schedule::Rule;
use crate::entities::{meeting_series, meetings};
use crate::error::{CoreError, CoreResult, Violations};
use crate::meetings::{MeetingInput, MeetingView, prepare};
use crate::meetings::{ReminderOffsets, SeriesStatus};
use crate::org::UnitTree;
use crate::paging::{Order, Page, PageRequest};
use materialize::{materialize_series, rule_of};

/// Default notice lead: each occurrence is created (and its notice sent) 3 days before it.
pub const DEFAULT_NOTICE_LEAD_MINUTES: i32 = 4320;
/// Occurrences of a meeting series must be at least this far apart (a day, less the hour a
/// daylight-saving change can take away).
const MIN_SPACING_SECS: i64 = 23 * 3600;

#[derive(Debug, Clone, Default)]
pub struct SeriesInput {
    pub kind: String,
    pub title: String,
    pub unit_id: Option<i64>,
    /// The rule's anchor; the first occurrence is the rule's first start at or after it.
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: Option<String>,
    pub audience: Audience,
    pub post_id: Option<i64>,
    pub timezone: Option<String>,
    pub reminder_offsets: Option<Vec<i32>>,
    pub recurrence: String,
    pub notice_lead_minutes: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct SeriesView {
    pub row: meeting_series::Model,
    pub audience: Audience,
    pub reminder_offsets: Vec<i32>,
    /// Up to 5 starts not yet materialized, from `next_at` (empty once ended or canceled).
    pub upcoming: Vec<DateTime<Utc>>,
}

impl SeriesView {
    pub fn from_row(row: meeting_series::Model) -> Self {
        let upcoming = match (row.status, row.next_at, rule_of(&row)) {
            (SeriesStatus::Active, Some(next), Some(rule)) => rule.upcoming(next, 5),
            _ => vec![],
        };
        Self {
            audience: row.audience.clone(),
            reminder_offsets: row.reminder_offsets.0.clone(),
            upcoming,
            row,
        }
    }
}

/// The broadcast limits (at most hourly) apply first; a meeting may repeat at most daily.
fn check_daily(rule: &Rule, from: DateTime<Utc>) -> Result<(), String> {
    let text = rule.text.to_ascii_uppercase();
    let more_than_daily = text.contains("FREQ=HOURLY")
        || text
            .split(';')
            .any(|part| part.starts_with("BYHOUR=") && part.contains(','))
        || rule
            .upcoming(from, 20)
            .windows(2)
            .any(|w| (w[1] - w[0]).num_seconds() < MIN_SPACING_SECS);
    if more_than_daily {
        Err("a meeting may repeat at most daily (one BYHOUR value, no FREQ=HOURLY)".into())
    } else {
        Ok(())
    }
}

/// Creates a series and materializes at once the occurrences already inside the notice lead.
pub async fn create(core: &Core, actor: &Actor, input: SeriesInput) -> CoreResult<SeriesView> {
    let now = core.now();
    let mut v = Violations::new();
    let tz: Tz = input
        .timezone
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .and_then(|t| t.parse().ok())
        .unwrap_or(core.settings.timezone);
    let duration_ok = (1..=7 * 24 * 60).contains(&input.duration_minutes);
    v.check(
        duration_ok,
        "duration_minutes",
        "must be between 1 and 10080 (7 days)",
    );
    let lead = input
        .notice_lead_minutes
        .unwrap_or(DEFAULT_NOTICE_LEAD_MINUTES);
    v.check(
        (60..=43_200).contains(&lead),
        "notice_lead_minutes",
        "must be between 60 and 43200 (30 days)",
    );
    let anchor = input
        .starts_at
        .duration_trunc(Duration::minutes(1))
        .unwrap_or(input.starts_at);
    let in_past = input.starts_at < now - Duration::seconds(60);
    let too_far = input.starts_at > now + Duration::days(366 * 2);
    v.check(!in_past, "starts_at", "is in the past");
    v.check(!too_far, "starts_at", "is more than two years ahead");
    let mut first = None;
    if !in_past && !too_far {
        match Rule::new(&input.recurrence, tz, anchor) {
            Err(e) => v.add("recurrence", e.0),
            Ok(rule) => {
                if let Err(e) = check_daily(&rule, anchor) {
                    v.add("recurrence", e);
                } else {
                    first = rule.first_from(anchor.max(now));
                    if first.is_none() {
                        v.add(
                            "recurrence",
                            "never fires from starts_at on (check COUNT, UNTIL and the BY parts)",
                        );
                    }
                }
            }
        }
    }
    // The template is checked as the first occurrence (a placeholder start when there is none,
    // so that only the fields above report the rule's problems).
    let starts = first.unwrap_or(now + Duration::days(1));
    let duration = if duration_ok {
        input.duration_minutes
    } else {
        60
    };
    let recurrence = input.recurrence;
    let p = prepare(
        core,
        actor,
        MeetingInput {
            kind: input.kind,
            title: input.title,
            unit_id: input.unit_id,
            starts_at: starts,
            ends_at: starts + Duration::minutes(i64::from(duration)),
            place: input.place,
            online_link: input.online_link,
            agenda: input.agenda,
            audience: input.audience,
            post_id: input.post_id,
            timezone: input.timezone,
            reminder_offsets: input.reminder_offsets,
        },
        v,
    )
    .await?;
    let rule_text = Rule::new(&recurrence, p.tz, anchor)
        .map(|r| r.text)
        .map_err(|e| CoreError::invalid("recurrence", e.0))?;
    let txn = crate::db::begin_write(&core.db).await?;
    let row = meeting_series::ActiveModel {
        kind: Set(p.kind),
        title: Set(p.title),
        unit_id: Set(p.unit_id),
        duration_minutes: Set(duration),
        place: Set(p.place),
        online_link: Set(p.online_link),
        agenda: Set(p.agenda),
        audience: Set(p.audience.clone()),
        post_id: Set(p.post_id),
        reminder_offsets: Set(ReminderOffsets(p.offsets.clone())),
        timezone: Set(p.tz.name().to_string()),
        recurrence: Set(rule_text),
        starts_at: Set(anchor),
        notice_lead_minutes: Set(lead),
        next_at: Set(first),
        materialize_at: Set(first.map(|f| f - Duration::minutes(i64::from(lead)))),
        status: Set(SeriesStatus::Active),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("series.create")
            .target("meeting_series", row.id)
            .summary(json!({
                "kind": row.kind,
                "title": row.title,
                "unit_id": row.unit_id,
                "recurrence": row.recurrence,
                "starts_at": row.starts_at,
            })),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(series.id = row.id, rule = %row.recurrence, "meeting series created");
    let id = row.id;
    // A failure here leaves the occurrence to the workers' next sweep.
    if let Err(e) = materialize_series(core, id, &format!("api:{}", actor.session_id)).await {
        tracing::warn!(series.id = id, error = %e, "could not materialize at creation; the workers will");
    }
    let row = meeting_series::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("meeting series"))?;
    Ok(SeriesView::from_row(row))
}

/// The series, if the actor manages its unit; otherwise it does not exist for them.
pub async fn find_managed(
    core: &Core,
    actor: &Actor,
    id: i64,
) -> CoreResult<meeting_series::Model> {
    crate::access::require_manager(actor)?;
    let s = meeting_series::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("meeting series"))?;
    let tree = UnitTree::load(&core.db).await?;
    if !tree.scope_of(actor).allows_unit(s.unit_id) {
        return Err(CoreError::NotFound("meeting series"));
    }
    Ok(s)
}

/// The series with its materialized meetings, soonest first.
pub async fn get(
    core: &Core,
    actor: &Actor,
    id: i64,
) -> CoreResult<(SeriesView, Vec<MeetingView>)> {
    let s = find_managed(core, actor, id).await?;
    let ms = meetings_of(core, id).await?;
    Ok((SeriesView::from_row(s), ms))
}

pub async fn meetings_of(core: &Core, id: i64) -> CoreResult<Vec<MeetingView>> {
    Ok(meetings::Entity::find()
        .filter(meetings::Column::SeriesId.eq(id))
        .order_by_asc(meetings::Column::StartsAt)
        .all(&core.db)
        .await?
        .into_iter()
        .map(MeetingView::from_row)
        .collect())
}

/// The series of the units the actor manages, newest first.
pub async fn list(core: &Core, actor: &Actor, page: PageRequest) -> CoreResult<Page<SeriesView>> {
    crate::access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let scope = tree.scope_of(actor);
    let mut q = meeting_series::Entity::find();
    if let Some(units) = super::record::unit_filter(&tree, &scope, None)? {
        q = q.filter(meeting_series::Column::UnitId.is_in(units));
    }
    let rows = page
        .by_key(
            q,
            meeting_series::Column::Id,
            Order::Descending,
            |q| q.all(&core.db),
            |s: &meeting_series::Model| s.id,
        )
        .await?;
    Ok(rows.map(SeriesView::from_row))
}

/// Stops a series: no further occurrences are materialized. Meetings already materialized
/// stay; each can be canceled on its own. 409 when the series is already canceled.
pub async fn cancel(core: &Core, actor: &Actor, id: i64) -> CoreResult<SeriesView> {
    let now = core.now();
    find_managed(core, actor, id).await?;
    let txn = crate::db::begin_write(&core.db).await?;
    let r = meeting_series::Entity::update_many()
        .col_expr(
            meeting_series::Column::Status,
            Expr::value(SeriesStatus::Canceled),
        )
        .col_expr(
            meeting_series::Column::NextAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            meeting_series::Column::MaterializeAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(meeting_series::Column::UpdatedAt, Expr::value(now))
        .filter(meeting_series::Column::Id.eq(id))
        .filter(meeting_series::Column::Status.eq(SeriesStatus::Active))
        .exec(&txn)
        .await?;
    if r.rows_affected == 0 {
        return Err(CoreError::Conflict(
            "the meeting series was canceled".into(),
        ));
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("series.cancel").target("meeting_series", id),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(series.id = id, "meeting series canceled");
    let row = find_managed(core, actor, id).await?;
    Ok(SeriesView::from_row(row))
}
