//! Opening Party affairs with review (issue 14, part 4; DOMAIN.md, 党务公开): a post of kind
//! `disclosure` goes draft → submitted → reviewed (with the secrecy check) → approved →
//! published to its scope, and the published ones form an archive per unit and year.
//!
//! `disclosures` holds one post's way through review: who did each step and when, the reason it
//! was last sent back, and the broadcast it was published with.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Disclosures {
    Table,
    Id,
    PostId,
    UnitId,
    Category,
    Scope,
    Year,
    Status,
    SubmittedBy,
    SubmittedAt,
    ReviewedBy,
    ReviewedAt,
    ReviewNote,
    ApprovedBy,
    ApprovedAt,
    PublishedBy,
    PublishedAt,
    BroadcastId,
    ReturnedBy,
    ReturnedAt,
    ReturnReason,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Disclosures::Table)
                    .col(big_integer(Disclosures::Id).auto_increment().primary_key())
                    .col(big_integer(Disclosures::PostId).unique_key())
                    .col(big_integer(Disclosures::UnitId))
                    .col(string_len(Disclosures::Category, 16))
                    .col(string_len(Disclosures::Scope, 16))
                    .col(integer(Disclosures::Year))
                    .col(string_len(Disclosures::Status, 16))
                    .col(big_integer_null(Disclosures::SubmittedBy))
                    .col(timestamp_with_time_zone_null(Disclosures::SubmittedAt))
                    .col(big_integer_null(Disclosures::ReviewedBy))
                    .col(timestamp_with_time_zone_null(Disclosures::ReviewedAt))
                    .col(text_null(Disclosures::ReviewNote))
                    .col(big_integer_null(Disclosures::ApprovedBy))
                    .col(timestamp_with_time_zone_null(Disclosures::ApprovedAt))
                    .col(big_integer_null(Disclosures::PublishedBy))
                    .col(timestamp_with_time_zone_null(Disclosures::PublishedAt))
                    .col(big_integer_null(Disclosures::BroadcastId))
                    .col(big_integer_null(Disclosures::ReturnedBy))
                    .col(timestamp_with_time_zone_null(Disclosures::ReturnedAt))
                    .col(text_null(Disclosures::ReturnReason))
                    .col(big_integer_null(Disclosures::CreatedBy))
                    .col(timestamp_with_time_zone(Disclosures::CreatedAt))
                    .col(timestamp_with_time_zone(Disclosures::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("disclosures_archive")
                    .table(Disclosures::Table)
                    .col(Disclosures::Status)
                    .col(Disclosures::UnitId)
                    .col(Disclosures::Year)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Disclosures::Table).to_owned())
            .await
    }
}
