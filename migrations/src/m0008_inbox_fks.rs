//! The inbox without foreign keys on PostgreSQL.
//!
//! `inbox_items.member_id → members` and `inbox_items.broadcast_id → broadcasts` made every
//! row the fan-out inserts take a share lock on its member's row and its broadcast's row and
//! look both up: most of what kept the fan-out from the speed of a bare `COPY` (issue 11). What
//! they guaranteed is kept otherwise:
//! - an inbox row names a member and a broadcast that exist: the only writer is the fan-out's
//!   `INSERT … SELECT … FROM members` for a broadcast it holds the lease of, and neither members
//!   nor broadcasts are ever deleted (a member is deactivated, a broadcast canceled);
//! - exactly one row per (broadcast, occurrence, member): the unique index
//!   `uq_inbox_broadcast_occurrence_member`, untouched.
//!
//! SQLite keeps them: its checks are in-process lookups, its fan-out is already near its bulk
//! reference, and dropping a constraint there means rebuilding the table.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE inbox_items \
                 DROP CONSTRAINT IF EXISTS inbox_items_member_id_fkey, \
                 DROP CONSTRAINT IF EXISTS inbox_items_broadcast_id_fkey",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE inbox_items \
                 ADD CONSTRAINT inbox_items_member_id_fkey FOREIGN KEY (member_id) \
                 REFERENCES members (id) ON DELETE CASCADE, \
                 ADD CONSTRAINT inbox_items_broadcast_id_fkey FOREIGN KEY (broadcast_id) \
                 REFERENCES broadcasts (id) ON DELETE CASCADE",
            )
            .await?;
        Ok(())
    }
}
