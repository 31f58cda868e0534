//! Required reading that escalates (issue 13, part 2).
//!
//! - `broadcasts.ladder`: the escalation ladder of a broadcast with a `read_by` deadline (JSON:
//!   how long before the deadline the reminder goes, whether the urgent push at the deadline
//!   and the secretaries' summary run); `NULL` without a deadline. Broadcasts created before
//!   this migration keep `NULL`: no push that nobody asked for goes out after an upgrade.
//! - `broadcasts.ladder_next_at`: when the ladder's next step is due; `NULL` once nothing is
//!   left. The workers' sweep reads this column through its index, so a finished ladder costs
//!   nothing.
//! - `broadcast_steps`: one row per step that ran (broadcast, occurrence, step: unique), written
//!   in the same transaction as the step's pushes and summaries. The unique key is what makes
//!   each step run once, whatever worker restarts or runs at the same time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Broadcasts {
    Table,
    Id,
    Ladder,
    LadderNextAt,
}

#[derive(DeriveIden)]
enum BroadcastSteps {
    Table,
    Id,
    BroadcastId,
    Occurrence,
    Step,
    DueAt,
    RanAt,
    Unread,
    Pushes,
    Round,
    Detail,
}

const INDEX: &str = "idx_broadcasts_ladder_next_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for col in [
            ColumnDef::new(Broadcasts::Ladder).json().null().to_owned(),
            ColumnDef::new(Broadcasts::LadderNextAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            let mut col = col;
            manager
                .alter_table(
                    Table::alter()
                        .table(Broadcasts::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Broadcasts::Table)
                    .col(Broadcasts::LadderNextAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BroadcastSteps::Table)
                    .col(
                        big_integer(BroadcastSteps::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(BroadcastSteps::BroadcastId))
                    .col(big_integer(BroadcastSteps::Occurrence))
                    .col(string_len(BroadcastSteps::Step, 16))
                    .col(timestamp_with_time_zone(BroadcastSteps::DueAt))
                    .col(timestamp_with_time_zone(BroadcastSteps::RanAt))
                    .col(big_integer(BroadcastSteps::Unread))
                    .col(big_integer(BroadcastSteps::Pushes))
                    .col(integer_null(BroadcastSteps::Round))
                    .col(json_null(BroadcastSteps::Detail))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BroadcastSteps::Table, BroadcastSteps::BroadcastId)
                            .to(Broadcasts::Table, Broadcasts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("broadcast_steps_once")
                    .table(BroadcastSteps::Table)
                    .col(BroadcastSteps::BroadcastId)
                    .col(BroadcastSteps::Occurrence)
                    .col(BroadcastSteps::Step)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BroadcastSteps::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(Broadcasts::Table)
                    .to_owned(),
            )
            .await?;
        for col in [Broadcasts::LadderNextAt, Broadcasts::Ladder] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Broadcasts::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
