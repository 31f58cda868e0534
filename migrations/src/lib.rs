//! The one schema of Fingertip, for SQLite and PostgreSQL alike.
//!
//! Every change to the schema is a new migration appended to [`Migrator::migrations`];
//! a migration that has shipped is never edited.

pub use sea_orm_migration::prelude::*;

mod m0001_init;
mod m0002_recurrence;
mod m0003_push;
mod m0004_meetings;
mod m0005_meeting_series;
mod m0006_audit_log;
mod m0007_trust;
mod m0008_inbox_fks;
mod m0009_inbox_unread;
mod m0010_member_tags_fk;
mod m0011_members_wecom_userid;
mod m0012_console_tickets;
mod m0013_password_links;
mod m0014_study;
mod m0015_reading_ladder;
mod m0016_push_prefs;
mod m0017_compliance;
mod m0018_study_plans;
mod m0019_care;
mod m0020_surveys;
mod m0021_feedback;
mod m0022_disclosures;
mod m0023_unread_folded;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_init::Migration),
            Box::new(m0002_recurrence::Migration),
            Box::new(m0003_push::Migration),
            Box::new(m0004_meetings::Migration),
            Box::new(m0005_meeting_series::Migration),
            Box::new(m0006_audit_log::Migration),
            Box::new(m0007_trust::Migration),
            Box::new(m0008_inbox_fks::Migration),
            Box::new(m0009_inbox_unread::Migration),
            Box::new(m0010_member_tags_fk::Migration),
            Box::new(m0011_members_wecom_userid::Migration),
            Box::new(m0012_console_tickets::Migration),
            Box::new(m0013_password_links::Migration),
            Box::new(m0014_study::Migration),
            Box::new(m0015_reading_ladder::Migration),
            Box::new(m0016_push_prefs::Migration),
            Box::new(m0017_compliance::Migration),
            Box::new(m0018_study_plans::Migration),
            Box::new(m0019_care::Migration),
            Box::new(m0020_surveys::Migration),
            Box::new(m0021_feedback::Migration),
            Box::new(m0022_disclosures::Migration),
            Box::new(m0023_unread_folded::Migration),
        ]
    }
}
