//! Meetings (三会一课): the meeting, its invitees with their answers and attendance, and the
//! broadcasts sent for it (notice, changes, reminders, make-up study).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Meetings {
    Table,
    Id,
    Kind,
    Title,
    UnitId,
    StartsAt,
    EndsAt,
    Place,
    OnlineLink,
    Agenda,
    Audience,
    PostId,
    Timezone,
    ReminderOffsets,
    Status,
    NoticeBroadcastId,
    MinutesMd,
    MinutesAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MeetingInvitees {
    Table,
    Id,
    MeetingId,
    MemberId,
    Answer,
    Reason,
    AnsweredAt,
    Attendance,
    CheckedInAt,
    CheckInMethod,
    RecordedBy,
    CheckinFailures,
}

#[derive(DeriveIden)]
enum MeetingBroadcasts {
    Table,
    BroadcastId,
    MeetingId,
    Purpose,
    OffsetMinutes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Broadcasts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Meetings::Table)
                    .col(big_pk_auto(Meetings::Id))
                    .col(string(Meetings::Kind))
                    .col(string(Meetings::Title))
                    .col(big_integer_null(Meetings::UnitId))
                    .col(timestamp_with_time_zone(Meetings::StartsAt))
                    .col(timestamp_with_time_zone(Meetings::EndsAt))
                    .col(string_null(Meetings::Place))
                    .col(string_null(Meetings::OnlineLink))
                    .col(text(Meetings::Agenda))
                    .col(json(Meetings::Audience))
                    .col(big_integer_null(Meetings::PostId))
                    .col(string(Meetings::Timezone))
                    .col(json(Meetings::ReminderOffsets))
                    .col(string(Meetings::Status))
                    .col(big_integer_null(Meetings::NoticeBroadcastId))
                    .col(text_null(Meetings::MinutesMd))
                    .col(timestamp_with_time_zone_null(Meetings::MinutesAt))
                    .col(big_integer_null(Meetings::CreatedBy))
                    .col(timestamp_with_time_zone(Meetings::CreatedAt))
                    .col(timestamp_with_time_zone(Meetings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_meetings_starts_at")
                    .table(Meetings::Table)
                    .col(Meetings::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeetingInvitees::Table)
                    .col(big_pk_auto(MeetingInvitees::Id))
                    .col(big_integer(MeetingInvitees::MeetingId))
                    .col(big_integer(MeetingInvitees::MemberId))
                    .col(string(MeetingInvitees::Answer).default("none"))
                    .col(text_null(MeetingInvitees::Reason))
                    .col(timestamp_with_time_zone_null(MeetingInvitees::AnsweredAt))
                    .col(string_null(MeetingInvitees::Attendance))
                    .col(timestamp_with_time_zone_null(MeetingInvitees::CheckedInAt))
                    .col(string_null(MeetingInvitees::CheckInMethod))
                    .col(big_integer_null(MeetingInvitees::RecordedBy))
                    .col(integer(MeetingInvitees::CheckinFailures).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MeetingInvitees::Table, MeetingInvitees::MeetingId)
                            .to(Meetings::Table, Meetings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MeetingInvitees::Table, MeetingInvitees::MemberId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_meeting_invitee")
                    .table(MeetingInvitees::Table)
                    .col(MeetingInvitees::MeetingId)
                    .col(MeetingInvitees::MemberId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // A member's own meetings.
        manager
            .create_index(
                Index::create()
                    .name("idx_meeting_invitees_member")
                    .table(MeetingInvitees::Table)
                    .col(MeetingInvitees::MemberId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeetingBroadcasts::Table)
                    .col(big_integer(MeetingBroadcasts::BroadcastId).primary_key())
                    .col(big_integer(MeetingBroadcasts::MeetingId))
                    .col(string(MeetingBroadcasts::Purpose))
                    .col(integer_null(MeetingBroadcasts::OffsetMinutes))
                    .col(timestamp_with_time_zone(MeetingBroadcasts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MeetingBroadcasts::Table, MeetingBroadcasts::MeetingId)
                            .to(Meetings::Table, Meetings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MeetingBroadcasts::Table, MeetingBroadcasts::BroadcastId)
                            .to(Broadcasts::Table, Broadcasts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_meeting_broadcasts_meeting")
                    .table(MeetingBroadcasts::Table)
                    .col(MeetingBroadcasts::MeetingId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            MeetingBroadcasts::Table.into_iden(),
            MeetingInvitees::Table.into_iden(),
            Meetings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
