//! The managers' side of a survey: writing it while a draft, publishing it (who is asked is
//! fixed then), closing it early, reminding those who have not answered, and participation per
//! unit. Admins and secretaries, each within the units they manage; every change is audited.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::model::{self, MAX_INTRO, MAX_MIN_GROUP, MAX_TITLE, MIN_GROUP};
use super::{Question, Questions, SurveyStatus, managed, status_at};
use crate::Core;
use crate::audience::{Audience, SurveySelector};
use crate::audit::{self, Event, Who};
use crate::auth::Actor;
use crate::broadcasts::service::{all_channels, send_now_row, wake};
use crate::entities::{members, posts, survey_participants, surveys};
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::UnitTree;
use crate::posts::{MediaList, PostKind};

/// A survey closes at least this long after it is published, and at most this long after.
pub const MIN_OPEN: Duration = Duration::hours(1);
pub const MAX_OPEN_DAYS: i64 = 366;
/// Reminders by hand, at most one in this long.
pub const REMIND_EVERY: Duration = Duration::hours(1);
/// Surveys a list returns, at most.
pub const LIST_LIMIT: u64 = 200;
/// Names of those yet to answer a participation view lists, at most.
pub const MAX_PENDING: usize = 1000;

#[derive(Debug, Clone)]
pub struct SurveyInput {
    /// The unit it belongs to: a secretary's own by default; `None` from an admin is
    /// organisation-wide.
    pub unit_id: Option<i64>,
    pub title: String,
    pub intro: String,
    pub questions: Vec<Question>,
    pub audience: Audience,
    pub closes_at: DateTime<Utc>,
    pub min_group: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyView {
    pub id: i64,
    pub unit_id: Option<i64>,
    pub title: String,
    pub intro: String,
    pub questions: Vec<Question>,
    pub audience: Audience,
    pub min_group: i32,
    pub closes_at: DateTime<Utc>,
    pub status: SurveyStatus,
    pub post_id: Option<i64>,
    pub broadcast_id: Option<i64>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
    /// Those asked (fixed when published) and those of them who have answered.
    pub asked: u64,
    pub answered: u64,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitParticipation {
    pub unit_id: Option<i64>,
    pub unit_name: String,
    pub asked: u64,
    pub answered: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participation {
    pub survey_id: i64,
    pub asked: u64,
    pub answered: u64,
    pub units: Vec<UnitParticipation>,
    /// Those of the unit asked about (with its subtree) who have not answered, by name.
    pub pending: Vec<Pending>,
    pub pending_truncated: bool,
}

#[derive(Debug, FromQueryResult)]
struct Counts {
    asked: i64,
    answered: Option<i64>,
}

#[derive(Debug, FromQueryResult)]
struct UnitCounts {
    unit_id: Option<i64>,
    asked: i64,
    answered: Option<i64>,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// `SUM(CASE WHEN answered THEN 1 ELSE 0 END)`.
fn answered_sum() -> Expr {
    Func::sum(Expr::case(Expr::col(survey_participants::Column::Answered).eq(true), 1).finally(0))
        .into()
}

pub(crate) async fn counts_of<C: ConnectionTrait>(
    db: &C,
    survey_id: i64,
) -> CoreResult<(u64, u64)> {
    let c = survey_participants::Entity::find()
        .select_only()
        .column_as(
            Expr::col(survey_participants::Column::MemberId).count(),
            "asked",
        )
        .column_as(answered_sum(), "answered")
        .filter(survey_participants::Column::SurveyId.eq(survey_id))
        .into_model::<Counts>()
        .one(db)
        .await?;
    Ok(c.map_or((0, 0), |c| (count(c.asked), count(c.answered.unwrap_or(0)))))
}

pub(crate) async fn view_of<C: ConnectionTrait>(
    db: &C,
    s: surveys::Model,
    now: DateTime<Utc>,
) -> CoreResult<SurveyView> {
    let (asked, answered) = counts_of(db, s.id).await?;
    Ok(SurveyView {
        status: status_at(&s, now),
        id: s.id,
        unit_id: s.unit_id,
        title: s.title,
        intro: s.intro,
        questions: s.questions.0,
        audience: s.audience,
        min_group: s.min_group,
        closes_at: s.closes_at,
        post_id: s.post_id,
        broadcast_id: s.broadcast_id,
        published_at: s.published_at,
        closed_at: s.closed_at,
        reminded_at: s.reminded_at,
        asked,
        answered,
        created_by: s.created_by,
        created_at: s.created_at,
    })
}

/// The checked input: the unit it belongs to and the audience cut to the actor's scope.
async fn check(
    core: &Core,
    actor: &Actor,
    tree: &UnitTree,
    mut input: SurveyInput,
) -> CoreResult<SurveyInput> {
    crate::access::require_manager(actor)?;
    let mut v = Violations::new();
    input.title = input.title.trim().to_string();
    v.text(&input.title, "title", MAX_TITLE);
    v.check(
        input.intro.chars().count() <= MAX_INTRO,
        "intro",
        "must be at most 5000 characters",
    );
    model::check_questions(&mut input.questions, &mut v);
    let min = input.min_group.unwrap_or(MIN_GROUP);
    v.check(
        (MIN_GROUP..=MAX_MIN_GROUP).contains(&min),
        "min_group",
        "must be 5 to 1000: fewer answers would let a result point at someone",
    );
    input.min_group = Some(min);
    let now = core.now();
    v.check(
        input.closes_at > now + MIN_OPEN,
        "closes_at",
        "must be at least an hour from now",
    );
    v.check(
        input.closes_at < now + Duration::days(MAX_OPEN_DAYS),
        "closes_at",
        "must be within a year",
    );
    let scope = tree.scope_of(actor);
    if input.unit_id.is_none() && actor.role != crate::auth::Role::Admin {
        input.unit_id = actor.unit_id;
    }
    if let Some(u) = input.unit_id {
        if !tree.contains(u) || !scope.allows_unit(Some(u)) {
            v.add("unit_id", "does not exist");
        }
    } else if !scope.allows_unit(None) {
        v.add("unit_id", "give the unit the survey belongs to");
    }
    v.finish()?;
    input.audience.meeting = None;
    input.audience.survey = None;
    input.audience.validate(core, tree).await?;
    input.audience.restrict_to(&scope);
    if Audience::count(&input.audience, core, tree).await? == 0 {
        return Err(CoreError::invalid("audience", "selects no active member"));
    }
    Ok(input)
}

/// Writes a draft (audited `survey.create`).
pub async fn create(core: &Core, actor: &Actor, input: SurveyInput) -> CoreResult<SurveyView> {
    let tree = UnitTree::load(&core.db).await?;
    let input = check(core, actor, &tree, input).await?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let row = surveys::ActiveModel {
        unit_id: Set(input.unit_id),
        title: Set(input.title),
        intro: Set(input.intro),
        questions: Set(Questions(input.questions)),
        audience: Set(input.audience),
        min_group: Set(input.min_group.unwrap_or(MIN_GROUP)),
        closes_at: Set(input.closes_at),
        status: Set(SurveyStatus::Draft),
        post_id: Set(None),
        broadcast_id: Set(None),
        published_at: Set(None),
        closed_at: Set(None),
        reminded_at: Set(None),
        auto_reminded: Set(false),
        sealed: Set(false),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..<surveys::ActiveModel as Default>::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("survey.create")
            .target("survey", row.id)
            .summary(json!({"title": row.title, "unit_id": row.unit_id, "questions": row.questions.0.len(), "closes_at": row.closes_at})),
    )
    .await?;
    txn.commit().await?;
    view_of(&core.db, row, now).await
}

/// Locks the survey's row for the rest of `txn` (on SQLite the write transaction does).
pub(crate) async fn lock(txn: &DatabaseTransaction, id: i64) -> CoreResult<surveys::Model> {
    crate::db::for_update(surveys::Entity::find_by_id(id), txn)
        .one(txn)
        .await?
        .ok_or(CoreError::NotFound("survey"))
}

/// Rewrites a draft (audited `survey.update`); a published survey cannot change.
pub async fn update(
    core: &Core,
    actor: &Actor,
    id: i64,
    input: SurveyInput,
) -> CoreResult<SurveyView> {
    let tree = UnitTree::load(&core.db).await?;
    managed(core, actor, &tree, id).await?;
    let input = check(core, actor, &tree, input).await?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let s = lock(&txn, id).await?;
    if s.status != SurveyStatus::Draft {
        return Err(CoreError::Conflict(
            "a published survey cannot change: close it and write another".into(),
        ));
    }
    let mut row: surveys::ActiveModel = s.into();
    row.unit_id = Set(input.unit_id);
    row.title = Set(input.title);
    row.intro = Set(input.intro);
    row.questions = Set(Questions(input.questions));
    row.audience = Set(input.audience);
    row.min_group = Set(input.min_group.unwrap_or(MIN_GROUP));
    row.closes_at = Set(input.closes_at);
    row.updated_at = Set(now);
    let row = row.update(&txn).await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("survey.update")
            .target("survey", id)
            .summary(json!({"title": row.title, "unit_id": row.unit_id, "questions": row.questions.0.len(), "closes_at": row.closes_at})),
    )
    .await?;
    txn.commit().await?;
    view_of(&core.db, row, now).await
}

/// Beijing-style local time of `t` for a notice: `12月31日 18:00`.
fn local(core: &Core, t: DateTime<Utc>) -> String {
    t.with_timezone(&core.settings.timezone)
        .format("%-m月%-d日 %H:%M")
        .to_string()
}

/// Writes a notice about the survey (its post and a broadcast to `audience`, sent now) in
/// `txn`; the broadcast's id, for the caller to wake the fan-out once committed.
#[allow(clippy::too_many_arguments)]
async fn notice(
    txn: &DatabaseTransaction,
    core: &Core,
    s: &surveys::Model,
    title: String,
    summary: String,
    body_md: String,
    unanswered_only: bool,
    size: u64,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> CoreResult<(i64, i64)> {
    let post = posts::ActiveModel {
        kind: Set(PostKind::Notice),
        title: Set(title.chars().take(200).collect()),
        summary: Set(Some(summary.chars().take(500).collect())),
        body_md: Set(body_md),
        media: Set(MediaList(vec![])),
        study_minutes: Set(0),
        created_by: Set(created_by),
        unit_id: Set(s.unit_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..<posts::ActiveModel as Default>::default()
    }
    .insert(txn)
    .await?;
    let audience = Audience {
        all: true,
        survey: Some(SurveySelector {
            survey_id: s.id,
            unanswered_only,
        }),
        ..Default::default()
    };
    let mut row = send_now_row(
        all_channels(core),
        core.settings.timezone.name().to_string(),
        s.unit_id,
        post.id,
        audience,
        now,
    );
    row.audience_size = Set(i64::try_from(size).unwrap_or(i64::MAX));
    row.created_by = Set(created_by);
    let b = row.insert(txn).await?;
    Ok((post.id, b.id))
}

const ANONYMOUS: &str = "本测评匿名：系统只记录您是否已作答，不记录您的作答与您的对应关系；\
任何人（包括管理员）都无法查到某人的作答。结果在测评结束后按题汇总公布，作答不足规定人数的题目不公布。\
文字回答请勿写入能认出您的内容。";

/// Publishes a draft (audited `survey.publish`): fixes who is asked (the audience's active
/// members now) and sends them the notice, in one transaction.
pub async fn publish(core: &Core, actor: &Actor, id: i64) -> CoreResult<SurveyView> {
    let tree = UnitTree::load(&core.db).await?;
    let s = managed(core, actor, &tree, id).await?;
    let now = core.now();
    if s.status != SurveyStatus::Draft {
        return Err(CoreError::Conflict(
            "the survey is already published".into(),
        ));
    }
    if s.closes_at <= now + MIN_OPEN {
        return Err(CoreError::invalid(
            "closes_at",
            "must be at least an hour from now: change the draft's close first",
        ));
    }
    let mut audience = s.audience.clone();
    audience.validate(core, &tree).await?;
    let txn = crate::db::begin_write(&core.db).await?;
    let s = lock(&txn, id).await?;
    if s.status != SurveyStatus::Draft {
        return Err(CoreError::Conflict(
            "the survey is already published".into(),
        ));
    }
    let mut pick = Query::select();
    pick.expr(Expr::val(id))
        .column(members::Column::Id)
        .column(members::Column::UnitId)
        .expr(Expr::val(false))
        .from(members::Entity)
        .cond_where(audience.condition(&tree));
    let mut insert = Query::insert();
    insert
        .into_table(survey_participants::Entity)
        .columns([
            survey_participants::Column::SurveyId,
            survey_participants::Column::MemberId,
            survey_participants::Column::UnitId,
            survey_participants::Column::Answered,
        ])
        .select_from(pick)
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    let asked = txn.execute(&insert).await?.rows_affected();
    if asked == 0 {
        return Err(CoreError::invalid("audience", "selects no active member"));
    }
    let closes = local(core, s.closes_at);
    let mut body = String::new();
    if !s.intro.trim().is_empty() {
        body.push_str(s.intro.trim());
        body.push_str("\n\n");
    }
    body.push_str(&format!(
        "共 {} 题，请于 {closes} 前在“测评”中作答，每人一次。\n\n{ANONYMOUS}\n",
        s.questions.0.len()
    ));
    let (post_id, broadcast_id) = notice(
        &txn,
        core,
        &s,
        format!("测评：{}", s.title),
        format!("匿名作答，{closes} 截止"),
        body,
        false,
        asked,
        Some(actor.member_id),
        now,
    )
    .await?;
    let mut row: surveys::ActiveModel = s.into();
    row.status = Set(SurveyStatus::Open);
    row.post_id = Set(Some(post_id));
    row.broadcast_id = Set(Some(broadcast_id));
    row.published_at = Set(Some(now));
    row.updated_at = Set(now);
    let row = row.update(&txn).await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("survey.publish")
            .target("survey", id)
            .summary(json!({"post_id": post_id, "broadcast_id": broadcast_id, "asked": asked})),
    )
    .await?;
    txn.commit().await?;
    wake(core, broadcast_id).await;
    view_of(&core.db, row, now).await
}

/// Closes an open survey now (audited `survey.close`) and seals its ballots in the same
/// transaction.
pub async fn close(core: &Core, actor: &Actor, id: i64) -> CoreResult<SurveyView> {
    let tree = UnitTree::load(&core.db).await?;
    managed(core, actor, &tree, id).await?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let s = lock(&txn, id).await?;
    if status_at(&s, now) != SurveyStatus::Open {
        return Err(CoreError::Conflict(format!(
            "only an open survey can be closed; this one is {}",
            status_at(&s, now)
        )));
    }
    super::seal::reseal(&txn, id, false).await?;
    let mut row: surveys::ActiveModel = s.into();
    row.status = Set(SurveyStatus::Closed);
    row.closed_at = Set(Some(now));
    row.sealed = Set(true);
    row.updated_at = Set(now);
    let row = row.update(&txn).await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("survey.close").target("survey", id),
    )
    .await?;
    txn.commit().await?;
    super::seal::vacuum(core).await;
    view_of(&core.db, row, now).await
}

/// Sends those asked who have not answered a reminder, in `txn` with its audit entry
/// (`survey.remind`); the broadcast's id and how many it went to, or `None` when everyone has
/// answered.
pub(crate) async fn send_reminder(
    txn: &DatabaseTransaction,
    core: &Core,
    s: &surveys::Model,
    who: &Who,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> CoreResult<Option<(i64, u64)>> {
    let (asked, answered) = counts_of(txn, s.id).await?;
    let pending = asked.saturating_sub(answered);
    if pending == 0 {
        return Ok(None);
    }
    let closes = local(core, s.closes_at);
    let (_, broadcast_id) = notice(
        txn,
        core,
        s,
        format!("提醒：请参加测评“{}”", s.title),
        format!("{closes} 截止，尚未作答"),
        format!(
            "测评“{}”将于 {closes} 结束，您尚未作答。请在“测评”中作答。\n\n{ANONYMOUS}\n",
            s.title
        ),
        true,
        pending,
        created_by,
        now,
    )
    .await?;
    surveys::Entity::update_many()
        .col_expr(surveys::Column::RemindedAt, Expr::value(now))
        .filter(surveys::Column::Id.eq(s.id))
        .exec(txn)
        .await?;
    audit::append(
        txn,
        now,
        who,
        Event::new("survey.remind")
            .target("survey", s.id)
            .summary(json!({"broadcast_id": broadcast_id, "members": pending})),
    )
    .await?;
    Ok(Some((broadcast_id, pending)))
}

/// Reminds those who have not answered, by hand (at most once an hour); how many it went to.
pub async fn remind(core: &Core, actor: &Actor, id: i64) -> CoreResult<u64> {
    let tree = UnitTree::load(&core.db).await?;
    managed(core, actor, &tree, id).await?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let s = lock(&txn, id).await?;
    if status_at(&s, now) != SurveyStatus::Open {
        return Err(CoreError::Conflict(format!(
            "only an open survey has anyone to remind; this one is {}",
            status_at(&s, now)
        )));
    }
    if s.reminded_at
        .is_some_and(|t| now - t < REMIND_EVERY && now >= t)
    {
        return Err(CoreError::Conflict(
            "a reminder went out less than an hour ago".into(),
        ));
    }
    let Some((broadcast_id, n)) =
        send_reminder(&txn, core, &s, &actor.into(), Some(actor.member_id), now).await?
    else {
        return Err(CoreError::Conflict("everyone asked has answered".into()));
    };
    txn.commit().await?;
    wake(core, broadcast_id).await;
    Ok(n)
}

/// The surveys of the units the actor manages (of `unit_id`'s subtree when given), newest first.
pub async fn list(core: &Core, actor: &Actor, unit_id: Option<i64>) -> CoreResult<Vec<SurveyView>> {
    crate::access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let mut q = surveys::Entity::find();
    if let Some(units) = crate::access::listed_units(&tree, actor, unit_id)? {
        q = q.filter(surveys::Column::UnitId.is_in(units));
    }
    let rows = q
        .order_by_desc(surveys::Column::Id)
        .limit(LIST_LIMIT)
        .all(&core.db)
        .await?;
    let now = core.now();
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        out.push(view_of(&core.db, s, now).await?);
    }
    Ok(out)
}

pub async fn get(core: &Core, actor: &Actor, id: i64) -> CoreResult<SurveyView> {
    let tree = UnitTree::load(&core.db).await?;
    let s = managed(core, actor, &tree, id).await?;
    view_of(&core.db, s, core.now()).await
}

/// Who has taken part, per unit (the member's unit when the survey was published), and by
/// name those of `unit_id` (with its subtree) who have not. Never who answered what.
pub async fn participation(
    core: &Core,
    actor: &Actor,
    id: i64,
    unit_id: Option<i64>,
) -> CoreResult<Participation> {
    let tree = UnitTree::load(&core.db).await?;
    managed(core, actor, &tree, id).await?;
    let rows = survey_participants::Entity::find()
        .select_only()
        .column(survey_participants::Column::UnitId)
        .column_as(
            Expr::col(survey_participants::Column::MemberId).count(),
            "asked",
        )
        .column_as(answered_sum(), "answered")
        .filter(survey_participants::Column::SurveyId.eq(id))
        .group_by(survey_participants::Column::UnitId)
        .into_model::<UnitCounts>()
        .all(&core.db)
        .await?;
    let mut units: Vec<UnitParticipation> = rows
        .into_iter()
        .map(|r| UnitParticipation {
            unit_id: r.unit_id,
            unit_name: r
                .unit_id
                .and_then(|u| tree.units.get(&u))
                .map_or_else(|| "（无单位）".to_string(), |u| u.name.clone()),
            asked: count(r.asked),
            answered: count(r.answered.unwrap_or(0)),
        })
        .collect();
    units.sort_by(|a, b| {
        a.unit_name
            .cmp(&b.unit_name)
            .then(a.unit_id.cmp(&b.unit_id))
    });
    let asked = units.iter().map(|u| u.asked).sum();
    let answered = units.iter().map(|u| u.answered).sum();
    let mut pending = Vec::new();
    let mut pending_truncated = false;
    if unit_id.is_some() {
        let units = crate::access::listed_units(&tree, actor, unit_id)?.unwrap_or_default();
        let rows: Vec<(i64, String)> = members::Entity::find()
            .select_only()
            .column(members::Column::Id)
            .column(members::Column::Name)
            .filter(
                members::Column::Id.in_subquery(
                    Query::select()
                        .column(survey_participants::Column::MemberId)
                        .from(survey_participants::Entity)
                        .and_where(Expr::col(survey_participants::Column::SurveyId).eq(id))
                        .and_where(Expr::col(survey_participants::Column::Answered).eq(false))
                        .and_where(Expr::col(survey_participants::Column::UnitId).is_in(units))
                        .to_owned(),
                ),
            )
            .order_by_asc(members::Column::Name)
            .order_by_asc(members::Column::Id)
            .limit(u64::try_from(MAX_PENDING).unwrap_or(u64::MAX) + 1)
            .into_tuple()
            .all(&core.db)
            .await?;
        pending_truncated = rows.len() > MAX_PENDING;
        pending = rows
            .into_iter()
            .take(MAX_PENDING)
            .map(|(id, name)| Pending { id, name })
            .collect();
    }
    Ok(Participation {
        survey_id: id,
        asked,
        answered,
        units,
        pending,
        pending_truncated,
    })
}
