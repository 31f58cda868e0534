//! Quiet hours and the off-site digest (issue 13, part 3): each member's own push preferences.
//!
//! A member without a row has the organisation's defaults (`FINGERTIP_QUIET_HOURS`,
//! `FINGERTIP_DIGEST_AT`) and is not off-site. Times are minutes of the local day (0–1439) in
//! the organisation's zone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MemberPushPrefs {
    Table,
    MemberId,
    QuietOff,
    QuietFrom,
    QuietUntil,
    OffSite,
    DigestAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MemberPushPrefs::Table)
                    .col(big_integer(MemberPushPrefs::MemberId).primary_key())
                    .col(boolean(MemberPushPrefs::QuietOff).default(false))
                    .col(integer_null(MemberPushPrefs::QuietFrom))
                    .col(integer_null(MemberPushPrefs::QuietUntil))
                    .col(boolean(MemberPushPrefs::OffSite).default(false))
                    .col(integer_null(MemberPushPrefs::DigestAt))
                    .col(timestamp_with_time_zone(MemberPushPrefs::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MemberPushPrefs::Table, MemberPushPrefs::MemberId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MemberPushPrefs::Table).to_owned())
            .await
    }
}
