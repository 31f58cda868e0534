//! One-time tickets for logging in to the web console by scanning a QR code with the
//! mini-program (WECHAT.md §12). The console shows a ticket; the secretary's mini-program,
//! already signed in, approves it; the browser that asked for it (and only that one: it holds
//! the browser key) turns it into a console session. Stored, so that the approval may reach any
//! API process and the waiting browser may poll any other. Only hashes are kept.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsoleTickets {
    Table,
    /// sha256 of the ticket the QR code carries.
    TicketHash,
    /// sha256 of the key in the asking browser's cookie.
    BrowserHash,
    CreatedAt,
    ExpiresAt,
    ApprovedBy,
    ApprovedAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsoleTickets::Table)
                    .col(string(ConsoleTickets::TicketHash).primary_key())
                    .col(string(ConsoleTickets::BrowserHash))
                    .col(timestamp_with_time_zone(ConsoleTickets::CreatedAt))
                    .col(timestamp_with_time_zone(ConsoleTickets::ExpiresAt))
                    .col(big_integer_null(ConsoleTickets::ApprovedBy))
                    .col(timestamp_with_time_zone_null(ConsoleTickets::ApprovedAt))
                    .col(timestamp_with_time_zone_null(ConsoleTickets::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("console_tickets_expires_at")
                    .table(ConsoleTickets::Table)
                    .col(ConsoleTickets::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsoleTickets::Table).to_owned())
            .await
    }
}
