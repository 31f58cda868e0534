//! A planned lesson of a study plan (migration m0018), linked to its post once written.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "study_plan_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    /// Its order in the plan.
    pub position: i32,
    /// 1 to 12.
    pub month: i32,
    pub theme: Option<String>,
    pub title: String,
    pub post_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::study_plans::Entity",
        from = "Column::PlanId",
        to = "super::study_plans::Column::Id",
        on_delete = "Cascade"
    )]
    Plan,
}

impl Related<super::study_plans::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Plan.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
