//! An index on members' WeCom user ids, lower-cased.
//!
//! WeCom user ids are case-insensitive (WECHAT.md §11): the reading page behind a WeCom card
//! finds the member whose `lower(wecom_userid)` is the lower-cased id WeCom names, once per
//! sign-in. Without the index that is a scan of the roster (10^5 rows in a district). Both
//! databases index an expression with the same statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS members_wecom_userid_lower \
                 ON members (lower(wecom_userid)) WHERE wecom_userid IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS members_wecom_userid_lower")
            .await?;
        Ok(())
    }
}
