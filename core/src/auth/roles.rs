//! Roles, the authenticated actor and what an actor may manage.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Ordered by power: member < secretary < admin. Stored as its name in `members.role`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    EnumIter,
    DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
pub enum Role {
    Member,
    Secretary,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Member, Role::Secretary, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Secretary => "secretary",
            Role::Admin => "admin",
        }
    }

    pub fn is_manager(self) -> bool {
        matches!(self, Role::Secretary | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "member" => Ok(Role::Member),
            "secretary" => Ok(Role::Secretary),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "{:?} is not a role (member, secretary, admin)",
                other.chars().take(16).collect::<String>()
            )),
        }
    }
}

/// Who is calling, as established from a valid access token.
#[derive(Debug, Clone)]
pub struct Actor {
    pub member_id: i64,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub session_id: String,
}

/// The units an actor manages: everything for an admin, a unit's subtree for a secretary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Units(HashSet<i64>),
}

impl Scope {
    pub fn allows_unit(&self, unit_id: Option<i64>) -> bool {
        match (self, unit_id) {
            (Scope::All, _) => true,
            (Scope::Units(set), Some(u)) => set.contains(&u),
            (Scope::Units(_), None) => false,
        }
    }
}
