//! Pushes to phones: one delivery row per recipient, channel and round, the WeChat consent
//! ledger, and the subscribe-message template per post kind.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PushDeliveries {
    Table,
    Id,
    BroadcastId,
    Occurrence,
    Round,
    MemberId,
    Channel,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    LastErrorCode,
    LastError,
    Msgid,
    CreatedAt,
    UpdatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum WechatCredits {
    Table,
    MemberId,
    TemplateId,
    Credits,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PushTemplates {
    Table,
    Kind,
    TemplateId,
    Page,
    Fields,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Broadcasts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PushDeliveries::Table)
                    .col(big_pk_auto(PushDeliveries::Id))
                    .col(big_integer(PushDeliveries::BroadcastId))
                    .col(big_integer(PushDeliveries::Occurrence).default(0))
                    .col(integer(PushDeliveries::Round).default(0))
                    .col(big_integer(PushDeliveries::MemberId))
                    .col(string(PushDeliveries::Channel))
                    .col(string(PushDeliveries::Status))
                    .col(integer(PushDeliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone(PushDeliveries::NextAttemptAt))
                    .col(string_null(PushDeliveries::LeaseOwner))
                    .col(timestamp_with_time_zone_null(PushDeliveries::LeaseUntil))
                    .col(big_integer_null(PushDeliveries::LastErrorCode))
                    .col(text_null(PushDeliveries::LastError))
                    .col(string_null(PushDeliveries::Msgid))
                    .col(timestamp_with_time_zone(PushDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone(PushDeliveries::UpdatedAt))
                    .col(timestamp_with_time_zone_null(PushDeliveries::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PushDeliveries::Table, PushDeliveries::BroadcastId)
                            .to(Broadcasts::Table, Broadcasts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PushDeliveries::Table, PushDeliveries::MemberId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Exactly one delivery per recipient, channel and round of an occurrence.
        manager
            .create_index(
                Index::create()
                    .name("uq_push_delivery")
                    .table(PushDeliveries::Table)
                    .col(PushDeliveries::BroadcastId)
                    .col(PushDeliveries::Occurrence)
                    .col(PushDeliveries::Round)
                    .col(PushDeliveries::MemberId)
                    .col(PushDeliveries::Channel)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The sender's work list.
        manager
            .create_index(
                Index::create()
                    .name("idx_push_due")
                    .table(PushDeliveries::Table)
                    .col(PushDeliveries::Status)
                    .col(PushDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // A member's recent sends on a channel (the WeCom per-member budget).
        manager
            .create_index(
                Index::create()
                    .name("idx_push_member_sent")
                    .table(PushDeliveries::Table)
                    .col(PushDeliveries::MemberId)
                    .col(PushDeliveries::Channel)
                    .col(PushDeliveries::SentAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WechatCredits::Table)
                    .col(big_integer(WechatCredits::MemberId))
                    .col(string(WechatCredits::TemplateId))
                    .col(big_integer(WechatCredits::Credits).default(0))
                    .col(timestamp_with_time_zone(WechatCredits::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(WechatCredits::MemberId)
                            .col(WechatCredits::TemplateId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WechatCredits::Table, WechatCredits::MemberId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PushTemplates::Table)
                    .col(string(PushTemplates::Kind).primary_key())
                    .col(string(PushTemplates::TemplateId))
                    .col(string_null(PushTemplates::Page))
                    .col(json(PushTemplates::Fields))
                    .col(timestamp_with_time_zone(PushTemplates::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            PushTemplates::Table.into_iden(),
            WechatCredits::Table.into_iden(),
            PushDeliveries::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
