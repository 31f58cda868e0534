//! What a survey asks and what a ballot holds, as stored, and the checks on both.

use serde::{Deserialize, Serialize};

use crate::error::Violations;

crate::words! {
    /// A question's kind: one choice, several, a rating on a scale (优秀/良好/一般/差), or text.
    pub enum QuestionKind {
        Single = "single",
        Multiple = "multiple",
        Rating = "rating",
        Text = "text",
    }
}

crate::words! {
    /// Where a survey stands. An `open` survey past its `closes_at` is closed, whether or not
    /// the worker has marked it yet.
    pub enum SurveyStatus {
        Draft = "draft",
        Open = "open",
        Closed = "closed",
    }
}

/// The scale a rating uses when none is given (DOMAIN.md).
pub const DEFAULT_SCALE: [&str; 4] = ["优秀", "良好", "一般", "差"];
pub const MAX_TITLE: usize = 200;
pub const MAX_INTRO: usize = 5000;
pub const MAX_QUESTIONS: usize = 50;
pub const MAX_QUESTION_TEXT: usize = 500;
pub const MAX_OPTIONS: usize = 20;
pub const MAX_OPTION_TEXT: usize = 100;
/// A free-text answer, at most (characters).
pub const MAX_ANSWER_TEXT: usize = 2000;
/// The fewest answers a question's results are shown for, and the default.
pub const MIN_GROUP: i32 = 5;
pub const MAX_MIN_GROUP: i32 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub kind: QuestionKind,
    pub text: String,
    /// The choices (single, multiple) or the scale (rating); empty for text.
    #[serde(default)]
    pub options: Vec<String>,
    pub required: bool,
}

/// A survey's questions as stored in `surveys.questions`.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult,
)]
pub struct Questions(pub Vec<Question>);

/// One answer: a choice's index (single, rating), the indexes chosen (multiple), or a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    One(u32),
    Many(Vec<u32>),
    Text(String),
}

/// A ballot as stored in `survey_ballots.answers`: one entry per question, `null` when an
/// optional question was left out.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult,
)]
pub struct Answers(pub Vec<Option<AnswerValue>>);

