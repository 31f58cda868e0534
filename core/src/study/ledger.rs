//! A year of study: a member's own (total, target, entries, what is still required), one
//! member's for their managers, and a unit's, member by member with who is behind, as rows and
//! as CSV.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect};

use super::targets::{self, Targets};
use super::{STUDY_MEETINGS, StudyKind, year_bounds};
use crate::Core;
use crate::auth::{Actor, Role};
use crate::entities::{
    broadcasts, inbox_items, meeting_invitees, meetings, members, study_entries, units,
};
use crate::error::{CoreError, CoreResult};
use crate::meetings::{Attendance, MeetingStatus};
use crate::org::UnitTree;

/// Unread items with a deadline a member's year lists at most (the soonest deadlines).
const REQUIRED: u64 = 200;

/// One credit in a member's year.
#[derive(Debug, Clone)]
pub struct Line {
    pub kind: StudyKind,
    pub title: String,
    pub seconds: i64,
    pub at: DateTime<Utc>,
    /// An offline record's id (it can be removed); `None` for reading and meetings.
    pub record_id: Option<i64>,
    pub note: Option<String>,
}

/// Required reading not done yet.
#[derive(Debug, Clone)]
pub struct Required {
    pub item_id: i64,
    pub title: String,
    pub read_by: DateTime<Utc>,
    pub overdue: bool,
}

#[derive(Debug, Clone)]
pub struct MemberYear {
    pub member_id: i64,
    pub name: String,
    pub year: i32,
    pub target_minutes: i32,
    pub total_seconds: i64,
    /// Newest first.
    pub lines: Vec<Line>,
    pub required: Vec<Required>,
}

impl MemberYear {
    /// Minutes still to study to reach the target (0 once reached).
    pub fn remaining_minutes(&self) -> i64 {
        std::cmp::max(i64::from(self.target_minutes) - self.total_seconds / 60, 0)
    }
}

/// The acting member's own year.
pub async fn mine(core: &Core, actor: &Actor, year: Option<i32>) -> CoreResult<MemberYear> {
    member_year(core, actor.member_id, year).await
}

/// A member's year, for a manager of their unit.
pub async fn of_member(
    core: &Core,
    actor: &Actor,
    member_id: i64,
    year: Option<i32>,
) -> CoreResult<MemberYear> {
    crate::org::members::get(core, actor, member_id).await?;
    member_year(core, member_id, year).await
}

async fn member_year(core: &Core, member_id: i64, year: Option<i32>) -> CoreResult<MemberYear> {
    let year = crate::meetings::record::year_or_now(core, year)?;
    let m = members::Entity::find_by_id(member_id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("member"))?;
    let tags = crate::org::members::tags_of(&core.db, &[member_id])
        .await?
        .remove(&member_id)
        .unwrap_or_default();
    let targets = targets::load(core).await?;
    let mut lines: Vec<Line> = study_entries::Entity::find()
        .filter(study_entries::Column::MemberId.eq(member_id))
        .filter(study_entries::Column::Year.eq(year))
        .all(&core.db)
        .await?
        .into_iter()
        .map(|e| Line {
            record_id: (e.kind != StudyKind::Reading).then_some(e.id),
            kind: e.kind,
            title: e.title,
            seconds: e.seconds,
            at: e.occurred_at,
            note: e.note,
        })
        .collect();
    for (_, meeting) in attended(core, year, MemberSet::One(member_id)).await? {
        lines.push(Line {
            kind: StudyKind::Meeting,
            title: meeting.title.clone(),
            seconds: meeting.seconds,
            at: meeting.starts_at,
            record_id: None,
            note: None,
        });
    }
    lines.sort_by_key(|l| std::cmp::Reverse(l.at));
    let total_seconds = lines.iter().map(|l| l.seconds).sum();
    Ok(MemberYear {
        member_id,
        name: m.name,
        year,
        target_minutes: targets.for_member(m.role, &tags),
        total_seconds,
        lines,
        required: required(core, member_id).await?,
    })
}

