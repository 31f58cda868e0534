use chrono::{DateTime, Utc};
use fingertip_core::auth::Role;
use fingertip_core::org::import::ImportReport;
use fingertip_core::org::{MemberView, UnitNode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::{Id, IdIn, double_option};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUnitRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub parent_id: Option<IdIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitResponse {
    #[schema(value_type = String)]
    pub id: Id,
    pub name: String,
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Id>,
    #[schema(no_recursion)]
    pub children: Vec<UnitResponse>,
}

impl From<UnitNode> for UnitResponse {
    fn from(u: UnitNode) -> Self {
        Self {
            id: Id(u.id),
            name: u.name,
            parent_id: u.parent_id.map(Id),
            children: u.children.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitTreeResponse {
    pub items: Vec<UnitResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateMemberRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    pub unit_id: Option<IdIn>,
    /// member (default), secretary or admin
    #[schema(value_type = Option<super::enums::RoleSchema>)]
    pub role: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<super::enums::TagSchema>, max_items = 20)]
    pub tags: Vec<String>,
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    #[schema(max_length = 64)]
    pub wecom_userid: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PatchMemberRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    pub unit_id: Option<IdIn>,
    #[schema(value_type = Option<super::enums::RoleSchema>)]
    pub role: Option<String>,
    #[schema(value_type = Option<Vec<super::enums::TagSchema>>, max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 32)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub wecom_userid: Option<Option<String>>,
    pub active: Option<bool>,
}

pub fn parse_role(raw: Option<&str>) -> fingertip_core::CoreResult<Option<Role>> {
    raw.map(|r| {
        r.parse::<Role>()
            .map_err(|e| fingertip_core::CoreError::invalid("role", e))
    })
    .transpose()
}

/// A member as admins see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberResponse {
    #[schema(value_type = String)]
    pub id: Id,
    pub name: String,
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    #[schema(value_type = super::enums::RoleSchema)]
    pub role: String,
    pub tags: Vec<String>,
    pub phone: Option<String>,
    pub wecom_userid: Option<String>,
    /// Present until the member binds a WeChat account; hand it to them to bind.
    pub invite_code: Option<String>,
    pub wechat_bound: bool,
    /// WeChat subscribe template id → sends the member still allows. A member with none for
    /// a kind's template cannot be reached by a WeChat push of that kind (the inbox still is).
    pub wechat_credits: std::collections::BTreeMap<String, i64>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<MemberView> for MemberResponse {
    fn from(m: MemberView) -> Self {
        Self {
            id: Id(m.id),
            name: m.name,
            unit_id: m.unit_id.map(Id),
            role: m.role.as_str().into(),
            tags: m.tags,
            phone: m.phone,
            wecom_userid: m.wecom_userid,
            invite_code: if m.wechat_bound { None } else { m.invite_code },
            wechat_bound: m.wechat_bound,
            wechat_credits: Default::default(),
            active: m.active,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MemberQuery {
    /// Members of this unit and its subtree.
    #[param(max_length = 20)]
    pub unit_id: Option<String>,
    #[param(max_length = 32)]
    pub tag: Option<String>,
    /// Part of a name or phone number.
    #[param(max_length = 64)]
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportLineError {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    pub created: u64,
    pub updated: u64,
    /// Lines that matched a member whose fields were already the same: nothing written.
    pub unchanged: u64,
    /// Every bad line, by line number; the other lines were imported.
    pub errors: Vec<ImportLineError>,
}

impl From<ImportReport> for ImportResponse {
    fn from(r: ImportReport) -> Self {
        Self {
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            errors: r
                .errors
                .into_iter()
                .map(|e| ImportLineError {
                    line: e.line,
                    message: e.message,
                })
                .collect(),
        }
    }
}

/// A one-time link to set a console password.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordLinkResponse {
    /// The link to give the member: under `FINGERTIP_PUBLIC_URL` when it is set, otherwise a path.
    pub url: String,
    /// The link's secret (it is in `url` too).
    pub token: String,
    pub expires_at: DateTime<Utc>,
}
