//! A closed survey's results, per question, and their CSV.
//!
//! Shown only once the survey has closed: results that grew while it was open would tell, from
//! one look to the next, what the people who answered in between said (and who answered when is
//! no secret). A question's tally is shown only with at least `min_group` answers; the texts come
//! sorted, not in the order they were written.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{AnswerValue, QuestionKind, SurveyStatus, managed, status_at};
use crate::Core;
use crate::auth::Actor;
use crate::entities::survey_ballots;
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionCount {
    pub label: String,
    /// `None` while the question's answers are too few to show.
    pub count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionResult {
    pub kind: QuestionKind,
    pub text: String,
    /// Ballots that answered this question.
    pub answers: u64,
    /// At least `min_group` answers: the tally and the texts are given.
    pub shown: bool,
    pub options: Vec<OptionCount>,
    pub texts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Results {
    pub survey_id: i64,
    pub title: String,
    pub asked: u64,
    pub ballots: u64,
    pub min_group: i32,
    pub questions: Vec<QuestionResult>,
}

/// The results of a closed survey the actor manages.
pub async fn results(core: &Core, actor: &Actor, id: i64) -> CoreResult<Results> {
    let tree = UnitTree::load(&core.db).await?;
    let s = managed(core, actor, &tree, id).await?;
    if status_at(&s, core.now()) != SurveyStatus::Closed {
        return Err(CoreError::Conflict(
            "results are shown once the survey has closed".into(),
        ));
    }
    let ballots = survey_ballots::Entity::find()
        .filter(survey_ballots::Column::SurveyId.eq(id))
        .all(&core.db)
        .await?;
    let min = u64::try_from(s.min_group).unwrap_or(u64::MAX);
    let mut questions: Vec<QuestionResult> = s
        .questions
        .0
        .iter()
        .map(|q| QuestionResult {
            kind: q.kind,
            text: q.text.clone(),
            answers: 0,
            shown: false,
            options: q
                .options
                .iter()
                .map(|o| OptionCount {
                    label: o.clone(),
                    count: Some(0),
                })
                .collect(),
            texts: vec![],
        })
        .collect();
    for b in &ballots {
        for (q, a) in questions.iter_mut().zip(&b.answers.0) {
            let Some(a) = a else { continue };
            q.answers += 1;
            let mut bump = |k: u32| {
                if let Some(c) = usize::try_from(k)
                    .ok()
                    .and_then(|k| q.options.get_mut(k))
                    .and_then(|o| o.count.as_mut())
                {
                    *c += 1;
                }
            };
            match a {
                AnswerValue::One(k) => bump(*k),
                AnswerValue::Many(ks) => ks.iter().copied().for_each(bump),
                AnswerValue::Text(t) => q.texts.push(t.clone()),
            }
        }
    }
    for q in &mut questions {
        q.shown = q.answers >= min;
        if q.shown {
            q.texts.sort();
        } else {
            q.texts.clear();
            for o in &mut q.options {
                o.count = None;
            }
        }
    }
    let (asked, _) = super::manage::counts_of(&core.db, id).await?;
    Ok(Results {
        survey_id: id,
        title: s.title,
        asked,
        ballots: u64::try_from(ballots.len()).unwrap_or(u64::MAX),
        min_group: s.min_group,
        questions,
    })
}

/// The results as CSV (UTF-8 with a BOM, for Excel): 题号,题目,类型,选项或回答,人数,占比.
pub async fn csv(core: &Core, actor: &Actor, id: i64) -> CoreResult<Vec<u8>> {
    let r = results(core, actor, id).await?;
    let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    let fail = |e: csv::Error| CoreError::Internal(format!("csv: {e}"));
    w.write_record(["题号", "题目", "类型", "选项或回答", "人数", "占比"])
        .map_err(fail)?;
    for (i, q) in r.questions.iter().enumerate() {
        let no = (i + 1).to_string();
        let kind = match q.kind {
            QuestionKind::Single => "单选",
            QuestionKind::Multiple => "多选",
            QuestionKind::Rating => "评价",
            QuestionKind::Text => "文字",
        };
        if !q.shown {
            let note = format!("作答不足 {} 人，不公布", r.min_group);
            w.write_record([
                no.as_str(),
                &q.text,
                kind,
                &note,
                &q.answers.to_string(),
                "",
            ])
            .map_err(fail)?;
            continue;
        }
        for o in &q.options {
            let n = o.count.unwrap_or(0);
            // Per mille, rounded: integer arithmetic keeps the lint on casts quiet.
            let share = (n * 1000 + q.answers / 2)
                .checked_div(q.answers)
                .map_or_else(String::new, |pm| format!("{}.{}%", pm / 10, pm % 10));
            w.write_record([no.as_str(), &q.text, kind, &o.label, &n.to_string(), &share])
                .map_err(fail)?;
        }
        for t in &q.texts {
            w.write_record([no.as_str(), &q.text, kind, t, "", ""])
                .map_err(fail)?;
        }
    }
    w.into_inner()
        .map_err(|e| CoreError::Internal(format!("csv: {e}")))
}
