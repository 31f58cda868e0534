//! One-time links with which an admin lets a secretary (or another admin) set their own
//! console username and password (issue 12). Only the link's hash is kept; a link works once
//! and for three days.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PasswordLinks {
    Table,
    TokenHash,
    MemberId,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PasswordLinks::Table)
                    .col(string(PasswordLinks::TokenHash).primary_key())
                    .col(big_integer(PasswordLinks::MemberId))
                    .col(big_integer_null(PasswordLinks::CreatedBy))
                    .col(timestamp_with_time_zone(PasswordLinks::CreatedAt))
                    .col(timestamp_with_time_zone(PasswordLinks::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasswordLinks::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("password_links_member_id")
                    .table(PasswordLinks::Table)
                    .col(PasswordLinks::MemberId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PasswordLinks::Table).to_owned())
            .await
    }
}
