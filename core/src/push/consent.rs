//! The WeChat consent ledger. `wx.requestSubscribeMessage` gives the mini-program one result
//! per template; every `accept*` result is one more send the member allowed. WeChat offers no
//! API to read the count back, so this table is the only record: a send uses one credit, and a
//! 43101 ("user refused") from WeChat sets it to 0.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::Core;
use crate::entities::wechat_credits;
use crate::error::{CoreError, CoreResult, Violations};

/// At most this many templates per call: WeChat itself asks about at most 3 at a time.
const MAX_RESULTS: usize = 20;
const MAX_TEMPLATE_ID: usize = 128;

/// Records what `wx.requestSubscribeMessage` returned; returns the member's credits for
/// every template they have any for.
pub async fn record(
    core: &Core,
    member_id: i64,
    results: &BTreeMap<String, String>,
) -> CoreResult<BTreeMap<String, i64>> {
    if results.len() > MAX_RESULTS {
        return Err(CoreError::invalid("results", "has more than 20 templates"));
    }
    let mut v = Violations::new();
    for (tid, r) in results {
        if tid.is_empty()
            || tid.len() > MAX_TEMPLATE_ID
            || !tid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            let shown: String = tid.chars().take(64).collect();
            v.add(
                "results",
                format!("{shown:?} is not a subscribe template id"),
            );
        }
        if r.len() > 64 {
            v.add("results", "a result is at most 64 characters");
        }
    }
    v.finish()?;
    let now = core.now();
    for (tid, r) in results {
        // accept, acceptWithAudio, acceptWithAlert, acceptWithForcePush, ...
        if !r.starts_with("accept") {
            continue;
        }
        wechat_credits::Entity::insert(wechat_credits::ActiveModel {
            member_id: Set(member_id),
            template_id: Set(tid.clone()),
            credits: Set(1),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                wechat_credits::Column::MemberId,
                wechat_credits::Column::TemplateId,
            ])
            .value(
                wechat_credits::Column::Credits,
                Expr::col((wechat_credits::Entity, wechat_credits::Column::Credits)).add(1),
            )
            .value(wechat_credits::Column::UpdatedAt, now)
            .to_owned(),
        )
        .exec_without_returning(&core.db)
        .await?;
    }
    credits_of(core, member_id).await
}

/// A member's credits per template (templates with none left are listed with 0).
pub async fn credits_of(core: &Core, member_id: i64) -> CoreResult<BTreeMap<String, i64>> {
    Ok(wechat_credits::Entity::find()
        .filter(wechat_credits::Column::MemberId.eq(member_id))
        .all(&core.db)
        .await?
        .into_iter()
        .map(|c| (c.template_id, c.credits))
        .collect())
}

/// Credits of many members at once (for admin lists).
pub async fn credits_of_many(
    core: &Core,
    member_ids: &[i64],
) -> CoreResult<std::collections::HashMap<i64, BTreeMap<String, i64>>> {
    let rows = crate::db::load_grouped_by_ids(
        &core.db,
        wechat_credits::Entity::find(),
        wechat_credits::Column::MemberId,
        member_ids.iter().copied(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(member, cs)| {
            let credits = cs.into_iter().map(|c| (c.template_id, c.credits)).collect();
            (member, credits)
        })
        .collect())
}

/// Uses one credit for a send about to leave (never below 0); false when there was none.
pub async fn use_one(
    db: &impl ConnectionTrait,
    member_id: i64,
    template_id: &str,
) -> CoreResult<bool> {
    change_by(db, member_id, template_id, -1).await
}

/// Returns a credit taken for a send that certainly did not arrive (WeChat answered with an
/// error, or the request never left).
pub async fn give_back(
    db: &impl ConnectionTrait,
    member_id: i64,
    template_id: &str,
) -> CoreResult<()> {
    change_by(db, member_id, template_id, 1).await.map(|_| ())
}

async fn change_by(
    db: &impl ConnectionTrait,
    member_id: i64,
    template_id: &str,
    delta: i64,
) -> CoreResult<bool> {
    let mut q = wechat_credits::Entity::update_many()
        .col_expr(
            wechat_credits::Column::Credits,
            Expr::col(wechat_credits::Column::Credits).add(delta),
        )
        .filter(wechat_credits::Column::MemberId.eq(member_id))
        .filter(wechat_credits::Column::TemplateId.eq(template_id));
    if delta < 0 {
        q = q.filter(wechat_credits::Column::Credits.gte(-delta));
    }
    Ok(q.exec(db).await?.rows_affected > 0)
}

/// WeChat said 43101: whatever we counted, the member has nothing left for this template.
pub async fn zero(db: &impl ConnectionTrait, member_id: i64, template_id: &str) -> CoreResult<()> {
    wechat_credits::Entity::update_many()
        .col_expr(wechat_credits::Column::Credits, Expr::value(0i64))
        .filter(wechat_credits::Column::MemberId.eq(member_id))
        .filter(wechat_credits::Column::TemplateId.eq(template_id))
        .exec(db)
        .await?;
    Ok(())
}
