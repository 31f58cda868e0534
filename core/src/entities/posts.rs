use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: crate::posts::PostKind,
    pub title: String,
    pub summary: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub body_md: String,
    pub media: crate::posts::MediaList,
    pub study_minutes: i32,
    pub created_by: Option<i64>,
    /// The unit this belongs to (a secretary acts only within their subtree); `None` is
    /// organisation-wide.
    pub unit_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::broadcasts::Entity")]
    Broadcasts,
}

impl Related<super::broadcasts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Broadcasts.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
