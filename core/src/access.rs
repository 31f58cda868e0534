//! Who may do what. Every service that reads or changes an organisation object takes the
//! acting [`Actor`] and asks here; the rules are the table in `docs/authorization.md`.
//!
//! - **Admins** manage everything.
//! - A **secretary** manages their unit's subtree (their *scope*): the units in it, the members
//!   in it (never an admin, and they grant no role above secretary), and the posts, broadcasts,
//!   meetings and series that *belong* to a unit in it. A post or broadcast belongs to the unit
//!   it was made for (by default the secretary's own unit); an admin's belong to the whole
//!   organisation (`unit_id` null), and a secretary may read organisation-wide posts and send
//!   them in their own broadcasts, but not edit them. Everything outside their scope does not
//!   exist for them (404), so they learn nothing about it.
//! - A **member** reads their own inbox, meetings and consents; every admin route is a 403.
//!
//! Being outside one's scope is a 404 (the object does not exist for the caller); a role
//! that can never do the action is a 403.

use crate::auth::{Actor, Role, Scope};
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;

/// Admins and secretaries; members get 403.
pub fn require_manager(actor: &Actor) -> CoreResult<()> {
    if actor.role.is_manager() {
        Ok(())
    } else {
        Err(CoreError::Forbidden(
            "this needs an admin or a secretary".into(),
        ))
    }
}

/// Admins only; secretaries and members get 403.
pub fn require_admin(actor: &Actor, what: &str) -> CoreResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(CoreError::Forbidden(format!("{what} is for admins only")))
    }
}

impl Scope {
    /// Whether an object belonging to `unit` (null: the organisation) is the actor's to manage.
    pub fn owns(&self, unit: Option<i64>) -> bool {
        match self {
            Scope::All => true,
            Scope::Units(set) => unit.is_some_and(|u| set.contains(&u)),
        }
    }

    /// Whether the actor may read (and use) a post belonging to `unit`: their own, or an
    /// organisation-wide one.
    pub fn may_use_post(&self, unit: Option<i64>) -> bool {
        unit.is_none() || self.owns(unit)
    }

    /// The units a list is cut to: `None` for everything.
    pub fn units(&self) -> Option<Vec<i64>> {
        match self {
            Scope::All => None,
            Scope::Units(set) => {
                let mut v: Vec<i64> = set.iter().copied().collect();
                v.sort_unstable();
                Some(v)
            }
        }
    }
}

/// The units a manager's list is cut to: `unit`'s subtree when one is asked for (a unit
/// outside the actor's scope is a 404, as one that does not exist), else the actor's scope;
/// `None` for everything.
pub fn listed_units(
    tree: &UnitTree,
    actor: &Actor,
    unit: Option<i64>,
) -> CoreResult<Option<Vec<i64>>> {
    let scope = tree.scope_of(actor);
    match unit {
        Some(u) if tree.contains(u) && scope.owns(Some(u)) => {
            let mut v: Vec<i64> = tree.subtree(&[u]).into_iter().collect();
            v.sort_unstable();
            Ok(Some(v))
        }
        Some(_) => Err(CoreError::NotFound("unit")),
        None => Ok(scope.units()),
    }
}

/// Checks a unit a request names (`field`): one outside the actor's scope does not exist for
/// them, exactly as an id never used (400 naming the field), so a secretary learns nothing
/// about other units.
pub fn unit_in_scope(tree: &UnitTree, actor: &Actor, unit: i64, field: &str) -> CoreResult<()> {
    if tree.contains(unit) && tree.scope_of(actor).owns(Some(unit)) {
        Ok(())
    } else {
        Err(CoreError::invalid(field, "does not exist"))
    }
}

/// The unit a new post or broadcast belongs to: the one asked for, which must be within the
/// actor's scope; by default the organisation for an admin and their own unit for a secretary.
pub fn owner_unit(
    tree: &UnitTree,
    actor: &Actor,
    requested: Option<i64>,
) -> CoreResult<Option<i64>> {
    require_manager(actor)?;
    match requested {
        Some(u) => unit_in_scope(tree, actor, u, "unit_id").map(|()| Some(u)),
        None if actor.role == Role::Admin => Ok(None),
        None => match actor.unit_id.filter(|u| tree.contains(*u)) {
            Some(u) => Ok(Some(u)),
            None => Err(CoreError::Forbidden(
                "a secretary without a unit manages nothing".into(),
            )),
        },
    }
}

/// Checks that the actor may change a member who now has `current` role, and give them
/// `new_role`: a secretary never touches an admin and never makes one.
pub fn check_role_change(actor: &Actor, current: Role, new_role: Role) -> CoreResult<()> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    if current > actor.role {
        return Err(CoreError::Forbidden(
            "this member's role is above yours; only an admin can change them".into(),
        ));
    }
    if new_role > actor.role {
        return Err(CoreError::Forbidden(format!(
            "you cannot grant a role above your own ({})",
            actor.role
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn actor(role: Role, unit: Option<i64>) -> Actor {
        Actor {
            member_id: 1,
            role,
            unit_id: unit,
            session_id: "s".into(),
        }
    }

    #[test]
    fn a_secretary_owns_only_their_subtree_and_reads_organisation_posts() {
        let s = Scope::Units(HashSet::from([2, 3]));
        assert!(s.owns(Some(2)));
        assert!(!s.owns(Some(1)));
        assert!(!s.owns(None), "organisation-wide objects are the admins'");
        assert!(s.may_use_post(None));
        assert!(!s.may_use_post(Some(1)));
        assert!(Scope::All.owns(None));
    }

    #[test]
    fn a_secretary_never_touches_an_admin_nor_makes_one() {
        let sec = actor(Role::Secretary, Some(2));
        assert!(check_role_change(&sec, Role::Member, Role::Secretary).is_ok());
        assert!(check_role_change(&sec, Role::Secretary, Role::Member).is_ok());
        assert!(check_role_change(&sec, Role::Admin, Role::Admin).is_err());
        assert!(check_role_change(&sec, Role::Admin, Role::Member).is_err());
        assert!(check_role_change(&sec, Role::Member, Role::Admin).is_err());
        let admin = actor(Role::Admin, None);
        assert!(check_role_change(&admin, Role::Admin, Role::Member).is_ok());
    }
}
