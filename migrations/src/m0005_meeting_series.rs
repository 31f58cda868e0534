//! Recurring meetings: a series holds a meeting template and a recurrence rule; the workers
//! materialize each occurrence as an ordinary meeting, `notice_lead_minutes` before it starts.
//! The unique key (series_id, starts_at) on `meetings` makes materializing one twice impossible.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MeetingSeries {
    Table,
    Id,
    Kind,
    Title,
    UnitId,
    DurationMinutes,
    Place,
    OnlineLink,
    Agenda,
    Audience,
    PostId,
    ReminderOffsets,
    Timezone,
    Recurrence,
    StartsAt,
    NoticeLeadMinutes,
    NextAt,
    MaterializeAt,
    Status,
    LeaseOwner,
    LeaseUntil,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    SeriesId,
    StartsAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MeetingSeries::Table)
                    .col(big_pk_auto(MeetingSeries::Id))
                    .col(string(MeetingSeries::Kind))
                    .col(string(MeetingSeries::Title))
                    .col(big_integer_null(MeetingSeries::UnitId))
                    .col(integer(MeetingSeries::DurationMinutes))
                    .col(string_null(MeetingSeries::Place))
                    .col(string_null(MeetingSeries::OnlineLink))
                    .col(text(MeetingSeries::Agenda))
                    .col(json(MeetingSeries::Audience))
                    .col(big_integer_null(MeetingSeries::PostId))
                    .col(json(MeetingSeries::ReminderOffsets))
                    .col(string(MeetingSeries::Timezone))
                    .col(text(MeetingSeries::Recurrence))
                    .col(timestamp_with_time_zone(MeetingSeries::StartsAt))
                    .col(integer(MeetingSeries::NoticeLeadMinutes).default(4320))
                    .col(timestamp_with_time_zone_null(MeetingSeries::NextAt))
                    .col(timestamp_with_time_zone_null(MeetingSeries::MaterializeAt))
                    .col(string(MeetingSeries::Status))
                    .col(string_null(MeetingSeries::LeaseOwner))
                    .col(timestamp_with_time_zone_null(MeetingSeries::LeaseUntil))
                    .col(big_integer_null(MeetingSeries::CreatedBy))
                    .col(timestamp_with_time_zone(MeetingSeries::CreatedAt))
                    .col(timestamp_with_time_zone(MeetingSeries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_meeting_series_status_materialize_at")
                    .table(MeetingSeries::Table)
                    .col(MeetingSeries::Status)
                    .col(MeetingSeries::MaterializeAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Meetings::Table)
                    .add_column(ColumnDef::new(Meetings::SeriesId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // One meeting per occurrence: a second insert for the same start is a conflict.
        manager
            .create_index(
                Index::create()
                    .name("uq_meetings_series_starts_at")
                    .table(Meetings::Table)
                    .col(Meetings::SeriesId)
                    .col(Meetings::StartsAt)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("uq_meetings_series_starts_at")
                    .table(Meetings::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Meetings::Table)
                    .drop_column(Meetings::SeriesId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(MeetingSeries::Table).to_owned())
            .await
    }
}
