//! Creating and listing units.

use sea_orm::{ActiveModelTrait, Set};

use super::tree::UnitTree;
use crate::Core;
use crate::auth::{Actor, Scope};
use crate::entities::units;
use crate::error::{CoreError, CoreResult, Violations};

/// A unit with its children, for the tree view.
#[derive(Debug, Clone)]
pub struct UnitNode {
    pub id: i64,
    pub name: String,
    pub parent_id: Option<i64>,
    pub children: Vec<UnitNode>,
}

pub async fn create(
    core: &Core,
    actor: &Actor,
    name: &str,
    parent_id: Option<i64>,
) -> CoreResult<UnitNode> {
    let mut v = Violations::new();
    v.text(name, "name", 100);
    v.finish()?;
    let tree = UnitTree::load(&core.db).await?;
    if let Some(p) = parent_id
        && !tree.contains(p)
    {
        return Err(CoreError::invalid("parent_id", "does not exist"));
    }
    match tree.scope_of(actor) {
        Scope::All => {}
        scope => {
            if !scope.allows_unit(parent_id) {
                return Err(CoreError::Forbidden(
                    "a secretary can only add units under their own unit".into(),
                ));
            }
        }
    }
    let row = units::ActiveModel {
        name: Set(name.trim().to_string()),
        parent_id: Set(parent_id),
        created_at: Set(core.now()),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    Ok(UnitNode {
        id: row.id,
        name: row.name,
        parent_id: row.parent_id,
        children: vec![],
    })
}

/// The tree of units the actor manages (all of it for an admin).
pub async fn tree(core: &Core, actor: &Actor) -> CoreResult<Vec<UnitNode>> {
    let tree = UnitTree::load(&core.db).await?;
    let roots = match tree.scope_of(actor) {
        Scope::All => tree.roots(),
        Scope::Units(_) => actor
            .unit_id
            .filter(|u| tree.contains(*u))
            .into_iter()
            .collect(),
    };
    Ok(roots.into_iter().map(|r| node(&tree, r)).collect())
}

fn node(tree: &UnitTree, id: i64) -> UnitNode {
    let u = &tree.units[&id];
    UnitNode {
        id,
        name: u.name.clone(),
        parent_id: u.parent_id,
        children: tree.children(id).iter().map(|c| node(tree, *c)).collect(),
    }
}
