//! Scheduling a broadcast, audited, and as part of another action (a meeting's notices).

use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;

use super::model::BroadcastInput;
use super::model::BroadcastView;
use super::model::Channels;
use super::model::Status;
use super::plan::check_read_by;
use super::plan::plan_timing;
use super::plan::resolve_channels;
use super::plan::resolve_tz;
use crate::Core;
use crate::access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::broadcasts::ladder;
use crate::broadcasts::schedule::occurrence_key;
use crate::entities::broadcasts;
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::UnitTree;
use crate::ports::Job;

/// Wakes a worker for a broadcast that is due now. Only a wake-up call: if it is lost, the
/// workers' sweep finds the broadcast anyway.
pub(crate) async fn wake(core: &Core, id: i64) {
    if let Err(e) = core.queue.push(Job::Fanout { broadcast_id: id }).await {
        tracing::warn!(broadcast.id = id, error = %e, "could not queue the fan-out; the sweeper will pick it up");
    }
}

/// Schedules a broadcast. It belongs to `input.unit_id` (within the actor's scope; by default
/// the organisation for an admin and a secretary's own unit), sends a post the actor may use,
/// and its audience is cut to the actor's scope.
pub async fn create(
    core: &Core,
    actor: &Actor,
    input: BroadcastInput,
) -> CoreResult<BroadcastView> {
    access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let unit_id = access::owner_unit(&tree, actor, input.unit_id)?;
    insert(core, actor, unit_id, input, true).await
}

/// A broadcast made by another service as part of its own (audited) action, e.g. a meeting's
/// notice or reminder: it belongs to `unit_id` and writes no audit entry of its own. A deadline
/// it sets (a meeting's make-up study) escalates only when the service asks for a ladder: no
/// reminder, urgent push or summary that nobody chose.
pub(crate) async fn create_part_of(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    mut input: BroadcastInput,
) -> CoreResult<BroadcastView> {
    input.ladder.get_or_insert(ladder::Ladder::NONE);
    insert(core, actor, unit_id, input, false).await
}

pub(super) async fn insert(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    mut input: BroadcastInput,
    audited: bool,
) -> CoreResult<BroadcastView> {
    let now = core.now();
    let mut v = Violations::new();
    let channels = resolve_channels(core, input.channels.as_deref(), &mut v);
    let tz = resolve_tz(core, input.timezone.as_deref(), &mut v);
    let timing = plan_timing(
        now,
        tz,
        input.send_at,
        None,
        input.recurrence.as_deref(),
        None,
        &mut v,
    );
    check_read_by(input.read_by, timing.as_ref(), &mut v);
    crate::broadcasts::ladder::check_input(input.ladder.as_ref(), input.read_by, &mut v);
    v.finish()?;
    let Some(timing) = timing else {
        return Err(CoreError::Internal("schedule without a violation".into()));
    };

    let tree = UnitTree::load(&core.db).await?;
    let post = crate::posts::usable(core, actor, &tree, input.post_id).await?;
    crate::disclosures::check_broadcastable(&post)?;
    input.audience.validate(core, &tree).await?;
    input.audience.restrict_to(&tree.scope_of(actor));
    let size = input.audience.count(core, &tree).await?;
    let due_now = timing.next_run_at <= now;
    if size == 0 && due_now {
        return Err(CoreError::invalid("audience", "selects no active member"));
    }
    let status = if due_now {
        Status::Sending
    } else {
        Status::Scheduled
    };
    let recurring = timing.recurrence.is_some();
    let (ladder, ladder_next_at) = ladder::stored(input.ladder, timing.next_run_at, input.read_by);
    let txn = crate::db::begin_write(&core.db).await?;
    let row = broadcasts::ActiveModel {
        unit_id: Set(unit_id),
        post_id: Set(post.id),
        audience: Set(input.audience.clone()),
        channels: Set(Channels(channels)),
        status: Set(status),
        send_at: Set(timing.send_at),
        timezone: Set(timing.tz.name().to_string()),
        read_by: Set(input.read_by),
        urgent: Set(input.urgent),
        audience_size: Set(i64::try_from(size).unwrap_or(i64::MAX)),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
        lease_owner: Set(None),
        lease_until: Set(None),
        fanout_cursor: Set(0),
        recurrence: Set(timing.recurrence.clone()),
        next_run_at: Set(Some(timing.next_run_at)),
        occurrence: Set(occurrence_key(recurring, timing.next_run_at)),
        occurrences_sent: Set(0),
        ladder: Set(ladder),
        ladder_next_at: Set(ladder_next_at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if audited {
        audit::append(
            &txn,
            now,
            &actor.into(),
            Event::new("broadcast.create")
                .target("broadcast", row.id)
                .summary(json!({
                    "post_id": post.id,
                    "title": post.title,
                    "unit_id": unit_id,
                    "audience_size": size,
                    "status": status.as_str(),
                    "next_run_at": timing.next_run_at,
                    "recurrence": timing.recurrence,
                    "urgent": input.urgent,
                })),
        )
        .await?;
    }
    txn.commit().await?;
    if status == Status::Sending {
        wake(core, row.id).await;
    }
    tracing::info!(
        broadcast.id = row.id,
        post.id = post.id,
        audience.size = size,
        status = status.as_str(),
        next_run_at = %timing.next_run_at,
        recurring,
        "broadcast created"
    );
    Ok(BroadcastView::from_row(row, post.title))
}

/// A broadcast on `channels` that goes out now to `audience` (one member, say), written by
/// another service in its own transaction (a ladder's summary, a calendar warning); the caller
/// wakes the fan-out with [`wake`] once committed.
pub(crate) fn send_now_row(
    channels: Channels,
    timezone: String,
    unit_id: Option<i64>,
    post_id: i64,
    audience: crate::audience::Audience,
    now: chrono::DateTime<chrono::Utc>,
) -> broadcasts::ActiveModel {
    let size = audience.member_ids.len();
    broadcasts::ActiveModel {
        unit_id: Set(unit_id),
        post_id: Set(post_id),
        audience: Set(audience),
        channels: Set(channels),
        status: Set(Status::Sending),
        send_at: Set(now),
        timezone: Set(timezone),
        read_by: Set(None),
        urgent: Set(false),
        audience_size: Set(i64::try_from(size).unwrap_or(i64::MAX)),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
        lease_owner: Set(None),
        lease_until: Set(None),
        fanout_cursor: Set(0),
        recurrence: Set(None),
        next_run_at: Set(Some(now)),
        occurrence: Set(0),
        occurrences_sent: Set(0),
        ladder: Set(None),
        ladder_next_at: Set(None),
        ..Default::default()
    }
}