/// Unread items whose broadcast has a read-by deadline, soonest first.
async fn required(core: &Core, member_id: i64) -> CoreResult<Vec<Required>> {
    use sea_orm::{JoinType, RelationTrait};
    #[derive(Debug, FromQueryResult)]
    struct Due {
        id: i64,
        post_id: i64,
        read_by: DateTime<Utc>,
    }
    let now = core.now();
    let due = inbox_items::Entity::find()
        .select_only()
        .column(inbox_items::Column::Id)
        .column(inbox_items::Column::PostId)
        .column_as(broadcasts::Column::ReadBy, "read_by")
        .join(JoinType::InnerJoin, inbox_items::Relation::Broadcast.def())
        .filter(inbox_items::Column::MemberId.eq(member_id))
        .filter(inbox_items::Column::ReadAt.is_null())
        .filter(broadcasts::Column::ReadBy.is_not_null())
        .order_by_asc(broadcasts::Column::ReadBy)
        .order_by_asc(inbox_items::Column::Id)
        .limit(REQUIRED)
        .into_model::<Due>()
        .all(&core.db)
        .await?;
    let posts = core
        .headers
        .posts(&core.db, &due.iter().map(|d| d.post_id).collect::<Vec<_>>())
        .await?;
    Ok(due
        .into_iter()
        .map(|d| Required {
            item_id: d.id,
            title: posts
                .get(&d.post_id)
                .map(|p| p.title.clone())
                .unwrap_or_default(),
            read_by: d.read_by,
            overdue: d.read_by < now,
        })
        .collect())
}

/// A study meeting, as a credit.
#[derive(Debug, Clone)]
struct StudyMeeting {
    title: String,
    starts_at: DateTime<Utc>,
    seconds: i64,
}

enum MemberSet {
    One(i64),
    /// Active members of these units (`None`: every unit).
    Units(Option<Vec<i64>>),
}

#[derive(Debug, FromQueryResult)]
struct Attended {
    member_id: i64,
    title: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

/// (member, meeting) for every study meeting of `year` a member of the set attended (present
/// or late), as the meetings' records say now: one statement, the invitees joined to their
/// meetings.
async fn attended(core: &Core, year: i32, who: MemberSet) -> CoreResult<Vec<(i64, StudyMeeting)>> {
    use sea_orm::{JoinType, RelationTrait};
    let (from, until) = year_bounds(core, year);
    let mut q = meeting_invitees::Entity::find()
        .select_only()
        .column(meeting_invitees::Column::MemberId)
        .column_as(meetings::Column::Title, "title")
        .column_as(meetings::Column::StartsAt, "starts_at")
        .column_as(meetings::Column::EndsAt, "ends_at")
        .join(
            JoinType::InnerJoin,
            meeting_invitees::Relation::Meeting.def(),
        )
        .filter(meetings::Column::Kind.is_in(STUDY_MEETINGS))
        .filter(meetings::Column::Status.eq(MeetingStatus::Scheduled))
        .filter(meetings::Column::StartsAt.gte(from))
        .filter(meetings::Column::StartsAt.lt(until))
        .filter(
            meeting_invitees::Column::Attendance.is_in([Attendance::Present, Attendance::Late]),
        );
    q = match who {
        MemberSet::One(id) => q.filter(meeting_invitees::Column::MemberId.eq(id)),
        MemberSet::Units(units) => {
            q.filter(meeting_invitees::Column::MemberId.in_subquery(members_of(units)))
        }
    };
    let rows = q.into_model::<Attended>().all(&core.db).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let seconds = std::cmp::max((r.ends_at - r.starts_at).num_seconds(), 0);
            (
                r.member_id,
                StudyMeeting {
                    title: r.title,
                    starts_at: r.starts_at,
                    seconds,
                },
            )
        })
        .collect())
}

/// `SELECT id FROM members WHERE active AND unit_id IN (units)` (any unit when `None`).
fn members_of(units: Option<Vec<i64>>) -> sea_orm::sea_query::SelectStatement {
    let mut q = Query::select();
    q.column(members::Column::Id)
        .from(members::Entity)
        .and_where(Expr::col(members::Column::Active).eq(true))
        .and_where(Expr::col(members::Column::UnitId).is_not_null());
    if let Some(u) = units {
        q.and_where(Expr::col(members::Column::UnitId).is_in(u));
    }
    q
}

/// One member's line in a unit's year.
#[derive(Debug, Clone)]
pub struct UnitRow {
    pub member_id: i64,
    pub name: String,
    pub unit_name: String,
    pub role: Role,
    pub target_minutes: i32,
    pub total_seconds: i64,
    /// What the target asks by now, in proportion to the year gone (all of it for a past year).
    pub expected_seconds: i64,
    pub behind: bool,
}

#[derive(Debug, Clone)]
pub struct UnitYear {
    pub year: i32,
    /// Those furthest behind their share of the target first.
    pub rows: Vec<UnitRow>,
}

#[derive(Debug, FromQueryResult)]
struct Sum {
    member_id: i64,
    seconds: Option<i64>,
}

