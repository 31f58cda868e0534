//! What a meeting leaves behind: counts, quorum, the invitee list, the CSV export, and the
//! lists and yearly summary a secretary checks.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{MeetingView, MyMeeting, kind_label};
use crate::Core;
use crate::auth::{Actor, Scope};
use crate::db::load_by_ids;
use crate::entities::{meeting_invitees, meetings, members, units};
use crate::error::{CoreError, CoreResult};
use crate::meetings::{Answer, Attendance, CheckInMethod, MeetingKind, MeetingStatus};
use crate::org::UnitTree;
use crate::paging::{Page, PageRequest};

/// Tag of probationary members (预备党员): invited, but not voting. A convention of the roster.
pub const PROBATIONARY_TAG: &str = "预备党员";
/// Tag of branch committee members (支委): the committee meeting's quorum is over them.
pub const COMMITTEE_TAG: &str = "支委";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub invited: u64,
    pub attending: u64,
    pub leave: u64,
    pub no_answer: u64,
    /// On time (code or manual).
    pub present: u64,
    pub late: u64,
    /// Invited, neither present nor late, and not on leave.
    pub absent: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    /// `general_meeting` (voting members), `committee_meeting` (committee members) or `none`.
    pub rule: &'static str,
    pub eligible: u64,
    /// Eligible members present, late included.
    pub present: u64,
    /// The fewest present for the quorum: more than half.
    pub required: u64,
    pub held: bool,
}

#[derive(Debug, Clone)]
pub struct InviteeRow {
    pub member_id: i64,
    pub name: String,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub answer: Answer,
    pub reason: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub attendance: Option<Attendance>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub check_in_method: Option<CheckInMethod>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MeetingRecord {
    pub meeting: MeetingView,
    pub counts: Counts,
    pub quorum: Quorum,
    pub invitees: Vec<InviteeRow>,
}

fn present(a: Option<Attendance>) -> bool {
    matches!(a, Some(Attendance::Present | Attendance::Late))
}

pub fn counts(rows: &[InviteeRow]) -> Counts {
    let mut c = Counts {
        invited: rows.len() as u64,
        ..Default::default()
    };
    for r in rows {
        match r.answer {
            Answer::Attending => c.attending += 1,
            Answer::Leave => c.leave += 1,
            Answer::None => c.no_answer += 1,
        }
        match r.attendance {
            Some(Attendance::Present) => c.present += 1,
            Some(Attendance::Late) => c.late += 1,
            // Leave is excused: inspections count it apart from absence.
            _ if r.answer == Answer::Leave => {}
            _ => c.absent += 1,
        }
    }
    c
}

pub fn quorum(kind: MeetingKind, rows: &[InviteeRow]) -> Quorum {
    let eligible: Vec<&InviteeRow> = match kind {
        MeetingKind::GeneralMeeting => rows
            .iter()
            .filter(|r| !r.tags.iter().any(|t| t == PROBATIONARY_TAG))
            .collect(),
        MeetingKind::CommitteeMeeting => rows
            .iter()
            .filter(|r| r.tags.iter().any(|t| t == COMMITTEE_TAG))
            .collect(),
        _ => {
            return Quorum {
                rule: "none",
                eligible: 0,
                present: 0,
                required: 0,
                held: true,
            };
        }
    };
    let n = eligible.len() as u64;
    let p = eligible.iter().filter(|r| present(r.attendance)).count() as u64;
    let required = n / 2 + 1;
    Quorum {
        rule: if kind == MeetingKind::GeneralMeeting {
            "general_meeting"
        } else {
            "committee_meeting"
        },
        eligible: n,
        present: p,
        required,
        held: n > 0 && p >= required,
    }
}

/// Every invitee with name, unit, tags, answer and attendance, by member id.
pub async fn invitees(core: &Core, meeting_id: i64) -> CoreResult<Vec<InviteeRow>> {
    let inv = meeting_invitees::Entity::find()
        .filter(meeting_invitees::Column::MeetingId.eq(meeting_id))
        .order_by_asc(meeting_invitees::Column::MemberId)
        .find_also_related(members::Entity)
        .all(&core.db)
        .await?;
    let ids: Vec<i64> = inv.iter().map(|(i, _)| i.member_id).collect();
    let mut tags = crate::org::members::tags_of(&core.db, &ids).await?;
    let units = load_by_ids::<units::Entity>(
        &core.db,
        units::Column::Id,
        inv.iter().filter_map(|(_, m)| m.as_ref()?.unit_id),
    )
    .await?;
    Ok(inv
        .into_iter()
        .map(|(i, m)| {
            let m = m.as_ref();
            let unit_id = m.and_then(|m| m.unit_id);
            InviteeRow {
                member_id: i.member_id,
                name: m.map(|m| m.name.clone()).unwrap_or_default(),
                unit_id,
                unit_name: unit_id.and_then(|u| Some(units.get(&u)?.name.clone())),
                answer: i.answer,
                reason: i.reason,
                answered_at: i.answered_at,
                attendance: i.attendance,
                checked_in_at: i.checked_in_at,
                check_in_method: i.check_in_method,
                tags: tags.remove(&i.member_id).unwrap_or_default(),
            }
        })
        .collect())
}

pub async fn record(core: &Core, actor: &Actor, id: i64) -> CoreResult<MeetingRecord> {
    let m = super::find_managed(core, actor, id).await?;
    let rows = invitees(core, id).await?;
    Ok(MeetingRecord {
        counts: counts(&rows),
        quorum: quorum(m.kind, &rows),
        meeting: MeetingView::from_row(m),
        invitees: rows,
    })
}

fn answer_label(a: Answer) -> &'static str {
    match a {
        Answer::Attending => "参加",
        Answer::Leave => "请假",
        Answer::None => "未回复",
    }
}

