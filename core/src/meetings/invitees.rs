//! Invitees: resolved from the audience into rows, and the audiences that select them again
//! when a notice or reminder fans out.

use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::words::Answer;
use crate::audience::{Audience, MeetingSelector};
use crate::entities::{meeting_invitees, members};
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;

/// Adds every member the audience selects as an invitee (existing invitees keep their answers);
/// with `prune`, removes invitees the audience no longer selects.
pub(super) async fn resolve_invitees(
    db: &impl ConnectionTrait,
    meeting_id: i64,
    audience: &Audience,
    tree: &UnitTree,
    prune: bool,
) -> CoreResult<()> {
    let select = Query::select()
        .column(members::Column::Id)
        .expr(Expr::val(meeting_id))
        .expr(Expr::val(Answer::None))
        .from(members::Entity)
        .cond_where(audience.condition(tree))
        .to_owned();
    let mut insert = Query::insert();
    insert
        .into_table(meeting_invitees::Entity)
        .columns([
            meeting_invitees::Column::MemberId,
            meeting_invitees::Column::MeetingId,
            meeting_invitees::Column::Answer,
        ])
        .select_from(select)
        .map_err(|e| CoreError::Internal(format!("invitee insert: {e}")))?
        .on_conflict(
            OnConflict::columns([
                meeting_invitees::Column::MeetingId,
                meeting_invitees::Column::MemberId,
            ])
            .do_nothing()
            .to_owned(),
        );
    db.execute(&insert).await?;
    if prune {
        meeting_invitees::Entity::delete_many()
            .filter(meeting_invitees::Column::MeetingId.eq(meeting_id))
            .filter(
                meeting_invitees::Column::MemberId.not_in_subquery(
                    Query::select()
                        .column(members::Column::Id)
                        .from(members::Entity)
                        .cond_where(audience.condition(tree))
                        .to_owned(),
                ),
            )
            .exec(db)
            .await?;
    }
    Ok(())
}

pub(super) fn invitees_audience(
    meeting_id: i64,
    answers: &[Answer],
    absent_only: bool,
) -> Audience {
    Audience {
        all: true,
        meeting: Some(MeetingSelector {
            meeting_id,
            answers: answers.to_vec(),
            absent_only,
            only_while_scheduled: false,
        }),
        ..Default::default()
    }
}

/// Reminders and nudges: nobody once the meeting is canceled.
pub(super) fn reminder_audience(meeting_id: i64, answers: &[Answer]) -> Audience {
    let mut a = invitees_audience(meeting_id, answers, false);
    if let Some(m) = a.meeting.as_mut() {
        m.only_while_scheduled = true;
    }
    a
}
