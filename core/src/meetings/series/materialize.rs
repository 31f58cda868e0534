//! The materializer: each worker pass turns the occurrences whose notice time has come into
//! ordinary meetings, under a lease on the series, with a compare-and-set on `next_at` and the
//! unique (series, start) key, so each occurrence becomes exactly one meeting.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::Core;
use crate::auth::{Actor, Role};
use crate::broadcasts::schedule::Rule;
use crate::entities::{meeting_series, meetings, members};
use crate::error::{CoreError, CoreResult};
use crate::meetings::{MeetingInput, SeriesStatus};

/// How many occurrences one series may materialize in one pass.
pub(super) const MAX_PER_PASS: usize = 20;
/// How long a worker's claim on a series holds (it is released at the end of its pass).
pub(super) const LEASE_SECS: i64 = 300;
/// Who creates the meetings of a series: its creator, with their current role and unit.
pub(super) async fn creator_of(core: &Core, s: &meeting_series::Model) -> CoreResult<Actor> {
    let m = match s.created_by {
        Some(id) => members::Entity::find_by_id(id).one(&core.db).await?,
        None => None,
    };
    let m = m
        .filter(|m| m.active)
        .ok_or_else(|| CoreError::Forbidden("the series' creator is no longer active".into()))?;
    let role: Role = m.role;
    if !role.is_manager() {
        return Err(CoreError::Forbidden(
            "the series' creator no longer manages meetings".into(),
        ));
    }
    Ok(Actor {
        member_id: m.id,
        role,
        unit_id: m.unit_id,
        session_id: format!("meeting-series:{}", s.id),
    })
}

pub(super) fn input_of(s: &meeting_series::Model, at: DateTime<Utc>) -> MeetingInput {
    MeetingInput {
        kind: s.kind.as_str().to_string(),
        title: s.title.clone(),
        unit_id: s.unit_id,
        starts_at: at,
        ends_at: at + Duration::minutes(i64::from(s.duration_minutes)),
        place: s.place.clone(),
        online_link: s.online_link.clone(),
        agenda: Some(s.agenda.clone()),
        audience: s.audience.clone(),
        post_id: s.post_id,
        timezone: Some(s.timezone.clone()),
        reminder_offsets: Some(s.reminder_offsets.0.clone()),
    }
}

/// Whether a failure to create an occurrence is about the occurrence itself (skip it), as
/// opposed to an outage (leave `next_at` alone and retry on the next pass).
pub(super) fn skips_occurrence(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::Validation { .. } | CoreError::NotFound(_) | CoreError::Forbidden(_)
    )
}

/// Claims a series for `worker` (an expiring lease in its row): `None` when another worker
/// holds it or it is no longer active.
pub(super) async fn claim(
    core: &Core,
    id: i64,
    worker: &str,
) -> CoreResult<Option<meeting_series::Model>> {
    let now = core.now();
    let r = meeting_series::Entity::update_many()
        .col_expr(meeting_series::Column::LeaseOwner, Expr::value(worker))
        .col_expr(
            meeting_series::Column::LeaseUntil,
            Expr::value(now + Duration::seconds(LEASE_SECS)),
        )
        .filter(meeting_series::Column::Id.eq(id))
        .filter(meeting_series::Column::Status.eq(SeriesStatus::Active))
        .filter(
            Condition::any()
                .add(meeting_series::Column::LeaseUntil.is_null())
                .add(meeting_series::Column::LeaseUntil.lt(now))
                .add(meeting_series::Column::LeaseOwner.eq(worker)),
        )
        .exec(&core.db)
        .await?;
    if r.rows_affected == 0 {
        return Ok(None);
    }
    Ok(meeting_series::Entity::find_by_id(id).one(&core.db).await?)
}