/// Checks the questions, filling a rating's default scale and trimming the texts.
pub fn check_questions(questions: &mut [Question], v: &mut Violations) {
    if questions.is_empty() || questions.len() > MAX_QUESTIONS {
        v.add("questions", format!("give 1 to {MAX_QUESTIONS} questions"));
    }
    for (i, q) in questions.iter_mut().enumerate() {
        let at = format!("questions[{i}]");
        q.text = q.text.trim().to_string();
        v.text(&q.text, &format!("{at}.text"), MAX_QUESTION_TEXT);
        for o in &mut q.options {
            *o = o.trim().to_string();
        }
        if q.kind == QuestionKind::Rating && q.options.is_empty() {
            q.options = DEFAULT_SCALE.iter().map(|s| (*s).to_string()).collect();
        }
        let field = format!("{at}.options");
        if q.kind == QuestionKind::Text {
            v.check(
                q.options.is_empty(),
                &field,
                "a text question has no options",
            );
            continue;
        }
        if q.options.len() < 2 || q.options.len() > MAX_OPTIONS {
            v.add(&field, format!("give 2 to {MAX_OPTIONS} options"));
        }
        if q.options
            .iter()
            .any(|o| o.is_empty() || o.chars().count() > MAX_OPTION_TEXT)
        {
            v.add(
                &field,
                format!("each option is 1 to {MAX_OPTION_TEXT} characters"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        if !q.options.iter().all(|o| seen.insert(o.as_str())) {
            v.add(&field, "the options must differ");
        }
    }
}

/// The ballot a member's raw answers make, one per question in order. The messages name the
/// question, never what was answered: they may be logged.
pub fn check_answers(
    questions: &[Question],
    raw: &[serde_json::Value],
    v: &mut Violations,
) -> Answers {
    if raw.len() != questions.len() {
        v.add(
            "answers",
            format!(
                "give one answer per question ({}), null to leave one out",
                questions.len()
            ),
        );
        return Answers::default();
    }
    let mut out = Vec::with_capacity(raw.len());
    for (i, (q, a)) in questions.iter().zip(raw).enumerate() {
        let field = format!("answers[{i}]");
        let n = u32::try_from(q.options.len()).unwrap_or(u32::MAX);
        let index = |x: &serde_json::Value| {
            x.as_u64()
                .and_then(|k| u32::try_from(k).ok())
                .filter(|k| *k < n)
        };
        let value: Result<Option<AnswerValue>, String> = match (q.kind, a) {
            (_, serde_json::Value::Null) => Ok(None),
            (QuestionKind::Text, serde_json::Value::String(s)) => {
                let s = s.trim();
                if s.chars().count() > MAX_ANSWER_TEXT {
                    Err(format!("at most {MAX_ANSWER_TEXT} characters"))
                } else {
                    Ok((!s.is_empty()).then(|| AnswerValue::Text(s.to_string())))
                }
            }
            (QuestionKind::Single | QuestionKind::Rating, x) => index(x)
                .map(|k| Some(AnswerValue::One(k)))
                .ok_or_else(|| "give the index of one of the question's options".to_string()),
            (QuestionKind::Multiple, serde_json::Value::Array(xs)) => {
                let mut picked: Vec<u32> = Vec::with_capacity(xs.len());
                let mut ok = true;
                for x in xs {
                    match index(x) {
                        Some(k) if !picked.contains(&k) => picked.push(k),
                        _ => ok = false,
                    }
                }
                picked.sort_unstable();
                if ok {
                    Ok((!picked.is_empty()).then_some(AnswerValue::Many(picked)))
                } else {
                    Err("give distinct indexes of the question's options".to_string())
                }
            }
            (QuestionKind::Multiple, _) => Err("give an array of option indexes".to_string()),
            (QuestionKind::Text, _) => Err("give a text".to_string()),
        };
        let value = match value {
            Ok(None) if q.required => {
                v.add(&field, "this question must be answered");
                None
            }
            Ok(value) => value,
            Err(message) => {
                v.add(&field, message);
                None
            }
        };
        out.push(value);
    }
    Answers(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(kind: QuestionKind, options: &[&str], required: bool) -> Question {
        Question {
            kind,
            text: "问".into(),
            options: options.iter().map(|s| (*s).to_string()).collect(),
            required,
        }
    }

    #[test]
    fn a_rating_without_a_scale_gets_the_default_and_text_takes_no_options() {
        let mut qs = vec![
            q(QuestionKind::Rating, &[], true),
            q(QuestionKind::Text, &["x"], false),
        ];
        let mut v = Violations::new();
        check_questions(&mut qs, &mut v);
        assert_eq!(qs[0].options, DEFAULT_SCALE);
        let e = v.finish().unwrap_err().to_string();
        assert!(e.contains("questions[1].options"), "{e}");
    }

    #[test]
    fn answers_are_checked_per_question_and_stored_as_indexes() {
        let qs = vec![
            q(QuestionKind::Single, &["a", "b"], true),
            q(QuestionKind::Multiple, &["a", "b", "c"], false),
            q(QuestionKind::Text, &[], false),
        ];
        let mut v = Violations::new();
        let a = check_answers(&qs, &[json!(1), json!([2, 0]), json!("  好 ")], &mut v);
        assert!(v.finish().is_ok());
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"[1,[0,2],"好"]"#);

        let mut v = Violations::new();
        check_answers(&qs, &[json!(2), json!([1, 1]), json!(3)], &mut v);
        let e = v.finish().unwrap_err().to_string();
        for f in ["answers[0]", "answers[1]", "answers[2]"] {
            assert!(e.contains(f), "{e}");
        }

        let mut v = Violations::new();
        check_answers(
            &qs,
            &[serde_json::Value::Null, json!([]), json!("")],
            &mut v,
        );
        let e = v.finish().unwrap_err().to_string();
        assert!(
            e.contains("answers[0]: this question must be answered"),
            "{e}"
        );
        assert!(!e.contains("answers[1]"), "{e}");
    }
}
