//! A member's inbox. Every query is keyed by the member: nobody sees another's items.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

pub mod headers;
pub mod page;
pub mod unread;

use crate::Core;
use crate::db::IN_CHUNK;
use crate::entities::{broadcasts, inbox_items, posts};
use crate::error::{CoreError, CoreResult};
use crate::paging::{Page, PageRequest};
use crate::posts::{Media, PostKind, media_of};
use headers::PostHeader;
use page::PageRow;

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

/// What an item is made of besides its post and broadcast: the member's row.
struct Line {
    id: i64,
    broadcast_id: i64,
    post_id: i64,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl From<&inbox_items::Model> for Line {
    fn from(r: &inbox_items::Model) -> Self {
        Self {
            id: r.id,
            broadcast_id: r.broadcast_id,
            post_id: r.post_id,
            created_at: r.created_at,
            read_at: r.read_at,
        }
    }
}

/// The item of `line`, with what it shows of its post and its broadcast's read-by date.
fn item(line: Line, post: Option<&PostHeader>, read_by: Option<DateTime<Utc>>) -> InboxItem {
    InboxItem {
        id: line.id,
        broadcast_id: line.broadcast_id,
        post_id: line.post_id,
        kind: post.map(|p| p.kind),
        title: post.map(|p| p.title.clone()).unwrap_or_default(),
        summary: post.and_then(|p| p.summary.clone()),
        created_at: line.created_at,
        read_at: line.read_at,
        read_by,
    }
}

/// Items of `lines`, their posts and read-by dates from the process's [`headers`].
async fn items(core: &Core, lines: Vec<Line>) -> CoreResult<Vec<InboxItem>> {
    let post_ids: Vec<i64> = lines.iter().map(|l| l.post_id).collect();
    let broadcast_ids: Vec<i64> = lines.iter().map(|l| l.broadcast_id).collect();
    let posts = core.headers.posts(&core.db, &post_ids).await?;
    let read_by = core.headers.read_by(&core.db, &broadcast_ids).await?;
    Ok(lines
        .into_iter()
        .map(|l| {
            let (post, deadline) = (posts.get(&l.post_id), read_by.get(&l.broadcast_id));
            item(l, post.map(|p| &**p), deadline.copied().flatten())
        })
        .collect())
}

/// Newest first. The database reads the member's own rows and nothing else, with their unread
/// count (one row of `inbox_unread`, by key) in the same statement: the page costs what the
/// rows cost, and pages asked for at once are read together ([`page`]). What a line shows of
/// its post and broadcast (the same few hundred for a whole district) comes from this
/// process's [`headers`], read at most every two seconds.
pub async fn list(
    core: &Core,
    member_id: i64,
    unread_only: bool,
    page: PageRequest,
) -> CoreResult<InboxPage> {
    let ask = page::Ask {
        member_id,
        unread_only,
        below: page.after,
        fetch: i64::try_from(page.limit + 1).unwrap_or(i64::MAX),
    };
    let rows = core.pages.rows(&core.db, ask).await?;
    let first_page = page.after.is_none();
    let page = Page::from_rows(rows, page, |r: &PageRow| r.id);
    // The rows above the counter are the newest: on the first page they are among its rows
    // (unless more than a page of them waits for the fold). Otherwise, or on an empty page,
    // the count is asked for.
    let known = match page.items.first() {
        Some(r) if first_page => unread::Counter::of(r.unread, r.counted_upto).count_with(
            page.items.iter().map(|r| (r.id, r.read_at.is_none())),
            page.next_cursor.is_none(),
        ),
        _ => None,
    };
    let unread_count = match known {
        Some(n) => n,
        None => unread_count(core, member_id).await?,
    };
    let Page {
        items: rows,
        next_cursor,
    } = page;
    let lines = rows
        .into_iter()
        .map(|r| Line {
            id: r.id,
            broadcast_id: r.broadcast_id,
            post_id: r.post_id,
            created_at: r.created_at,
            read_at: r.read_at,
        })
        .collect();
    Ok(InboxPage {
        page: Page {
            items: items(core, lines).await?,
            next_cursor,
        },
        unread_count,
    })
}

/// The member's unread count: their counter row and the rows above it (`unread`), whatever
/// the size of the inbox.
pub async fn unread_count(core: &Core, member_id: i64) -> CoreResult<u64> {
    unread::count(core, member_id).await
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
    let header = post.as_ref().map(PostHeader::from);
    Ok(InboxItemDetail {
        item: item(Line::from(&row), header.as_ref(), read_by),
        body_md,
        media,
        study_minutes,
    })
}

/// A member opening a broadcast from its link (the reading page behind a WeCom card): their
/// newest item of it (a recurring broadcast's latest occurrence that reached them), marked
/// read, with the post's body. A broadcast that never reached the member is not found.
pub async fn open_broadcast(
    core: &Core,
    member_id: i64,
    broadcast_id: i64,
) -> CoreResult<InboxItemDetail> {
    let row = inbox_items::Entity::find()
        .filter(inbox_items::Column::MemberId.eq(member_id))
        .filter(inbox_items::Column::BroadcastId.eq(broadcast_id))
        .order_by_desc(inbox_items::Column::Id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("inbox item"))?;
    if row.read_at.is_none() {
        mark_read(core, member_id, row.id).await?;
    }
    get(core, member_id, row.id).await
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
    let members: Vec<i64> = rows.iter().map(|r| r.member_id).collect();
    let lines = rows.iter().map(Line::from).collect();
    Ok(members.into_iter().zip(items(core, lines).await?).collect())
}

/// The items a fan-out batch wrote for these members, as its event told them
/// ([`crate::ports::DeliveredItems`]: `written` holds each member with their item's id): the
/// items are not read back, and what they show of their post and broadcast comes from this
/// process's [`headers`].
pub async fn told_items(
    core: &Core,
    broadcast_id: i64,
    told: &crate::ports::DeliveredItems,
    written: &[(i64, i64)],
) -> CoreResult<Vec<(i64, InboxItem)>> {
    let lines = written
        .iter()
        .map(|&(_, id)| Line {
            id,
            broadcast_id,
            post_id: told.post_id,
            created_at: told.created_at,
            read_at: None,
        })
        .collect();
    let members = written.iter().map(|&(m, _)| m);
    Ok(members.zip(items(core, lines).await?).collect())
}

/// Unread counts of several members at once; members with none are 0.
pub async fn unread_counts(core: &Core, member_ids: &[i64]) -> CoreResult<HashMap<i64, u64>> {
    unread::counts(core, member_ids).await
}
