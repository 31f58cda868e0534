//! Creating and listing units.

use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;

use super::tree::UnitTree;
use crate::Core;
use crate::access;
use crate::audit::{self, Event};
use crate::auth::{Actor, Scope};
use crate::entities::units;
use crate::error::{CoreError, CoreResult, Violations};

/// The deepest a unit may sit (a root is at depth 1): district, committee, branch, group and
/// a few more levels than any organisation has, while keeping every walk of the tree short.
pub const MAX_DEPTH: usize = 10;

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
    access::require_manager(actor)?;
    let mut v = Violations::new();
    v.text(name, "name", 100);
    v.finish()?;
    let tree = UnitTree::load(&core.db).await?;
    if let Some(p) = parent_id {
        access::unit_in_scope(&tree, actor, p, "parent_id")?;
        if tree.depth(p) >= MAX_DEPTH {
            return Err(CoreError::invalid(
                "parent_id",
                format!(
                    "units nest at most {MAX_DEPTH} levels deep; this parent is at the deepest level"
                ),
            ));
        }
    }
    if parent_id.is_none() && tree.scope_of(actor) != Scope::All {
        return Err(CoreError::Forbidden(
            "only an admin adds a unit at the top; a secretary adds units under their own".into(),
        ));
    }
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let row = units::ActiveModel {
        name: Set(name.trim().to_string()),
        parent_id: Set(parent_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("unit.create")
            .target("unit", row.id)
            .summary(json!({"name": row.name, "parent_id": parent_id})),
    )
    .await?;
    txn.commit().await?;
    Ok(UnitNode {
        id: row.id,
        name: row.name,
        parent_id: row.parent_id,
        children: vec![],
    })
}

/// The tree of units the actor manages (all of it for an admin).
pub async fn tree(core: &Core, actor: &Actor) -> CoreResult<Vec<UnitNode>> {
    access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let roots = match tree.scope_of(actor) {
        Scope::All => tree.roots(),
        Scope::Units(_) => actor
            .unit_id
            .filter(|u| tree.contains(*u))
            .into_iter()
            .collect(),
    };
    Ok(roots.into_iter().map(|r| nodes(&tree, r)).collect())
}

/// How deep the nested view goes; units below are listed flat under their ancestor at this
/// depth. Only a tree made before [`MAX_DEPTH`] was enforced can be that deep.
const MAX_NESTING: usize = 32;

/// The nested view under `root`, built without recursion, so that a very deep tree (made
/// before the cap) overflows no stack here, nor when the view is serialised or dropped:
/// children are built before their parent by walking the subtree in reverse pre-order.
fn nodes(tree: &UnitTree, root: i64) -> UnitNode {
    // (unit, its depth below root, the node it is shown under)
    let mut order: Vec<(i64, Option<i64>)> = vec![];
    let mut stack: Vec<(i64, usize, Option<i64>)> = vec![(root, 0, None)];
    while let Some((id, depth, shown_under)) = stack.pop() {
        order.push((id, shown_under));
        let under = if depth <= MAX_NESTING {
            Some(id)
        } else {
            shown_under
        };
        for c in tree.children(id).iter().rev() {
            stack.push((*c, depth + 1, under));
        }
    }
    let mut kids: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    for (id, under) in &order {
        if let Some(p) = under {
            kids.entry(*p).or_default().push(*id);
        }
    }
    let mut built: std::collections::HashMap<i64, UnitNode> = Default::default();
    for (id, _) in order.into_iter().rev() {
        let u = &tree.units[&id];
        let children = kids
            .remove(&id)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| built.remove(&c))
            .collect();
        built.insert(
            id,
            UnitNode {
                id,
                name: u.name.clone(),
                parent_id: u.parent_id,
                children,
            },
        );
    }
    built.remove(&root).unwrap_or(UnitNode {
        id: root,
        name: String::new(),
        parent_id: None,
        children: vec![],
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn chain(n: i64) -> UnitTree {
        UnitTree::from_units(
            (1..=n)
                .map(|id| units::Model {
                    id,
                    name: format!("u{id}"),
                    parent_id: (id > 1).then_some(id - 1),
                    created_at: Utc::now(),
                })
                .collect(),
        )
    }

    fn depth_of(n: &UnitNode) -> usize {
        let mut d = 1;
        let mut at = n;
        while let Some(c) = at.children.first() {
            d += 1;
            at = c;
        }
        d
    }

    #[test]
    fn a_chain_of_five_thousand_units_is_shown_without_recursion() {
        let t = chain(5000);
        let root = nodes(&t, 1);
        assert_eq!(depth_of(&root), MAX_NESTING + 2);
        // Everything is there: the units below the nesting limit hang flat under unit 33.
        let mut at = &root;
        for _ in 0..MAX_NESTING {
            at = &at.children[0];
        }
        assert_eq!(at.id, i64::try_from(MAX_NESTING).unwrap() + 1);
        assert_eq!(at.children.len(), 5000 - MAX_NESTING - 1);
        assert_eq!(t.depth(5000), 5000);
    }

    #[test]
    fn a_shallow_tree_is_nested_as_it_is() {
        let t = chain(4);
        let root = nodes(&t, 1);
        assert_eq!(depth_of(&root), 4);
        assert_eq!(root.children[0].children[0].children[0].id, 4);
    }
}
