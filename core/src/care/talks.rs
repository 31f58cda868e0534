//! The yearly heart-to-heart talk (谈心谈话, at least once a year with each member): per unit
//! and year who has had one and who has not, and the workers' reminder to the secretaries in
//! the year's last weeks, once per unit and year.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::json;

use super::CareKind;
use super::records::{Person, today};
use crate::Core;
use crate::audit::{self, Event, Who};
use crate::auth::Actor;
use crate::broadcasts::service::{Notice, all_channels, insert_notice, wake};
use crate::entities::{care_records, care_reminders, members};
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;
use crate::org::secretaries::Secretaries;

/// Days before the year ends that the secretaries are reminded.
pub const REMIND_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Talked {
    pub member: Person,
    pub talks: u32,
    pub last_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalkYear {
    pub unit_id: i64,
    pub year: i32,
    pub talked: Vec<Talked>,
    pub not_yet: Vec<Person>,
}

fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap_or_default(),
    )
}

/// Each active member of `units`: their talks in `year` (count, last date).
async fn talks_of(
    core: &Core,
    units: Vec<i64>,
    year: i32,
) -> CoreResult<(Vec<Person>, HashMap<i64, (u32, NaiveDate)>)> {
    let people: Vec<(i64, String)> = members::Entity::find()
        .select_only()
        .column(members::Column::Id)
        .column(members::Column::Name)
        .filter(members::Column::UnitId.is_in(units))
        .filter(members::Column::Active.eq(true))
        .order_by_asc(members::Column::Id)
        .into_tuple()
        .all(&core.db)
        .await?;
    let (from, to) = year_bounds(year);
    let mut talks: HashMap<i64, (u32, NaiveDate)> = HashMap::new();
    for chunk in people.chunks(crate::db::IN_CHUNK) {
        let rows: Vec<(i64, NaiveDate)> = care_records::Entity::find()
            .select_only()
            .column(care_records::Column::MemberId)
            .column(care_records::Column::HappenedOn)
            .filter(care_records::Column::Kind.eq(CareKind::Talk))
            .filter(care_records::Column::MemberId.is_in(chunk.iter().map(|p| p.0)))
            .filter(care_records::Column::HappenedOn.gte(from))
            .filter(care_records::Column::HappenedOn.lt(to))
            .into_tuple()
            .all(&core.db)
            .await?;
        for (m, on) in rows {
            let e = talks.entry(m).or_insert((0, on));
            e.0 += 1;
            e.1 = std::cmp::max(e.1, on);
        }
    }
    Ok((
        people
            .into_iter()
            .map(|(id, name)| Person { id, name })
            .collect(),
        talks,
    ))
}

/// Who in a unit (with its subtree) has had a talk this year and who has not.
pub async fn year(
    core: &Core,
    actor: &Actor,
    unit_id: i64,
    year: Option<i32>,
) -> CoreResult<TalkYear> {
    crate::access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    if !tree.contains(unit_id) || !tree.scope_of(actor).owns(Some(unit_id)) {
        return Err(CoreError::NotFound("unit"));
    }
    let year = year.unwrap_or_else(|| today(core).year());
    if !(2000..=2100).contains(&year) {
        return Err(CoreError::invalid("year", "must be from 2000 to 2100"));
    }
    let (people, talks) =
        talks_of(core, tree.subtree(&[unit_id]).into_iter().collect(), year).await?;
    let mut out = TalkYear {
        unit_id,
        year,
        talked: vec![],
        not_yet: vec![],
    };
    for p in people {
        match talks.get(&p.id) {
            Some(&(n, last)) => out.talked.push(Talked {
                member: p,
                talks: n,
                last_on: last,
            }),
            None => out.not_yet.push(p),
        }
    }
    Ok(out)
}

/// In the year's last [`REMIND_DAYS`] days, tells each unit's secretaries (or the nearest up
/// the tree) which of its own members have had no talk this year: once per unit and year.
/// Returns how many units were reminded.
pub async fn remind_due(core: &Core) -> CoreResult<u64> {
    let today = today(core);
    let year = today.year();
    let (_, next_year) = year_bounds(year);
    if next_year - today > Duration::days(REMIND_DAYS) {
        return Ok(0);
    }
    let done: Vec<i64> = care_reminders::Entity::find()
        .select_only()
        .column(care_reminders::Column::UnitId)
        .filter(care_reminders::Column::Year.eq(year))
        .into_tuple()
        .all(&core.db)
        .await?;
    let tree = UnitTree::load(&core.db).await?;
    let mut units: Vec<i64> = tree
        .units
        .keys()
        .copied()
        .filter(|u| !done.contains(u))
        .collect();
    units.sort_unstable();
    let mut sent = 0;
    for unit in units {
        let (people, talks) = talks_of(core, vec![unit], year).await?;
        let missing: Vec<Person> = people
            .into_iter()
            .filter(|p| !talks.contains_key(&p.id))
            .collect();
        if missing.is_empty() {
            continue;
        }
        if remind(core, unit, year, &missing, next_year).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

async fn remind(
    core: &Core,
    unit: i64,
    year: i32,
    missing: &[Person],
    next_year: NaiveDate,
) -> CoreResult<bool> {
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let inserted = care_reminders::Entity::insert(care_reminders::ActiveModel {
        unit_id: Set(unit),
        year: Set(year),
        sent_at: Set(now),
        members: Set(i32::try_from(missing.len()).unwrap_or(i32::MAX)),
    })
    .on_conflict(
        OnConflict::columns([care_reminders::Column::UnitId, care_reminders::Column::Year])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        txn.rollback().await?;
        return Ok(false);
    }
    let secretaries = Secretaries::load(&txn).await?;
    let to: Vec<i64> = secretaries
        .nearest(Some(unit))
        .map(|(_, ids)| ids.to_vec())
        .unwrap_or_default();
    let unit_name = secretaries.unit_name(Some(unit));
    let mut broadcast = None;
    if !to.is_empty() {
        let days = (next_year
            - core
                .now()
                .with_timezone(&core.settings.timezone)
                .date_naive())
        .num_days();
        let names: Vec<&str> = missing.iter().take(200).map(|p| p.name.as_str()).collect();
        let mut body = format!(
            "{unit_name}以下 {} 位党员今年还没有谈心谈话记录（距年底还有 {days} 天）：\n\n{}",
            missing.len(),
            names.join("、")
        );
        if missing.len() > names.len() {
            body.push_str(&format!(" 等（另有 {} 位）", missing.len() - names.len()));
        }
        body.push_str("\n\n谈话后请在“谈心谈话”中记录。");
        let notice = Notice {
            unit_id: Some(unit),
            title: format!("提醒：{unit_name}{year}年谈心谈话尚未完成"),
            summary: Some(format!("{} 人尚未谈话", missing.len())),
            body_md: body,
            channels: all_channels(core),
            timezone: core.settings.timezone.name().to_string(),
            to: to.clone(),
        };
        broadcast = Some(insert_notice(&txn, notice, now).await?);
    }
    audit::append(
        &txn,
        now,
        &Who::system(),
        Event::new("care.remind")
            .target("unit", unit)
            .summary(json!({"year": year, "members": missing.len(), "secretaries": to})),
    )
    .await?;
    txn.commit().await?;
    if let Some(id) = broadcast {
        wake(core, id).await;
    }
    Ok(true)
}
