//! Anonymous evaluation surveys on the wire: writing and publishing one, participation,
//! results, and the member's side.

use chrono::{DateTime, FixedOffset, Utc};
use fingertip_core::surveys::answer::MySurvey;
use fingertip_core::surveys::manage::{Participation, SurveyInput, SurveyView};
use fingertip_core::surveys::results::Results;
use fingertip_core::surveys::{Question, QuestionKind};
use fingertip_core::{CoreError, CoreResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::broadcasts::AudienceBody;
use super::common::{Id, IdIn};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    #[schema(value_type = super::enums::QuestionKindSchema)]
    pub kind: String,
    #[schema(min_length = 1, max_length = 500)]
    pub text: String,
    /// The choices (single, multiple: 2 to 20) or the scale (rating; default
    /// 优秀/良好/一般/差); none for text.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub options: Vec<String>,
    /// Must be answered; default true, false for a text question.
    pub required: Option<bool>,
}

impl QuestionBody {
    fn to_core(&self, i: usize) -> CoreResult<Question> {
        let kind = QuestionKind::parse(self.kind.trim()).ok_or_else(|| {
            CoreError::invalid(
                format!("questions[{i}].kind"),
                format!("must be one of {}", QuestionKind::choices()),
            )
        })?;
        Ok(Question {
            kind,
            text: self.text.clone(),
            options: self.options.clone(),
            required: self.required.unwrap_or(kind != QuestionKind::Text),
        })
    }

    fn from_core(q: &Question) -> Self {
        Self {
            kind: q.kind.as_str().to_string(),
            text: q.text.clone(),
            options: q.options.clone(),
            required: Some(q.required),
        }
    }
}

/// A survey to write (or rewrite, while a draft).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyRequest {
    /// The unit it belongs to. Default: a secretary's own unit; the organisation for an admin.
    pub unit_id: Option<IdIn>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Markdown, shown above the questions and in the notice.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub intro: String,
    #[schema(min_items = 1, max_items = 50)]
    pub questions: Vec<QuestionBody>,
    /// Who is asked, as for broadcasts; fixed when the survey is published.
    pub audience: AudienceBody,
    /// At least an hour after publishing, within a year.
    pub closes_at: DateTime<FixedOffset>,
    /// A question's results are shown only with at least this many answers: 5 (default) to
    /// 1000.
    #[schema(minimum = 5, maximum = 1000)]
    pub min_group: Option<i32>,
}

