//! The unit tree in memory: a branch has tens to hundreds of units, so loading it whole is cheap
//! and keeps subtree questions out of SQL that differs between SQLite and PostgreSQL.

use std::collections::{HashMap, HashSet};

use sea_orm::{DatabaseConnection, EntityTrait};

use crate::auth::{Actor, Role, Scope};
use crate::entities::units;
use crate::error::CoreResult;

#[derive(Debug, Clone, Default)]
pub struct UnitTree {
    pub units: HashMap<i64, units::Model>,
    children: HashMap<i64, Vec<i64>>,
}

impl UnitTree {
    pub async fn load(db: &DatabaseConnection) -> CoreResult<Self> {
        Ok(Self::from_units(units::Entity::find().all(db).await?))
    }

    pub fn from_units(list: Vec<units::Model>) -> Self {
        let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
        for u in &list {
            if let Some(p) = u.parent_id {
                children.entry(p).or_default().push(u.id);
            }
        }
        for v in children.values_mut() {
            v.sort_unstable();
        }
        Self {
            units: list.into_iter().map(|u| (u.id, u)).collect(),
            children,
        }
    }

    pub fn contains(&self, id: i64) -> bool {
        self.units.contains_key(&id)
    }

    pub fn children(&self, id: i64) -> &[i64] {
        self.children.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The units and all their descendants.
    pub fn subtree(&self, roots: &[i64]) -> HashSet<i64> {
        let mut out = HashSet::new();
        let mut stack: Vec<i64> = roots
            .iter()
            .copied()
            .filter(|r| self.contains(*r))
            .collect();
        while let Some(id) = stack.pop() {
            if out.insert(id) {
                stack.extend_from_slice(self.children(id));
            }
        }
        out
    }

    /// What the actor manages: everything for an admin; their unit's subtree for a secretary;
    /// nothing for a member.
    pub fn scope_of(&self, actor: &Actor) -> Scope {
        match actor.role {
            Role::Admin => Scope::All,
            Role::Secretary => Scope::Units(
                actor
                    .unit_id
                    .map(|u| self.subtree(&[u]))
                    .unwrap_or_default(),
            ),
            Role::Member => Scope::Units(HashSet::new()),
        }
    }

    /// How deep a unit sits: 1 for a root. Walks up at most as far as the tree has units, so
    /// a cycle in bad data cannot loop.
    pub fn depth(&self, id: i64) -> usize {
        let mut depth = 0;
        let mut at = Some(id);
        while let Some(u) = at.and_then(|i| self.units.get(&i)) {
            depth += 1;
            if depth > self.units.len() {
                break;
            }
            at = u.parent_id;
        }
        depth
    }

    /// Root units, sorted by id.
    pub fn roots(&self) -> Vec<i64> {
        let mut r: Vec<i64> = self
            .units
            .values()
            .filter(|u| u.parent_id.is_none())
            .map(|u| u.id)
            .collect();
        r.sort_unstable();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn unit(id: i64, parent: Option<i64>) -> units::Model {
        units::Model {
            id,
            name: format!("u{id}"),
            parent_id: parent,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn subtree_includes_every_descendant_and_nothing_else() {
        let t = UnitTree::from_units(vec![
            unit(1, None),
            unit(2, Some(1)),
            unit(3, Some(2)),
            unit(4, Some(1)),
            unit(5, None),
        ]);
        assert_eq!(t.subtree(&[2]), HashSet::from([2, 3]));
        assert_eq!(t.subtree(&[1]), HashSet::from([1, 2, 3, 4]));
        assert_eq!(t.subtree(&[99]), HashSet::new());
        assert_eq!(t.roots(), vec![1, 5]);
        assert_eq!((t.depth(1), t.depth(3), t.depth(99)), (1, 3, 0));
    }
}
