//! Who a broadcast reaches.
//!
//! `all` selects every active member of the organisation, that is every active member who
//! belongs to a unit (an account without a unit, such as the bootstrap admin, is not on the
//! roster and is not a recipient, so read rates can reach 100%). Otherwise the filters that
//! are given combine with AND (units, including their subtrees; roles; tags, any of them),
//! and `member_ids` adds people on top. A secretary's audience is always cut to their own
//! subtree.

use std::collections::HashSet;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};

mod model;

pub use model::{Audience, MeetingSelector, SurveySelector};

use crate::Core;
use crate::auth::Scope;
use crate::entities::{meeting_invitees, meetings, member_tags, members, survey_participants};
use crate::error::{CoreResult, Violations};
use crate::org::UnitTree;

pub const MAX_UNITS: usize = 500;
pub const MAX_TAGS: usize = 100;
pub const MAX_MEMBERS: usize = 10_000;

impl Audience {
    fn has_filters(&self) -> bool {
        !self.unit_ids.is_empty() || !self.roles.is_empty() || !self.tags.is_empty()
    }

    /// Checks the shape and the sizes, and that every unit and member named exists.
    pub async fn validate(&mut self, core: &Core, tree: &UnitTree) -> CoreResult<()> {
        let mut v = Violations::new();
        self.tags = crate::org::members::clean_tags(&self.tags);
        dedup(&mut self.unit_ids);
        dedup(&mut self.member_ids);
        let mut seen = HashSet::new();
        self.roles.retain(|r| seen.insert(*r));
        if self.all && (self.has_filters() || !self.member_ids.is_empty()) {
            v.add("audience", "`all` cannot be combined with other selectors");
        }
        if !self.all && !self.has_filters() && self.member_ids.is_empty() {
            v.add(
                "audience",
                "choose `all`, or at least one of unit_ids, roles, tags, member_ids",
            );
        }
        v.check(
            self.unit_ids.len() <= MAX_UNITS,
            "audience.unit_ids",
            "at most 500 units",
        );
        v.check(
            self.tags.len() <= MAX_TAGS,
            "audience.tags",
            "at most 100 tags",
        );
        v.check(
            self.tags
                .iter()
                .all(|t| t.chars().count() <= crate::org::members::MAX_TAG_LEN),
            "audience.tags",
            "each tag is at most 32 characters (as members' tags are)",
        );
        v.check(
            self.member_ids.len() <= MAX_MEMBERS,
            "audience.member_ids",
            "at most 10000 members",
        );
        if self.unit_ids.iter().any(|u| !tree.contains(*u)) {
            v.add("audience.unit_ids", "names a unit that does not exist");
        }
        v.finish()?;
        if !self.member_ids.is_empty() {
            let found = members::Entity::find()
                .filter(members::Column::Id.is_in(self.member_ids.clone()))
                .count(&core.db)
                .await?;
            if usize::try_from(found).ok() != Some(self.member_ids.len()) {
                let mut v = Violations::new();
                v.add("audience.member_ids", "names a member that does not exist");
                v.finish()?;
            }
        }
        Ok(())
    }

    pub fn restrict_to(&mut self, scope: &Scope) {
        if let Scope::Units(set) = scope {
            let mut units: Vec<i64> = set.iter().copied().collect();
            units.sort_unstable();
            self.scope_units = Some(units);
        }
    }

    /// The SQL condition on `members` that selects this audience (active members only).
    pub fn condition(&self, tree: &UnitTree) -> Condition {
        let mut cond = Condition::all().add(members::Column::Active.eq(true));
        if let Some(scope) = &self.scope_units {
            cond = cond.add(members::Column::UnitId.is_in(scope.clone()));
        }
        if let Some(m) = &self.meeting {
            // `members.id IN (SELECT member_id FROM meeting_invitees WHERE meeting_id = ? …)`
            let mut q = Query::select();
            q.column(meeting_invitees::Column::MemberId)
                .from(meeting_invitees::Entity)
                .and_where(Expr::col(meeting_invitees::Column::MeetingId).eq(m.meeting_id));
            if !m.answers.is_empty() {
                q.and_where(Expr::col(meeting_invitees::Column::Answer).is_in(m.answers.clone()));
            }
            if m.absent_only {
                q.cond_where(
                    Condition::any()
                        .add(Expr::col(meeting_invitees::Column::Attendance).is_null())
                        .add(
                            Expr::col(meeting_invitees::Column::Attendance)
                                .eq(crate::meetings::Attendance::Absent),
                        ),
                );
            }
            if m.only_while_scheduled {
                q.and_where(
                    Expr::col(meeting_invitees::Column::MeetingId).in_subquery(
                        Query::select()
                            .column(meetings::Column::Id)
                            .from(meetings::Entity)
                            .and_where(Expr::col(meetings::Column::Id).eq(m.meeting_id))
                            .and_where(
                                Expr::col(meetings::Column::Status)
                                    .eq(crate::meetings::MeetingStatus::Scheduled),
                            )
                            .to_owned(),
                    ),
                );
            }
            cond = cond.add(members::Column::Id.in_subquery(q.clone()));
        }
        if let Some(sv) = &self.survey {
            // `members.id IN (SELECT member_id FROM survey_participants WHERE survey_id = ? …)`
            let mut q = Query::select();
            q.column(survey_participants::Column::MemberId)
                .from(survey_participants::Entity)
                .and_where(Expr::col(survey_participants::Column::SurveyId).eq(sv.survey_id));
            if sv.unanswered_only {
                q.and_where(Expr::col(survey_participants::Column::Answered).eq(false));
            }
            cond = cond.add(members::Column::Id.in_subquery(q));
        }
        if self.all {
            // The roster is the members with a unit; a meeting's invitees and a survey's
            // participants are exactly their rows.
            return if self.meeting.is_some() || self.survey.is_some() {
                cond
            } else {
                cond.add(members::Column::UnitId.is_not_null())
            };
        }
        let mut pick = Condition::any();
        if self.has_filters() {
            let mut f = Condition::all();
            if !self.unit_ids.is_empty() {
                let units: Vec<i64> = tree.subtree(&self.unit_ids).into_iter().collect();
                f = f.add(members::Column::UnitId.is_in(units));
            }
            if !self.roles.is_empty() {
                f = f.add(members::Column::Role.is_in(self.roles.iter().copied()));
            }
            if !self.tags.is_empty() {
                f = f.add(
                    members::Column::Id.in_subquery(
                        Query::select()
                            .column(member_tags::Column::MemberId)
                            .from(member_tags::Entity)
                            .and_where(Expr::col(member_tags::Column::Tag).is_in(self.tags.clone()))
                            .to_owned(),
                    ),
                );
            }
            pick = pick.add(f);
        }
        if !self.member_ids.is_empty() {
            pick = pick.add(members::Column::Id.is_in(self.member_ids.clone()));
        }
        cond.add(pick)
    }

    pub async fn count(&self, core: &Core, tree: &UnitTree) -> CoreResult<u64> {
        Ok(members::Entity::find()
            .filter(self.condition(tree))
            .count(&core.db)
            .await?)
    }
}

fn dedup(v: &mut Vec<i64>) {
    let mut seen = HashSet::new();
    v.retain(|x| seen.insert(*x));
}

#[cfg(test)]
mod tests;
