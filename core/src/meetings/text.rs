//! How meetings read in notices: the kind in words, local times, the place, the details.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::Core;
use crate::entities::meetings;
use crate::meetings::MeetingKind;

pub fn kind_label(kind: MeetingKind) -> &'static str {
    match kind {
        MeetingKind::GeneralMeeting => "支部党员大会",
        MeetingKind::CommitteeMeeting => "支部委员会",
        MeetingKind::GroupMeeting => "党小组会",
        MeetingKind::PartyLesson => "党课",
        MeetingKind::ThemedDay => "主题党日",
        MeetingKind::StudyDay => "学习日",
        MeetingKind::OrgLife => "组织生活会",
        MeetingKind::MemberEvaluation => "民主评议党员",
        MeetingKind::Other => "会议",
    }
}

pub(super) fn tz_of(core: &Core, m: &meetings::Model) -> Tz {
    m.timezone.parse().unwrap_or(core.settings.timezone)
}

pub(super) fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

pub fn where_text(m: &meetings::Model) -> String {
    match (&m.place, &m.online_link) {
        (Some(p), Some(l)) => format!("{p}（线上：{l}）"),
        (Some(p), None) => p.clone(),
        (None, Some(l)) => format!("线上：{l}"),
        (None, None) => "另行通知".into(),
    }
}

/// The meeting's details in Markdown: the body of every notice.
pub fn details_md(m: &meetings::Model, tz: Tz) -> String {
    let mut s = format!(
        "**会议**：{}（{}）\n\n**时间**：{} 至 {}\n\n**地点**：{}\n",
        m.title,
        kind_label(m.kind),
        local(m.starts_at, tz),
        local(m.ends_at, tz),
        where_text(m),
    );
    if !m.agenda.trim().is_empty() {
        s.push_str(&format!("\n**议程**：\n\n{}\n", m.agenda.trim()));
    }
    s
}
