//! The roster import's writes on PostgreSQL, a statement per 10,000 rows with the rows as one
//! JSON parameter (`db::bulk`), where the multi-row inserts of `import` bind every value.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde::Serialize;

use crate::auth::Role;
use crate::db::bulk;
use crate::error::{CoreError, CoreResult};

/// Rows per statement: a 10,000-row parameter is about 1.5 MB of JSON.
const ROWS: usize = 10_000;

/// A member to create, with its invite code.
#[derive(Serialize)]
pub struct NewMember<'a> {
    pub name: &'a str,
    pub unit_id: Option<i64>,
    pub role: &'static str,
    pub phone: Option<&'a str>,
    pub wecom_userid: Option<&'a str>,
    pub invite_code: &'a str,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const NEW_MEMBER: &[bulk::Column] = &[
    ("name", "text"),
    ("unit_id", "bigint"),
    ("role", "text"),
    ("phone", "text"),
    ("wecom_userid", "text"),
    ("invite_code", "text"),
    ("active", "boolean"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
];

/// A member's new fields.
#[derive(Serialize)]
pub struct ChangedMember<'a> {
    pub id: i64,
    pub name: &'a str,
    pub unit_id: Option<i64>,
    pub role: &'static str,
    pub phone: Option<&'a str>,
    pub wecom_userid: Option<&'a str>,
    pub updated_at: DateTime<Utc>,
}

const CHANGED_MEMBER: &[bulk::Column] = &[
    ("id", "bigint"),
    ("name", "text"),
    ("unit_id", "bigint"),
    ("role", "text"),
    ("phone", "text"),
    ("wecom_userid", "text"),
    ("updated_at", "timestamptz"),
];

#[derive(Serialize)]
pub struct Tag<'a> {
    pub member_id: i64,
    pub tag: &'a str,
}

const TAG: &[bulk::Column] = &[("member_id", "bigint"), ("tag", "text")];

pub fn role(r: Role) -> &'static str {
    r.as_str()
}

/// Creates the members; returns `(invite code, id)` of each.
pub async fn insert_members(
    txn: &DatabaseTransaction,
    rows: &[NewMember<'_>],
) -> CoreResult<Vec<(String, i64)>> {
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS) {
        for r in bulk::insert(txn, "members", NEW_MEMBER, chunk, Some("invite_code, id")).await? {
            let code: String = r.try_get("", "invite_code")?;
            let id: i64 = r.try_get("", "id")?;
            out.push((code, id));
        }
    }
    if out.len() != rows.len() {
        return Err(CoreError::Internal(
            "an imported member was not returned by the insert".into(),
        ));
    }
    Ok(out)
}

pub async fn update_members(
    txn: &DatabaseTransaction,
    rows: &[ChangedMember<'_>],
) -> CoreResult<()> {
    for chunk in rows.chunks(ROWS) {
        bulk::update(txn, "members", "id", CHANGED_MEMBER, chunk).await?;
    }
    Ok(())
}

/// The tags of `members` become `tags` (members not in `tags` end up with none).
pub async fn replace_tags(
    txn: &DatabaseTransaction,
    members: &[i64],
    tags: &[Tag<'_>],
) -> CoreResult<()> {
    for chunk in members.chunks(ROWS) {
        bulk::delete_in(txn, "member_tags", "member_id", chunk).await?;
    }
    for chunk in tags.chunks(ROWS) {
        bulk::insert(txn, "member_tags", TAG, chunk, None).await?;
    }
    Ok(())
}
