//! A notice the server writes to a few members by itself (a ladder's summary to a secretary, a
//! calendar warning, a talk reminder): a post of kind `notice` and its broadcast, sent now, in
//! the caller's transaction so that they stand or fall with the record that says it was sent.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};

use super::create::send_now_row;
use super::model::Channels;
use crate::audience::Audience;
use crate::entities::posts;
use crate::error::CoreResult;
use crate::posts::{MediaList, PostKind};

/// What the notice says and to whom.
pub(crate) struct Notice {
    /// The unit the post and broadcast belong to: whose managers may read it. Never `None`
    /// for a notice naming members (an organisation-wide post is every secretary's to read).
    pub unit_id: Option<i64>,
    pub title: String,
    pub summary: Option<String>,
    pub body_md: String,
    pub channels: Channels,
    pub timezone: String,
    pub to: Vec<i64>,
}

/// Writes the notice's post and broadcast (`sending`) in `txn`; the broadcast's id, for the
/// caller to wake the fan-out once committed.
pub(crate) async fn insert_notice(
    txn: &DatabaseTransaction,
    n: Notice,
    now: DateTime<Utc>,
) -> CoreResult<i64> {
    let post = posts::ActiveModel {
        kind: Set(PostKind::Notice),
        title: Set(n.title.chars().take(200).collect()),
        summary: Set(n.summary.map(|s| s.chars().take(500).collect())),
        body_md: Set(n.body_md),
        media: Set(MediaList(vec![])),
        study_minutes: Set(0),
        created_by: Set(None),
        unit_id: Set(n.unit_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let audience = Audience {
        member_ids: n.to,
        ..Default::default()
    };
    let row = send_now_row(n.channels, n.timezone, n.unit_id, post.id, audience, now)
        .insert(txn)
        .await?;
    Ok(row.id)
}
