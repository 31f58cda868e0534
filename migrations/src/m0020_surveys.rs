//! Anonymous evaluation surveys (issue 14, part 1; DOMAIN.md: all members evaluate the branch's
//! work, 测评).
//!
//! - `surveys`: what is asked, of whom, until when; its post and broadcast once published.
//! - `survey_participants`: who was asked and whether they have answered. No time, no link to a
//!   ballot.
//! - `survey_ballots`: what was answered. No member, no unit, no time; its key is random.
//!
//! The two tables share no column but the survey's id. On SQLite both are `WITHOUT ROWID`
//! tables, so that their rows lie in key order (a participant's by member id, a ballot's by its
//! random id), never in the order they were written. docs/surveys.md gives the whole argument.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Surveys {
    Table,
    Id,
    UnitId,
    Title,
    Intro,
    Questions,
    Audience,
    MinGroup,
    ClosesAt,
    Status,
    PostId,
    BroadcastId,
    PublishedAt,
    ClosedAt,
    RemindedAt,
    AutoReminded,
    Sealed,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SurveyParticipants {
    Table,
    SurveyId,
    MemberId,
    UnitId,
    Answered,
}

#[derive(DeriveIden)]
enum SurveyBallots {
    Table,
    SurveyId,
    Id,
    Answers,
    Sealed,
}

/// Creates `table`; on SQLite without a rowid, so that rows are stored in key order.
async fn create_keyed(
    manager: &SchemaManager<'_>,
    table: TableCreateStatement,
) -> Result<(), DbErr> {
    if manager.get_database_backend() == DatabaseBackend::Sqlite {
        let sql = table.to_string(SqliteQueryBuilder);
        manager
            .get_connection()
            .execute_unprepared(&format!("{sql} WITHOUT ROWID"))
            .await?;
        Ok(())
    } else {
        manager.create_table(table).await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Surveys::Table)
                    .col(big_integer(Surveys::Id).auto_increment().primary_key())
                    .col(big_integer_null(Surveys::UnitId))
                    .col(string_len(Surveys::Title, 200))
                    .col(text(Surveys::Intro))
                    .col(json(Surveys::Questions))
                    .col(json(Surveys::Audience))
                    .col(integer(Surveys::MinGroup))
                    .col(timestamp_with_time_zone(Surveys::ClosesAt))
                    .col(string_len(Surveys::Status, 16))
                    .col(big_integer_null(Surveys::PostId))
                    .col(big_integer_null(Surveys::BroadcastId))
                    .col(timestamp_with_time_zone_null(Surveys::PublishedAt))
                    .col(timestamp_with_time_zone_null(Surveys::ClosedAt))
                    .col(timestamp_with_time_zone_null(Surveys::RemindedAt))
                    .col(boolean(Surveys::AutoReminded).default(false))
                    .col(boolean(Surveys::Sealed).default(false))
                    .col(big_integer_null(Surveys::CreatedBy))
                    .col(timestamp_with_time_zone(Surveys::CreatedAt))
                    .col(timestamp_with_time_zone(Surveys::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("surveys_status_closes")
                    .table(Surveys::Table)
                    .col(Surveys::Status)
                    .col(Surveys::ClosesAt)
                    .to_owned(),
            )
            .await?;
        create_keyed(
            manager,
            Table::create()
                .table(SurveyParticipants::Table)
                .col(big_integer(SurveyParticipants::SurveyId))
                .col(big_integer(SurveyParticipants::MemberId))
                .col(big_integer_null(SurveyParticipants::UnitId))
                .col(boolean(SurveyParticipants::Answered).default(false))
                .primary_key(
                    Index::create()
                        .col(SurveyParticipants::SurveyId)
                        .col(SurveyParticipants::MemberId),
                )
                .to_owned(),
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("survey_participants_member")
                    .table(SurveyParticipants::Table)
                    .col(SurveyParticipants::MemberId)
                    .to_owned(),
            )
            .await?;
        create_keyed(
            manager,
            Table::create()
                .table(SurveyBallots::Table)
                .col(big_integer(SurveyBallots::SurveyId))
                .col(string_len(SurveyBallots::Id, 32))
                .col(json(SurveyBallots::Answers))
                .col(boolean(SurveyBallots::Sealed).default(false))
                .primary_key(
                    Index::create()
                        .col(SurveyBallots::SurveyId)
                        .col(SurveyBallots::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            SurveyBallots::Table.into_iden(),
            SurveyParticipants::Table.into_iden(),
            Surveys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
