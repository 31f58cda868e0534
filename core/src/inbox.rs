//! A member's inbox. Every query is keyed by the member: nobody sees another's items.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter,
    QuerySelect, RelationTrait,
};

use crate::Core;
use crate::db::IN_CHUNK;
use crate::entities::{broadcasts, inbox_items, posts};
use crate::error::{CoreError, CoreResult};
use crate::paging::{Order, Page, PageRequest};
use crate::posts::{Media, PostKind, media_of};

#[derive(Debug, Clone)]
pub struct InboxItem {
    pub id: i64,
    pub broadcast_id: i64,
    pub post_id: i64,
    /// The post's kind (`None` only if the post were gone, which nothing does).
    pub kind: Option<PostKind>,
    pub title: String,
    pub summary: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub read_by: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct InboxItemDetail {
    pub item: InboxItem,
    pub body_md: String,
    pub media: Vec<Media>,
    pub study_minutes: i32,
}

pub struct InboxPage {
    pub page: Page<InboxItem>,
    pub unread_count: u64,
}

fn item(
    row: inbox_items::Model,
    post: Option<&posts::Model>,
    read_by: Option<DateTime<Utc>>,
) -> InboxItem {
    InboxItem {
        id: row.id,
        broadcast_id: row.broadcast_id,
        post_id: row.post_id,
        kind: post.map(|p| p.kind),
        title: post.map(|p| p.title.clone()).unwrap_or_default(),
        summary: post.and_then(|p| p.summary.clone()),
        created_at: row.created_at,
        read_at: row.read_at,
        read_by,
    }
}

/// A row of the inbox page: the item, what it shows of its post and broadcast, and the
/// member's unread count, all from one statement.
#[derive(Debug, FromQueryResult)]
struct PageRow {
    id: i64,
    broadcast_id: i64,
    post_id: i64,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
    kind: Option<PostKind>,
    title: Option<String>,
    summary: Option<String>,
    read_by: Option<DateTime<Utc>>,
    unread: i64,
}

impl PageRow {
    fn into_item(self) -> InboxItem {
        InboxItem {
            id: self.id,
            broadcast_id: self.broadcast_id,
            post_id: self.post_id,
            kind: self.kind,
            title: self.title.unwrap_or_default(),
            summary: self.summary,
            created_at: self.created_at,
            read_at: self.read_at,
            read_by: self.read_by,
        }
    }
}

/// Newest first, in one round trip: the page joins the post (kind, title, summary) and the
/// broadcast (its read-by date), and carries the unread count as a subquery that the
/// database evaluates once (over the member's unread rows only).
pub async fn list(
    core: &Core,
    member_id: i64,
    unread_only: bool,
    page: PageRequest,
) -> CoreResult<InboxPage> {
    use inbox_items::Column as I;
    let mut cond = Condition::all().add(I::MemberId.eq(member_id));
    if unread_only {
        cond = cond.add(I::ReadAt.is_null());
    }
    let u = Alias::new("u");
    let unread = Query::select()
        .expr(Expr::col((u.clone(), I::Id)).count())
        .from_as(inbox_items::Entity, u.clone())
        .and_where(Expr::col((u.clone(), I::MemberId)).eq(member_id))
        .and_where(Expr::col((u, I::ReadAt)).is_null())
        .to_owned();
    let query = inbox_items::Entity::find()
        .select_only()
        .columns([I::Id, I::BroadcastId, I::PostId, I::CreatedAt, I::ReadAt])
        .column_as(posts::Column::Kind, "kind")
        .column_as(posts::Column::Title, "title")
        .column_as(posts::Column::Summary, "summary")
        .column_as(broadcasts::Column::ReadBy, "read_by")
        .expr_as(Expr::SubQuery(None, Box::new(unread.into())), "unread")
        .join(
            JoinType::LeftJoin,
            inbox_items::Entity::belongs_to(posts::Entity)
                .from(I::PostId)
                .to(posts::Column::Id)
                .into(),
        )
        .join(JoinType::LeftJoin, inbox_items::Relation::Broadcast.def())
        .filter(cond);
    let page = page
        .by_key(
            query,
            I::Id,
            Order::Descending,
            |q| q.into_model::<PageRow>().all(&core.db),
            |r: &PageRow| r.id,
        )
        .await?;
    let unread_count = match page.items.first() {
        Some(r) => u64::try_from(r.unread).unwrap_or(0),
        // An empty page carries no count: ask for it.
        None => unread_count(core, member_id).await?,
    };
    Ok(InboxPage {
        page: page.map(PageRow::into_item),
        unread_count,
    })
}

pub async fn unread_count(core: &Core, member_id: i64) -> CoreResult<u64> {
    Ok(inbox_items::Entity::find()
        .filter(inbox_items::Column::MemberId.eq(member_id))
        .filter(inbox_items::Column::ReadAt.is_null())
        .count(&core.db)
        .await?)
}

async fn own_row(core: &Core, member_id: i64, id: i64) -> CoreResult<inbox_items::Model> {
    inbox_items::Entity::find_by_id(id)
        .filter(inbox_items::Column::MemberId.eq(member_id))
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("inbox item"))
}

