//! The study-hour ledger (学时, issue 13): what each member has studied, by year.
//!
//! - `study_entries`: credited study. Reading is one row per inbox item (`ref_id`), growing as
//!   the reader's heartbeats are credited, with `credited_until` (the last instant already
//!   counted for that item, whichever device counted it); an admin's record of offline study
//!   (a course, a reading-club session, a youth-forum talk) is a row with no `ref_id`. Meeting
//!   attendance is not stored here: it is read from the meetings' own records.
//! - `study_sessions`: one reading session of one item on one device (the client's random key),
//!   with its last heartbeat, closed once the item is closed.
//! - `study_targets`: the yearly target, by default and by role or tag (DOMAIN.md: 32 hours, 56
//!   for leading cadres, tagged `领导干部`), which an admin changes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StudyEntries {
    Table,
    Id,
    MemberId,
    Year,
    Kind,
    RefId,
    Title,
    Seconds,
    CreditedUntil,
    Note,
    RecordedBy,
    OccurredAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StudySessions {
    Table,
    InboxItemId,
    SessionKey,
    MemberId,
    StartedAt,
    LastAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum StudyTargets {
    Table,
    Rule,
    Value,
    Minutes,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StudyEntries::Table)
                    .col(big_integer(StudyEntries::Id).auto_increment().primary_key())
                    .col(big_integer(StudyEntries::MemberId))
                    .col(integer(StudyEntries::Year))
                    .col(string_len(StudyEntries::Kind, 32))
                    .col(big_integer_null(StudyEntries::RefId))
                    .col(string(StudyEntries::Title))
                    .col(big_integer(StudyEntries::Seconds))
                    .col(timestamp_with_time_zone_null(StudyEntries::CreditedUntil))
                    .col(text_null(StudyEntries::Note))
                    .col(big_integer_null(StudyEntries::RecordedBy))
                    .col(timestamp_with_time_zone(StudyEntries::OccurredAt))
                    .col(timestamp_with_time_zone(StudyEntries::CreatedAt))
                    .col(timestamp_with_time_zone(StudyEntries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("study_entries_member_year")
                    .table(StudyEntries::Table)
                    .col(StudyEntries::MemberId)
                    .col(StudyEntries::Year)
                    .to_owned(),
            )
            .await?;
        // One reading row per inbox item (offline rows have no ref_id; NULLs never collide).
        manager
            .create_index(
                Index::create()
                    .name("study_entries_reading_item")
                    .table(StudyEntries::Table)
                    .col(StudyEntries::Kind)
                    .col(StudyEntries::RefId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StudySessions::Table)
                    .col(big_integer(StudySessions::InboxItemId))
                    .col(string_len(StudySessions::SessionKey, 64))
                    .col(big_integer(StudySessions::MemberId))
                    .col(timestamp_with_time_zone(StudySessions::StartedAt))
                    .col(timestamp_with_time_zone(StudySessions::LastAt))
                    .col(timestamp_with_time_zone_null(StudySessions::ClosedAt))
                    .primary_key(
                        Index::create()
                            .col(StudySessions::InboxItemId)
                            .col(StudySessions::SessionKey),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StudyTargets::Table)
                    .col(string_len(StudyTargets::Rule, 16))
                    .col(string_len(StudyTargets::Value, 64))
                    .col(integer(StudyTargets::Minutes))
                    .col(timestamp_with_time_zone(StudyTargets::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(StudyTargets::Rule)
                            .col(StudyTargets::Value),
                    )
                    .to_owned(),
            )
            .await?;
        // DOMAIN.md's defaults: 32 hours a year, 56 for leading cadres.
        let insert = Query::insert()
            .into_table(StudyTargets::Table)
            .columns([
                StudyTargets::Rule,
                StudyTargets::Value,
                StudyTargets::Minutes,
                StudyTargets::UpdatedAt,
            ])
            .values_panic([
                "default".into(),
                "".into(),
                (32 * 60).into(),
                Expr::current_timestamp(),
            ])
            .values_panic([
                "tag".into(),
                "领导干部".into(),
                (56 * 60).into(),
                Expr::current_timestamp(),
            ])
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            StudyTargets::Table.into_iden(),
            StudySessions::Table.into_iden(),
            StudyEntries::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