impl SurveyRequest {
    pub fn to_core(&self) -> CoreResult<SurveyInput> {
        let questions = self
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| q.to_core(i))
            .collect::<CoreResult<Vec<_>>>()?;
        Ok(SurveyInput {
            unit_id: self
                .unit_id
                .as_ref()
                .map(|u| u.parse("unit_id"))
                .transpose()?,
            title: self.title.clone(),
            intro: self.intro.clone(),
            questions,
            audience: self.audience.to_core()?,
            closes_at: self.closes_at.with_timezone(&Utc),
            min_group: self.min_group,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyResponse {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    pub title: String,
    pub intro: String,
    pub questions: Vec<QuestionBody>,
    pub audience: AudienceBody,
    pub min_group: i32,
    pub closes_at: DateTime<Utc>,
    #[schema(value_type = super::enums::SurveyStatusSchema)]
    pub status: String,
    /// The notice it was published with, and its broadcast.
    #[schema(value_type = Option<String>)]
    pub post_id: Option<Id>,
    #[schema(value_type = Option<String>)]
    pub broadcast_id: Option<Id>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
    /// Those asked (fixed when published) and those of them who have answered.
    pub asked: u64,
    pub answered: u64,
    #[schema(value_type = Option<String>)]
    pub created_by: Option<Id>,
    pub created_at: DateTime<Utc>,
}

impl From<SurveyView> for SurveyResponse {
    fn from(v: SurveyView) -> Self {
        Self {
            id: Id(v.id),
            unit_id: v.unit_id.map(Id),
            title: v.title,
            intro: v.intro,
            questions: v.questions.iter().map(QuestionBody::from_core).collect(),
            audience: AudienceBody::from_core(&v.audience),
            min_group: v.min_group,
            closes_at: v.closes_at,
            status: v.status.as_str().to_string(),
            post_id: v.post_id.map(Id),
            broadcast_id: v.broadcast_id.map(Id),
            published_at: v.published_at,
            closed_at: v.closed_at,
            reminded_at: v.reminded_at,
            asked: v.asked,
            answered: v.answered,
            created_by: v.created_by.map(Id),
            created_at: v.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyList {
    pub items: Vec<SurveyResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SurveyListQuery {
    /// Only the surveys of this unit's subtree.
    #[param(max_length = 20)]
    pub unit_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ParticipationQuery {
    /// Also list by name who in this unit (with its subtree) has not answered.
    #[param(max_length = 20)]
    pub unit_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitParticipationBody {
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    pub unit_name: String,
    pub asked: u64,
    pub answered: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingBody {
    #[schema(value_type = String)]
    pub id: Id,
    pub name: String,
}

/// Who has taken part, per unit; never who answered what.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipationResponse {
    #[schema(value_type = String)]
    pub survey_id: Id,
    pub asked: u64,
    pub answered: u64,
    pub units: Vec<UnitParticipationBody>,
    /// Those of the unit asked about who have not answered (at most 1,000).
    pub pending: Vec<PendingBody>,
    pub pending_truncated: bool,
}

impl From<Participation> for ParticipationResponse {
    fn from(p: Participation) -> Self {
        Self {
            survey_id: Id(p.survey_id),
            asked: p.asked,
            answered: p.answered,
            units: p
                .units
                .into_iter()
                .map(|u| UnitParticipationBody {
                    unit_id: u.unit_id.map(Id),
                    unit_name: u.unit_name,
                    asked: u.asked,
                    answered: u.answered,
                })
                .collect(),
            pending: p
                .pending
                .into_iter()
                .map(|m| PendingBody {
                    id: Id(m.id),
                    name: m.name,
                })
                .collect(),
            pending_truncated: p.pending_truncated,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyRemindResponse {
    /// How many it went to.
    pub members: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OptionCountBody {
    pub label: String,
    /// Absent while the question's answers are fewer than `min_group`.
    pub count: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionResultBody {
    #[schema(value_type = super::enums::QuestionKindSchema)]
    pub kind: String,
    pub text: String,
    pub answers: u64,
    /// At least `min_group` answers: the counts and the texts are given.
    pub shown: bool,
    pub options: Vec<OptionCountBody>,
    /// A text question's answers, sorted.
    pub texts: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyResultsResponse {
    #[schema(value_type = String)]
    pub survey_id: Id,
    pub title: String,
    pub asked: u64,
    pub ballots: u64,
    pub min_group: i32,
    pub questions: Vec<QuestionResultBody>,
}

impl From<Results> for SurveyResultsResponse {
    fn from(r: Results) -> Self {
        Self {
            survey_id: Id(r.survey_id),
            title: r.title,
            asked: r.asked,
            ballots: r.ballots,
            min_group: r.min_group,
            questions: r
                .questions
                .into_iter()
                .map(|q| QuestionResultBody {
                    kind: q.kind.as_str().to_string(),
                    text: q.text,
                    answers: q.answers,
                    shown: q.shown,
                    options: q
                        .options
                        .into_iter()
                        .map(|o| OptionCountBody {
                            label: o.label,
                            count: o.count,
                        })
                        .collect(),
                    texts: q.texts,
                })
                .collect(),
        }
    }
}

/// A survey as a member asked sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MySurveyResponse {
    #[schema(value_type = String)]
    pub id: Id,
    pub title: String,
    pub intro: String,
    pub questions: Vec<QuestionBody>,
    pub closes_at: DateTime<Utc>,
    #[schema(value_type = super::enums::SurveyStatusSchema)]
    pub status: String,
    /// Whether the caller has answered (what they answered is kept by nobody).
    pub answered: bool,
    /// The inbox notice it came with.
    #[schema(value_type = Option<String>)]
    pub post_id: Option<Id>,
}

impl From<MySurvey> for MySurveyResponse {
    fn from(s: MySurvey) -> Self {
        Self {
            id: Id(s.id),
            title: s.title,
            intro: s.intro,
            questions: s.questions.iter().map(QuestionBody::from_core).collect(),
            closes_at: s.closes_at,
            status: s.status.as_str().to_string(),
            answered: s.answered,
            post_id: s.post_id.map(Id),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MySurveyList {
    pub items: Vec<MySurveyResponse>,
}

/// One answer per question, in order: the option's index (single, rating), an array of
/// indexes (multiple), a text, or `null` to leave an optional question out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BallotRequest {
    #[schema(max_items = 50)]
    pub answers: Vec<serde_json::Value>,
}