/// One item with the post's body. Another member's item is simply not found.
pub async fn get(core: &Core, member_id: i64, id: i64) -> CoreResult<InboxItemDetail> {
    let row = own_row(core, member_id, id).await?;
    let post = posts::Entity::find_by_id(row.post_id).one(&core.db).await?;
    let read_by = broadcasts::Entity::find_by_id(row.broadcast_id)
        .one(&core.db)
        .await?
        .and_then(|b| b.read_by);
    let (body_md, media, study_minutes) = match &post {
        Some(p) => (p.body_md.clone(), media_of(p), p.study_minutes),
        None => (String::new(), vec![], 0),
    };
    Ok(InboxItemDetail {
        item: item(row, post.as_ref(), read_by),
        body_md,
        media,
        study_minutes,
    })
}

/// Marks one item read; reading it again changes nothing. Returns the item's read time.
pub async fn mark_read(core: &Core, member_id: i64, id: i64) -> CoreResult<DateTime<Utc>> {
    let now = core.now();
    let r = inbox_items::Entity::update_many()
        .col_expr(inbox_items::Column::ReadAt, Expr::value(now))
        .filter(inbox_items::Column::Id.eq(id))
        .filter(inbox_items::Column::MemberId.eq(member_id))
        .filter(inbox_items::Column::ReadAt.is_null())
        .exec(&core.db)
        .await?;
    if r.rows_affected > 0 {
        announce_unread(core, member_id).await;
    }
    let row = own_row(core, member_id, id).await?;
    Ok(row.read_at.unwrap_or(now))
}

/// Marks every unread item read. Returns how many changed.
pub async fn read_all(core: &Core, member_id: i64) -> CoreResult<u64> {
    let r = inbox_items::Entity::update_many()
        .col_expr(inbox_items::Column::ReadAt, Expr::value(core.now()))
        .filter(inbox_items::Column::MemberId.eq(member_id))
        .filter(inbox_items::Column::ReadAt.is_null())
        .exec(&core.db)
        .await?;
    if r.rows_affected > 0 {
        announce_unread(core, member_id).await;
    }
    Ok(r.rows_affected)
}

/// Tells the member's open apps their new unread count; best effort, like every live update.
async fn announce_unread(core: &Core, member_id: i64) {
    match unread_count(core, member_id).await {
        Ok(n) => crate::live::unread_changed(core, member_id, n).await,
        Err(e) => tracing::warn!(
            member.id = member_id,
            error = %e,
            "could not count unread items for a live update; skipping it"
        ),
    }
}

/// The items that one broadcast occurrence put into these members' inboxes, as `(member id,
/// item)`; members without such an item are left out. For live updates.
pub async fn delivered_items(
    core: &Core,
    broadcast_id: i64,
    occurrence: i64,
    member_ids: &[i64],
) -> CoreResult<Vec<(i64, InboxItem)>> {
    if member_ids.is_empty() {
        return Ok(vec![]);
    }
    let b = broadcasts::Entity::find_by_id(broadcast_id)
        .one(&core.db)
        .await?;
    let read_by = b.as_ref().and_then(|b| b.read_by);
    let mut rows = Vec::new();
    for chunk in member_ids.chunks(IN_CHUNK) {
        rows.extend(
            inbox_items::Entity::find()
                .filter(inbox_items::Column::BroadcastId.eq(broadcast_id))
                .filter(inbox_items::Column::Occurrence.eq(occurrence))
                .filter(inbox_items::Column::MemberId.is_in(chunk.iter().copied()))
                .all(&core.db)
                .await?,
        );
    }
    let Some(first) = rows.first() else {
        return Ok(vec![]);
    };
    // One broadcast, one post: usually a single lookup.
    let post = posts::Entity::find_by_id(first.post_id)
        .one(&core.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let p = match &post {
            Some(p) if p.id == r.post_id => Some(p.clone()),
            _ => posts::Entity::find_by_id(r.post_id).one(&core.db).await?,
        };
        out.push((r.member_id, item(r, p.as_ref(), read_by)));
    }
    Ok(out)
}

/// Unread counts of several members at once; members with none are 0.
pub async fn unread_counts(core: &Core, member_ids: &[i64]) -> CoreResult<HashMap<i64, u64>> {
    let mut out: HashMap<i64, u64> = member_ids.iter().map(|m| (*m, 0)).collect();
    for chunk in member_ids.chunks(IN_CHUNK) {
        let counts = inbox_items::Entity::find()
            .select_only()
            .column(inbox_items::Column::MemberId)
            .column_as(inbox_items::Column::Id.count(), "n")
            .filter(inbox_items::Column::MemberId.is_in(chunk.iter().copied()))
            .filter(inbox_items::Column::ReadAt.is_null())
            .group_by(inbox_items::Column::MemberId)
            .into_tuple::<(i64, i64)>()
            .all(&core.db)
            .await?;
        for (m, n) in counts {
            out.insert(m, u64::try_from(n).unwrap_or(0));
        }
    }
    Ok(out)
}
