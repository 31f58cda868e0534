//! The ladder's last step: each unit's non-readers, listed to the unit's secretary.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use super::SummaryUnit;
use crate::Core;
use crate::broadcasts::service::{Notice, insert_notice};
use crate::entities::{broadcasts, inbox_items, members, posts};
use crate::error::CoreResult;
use crate::org::secretaries::Secretaries;

/// Names listed per unit in one summary; the rest are counted.
const NAMES_PER_UNIT: usize = 200;

pub(super) struct Sent {
    /// The summaries' broadcasts (one per secretary), already `sending`.
    pub broadcasts: Vec<i64>,
    /// Per unit with non-readers, as stored in `broadcast_steps.detail`.
    pub detail: Value,
}

/// Writes, in the step's transaction, one notice per recipient listing the non-readers of the
/// units they answer for: a unit's active secretaries, or the nearest unit up the tree that has
/// some, or (for none up to the root, and for members without a unit) the broadcast's author
/// when the author belongs to a unit; otherwise nobody (the broadcast's page lists them).
pub(super) async fn send(
    core: &Core,
    txn: &DatabaseTransaction,
    b: &broadcasts::Model,
    now: DateTime<Utc>,
) -> CoreResult<Sent> {
    let unread: Vec<(Option<i64>, String)> = inbox_items::Entity::find()
        .inner_join(members::Entity)
        .select_only()
        .column(members::Column::UnitId)
        .column(members::Column::Name)
        .filter(inbox_items::Column::BroadcastId.eq(b.id))
        .filter(inbox_items::Column::Occurrence.eq(b.occurrence))
        .filter(inbox_items::Column::ReadAt.is_null())
        .filter(members::Column::Active.eq(true))
        .order_by_asc(members::Column::Id)
        .into_tuple()
        .all(txn)
        .await?;
    if unread.is_empty() {
        return Ok(Sent {
            broadcasts: vec![],
            detail: json!([]),
        });
    }
    let mut by_unit: BTreeMap<Option<i64>, Vec<String>> = BTreeMap::new();
    for (unit, name) in unread {
        by_unit.entry(unit).or_default().push(name);
    }
    let secretaries = Secretaries::load(txn).await?;
    // The author, only when they belong to a unit: the summary is a post of the recipient's
    // unit, and a post of no unit would be the whole organisation's, readable by every
    // secretary.
    let author = match b.created_by {
        Some(id) => members::Entity::find_by_id(id)
            .filter(members::Column::Active.eq(true))
            .one(txn)
            .await?
            .and_then(|m| m.unit_id.map(|u| (m.id, Some(u)))),
        None => None,
    };
    // Recipient → their unit and the lists they get.
    let mut letters: BTreeMap<i64, Letter> = BTreeMap::new();
    let mut detail = vec![];
    for (unit, names) in by_unit {
        let unit_name = secretaries.unit_name(unit);
        let recipients: Vec<(i64, Option<i64>)> = match secretaries.nearest(unit) {
            Some((u, ids)) => ids.iter().map(|&id| (id, Some(u))).collect(),
            None => author.into_iter().collect(),
        };
        detail.push(SummaryUnit {
            unit_id: unit,
            unit: unit_name.clone(),
            unread: i64::try_from(names.len()).unwrap_or(i64::MAX),
            secretaries: recipients.iter().map(|r| r.0).collect(),
        });
        for (id, home) in recipients {
            letters
                .entry(id)
                .or_insert_with(|| Letter {
                    home,
                    lists: vec![],
                })
                .lists
                .push((unit_name.clone(), names.clone()));
        }
    }
    let tz: Tz = b.timezone.parse().unwrap_or(core.settings.timezone);
    let title = posts::Entity::find_by_id(b.post_id)
        .one(txn)
        .await?
        .map(|p| p.title)
        .unwrap_or_default();
    let mut sent = vec![];
    for (recipient, Letter { home, lists }) in letters {
        let unread: usize = lists.iter().map(|l| l.1.len()).sum();
        let notice = Notice {
            unit_id: home,
            title: format!("未读名单：{title}"),
            summary: Some(format!("{unread} 人到期未读")),
            body_md: body(&title, b.read_by, tz, &lists),
            channels: b.channels.clone(),
            timezone: b.timezone.clone(),
            to: vec![recipient],
        };
        sent.push(insert_notice(txn, notice, now).await?);
    }
    Ok(Sent {
        broadcasts: sent,
        detail: serde_json::to_value(detail).unwrap_or_default(),
    })
}

/// One recipient's summary: the unit it belongs to (the recipient's) and, per unit they answer
/// for, its name and its non-readers' names.
struct Letter {
    home: Option<i64>,
    lists: Vec<(String, Vec<String>)>,
}

fn body(
    title: &str,
    read_by: Option<DateTime<Utc>>,
    tz: Tz,
    lists: &[(String, Vec<String>)],
) -> String {
    let deadline = read_by
        .map(|d| {
            d.with_timezone(&tz)
                .format("%Y年%m月%d日 %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let mut out = format!("《{title}》已到阅读截止时间（{deadline}），以下成员仍未阅读：\n\n");
    for (unit, names) in lists {
        let shown: Vec<&str> = names
            .iter()
            .take(NAMES_PER_UNIT)
            .map(String::as_str)
            .collect();
        out.push_str(&format!(
            "**{unit}**（{} 人）：{}",
            names.len(),
            shown.join("、")
        ));
        if names.len() > NAMES_PER_UNIT {
            out.push_str(&format!(" 等（另有 {} 人）", names.len() - NAMES_PER_UNIT));
        }
        out.push_str("\n\n");
    }
    out.push_str("请提醒他们尽快阅读。");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_lists_each_unit_with_its_count() {
        let text = body(
            "七月党课",
            DateTime::from_timestamp(1_800_000_000, 0),
            chrono_tz::Asia::Shanghai,
            &[("第一党支部".into(), vec!["张三".into(), "李四".into()])],
        );
        assert!(
            text.contains("《七月党课》已到阅读截止时间（2027年01月15日 16:00）"),
            "{text}"
        );
        assert!(
            text.contains("**第一党支部**（2 人）：张三、李四"),
            "{text}"
        );
    }
}
