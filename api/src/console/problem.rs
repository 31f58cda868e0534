//! What is wrong with a console form, field by field, in the console's words: the services'
//! validation messages (English, for the JSON API's clients) translated where a form can meet
//! them, with each page naming its own fields.

use fingertip_core::CoreError;
use fingertip_core::error::FieldError;

/// A page's Chinese name for one of its fields.
pub(super) type Labels = fn(&str) -> &'static str;

#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct Problem {
    pub(super) field: String,
    pub(super) label: &'static str,
    pub(super) message: String,
}

impl Problem {
    /// A problem the page found itself (its message already in Chinese).
    pub(super) fn new(field: &str, message: &str, labels: Labels) -> Self {
        Self {
            label: labels(field),
            field: field.into(),
            message: message.into(),
        }
    }

    /// A service's refusal of a field.
    pub(super) fn of(e: FieldError, labels: Labels) -> Self {
        Self {
            label: labels(&e.field),
            message: worded(&e.message),
            field: e.field,
        }
    }

    /// The problems of a validation error; any other error is handed back.
    pub(super) fn all(e: CoreError, labels: Labels) -> Result<Vec<Self>, CoreError> {
        match e {
            CoreError::Validation { details, .. } => {
                Ok(details.into_iter().map(|d| Self::of(d, labels)).collect())
            }
            e => Err(e),
        }
    }
}

/// The services' messages a console form can meet, in Chinese; any other is shown as it is.
pub(super) fn worded(m: &str) -> String {
    let zh = match m {
        "must not be empty" => "不能为空",
        "is required" => "必须填写",
        "give a place or an online_link" => "请填写地点或线上会议链接",
        "does not exist" => "不存在，或不在您管理的范围内",
        "is in the past" => "已经过去了",
        "is more than two years ahead" => "不能晚于两年之后",
        "must be after the send time" => "须晚于发送时间",
        "is more than two years after the send time" => "不能晚于发送时间两年以上",
        "selects no active member" => "没有选中任何在册成员",
        "must be between 0 and 600" => "应在 0 到 600 分钟之间",
        "must be a phone number (digits, spaces, + and -)" => "应为电话号码（数字、空格、+ 和 -）",
        m if m.starts_with("must be at most") => {
            let n: String = m.chars().filter(char::is_ascii_digit).collect();
            return format!("太长了（最多 {n} 字）");
        }
        m if m.starts_with("cannot be combined with recurrence") => "定期发送不能设阅读期限",
        m if m.starts_with("choose `all`") => "请选择全体成员，或至少一个单位、身份或标签",
        m if m.starts_with("the wechat channel is not configured") => "本服务器未配置微信推送",
        m if m.starts_with("the wecom channel is not configured") => "本服务器未配置企业微信推送",
        m if m.starts_with("may repeat at most hourly") => "最多每小时一次",
        m if m.starts_with("never fires") => "从开始时间起不会触发（请检查次数、截止日期等）",
        m if m.starts_with("at most") && m.ends_with("tags") => "标签太多了",
        m if m.starts_with("each tag must be at most") => "每个标签最多 32 字",
        m => return m.to_string(),
    };
    zh.to_string()
}
