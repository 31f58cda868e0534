//! Keeping close to members (issue 14, part 2): the eight visits and eight talks (八必访,
//! 八必谈).
//!
//! - `care_categories`: the organisation's lists of occasions for a visit and for a talk
//!   (DOMAIN.md's defaults, plus the yearly heart-to-heart talk), an admin's to change.
//! - `care_records`: a visit or talk with a member: its occasion, date, who went and notes that
//!   only the unit's managers read.
//! - `care_reminders`: one row per unit and year whose secretaries were reminded of the members
//!   without their yearly talk.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CareCategories {
    Table,
    Kind,
    Code,
    Label,
    Position,
}

#[derive(DeriveIden)]
enum CareRecords {
    Table,
    Id,
    MemberId,
    UnitId,
    Kind,
    Category,
    HappenedOn,
    Visitors,
    Notes,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CareReminders {
    Table,
    UnitId,
    Year,
    SentAt,
    Members,
}

const VISITS: &[(&str, &str)] = &[
    ("illness", "生病住院"),
    ("bereavement", "亲人亡故或家庭重大变故"),
    ("hardship", "生活困难"),
    ("family_event", "婚丧嫁娶"),
    ("retirement", "退休"),
    ("discipline", "受到处分"),
    ("assignment", "长期外派"),
    ("low_morale", "思想波动"),
];

const TALKS: &[(&str, &str)] = &[
    ("yearly", "年度谈心谈话"),
    ("newcomer", "新入党或新调入"),
    ("post_change", "岗位变动"),
    ("commendation", "受到表彰或处分"),
    ("low_morale", "思想情绪波动"),
    ("family_conflict", "家庭矛盾"),
    ("work_mistake", "工作失误"),
    ("public_criticism", "受到群众批评"),
    ("retirement", "退休"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CareCategories::Table)
                    .col(string_len(CareCategories::Kind, 16))
                    .col(string_len(CareCategories::Code, 32))
                    .col(string_len(CareCategories::Label, 64))
                    .col(integer(CareCategories::Position))
                    .primary_key(
                        Index::create()
                            .col(CareCategories::Kind)
                            .col(CareCategories::Code),
                    )
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert();
        insert.into_table(CareCategories::Table).columns([
            CareCategories::Kind,
            CareCategories::Code,
            CareCategories::Label,
            CareCategories::Position,
        ]);
        for (kind, list) in [("visit", VISITS), ("talk", TALKS)] {
            for (i, (code, label)) in list.iter().enumerate() {
                insert.values_panic([
                    kind.into(),
                    (*code).into(),
                    (*label).into(),
                    <i32 as TryFrom<usize>>::try_from(i).unwrap_or(0).into(),
                ]);
            }
        }
        manager.exec_stmt(insert).await?;
        manager
            .create_table(
                Table::create()
                    .table(CareRecords::Table)
                    .col(big_integer(CareRecords::Id).auto_increment().primary_key())
                    .col(big_integer(CareRecords::MemberId))
                    .col(big_integer_null(CareRecords::UnitId))
                    .col(string_len(CareRecords::Kind, 16))
                    .col(string_len(CareRecords::Category, 32))
                    .col(date(CareRecords::HappenedOn))
                    .col(json(CareRecords::Visitors))
                    .col(text_null(CareRecords::Notes))
                    .col(big_integer_null(CareRecords::CreatedBy))
                    .col(timestamp_with_time_zone(CareRecords::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("care_records_unit_date")
                    .table(CareRecords::Table)
                    .col(CareRecords::UnitId)
                    .col(CareRecords::HappenedOn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("care_records_member")
                    .table(CareRecords::Table)
                    .col(CareRecords::MemberId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CareReminders::Table)
                    .col(big_integer(CareReminders::UnitId))
                    .col(integer(CareReminders::Year))
                    .col(timestamp_with_time_zone(CareReminders::SentAt))
                    .col(integer(CareReminders::Members))
                    .primary_key(
                        Index::create()
                            .col(CareReminders::UnitId)
                            .col(CareReminders::Year),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            CareReminders::Table.into_iden(),
            CareRecords::Table.into_iden(),
            CareCategories::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
