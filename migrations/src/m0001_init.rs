//! Units, members, sessions, posts, broadcasts and inbox items.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
    Name,
    ParentId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
    Name,
    UnitId,
    Role,
    Phone,
    WecomUserid,
    WechatOpenid,
    InviteCode,
    Username,
    PasswordHash,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MemberTags {
    Table,
    MemberId,
    Tag,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    MemberId,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    Kind,
    Title,
    Summary,
    BodyMd,
    Media,
    StudyMinutes,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Broadcasts {
    Table,
    Id,
    PostId,
    Audience,
    Channels,
    Status,
    SendAt,
    Timezone,
    ReadBy,
    Urgent,
    AudienceSize,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    SentAt,
    LeaseOwner,
    LeaseUntil,
    FanoutCursor,
}

#[derive(DeriveIden)]
enum InboxItems {
    Table,
    Id,
    MemberId,
    BroadcastId,
    Occurrence,
    PostId,
    CreatedAt,
    ReadAt,
}

fn ts<T: IntoIden>(name: T) -> ColumnDef {
    timestamp_with_time_zone(name)
}

fn ts_null<T: IntoIden>(name: T) -> ColumnDef {
    timestamp_with_time_zone_null(name)
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(big_pk_auto(Units::Id))
                    .col(string(Units::Name))
                    .col(big_integer_null(Units::ParentId))
                    .col(ts(Units::CreatedAt))
                    .foreign_key(&mut fk(
                        Units::Table,
                        Units::ParentId,
                        Units::Table,
                        Units::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Members::Table)
                    .col(big_pk_auto(Members::Id))
                    .col(string(Members::Name))
                    .col(big_integer_null(Members::UnitId))
                    .col(string(Members::Role))
                    .col(string_null(Members::Phone))
                    .col(string_null(Members::WecomUserid))
                    .col(string_null(Members::WechatOpenid).unique_key())
                    .col(string_null(Members::InviteCode).unique_key())
                    .col(string_null(Members::Username).unique_key())
                    .col(string_null(Members::PasswordHash))
                    .col(boolean(Members::Active).default(true))
                    .col(ts(Members::CreatedAt))
                    .col(ts(Members::UpdatedAt))
                    .foreign_key(&mut fk(
                        Members::Table,
                        Members::UnitId,
                        Units::Table,
                        Units::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_members_unit")
                    .table(Members::Table)
                    .col(Members::UnitId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_members_phone")
                    .table(Members::Table)
                    .col(Members::Phone)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MemberTags::Table)
                    .col(big_integer(MemberTags::MemberId))
                    .col(string(MemberTags::Tag))
                    .primary_key(
                        Index::create()
                            .col(MemberTags::MemberId)
                            .col(MemberTags::Tag),
                    )
                    .foreign_key(&mut fk(
                        MemberTags::Table,
                        MemberTags::MemberId,
                        Members::Table,
                        Members::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_member_tags_tag")
                    .table(MemberTags::Table)
                    .col(MemberTags::Tag)
                    .col(MemberTags::MemberId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string(Sessions::Id).primary_key())
                    .col(big_integer(Sessions::MemberId))
                    .col(ts(Sessions::CreatedAt))
                    .col(ts_null(Sessions::RevokedAt))
                    .foreign_key(&mut fk(
                        Sessions::Table,
                        Sessions::MemberId,
                        Members::Table,
                        Members::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(big_pk_auto(RefreshTokens::Id))
                    .col(string(RefreshTokens::SessionId))
                    .col(string(RefreshTokens::TokenHash).unique_key())
                    .col(ts(RefreshTokens::CreatedAt))
                    .col(ts(RefreshTokens::ExpiresAt))
                    .col(ts_null(RefreshTokens::UsedAt))
                    .foreign_key(&mut fk(
                        RefreshTokens::Table,
                        RefreshTokens::SessionId,
                        Sessions::Table,
                        Sessions::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(big_pk_auto(Posts::Id))
                    .col(string(Posts::Kind))
                    .col(string(Posts::Title))
                    .col(string_null(Posts::Summary))
                    .col(text(Posts::BodyMd))
                    .col(json(Posts::Media))
                    .col(integer(Posts::StudyMinutes).default(0))
                    .col(big_integer_null(Posts::CreatedBy))
                    .col(ts(Posts::CreatedAt))
                    .col(ts(Posts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_kind")
                    .table(Posts::Table)
                    .col(Posts::Kind)
                    .col(Posts::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Broadcasts::Table)
                    .col(big_pk_auto(Broadcasts::Id))
                    .col(big_integer(Broadcasts::PostId))
                    .col(json(Broadcasts::Audience))
                    .col(json(Broadcasts::Channels))
                    .col(string(Broadcasts::Status))
                    .col(ts(Broadcasts::SendAt))
                    .col(string(Broadcasts::Timezone))
                    .col(ts_null(Broadcasts::ReadBy))
                    .col(boolean(Broadcasts::Urgent).default(false))
                    .col(big_integer(Broadcasts::AudienceSize).default(0))
                    .col(big_integer_null(Broadcasts::CreatedBy))
                    .col(ts(Broadcasts::CreatedAt))
                    .col(ts(Broadcasts::UpdatedAt))
                    .col(ts_null(Broadcasts::SentAt))
                    .col(string_null(Broadcasts::LeaseOwner))
                    .col(ts_null(Broadcasts::LeaseUntil))
                    .col(big_integer(Broadcasts::FanoutCursor).default(0))
                    .foreign_key(&mut fk(
                        Broadcasts::Table,
                        Broadcasts::PostId,
                        Posts::Table,
                        Posts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_broadcasts_status_send_at")
                    .table(Broadcasts::Table)
                    .col(Broadcasts::Status)
                    .col(Broadcasts::SendAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InboxItems::Table)
                    .col(big_pk_auto(InboxItems::Id))
                    .col(big_integer(InboxItems::MemberId))
                    .col(big_integer(InboxItems::BroadcastId))
                    .col(big_integer(InboxItems::Occurrence).default(0))
                    .col(big_integer(InboxItems::PostId))
                    .col(ts(InboxItems::CreatedAt))
                    .col(ts_null(InboxItems::ReadAt))
                    .foreign_key(&mut fk(
                        InboxItems::Table,
                        InboxItems::MemberId,
                        Members::Table,
                        Members::Id,
                    ))
                    .foreign_key(&mut fk(
                        InboxItems::Table,
                        InboxItems::BroadcastId,
                        Broadcasts::Table,
                        Broadcasts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // Exactly once per recipient and occurrence: a repeated fan-out is a no-op.
        manager
            .create_index(
                Index::create()
                    .name("uq_inbox_broadcast_occurrence_member")
                    .table(InboxItems::Table)
                    .col(InboxItems::BroadcastId)
                    .col(InboxItems::Occurrence)
                    .col(InboxItems::MemberId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The inbox page: a member's items, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_inbox_member_id")
                    .table(InboxItems::Table)
                    .col(InboxItems::MemberId)
                    .col(InboxItems::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InboxItems::Table.into_iden(),
            Broadcasts::Table.into_iden(),
            Posts::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            MemberTags::Table.into_iden(),
            Members::Table.into_iden(),
            Units::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
