//! Recurring broadcasts: the rule, the next occurrence due, the occurrence being fanned out,
//! and how many occurrences went out.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Broadcasts {
    Table,
    Status,
    SendAt,
    Recurrence,
    NextRunAt,
    Occurrence,
    OccurrencesSent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        let columns = [
            ColumnDef::new(Broadcasts::Recurrence)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(Broadcasts::NextRunAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Broadcasts::Occurrence)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Broadcasts::OccurrencesSent)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        ];
        for mut col in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Broadcasts::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        // Broadcasts created before this migration: a pending one runs at its send time, a
        // sent one counts as one occurrence.
        manager
            .exec_stmt(
                Query::update()
                    .table(Broadcasts::Table)
                    .value(Broadcasts::NextRunAt, Expr::col(Broadcasts::SendAt))
                    .and_where(Expr::col(Broadcasts::Status).is_in(["scheduled", "sending"]))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Broadcasts::Table)
                    .value(Broadcasts::OccurrencesSent, 1)
                    .and_where(Expr::col(Broadcasts::Status).eq("sent"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_broadcasts_status_next_run_at")
                    .table(Broadcasts::Table)
                    .col(Broadcasts::Status)
                    .col(Broadcasts::NextRunAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_broadcasts_status_next_run_at")
                    .table(Broadcasts::Table)
                    .to_owned(),
            )
            .await?;
        for col in [
            Broadcasts::OccurrencesSent,
            Broadcasts::Occurrence,
            Broadcasts::NextRunAt,
            Broadcasts::Recurrence,
        ] {
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
