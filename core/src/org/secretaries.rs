//! Whom a unit's business goes to: its active secretaries, or those of the nearest unit up the
//! tree that has some (a party group reports to its branch's secretary).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::auth::Role;
use crate::entities::{members, units};
use crate::error::CoreResult;

/// The units and their active secretaries, loaded once for many questions.
pub struct Secretaries {
    pub units: HashMap<i64, units::Model>,
    by_unit: HashMap<i64, Vec<i64>>,
}

impl Secretaries {
    pub async fn load(db: &impl ConnectionTrait) -> CoreResult<Self> {
        let units = units::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let found: Vec<(i64, Option<i64>)> = members::Entity::find()
            .select_only()
            .column(members::Column::Id)
            .column(members::Column::UnitId)
            .filter(members::Column::Role.eq(Role::Secretary))
            .filter(members::Column::Active.eq(true))
            .order_by_asc(members::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        let mut by_unit: HashMap<i64, Vec<i64>> = HashMap::new();
        for (id, unit) in found {
            if let Some(u) = unit {
                by_unit.entry(u).or_default().push(id);
            }
        }
        Ok(Self { units, by_unit })
    }

    /// The unit itself or its nearest ancestor with active secretaries: that unit and them.
    pub fn nearest(&self, unit: Option<i64>) -> Option<(i64, &[i64])> {
        let mut at = unit;
        // A cycle cannot be stored, but a bound costs nothing.
        for _ in 0..=self.units.len() {
            let u = at?;
            if let Some(ids) = self.by_unit.get(&u) {
                return Some((u, ids));
            }
            at = self.units.get(&u).and_then(|m| m.parent_id);
        }
        None
    }

    /// A unit's name, or a word for members without one.
    pub fn unit_name(&self, unit: Option<i64>) -> String {
        unit.and_then(|u| self.units.get(&u))
            .map_or_else(|| "未分配党组织".to_string(), |u| u.name.clone())
    }
}
