//! Feedback to the branch (issue 14, part 3): a member writes to a unit, under their name or
//! anonymously; the unit's managers answer in a thread.
//!
//! - `feedback`: a thread, addressed to a unit. A named one holds its writer's id; an anonymous
//!   one holds no member, only the SHA-256 of the random key its writer's phone keeps, and its
//!   times are days, not moments.
//! - `feedback_messages`: the thread's messages, the writer's (`from_writer`) and the managers'.
//!
//! docs/feedback.md gives the rules and the anonymity argument.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Feedback {
    Table,
    Id,
    UnitId,
    MemberId,
    KeyHash,
    Topic,
    State,
    CreatedAt,
    WaitingSince,
    RemindedAt,
    AnsweredAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum FeedbackMessages {
    Table,
    Id,
    FeedbackId,
    FromWriter,
    AuthorId,
    Body,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Feedback::Table)
                    .col(big_integer(Feedback::Id).auto_increment().primary_key())
                    .col(big_integer(Feedback::UnitId))
                    .col(big_integer_null(Feedback::MemberId))
                    .col(string_len_null(Feedback::KeyHash, 64).unique_key())
                    .col(string_len(Feedback::Topic, 100))
                    .col(string_len(Feedback::State, 16))
                    .col(timestamp_with_time_zone(Feedback::CreatedAt))
                    .col(timestamp_with_time_zone_null(Feedback::WaitingSince))
                    .col(timestamp_with_time_zone_null(Feedback::RemindedAt))
                    .col(timestamp_with_time_zone_null(Feedback::AnsweredAt))
                    .col(timestamp_with_time_zone_null(Feedback::ClosedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "feedback_unit_state",
                vec![Feedback::UnitId, Feedback::State],
            ),
            ("feedback_member", vec![Feedback::MemberId]),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(Feedback::Table);
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(FeedbackMessages::Table)
                    .col(
                        big_integer(FeedbackMessages::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(FeedbackMessages::FeedbackId))
                    .col(boolean(FeedbackMessages::FromWriter))
                    .col(big_integer_null(FeedbackMessages::AuthorId))
                    .col(text(FeedbackMessages::Body))
                    .col(timestamp_with_time_zone(FeedbackMessages::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("feedback_messages_thread")
                    .table(FeedbackMessages::Table)
                    .col(FeedbackMessages::FeedbackId)
                    .col(FeedbackMessages::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            FeedbackMessages::Table.into_iden(),
            Feedback::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