fn attendance_label(a: Option<Attendance>, answer: Answer) -> &'static str {
    match a {
        Some(Attendance::Present) => "已签到",
        Some(Attendance::Late) => "迟到",
        _ if answer == Answer::Leave => "请假",
        _ => "缺席",
    }
}

/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab or a CR
/// (a formula, in Excel and WPS) gets a leading apostrophe.
pub(crate) fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The attendance sheet as CSV: UTF-8 with a BOM, so that spreadsheet programs read the
/// Chinese text correctly.
pub async fn attendance_csv(core: &Core, actor: &Actor, id: i64) -> CoreResult<Vec<u8>> {
    let m = super::find_managed(core, actor, id).await?;
    let tz: Tz = m.timezone.parse().unwrap_or(core.settings.timezone);
    let rows = invitees(core, id).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| CoreError::Internal(format!("csv: {e}"));
    w.write_record([
        "姓名",
        "单位",
        "回复",
        "请假原因",
        "签到",
        "签到时间",
        "方式",
    ])
    .map_err(err)?;
    for r in &rows {
        let at = r
            .checked_in_at
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let method = match r.check_in_method {
            Some(CheckInMethod::Code) => "签到码",
            Some(CheckInMethod::Manual) => "手工登记",
            None => "",
        };
        w.write_record([
            cell(&r.name).as_str(),
            cell(r.unit_name.as_deref().unwrap_or("")).as_str(),
            answer_label(r.answer),
            cell(r.reason.as_deref().unwrap_or("")).as_str(),
            attendance_label(r.attendance, r.answer),
            at.as_str(),
            method,
        ])
        .map_err(err)?;
    }
    let body = w
        .into_inner()
        .map_err(|e| CoreError::Internal(format!("csv: {e}")))?;
    let mut out = "\u{FEFF}".as_bytes().to_vec();
    out.extend(body);
    Ok(out)
}

/// The member's own meetings: upcoming (not yet ended, soonest first) or past (latest first).
pub async fn mine(
    core: &Core,
    actor: &Actor,
    when: Option<&str>,
    page: PageRequest,
) -> CoreResult<Page<MyMeeting>> {
    let past = match when.map(str::trim).filter(|w| !w.is_empty()) {
        None | Some("upcoming") => false,
        Some("past") => true,
        Some(_) => return Err(CoreError::invalid("when", "must be upcoming or past")),
    };
    let now = core.now();
    // The member's meetings with their own invitee row (one per meeting).
    let mut q = meetings::Entity::find()
        .find_also_related(meeting_invitees::Entity)
        .filter(meeting_invitees::Column::MemberId.eq(actor.member_id));
    q = if past {
        q.filter(meetings::Column::EndsAt.lt(now))
            .order_by_desc(meetings::Column::StartsAt)
    } else {
        q.filter(meetings::Column::EndsAt.gte(now))
            .order_by_asc(meetings::Column::StartsAt)
    };
    // Meetings are listed by time, not id: the cursor counts the rows before.
    let rows = page
        .by_position(q.order_by_asc(meetings::Column::Id), |q| q.all(&core.db))
        .await?;
    Ok(rows.map(|(m, i)| MyMeeting {
        answer: i.as_ref().map_or(Answer::None, |i| i.answer),
        reason: i.as_ref().and_then(|i| i.reason.clone()),
        attendance: i.as_ref().and_then(|i| i.attendance),
        checked_in_at: i.as_ref().and_then(|i| i.checked_in_at),
        meeting: MeetingView::from_row(m),
    }))
}

