use sea_orm::entity::prelude::*;

/// The WeChat subscribe template used for one post kind, and which keyword carries what.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: crate::push::templates::TemplateKind,
    pub template_id: String,
    /// The mini-program page to open, with `{item_id}` replaced by the inbox item's id.
    pub page: Option<String>,
    /// `{"thing1": "title", "time2": "time", ...}`.
    pub fields: crate::push::templates::Fields,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
