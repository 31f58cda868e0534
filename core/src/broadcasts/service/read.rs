//! Reading broadcasts: one the actor manages, the view with its next occurrences, the list.

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use super::model::BroadcastView;
use super::model::Status;
use crate::Core;
use crate::access;
use crate::auth::Actor;
use crate::broadcasts::schedule::Rule;
use crate::db::load_by_ids;
use crate::entities::{broadcasts, posts};
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;
use crate::paging::{Order, Page, PageRequest};

/// The broadcast, if it belongs to the actor's scope; otherwise it does not exist for them.
pub async fn find_managed(core: &Core, actor: &Actor, id: i64) -> CoreResult<broadcasts::Model> {
    access::require_manager(actor)?;
    let row = broadcasts::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("broadcast"))?;
    let tree = UnitTree::load(&core.db).await?;
    if !tree.scope_of(actor).owns(row.unit_id) {
        return Err(CoreError::NotFound("broadcast"));
    }
    Ok(row)
}

/// One broadcast as the actor may see it (one of their scope's).
pub async fn get(core: &Core, actor: &Actor, id: i64) -> CoreResult<BroadcastView> {
    find_managed(core, actor, id).await?;
    find(core, id).await
}

/// The view of a broadcast, with its next occurrences; no access check (see [`get`]).
pub(crate) async fn find(core: &Core, id: i64) -> CoreResult<BroadcastView> {
    let b = broadcasts::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("broadcast"))?;
    let title = posts::Entity::find_by_id(b.post_id)
        .one(&core.db)
        .await?
        .map(|p| p.title)
        .unwrap_or_default();
    let steps = crate::broadcasts::ladder::steps(&core.db, &b).await?;
    let mut view = BroadcastView::from_row(b, title);
    view.steps = steps;
    if let (Some(text), Some(next)) = (&view.recurrence, view.next_run_at) {
        let tz = view.timezone.parse().unwrap_or(core.settings.timezone);
        if let Ok(rule) = Rule::new(text, tz, view.send_at) {
            view.upcoming = rule.upcoming(next, 5);
        }
    }
    Ok(view)
}

/// Newest first, optionally with one status: the broadcasts of the actor's scope.
pub async fn list(
    core: &Core,
    actor: &Actor,
    status: Option<&str>,
    page: PageRequest,
) -> CoreResult<Page<BroadcastView>> {
    access::require_manager(actor)?;
    let mut cond = Condition::all();
    if let Some(s) = status {
        let s = Status::parse(s).ok_or_else(|| {
            CoreError::invalid(
                "status",
                "must be one of scheduled, sending, sent, canceled, failed",
            )
        })?;
        cond = cond.add(broadcasts::Column::Status.eq(s));
    }
    let tree = UnitTree::load(&core.db).await?;
    if let Some(units) = tree.scope_of(actor).units() {
        cond = cond.add(broadcasts::Column::UnitId.is_in(units));
    }
    let page = page
        .by_key(
            broadcasts::Entity::find().filter(cond),
            broadcasts::Column::Id,
            Order::Descending,
            |q| q.all(&core.db),
            |b: &broadcasts::Model| b.id,
        )
        .await?;
    let post_ids = page.items.iter().map(|b| b.post_id);
    let posts = load_by_ids::<posts::Entity>(&core.db, posts::Column::Id, post_ids).await?;
    Ok(page.map(|b| {
        // Every broadcast has its post (a foreign key); several may share one.
        let t = posts
            .get(&b.post_id)
            .map(|p| p.title.clone())
            .unwrap_or_default();
        BroadcastView::from_row(b, t)
    }))
}

impl BroadcastView {
    pub fn from_row(b: broadcasts::Model, title: String) -> Self {
        let status = b.status;
        Self {
            id: b.id,
            unit_id: b.unit_id,
            post_id: b.post_id,
            title,
            status,
            audience: b.audience,
            channels: b.channels.0,
            send_at: b.send_at,
            next_run_at: matches!(status, Status::Scheduled | Status::Sending)
                .then_some(b.next_run_at)
                .flatten(),
            recurrence: b.recurrence,
            occurrences_sent: b.occurrences_sent,
            upcoming: vec![],
            timezone: b.timezone,
            read_by: b.read_by,
            ladder: b.ladder,
            steps: vec![],
            urgent: b.urgent,
            audience_size: b.audience_size,
            created_at: b.created_at,
            sent_at: b.sent_at,
        }
    }
}
