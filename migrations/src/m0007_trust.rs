//! Trust: who owns a post or a broadcast, and the hash-chained audit log.
//!
//! - `posts.unit_id`, `broadcasts.unit_id`: the unit a post or broadcast belongs to (a
//!   secretary's world is their subtree); null is organisation-wide (an admin's). Rows made
//!   before this migration belong to their creator's unit when the creator is a secretary.
//! - The request log of m0006 is kept, renamed `legacy_audit_requests`, and no longer written.
//! - `audit_log` is now the chain of admin actions: one entry per change, written in the
//!   transaction of the change, with `hash = sha256(prev_hash || canonical entry)`.
//!   `audit_head` (one row) holds the last position and hash; every append updates it first,
//!   which is what keeps concurrent writers on one line.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Posts {
    Table,
    UnitId,
}

#[derive(DeriveIden)]
enum Broadcasts {
    Table,
    Id,
    UnitId,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    Seq,
    At,
    ActorMemberId,
    ActorRole,
    Action,
    TargetType,
    TargetId,
    Summary,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum LegacyAuditRequests {
    Table,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Sets `unit_id` to the creator's unit when the creator is a secretary (SQL that both
/// SQLite and PostgreSQL read the same way).
fn backfill_owner(table: &str) -> String {
    format!(
        "UPDATE {table} SET unit_id = (SELECT m.unit_id FROM members m \
         WHERE m.id = {table}.created_by AND m.role = 'secretary')"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .add_column(big_integer_null(Posts::UnitId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Broadcasts::Table)
                    .add_column(big_integer_null(Broadcasts::UnitId))
                    .to_owned(),
            )
            .await?;
        for table in ["posts", "broadcasts"] {
            manager
                .get_connection()
                .execute_unprepared(&backfill_owner(table))
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_broadcasts_unit_id")
                    .table(Broadcasts::Table)
                    .col(Broadcasts::UnitId)
                    .col(Broadcasts::Id)
                    .to_owned(),
            )
            .await?;

        // The old table keeps its index (`idx_audit_log_actor`) under its new name.
        manager
            .rename_table(
                Table::rename()
                    .table(AuditLog::Table, LegacyAuditRequests::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer_uniq(AuditLog::Seq))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(big_integer_null(AuditLog::ActorMemberId))
                    .col(string_null(AuditLog::ActorRole))
                    .col(string(AuditLog::Action))
                    .col(string_null(AuditLog::TargetType))
                    .col(string_null(AuditLog::TargetId))
                    .col(text(AuditLog::Summary))
                    .col(string(AuditLog::PrevHash))
                    .col(string(AuditLog::Hash))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_audit_chain_actor", AuditLog::ActorMemberId),
            ("idx_audit_chain_action", AuditLog::Action),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditLog::Table)
                        .col(col)
                        .col(AuditLog::Seq)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(integer(AuditHead::Id).primary_key())
                    .col(big_integer(AuditHead::Seq))
                    .col(string(AuditHead::Hash))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AuditHead::Table)
                    .columns([AuditHead::Id, AuditHead::Seq, AuditHead::Hash])
                    .values_panic([1.into(), 0i64.into(), GENESIS_HASH.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditHead::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await?;
        manager
            .rename_table(
                Table::rename()
                    .table(LegacyAuditRequests::Table, AuditLog::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_broadcasts_unit_id")
                    .table(Broadcasts::Table)
                    .to_owned(),
            )
            .await?;
        for t in [Posts::Table.into_iden(), Broadcasts::Table.into_iden()] {
            manager
                .alter_table(
                    Table::alter()
                        .table(t)
                        .drop_column(Posts::UnitId)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
