//! Editing a scheduled broadcast before its next occurrence runs.

use chrono::DateTime;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::create::wake;
use super::model::BroadcastPatch;
use super::model::BroadcastView;
use super::model::Channels;
use super::model::Status;
use super::plan::check_read_by;
use super::plan::plan_timing;
use super::plan::resolve_channels;
use super::plan::resolve_tz;
use super::read::find;
use super::read::find_managed;
use crate::Core;
use crate::audience::Audience;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::{broadcasts, posts};
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::UnitTree;

/// Edits a broadcast whose next occurrence has not started: the time, the rule, the audience,
/// the post, the channels. 409 while an occurrence is being sent, and once nothing is left.
pub async fn update(
    core: &Core,
    actor: &Actor,
    id: i64,
    patch: BroadcastPatch,
) -> CoreResult<BroadcastView> {
    let now = core.now();
    let row = find_managed(core, actor, id).await?;
    let of_meeting = crate::entities::meeting_broadcasts::Entity::find()
        .filter(crate::entities::meeting_broadcasts::Column::BroadcastId.eq(id))
        .one(&core.db)
        .await?;
    if let Some(mb) = of_meeting {
        return Err(CoreError::Conflict(format!(
            "this broadcast belongs to meeting {} ({}); edit the meeting instead",
            mb.meeting_id, mb.purpose
        )));
    }
    let status = row.status;
    match status {
        Status::Scheduled => {}
        Status::Sending => {
            return Err(CoreError::Conflict(
                "an occurrence of this broadcast is being sent right now; edit it once that is done".into(),
            ));
        }
        s => {
            return Err(CoreError::Conflict(format!(
                "the broadcast is already {}; there is nothing left to edit",
                s.as_str()
            )));
        }
    }
    let mut v = Violations::new();
    let channels = patch
        .channels
        .as_deref()
        .map(|list| resolve_channels(core, Some(list), &mut v));
    let tz = match &patch.timezone {
        Some(t) => resolve_tz(core, Some(t), &mut v),
        None => row.timezone.parse().unwrap_or(core.settings.timezone),
    };
    let recurrence = match &patch.recurrence {
        Some(r) => r.clone(),
        None => row.recurrence.clone(),
    }
    .filter(|r| !r.trim().is_empty());
    // The occurrence already sent (if any) never runs again, whatever the new rule says.
    let last_sent = (row.occurrences_sent > 0 && row.recurrence.is_some())
        .then(|| DateTime::from_timestamp(row.occurrence, 0))
        .flatten();
    if row.recurrence.is_some() && recurrence.is_none() && patch.send_at.is_none() {
        v.add(
            "send_at",
            "give the time of the one-off send when removing the rule",
        );
    }
    let timing = plan_timing(
        now,
        tz,
        patch.send_at,
        Some(row.send_at),
        recurrence.as_deref(),
        last_sent,
        &mut v,
    );
    let read_by = patch.read_by.unwrap_or(row.read_by);
    check_read_by(read_by, timing.as_ref(), &mut v);
    crate::broadcasts::ladder::check_input(patch.ladder.as_ref(), read_by, &mut v);
    v.finish()?;
    let Some(timing) = timing else {
        return Err(CoreError::Internal("schedule without a violation".into()));
    };

    let tree = UnitTree::load(&core.db).await?;
    let post = match patch.post_id {
        Some(p) if p != row.post_id => {
            let post = crate::posts::usable(core, actor, &tree, p).await?;
            crate::disclosures::check_broadcastable(&post)?;
            post
        }
        // The post it already sends stays usable, whoever wrote it.
        _ => posts::Entity::find_by_id(row.post_id)
            .one(&core.db)
            .await?
            .ok_or_else(|| CoreError::invalid("post_id", "does not exist"))?,
    };
    let stored = row.audience.clone();
    let audience_changed = patch.audience.is_some();
    let mut audience: Audience = match patch.audience {
        Some(mut a) => {
            a.validate(core, &tree).await?;
            // The cut made when it was created (a secretary's scope) stays.
            a.scope_units = stored.scope_units.clone();
            a
        }
        None => stored,
    };
    audience.restrict_to(&tree.scope_of(actor));
    let size = audience.count(core, &tree).await?;
    let due_now = timing.next_run_at <= now;
    if size == 0 && due_now {
        return Err(CoreError::invalid("audience", "selects no active member"));
    }
    let recurring = timing.recurrence.is_some();
    let mut am: broadcasts::ActiveModel = row.clone().into();
    am.post_id = Set(post.id);
    am.audience = Set(audience.clone());
    if let Some(c) = channels {
        am.channels = Set(Channels(c));
    }
    am.send_at = Set(timing.send_at);
    am.timezone = Set(timing.tz.name().to_string());
    am.recurrence = Set(timing.recurrence);
    am.next_run_at = Set(Some(timing.next_run_at));
    am.read_by = Set(read_by);
    let (ladder, ladder_next_at) =
        crate::broadcasts::ladder::stored(patch.ladder.or(row.ladder), timing.next_run_at, read_by);
    am.ladder = Set(ladder);
    am.ladder_next_at = Set(ladder_next_at);
    am.urgent = Set(patch.urgent.unwrap_or(row.urgent));
    am.audience_size = Set(i64::try_from(size).unwrap_or(i64::MAX));
    am.updated_at = Set(now);
    // Only while still scheduled: a worker that promoted it meanwhile wins, and we say so.
    let txn = crate::db::begin_write(&core.db).await?;
    let r = broadcasts::Entity::update_many()
        .set(am)
        .filter(broadcasts::Column::Id.eq(id))
        .filter(broadcasts::Column::Status.eq(Status::Scheduled))
        // Compare-and-set on what this edit was computed from: an occurrence that started
        // (and maybe finished) meanwhile makes the edit fail rather than re-run it.
        .filter(broadcasts::Column::OccurrencesSent.eq(row.occurrences_sent))
        .filter(match row.next_run_at {
            Some(at) => broadcasts::Column::NextRunAt.eq(at),
            None => broadcasts::Column::NextRunAt.is_null(),
        })
        .exec(&txn)
        .await?;
    if r.rows_affected == 0 {
        return Err(CoreError::Conflict(
            "the broadcast started sending while it was being edited; nothing was changed; look at it again and retry".into(),
        ));
    }
    let mut changed: Vec<&str> = vec![];
    for (given, name) in [
        (patch.post_id.is_some(), "post_id"),
        (audience_changed, "audience"),
        (patch.channels.is_some(), "channels"),
        (patch.send_at.is_some(), "send_at"),
        (patch.recurrence.is_some(), "recurrence"),
        (patch.timezone.is_some(), "timezone"),
        (patch.read_by.is_some(), "read_by"),
        (patch.urgent.is_some(), "urgent"),
    ] {
        if given {
            changed.push(name);
        }
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("broadcast.update")
            .target("broadcast", id)
            .summary(json!({
                "changed": changed,
                "audience_size": size,
                "next_run_at": timing.next_run_at,
            })),
    )
    .await?;
    txn.commit().await?;
    core.headers.forget_broadcast(id);
    tracing::info!(broadcast.id = id, next_run_at = %timing.next_run_at, recurring, "broadcast edited");
    if due_now {
        // Due at once: the workers' next pass promotes it; wake them.
        wake(core, id).await;
    }
    find(core, id).await
}