/// A unit's year (its subtree; the actor's whole scope without `unit_id`), member by member.
pub async fn unit_year(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    year: Option<i32>,
) -> CoreResult<UnitYear> {
    crate::access::require_manager(actor)?;
    let year = crate::meetings::record::year_or_now(core, year)?;
    let tree = UnitTree::load(&core.db).await?;
    let units_in = crate::meetings::record::unit_filter(&tree, &tree.scope_of(actor), unit_id)?;
    let mut q = members::Entity::find()
        .filter(members::Column::Active.eq(true))
        .filter(members::Column::UnitId.is_not_null());
    if let Some(u) = &units_in {
        q = q.filter(members::Column::UnitId.is_in(u.clone()));
    }
    let people = q.order_by_asc(members::Column::Id).all(&core.db).await?;
    let ids: Vec<i64> = people.iter().map(|m| m.id).collect();
    let tags = crate::org::members::tags_of(&core.db, &ids).await?;
    let unit_names: HashMap<i64, String> = units::Entity::find()
        .all(&core.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut totals: HashMap<i64, i64> = study_entries::Entity::find()
        .select_only()
        .column(study_entries::Column::MemberId)
        // SUM of a BIGINT is a NUMERIC on PostgreSQL: back to BIGINT.
        .column_as(
            Expr::col(study_entries::Column::Seconds)
                .sum()
                .cast_as(sea_orm::sea_query::Alias::new("BIGINT")),
            "seconds",
        )
        .filter(study_entries::Column::Year.eq(year))
        .filter(study_entries::Column::MemberId.in_subquery(members_of(units_in.clone())))
        .group_by(study_entries::Column::MemberId)
        .into_model::<Sum>()
        .all(&core.db)
        .await?
        .into_iter()
        .map(|s| (s.member_id, s.seconds.unwrap_or(0)))
        .collect();
    for (member, meeting) in attended(core, year, MemberSet::Units(units_in)).await? {
        *totals.entry(member).or_default() += meeting.seconds;
    }
    let targets: Targets = targets::load(core).await?;
    let (gone, length) = year_gone(core, year);
    let mut rows: Vec<UnitRow> = people
        .into_iter()
        .map(|m| {
            let target = targets.for_member(m.role, tags.get(&m.id).map_or(&[][..], Vec::as_slice));
            let total = totals.get(&m.id).copied().unwrap_or(0);
            let expected = i64::try_from(
                i128::from(target) * 60 * i128::from(gone) / i128::from(std::cmp::max(length, 1)),
            )
            .unwrap_or(i64::MAX);
            UnitRow {
                member_id: m.id,
                unit_name: m
                    .unit_id
                    .and_then(|u| unit_names.get(&u).cloned())
                    .unwrap_or_default(),
                name: m.name,
                role: m.role,
                target_minutes: target,
                total_seconds: total,
                expected_seconds: expected,
                behind: total < expected,
            }
        })
        .collect();
    rows.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.expected_seconds - r.total_seconds),
            r.member_id,
        )
    });
    Ok(UnitYear { year, rows })
}

/// How much of `year` has gone, and its length, in seconds: none before it, all after it.
fn year_gone(core: &Core, year: i32) -> (i64, i64) {
    let (from, until) = year_bounds(core, year);
    let length = (until - from).num_seconds();
    let gone = (core.now() - from).num_seconds().clamp(0, length);
    (gone, length)
}

/// Hours with one decimal: `32.0`.
pub fn hours(seconds: i64) -> String {
    format!("{:.1}", seconds as f64 / 3600.0)
}

/// A unit's year as CSV: UTF-8 with a byte-order mark (Excel opens it as such), Chinese
/// headers, hours with one decimal.
pub fn unit_csv(u: &UnitYear) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    let _ = w.write_record([
        "姓名",
        "单位",
        "年度",
        "目标学时",
        "已完成学时",
        "尚差学时",
        "按进度应完成",
        "是否落后",
    ]);
    for r in &u.rows {
        let target = i64::from(r.target_minutes) * 60;
        let _ = w.write_record([
            crate::meetings::record::cell(&r.name),
            crate::meetings::record::cell(&r.unit_name),
            u.year.to_string(),
            hours(target),
            hours(r.total_seconds),
            hours(std::cmp::max(target - r.total_seconds, 0)),
            hours(r.expected_seconds),
            (if r.behind { "是" } else { "否" }).to_string(),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_opens_in_excel_without_running_a_name_as_a_formula() {
        let year = UnitYear {
            year: 2026,
            rows: vec![UnitRow {
                member_id: 1,
                name: "=HYPERLINK(\"http://x\")".into(),
                unit_name: "第一支部".into(),
                role: Role::Member,
                target_minutes: 32 * 60,
                total_seconds: 90 * 60,
                expected_seconds: 16 * 3600,
                behind: true,
            }],
        };
        let text = String::from_utf8(unit_csv(&year)).unwrap();
        assert!(
            text.starts_with("\u{feff}姓名,单位,年度,目标学时"),
            "{text}"
        );
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://x\"\")\",第一支部,2026,32.0,1.5,30.5,16.0,是"),
            "{text}"
        );
    }
}
