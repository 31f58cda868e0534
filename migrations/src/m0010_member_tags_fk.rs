//! Members' tags without a foreign key on PostgreSQL.
//!
//! `member_tags.member_id → members` made each tag row a roster import writes look the member
//! up and take a share lock on its row: 200,000 tags took 3.0 s with the key and 1.2 s without
//! it (psql, this project's machine), most of an import's tag writing (issue 11). What the key
//! guaranteed is kept otherwise, as for the inbox (m0008):
//! - a tag names a member that exists: tags are written only by the member services (create,
//!   change, import), for members created or locked in the same transaction, and no code
//!   deletes a member (a member is deactivated);
//! - one row per (member, tag): the primary key, untouched.
//!
//! SQLite keeps it (its checks are in-process lookups; dropping a constraint there means
//! rebuilding the table).

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
                "ALTER TABLE member_tags DROP CONSTRAINT IF EXISTS member_tags_member_id_fkey",
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
                "ALTER TABLE member_tags ADD CONSTRAINT member_tags_member_id_fkey \
                 FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE CASCADE",
            )
            .await?;
        Ok(())
    }
}