pub(super) async fn release(core: &Core, id: i64, worker: &str) -> CoreResult<()> {
    meeting_series::Entity::update_many()
        .col_expr(
            meeting_series::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            meeting_series::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(meeting_series::Column::Id.eq(id))
        .filter(meeting_series::Column::LeaseOwner.eq(worker))
        .exec(&core.db)
        .await?;
    Ok(())
}

/// Creates the meeting of the occurrence at `at`, or, when it exists already (a worker died
/// or failed after the insert), sends what it is missing.
pub(super) async fn materialize_one(
    core: &Core,
    s: &meeting_series::Model,
    at: DateTime<Utc>,
) -> CoreResult<bool> {
    let actor = creator_of(core, s).await?;
    let existing = meetings::Entity::find()
        .filter(meetings::Column::SeriesId.eq(s.id))
        .filter(meetings::Column::StartsAt.eq(at))
        .one(&core.db)
        .await?;
    if let Some(m) = existing {
        crate::meetings::complete_occurrence(core, &actor, m).await?;
        return Ok(false);
    }
    match crate::meetings::create_in_series(core, &actor, input_of(s, at), Some(s.id)).await {
        Ok(m) => {
            tracing::info!(series.id = s.id, meeting.id = m.row.id, occurrence.at = %at, "occurrence materialized");
            Ok(true)
        }
        // The unique key: someone else inserted it meanwhile (a worker whose lease had run
        // out); whoever holds the lease next completes it.
        Err(e) if e.is_unique_violation() => {
            tracing::debug!(series.id = s.id, occurrence.at = %at, "occurrence already materialized");
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Materializes the due occurrences of one series (those whose start minus the notice lead
/// has come) under the series' lease, advancing `next_at` after each with a compare-and-set.
/// Returns how many meetings this call created.
pub(super) async fn materialize_series(core: &Core, id: i64, worker: &str) -> CoreResult<u64> {
    let Some(s) = claim(core, id, worker).await? else {
        return Ok(0);
    };
    let out = materialize_claimed(core, s, worker).await;
    release(core, id, worker).await?;
    out
}

pub(super) async fn materialize_claimed(
    core: &Core,
    mut s: meeting_series::Model,
    worker: &str,
) -> CoreResult<u64> {
    let mut made = 0;
    let lead = Duration::minutes(i64::from(s.notice_lead_minutes));
    for _ in 0..MAX_PER_PASS {
        let Some(at) = s.next_at else { break };
        let now = core.now();
        if at - lead > now {
            break;
        }
        let next = match rule_of(&s) {
            // Never earlier than now: occurrences whose start passed unmaterialized (the
            // workers were down) are skipped in one step.
            Some(rule) => rule.first_from((at + Duration::seconds(1)).max(now)),
            None => None,
        };
        if at <= now {
            tracing::warn!(series.id = s.id, occurrence.at = %at, "occurrence started before it was materialized; skipped");
        } else {
            match materialize_one(core, &s, at).await {
                Ok(true) => made += 1,
                Ok(false) => {}
                // About this occurrence (the audience selects nobody now, the creator left):
                // skipped, so that the series does not retry it forever.
                Err(e) if skips_occurrence(&e) => {
                    tracing::error!(series.id = s.id, occurrence.at = %at, error = %e, "occurrence could not be created; skipped");
                }
                // An outage: `next_at` stays, the next pass retries (and completes).
                Err(e) => return Err(e),
            }
        }
        // Compare-and-set: only a worker that still holds the lease and sees `at` moves on.
        let r = meeting_series::Entity::update_many()
            .col_expr(meeting_series::Column::NextAt, Expr::value(next))
            .col_expr(
                meeting_series::Column::MaterializeAt,
                Expr::value(next.map(|n| n - Duration::minutes(i64::from(s.notice_lead_minutes)))),
            )
            .col_expr(meeting_series::Column::UpdatedAt, Expr::value(now))
            .filter(meeting_series::Column::Id.eq(s.id))
            .filter(meeting_series::Column::Status.eq(SeriesStatus::Active))
            .filter(meeting_series::Column::LeaseOwner.eq(worker))
            .filter(meeting_series::Column::NextAt.eq(at))
            .exec(&core.db)
            .await?;
        if r.rows_affected == 0 {
            break;
        }
        if next.is_none() {
            tracing::info!(series.id = s.id, "meeting series ended");
        }
        s.next_at = next;
    }
    Ok(made)
}

/// The workers' sweep: materializes every active series' occurrences that are due. A series
/// that fails (an outage) is logged and retried on the next pass without holding up the
/// others. Returns how many meetings were created.
pub async fn materialize_due(core: &Core, worker: &str) -> CoreResult<u64> {
    let now = core.now();
    // `materialize_at` is `next_at` minus the series' lead, so "due" is one indexed comparison.
    let due: Vec<i64> = meeting_series::Entity::find()
        .select_only()
        .column(meeting_series::Column::Id)
        .filter(meeting_series::Column::Status.eq(SeriesStatus::Active))
        .filter(meeting_series::Column::MaterializeAt.lte(now))
        .order_by_asc(meeting_series::Column::MaterializeAt)
        .limit(500)
        .into_tuple()
        .all(&core.db)
        .await?;
    let mut made = 0;
    for id in due {
        match materialize_series(core, id, worker).await {
            Ok(n) => made += n,
            // During an outage every series fails alike: the pass reports it once.
            Err(e) if e.is_outage() => return Err(e),
            Err(e) => {
                tracing::warn!(worker, series.id = id, error = %e, "could not materialize; retrying on the next pass");
            }
        }
    }
    Ok(made)
}

/// The series' zone; a stored name that no longer parses falls back to Shanghai.
fn tz_of(row: &meeting_series::Model) -> Tz {
    row.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
}

/// The series' rule, or `None` (logged) for a stored rule that no longer parses.
pub(super) fn rule_of(row: &meeting_series::Model) -> Option<Rule> {
    match Rule::new(&row.recurrence, tz_of(row), row.starts_at) {
        Ok(r) => Some(r),
        Err(e) => {
            // Validated when saved; only a hand-edited row gets here.
            tracing::error!(series.id = row.id, error = %e, "stored rule no longer parses");
            None
        }
    }
}
