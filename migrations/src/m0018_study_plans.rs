//! A unit's annual study plan (issue 13, part 5): themes and planned lessons by month.
//!
//! - `study_plans`: one per unit and year, with its themes (a JSON array of words) and the post
//!   it was last published as.
//! - `study_plan_items`: the planned lessons, by month, each linked to its post once written.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StudyPlans {
    Table,
    Id,
    UnitId,
    Year,
    Title,
    Themes,
    PublishedPostId,
    PublishedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StudyPlanItems {
    Table,
    Id,
    PlanId,
    Position,
    Month,
    Theme,
    Title,
    PostId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StudyPlans::Table)
                    .col(big_integer(StudyPlans::Id).auto_increment().primary_key())
                    .col(big_integer(StudyPlans::UnitId))
                    .col(integer(StudyPlans::Year))
                    .col(string_len(StudyPlans::Title, 200))
                    .col(json(StudyPlans::Themes))
                    .col(big_integer_null(StudyPlans::PublishedPostId))
                    .col(timestamp_with_time_zone_null(StudyPlans::PublishedAt))
                    .col(big_integer_null(StudyPlans::CreatedBy))
                    .col(timestamp_with_time_zone(StudyPlans::CreatedAt))
                    .col(timestamp_with_time_zone(StudyPlans::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("study_plans_unit_year")
                    .table(StudyPlans::Table)
                    .col(StudyPlans::UnitId)
                    .col(StudyPlans::Year)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StudyPlanItems::Table)
                    .col(
                        big_integer(StudyPlanItems::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(StudyPlanItems::PlanId))
                    .col(integer(StudyPlanItems::Position))
                    .col(integer(StudyPlanItems::Month))
                    .col(string_len_null(StudyPlanItems::Theme, 100))
                    .col(string_len(StudyPlanItems::Title, 200))
                    .col(big_integer_null(StudyPlanItems::PostId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StudyPlanItems::Table, StudyPlanItems::PlanId)
                            .to(StudyPlans::Table, StudyPlans::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("study_plan_items_plan")
                    .table(StudyPlanItems::Table)
                    .col(StudyPlanItems::PlanId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StudyPlanItems::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(StudyPlans::Table).to_owned())
            .await
    }
}
