//! The calendar kept on time (issue 13, part 4).
//!
//! - `compliance_rules`: the organisation's cadence, one row per meeting kind: how many meetings
//!   of that kind a unit holds each month, quarter or year, which units it applies to
//!   (`branch`: units with units below them or none above; `group`: a unit below a branch with
//!   none below it; `any`), and how many days before a period closes its secretary is warned.
//!   Seeded with DOMAIN.md's defaults; an admin replaces the set.
//! - `compliance_warnings`: one row per (unit, kind, period) warned, written in the transaction
//!   that sends the warning, so each goes once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ComplianceRules {
    Table,
    Kind,
    Period,
    MinCount,
    AppliesTo,
    WarnDays,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ComplianceWarnings {
    Table,
    UnitId,
    Kind,
    PeriodKey,
    SentAt,
    Secretaries,
}

/// DOMAIN.md: general meeting each quarter, committee and group meetings each month, a Party
/// lesson each quarter, a themed day each month, the organisational life meeting and the
/// evaluation of members each year.
const DEFAULTS: &[(&str, &str, i32, &str, i32)] = &[
    ("general_meeting", "quarter", 1, "branch", 14),
    ("committee_meeting", "month", 1, "branch", 7),
    ("group_meeting", "month", 1, "group", 7),
    ("party_lesson", "quarter", 1, "branch", 14),
    ("themed_day", "month", 1, "branch", 7),
    ("org_life", "year", 1, "branch", 30),
    ("member_evaluation", "year", 1, "branch", 30),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ComplianceRules::Table)
                    .col(string_len(ComplianceRules::Kind, 32).primary_key())
                    .col(string_len(ComplianceRules::Period, 16))
                    .col(integer(ComplianceRules::MinCount))
                    .col(string_len(ComplianceRules::AppliesTo, 16))
                    .col(integer(ComplianceRules::WarnDays))
                    .col(timestamp_with_time_zone(ComplianceRules::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert();
        insert.into_table(ComplianceRules::Table).columns([
            ComplianceRules::Kind,
            ComplianceRules::Period,
            ComplianceRules::MinCount,
            ComplianceRules::AppliesTo,
            ComplianceRules::WarnDays,
            ComplianceRules::UpdatedAt,
        ]);
        for (kind, period, min, applies, warn) in DEFAULTS {
            insert.values_panic([
                (*kind).into(),
                (*period).into(),
                (*min).into(),
                (*applies).into(),
                (*warn).into(),
                Expr::current_timestamp(),
            ]);
        }
        manager.exec_stmt(insert).await?;
        manager
            .create_table(
                Table::create()
                    .table(ComplianceWarnings::Table)
                    .col(big_integer(ComplianceWarnings::UnitId))
                    .col(string_len(ComplianceWarnings::Kind, 32))
                    .col(string_len(ComplianceWarnings::PeriodKey, 16))
                    .col(timestamp_with_time_zone(ComplianceWarnings::SentAt))
                    .col(integer(ComplianceWarnings::Secretaries))
                    .primary_key(
                        Index::create()
                            .col(ComplianceWarnings::UnitId)
                            .col(ComplianceWarnings::Kind)
                            .col(ComplianceWarnings::PeriodKey),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ComplianceWarnings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ComplianceRules::Table).to_owned())
            .await
    }
}