/// The instants that bound a calendar year in a zone.
fn year_bounds(year: i32, tz: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = NaiveDate::from_ymd_opt(year, 1, 1)?.and_hms_opt(0, 0, 0)?;
    let end = NaiveDate::from_ymd_opt(year + 1, 1, 1)?.and_hms_opt(0, 0, 0)?;
    Some((
        tz.from_local_datetime(&start)
            .earliest()?
            .with_timezone(&Utc),
        tz.from_local_datetime(&end).earliest()?.with_timezone(&Utc),
    ))
}

/// Which units a list covers: the unit asked for with its subtree (within the actor's scope),
/// or everything the actor manages.
pub(crate) fn unit_filter(
    tree: &UnitTree,
    scope: &Scope,
    unit_id: Option<i64>,
) -> CoreResult<Option<Vec<i64>>> {
    match unit_id {
        Some(u) => {
            if !tree.contains(u) || !scope.allows_unit(Some(u)) {
                return Err(CoreError::invalid("unit_id", "does not exist"));
            }
            Ok(Some(tree.subtree(&[u]).into_iter().collect()))
        }
        None => Ok(match scope {
            Scope::All => None,
            Scope::Units(set) => Some(set.iter().copied().collect()),
        }),
    }
}

pub(crate) fn year_or_now(core: &Core, year: Option<i32>) -> CoreResult<i32> {
    match year {
        Some(y) if (2000..=2100).contains(&y) => Ok(y),
        Some(_) => Err(CoreError::invalid("year", "must be between 2000 and 2100")),
        None => Ok(core.now().with_timezone(&core.settings.timezone).year()),
    }
}

async fn meetings_in(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    year: Option<i32>,
) -> CoreResult<(i32, Condition)> {
    crate::access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let scope = tree.scope_of(actor);
    let units = unit_filter(&tree, &scope, unit_id)?;
    let year = year_or_now(core, year)?;
    let (from, to) = year_bounds(year, core.settings.timezone)
        .ok_or_else(|| CoreError::invalid("year", "is not a valid year"))?;
    let mut cond = Condition::all()
        .add(meetings::Column::StartsAt.gte(from))
        .add(meetings::Column::StartsAt.lt(to));
    if let Some(u) = units {
        cond = cond.add(meetings::Column::UnitId.is_in(u));
    }
    Ok((year, cond))
}

/// A unit's meetings of a year (by start, latest first), for admins and secretaries.
pub async fn list(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    year: Option<i32>,
    page: PageRequest,
) -> CoreResult<Page<MeetingView>> {
    let (_, cond) = meetings_in(core, actor, unit_id, year).await?;
    let q = meetings::Entity::find()
        .filter(cond)
        .order_by_desc(meetings::Column::StartsAt)
        .order_by_desc(meetings::Column::Id);
    let rows = page.by_position(q, |q| q.all(&core.db)).await?;
    Ok(rows.map(MeetingView::from_row))
}

#[derive(Debug, Clone)]
pub struct KindSummary {
    pub kind: MeetingKind,
    pub label: &'static str,
    pub total: u64,
    /// Meetings that have ended (held), of `total`.
    pub held: u64,
    pub quarters: [u64; 4],
    pub months: [u64; 12],
}

/// Meetings (not canceled) per kind per quarter and month of a year, in the server's zone.
pub async fn summary(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    year: Option<i32>,
) -> CoreResult<(i32, Vec<KindSummary>)> {
    let (year, cond) = meetings_in(core, actor, unit_id, year).await?;
    let rows: Vec<(MeetingKind, DateTime<Utc>, DateTime<Utc>)> = meetings::Entity::find()
        .select_only()
        .column(meetings::Column::Kind)
        .column(meetings::Column::StartsAt)
        .column(meetings::Column::EndsAt)
        .filter(cond.add(meetings::Column::Status.ne(MeetingStatus::Canceled)))
        .into_tuple()
        .all(&core.db)
        .await?;
    let now = core.now();
    let tz = core.settings.timezone;
    let mut out: Vec<KindSummary> = MeetingKind::ALL
        .iter()
        .map(|k| KindSummary {
            kind: *k,
            label: kind_label(*k),
            total: 0,
            held: 0,
            quarters: [0; 4],
            months: [0; 12],
        })
        .collect();
    for (kind, starts, ends) in rows {
        let Some(s) = out.iter_mut().find(|s| s.kind == kind) else {
            continue;
        };
        let month = starts.with_timezone(&tz).month0() as usize;
        s.total += 1;
        if ends <= now {
            s.held += 1;
        }
        s.months[month] += 1;
        s.quarters[month / 3] += 1;
    }
    Ok((year, out))
}
