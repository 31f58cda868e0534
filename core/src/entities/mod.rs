//! sea-orm entities: one file a table: its row (closed word sets as `words!` enums, JSON
//! columns as their Rust types) and its foreign keys as relations, the same as in the
//! migrations, so that a join is `inner_join(members::Entity)` or `find_also_related`.
//! Behaviour lives in the services.

pub mod audit_head;
pub mod audit_log;
pub mod broadcast_steps;
pub mod broadcasts;
pub mod care_categories;
pub mod care_records;
pub mod care_reminders;
pub mod compliance_rules;
pub mod compliance_warnings;
pub mod console_tickets;
pub mod disclosures;
pub mod feedback;
pub mod feedback_messages;
pub mod inbox_items;
pub mod inbox_unread;
pub mod meeting_broadcasts;
pub mod meeting_invitees;
pub mod meeting_series;
pub mod meetings;
pub mod member_push_prefs;
pub mod member_tags;
pub mod members;
pub mod password_links;
pub mod posts;
pub mod push_deliveries;
pub mod push_templates;
pub mod refresh_tokens;
pub mod sessions;
pub mod study_entries;
pub mod study_plan_items;
pub mod study_plans;
pub mod study_sessions;
pub mod study_targets;
pub mod survey_ballots;
pub mod survey_participants;
pub mod surveys;
pub mod units;
pub mod wechat_credits;

#[cfg(test)]
mod tests {
    //! The JSON columns are typed (`FromJsonQueryResult`); rows written before that must read
    //! the same and be written back byte for byte.

    use std::fmt::Debug;

    use serde::de::DeserializeOwned;

    use crate::audience::Audience;
    use crate::broadcasts::Channels;
    use crate::meetings::ReminderOffsets;
    use crate::posts::MediaList;
    use crate::push::templates::Fields;

    /// `stored` as the text in the column; reading it and writing it back gives the same text.
    fn same_bytes<T>(stored: &str)
    where
        T: DeserializeOwned + Into<sea_orm::Value> + Debug,
    {
        let typed: T = serde_json::from_str(stored).unwrap_or_else(|e| panic!("{stored}: {e}"));
        let sea_orm::Value::Json(Some(json)) = typed.into() else {
            panic!("{stored}: not written as JSON");
        };
        assert_eq!(json.to_string(), stored);
    }

    #[test]
    fn stored_json_reads_back_byte_for_byte() {
        same_bytes::<Audience>(
            r#"{"all":true,"member_ids":[],"roles":[],"tags":[],"unit_ids":[]}"#,
        );
        same_bytes::<Audience>(
            r#"{"all":false,"member_ids":[7],"roles":["member","secretary"],"scope_units":[3,4],"tags":["青年"],"unit_ids":[3]}"#,
        );
        same_bytes::<Audience>(
            r#"{"all":false,"meeting":{"absent_only":false,"answers":["attending"],"meeting_id":5,"only_while_scheduled":true},"member_ids":[],"roles":[],"tags":[],"unit_ids":[2]}"#,
        );
        same_bytes::<Channels>(r#"["inbox","wechat","wecom"]"#);
        same_bytes::<ReminderOffsets>("[1440,60]");
        same_bytes::<ReminderOffsets>("[]");
        same_bytes::<MediaList>(
            r#"[{"kind":"video","title":"微党课","url":"https://example.org/v.mp4"},{"kind":"link","url":"https://example.org"}]"#,
        );
        same_bytes::<Fields>(r#"{"thing1":"title","time2":"time"}"#);
    }
}
